"""Where a batch writes, so that its index never lies.

- One run at a time per output folder (an exclusive lock; a second run is refused with one line).
- Each job runs in a scratch folder beside the outputs (created with a random name, never a predictable ``*.tmp``)
  and is moved into place when it ends: an interrupted run leaves the previous outputs whole and no half-written
  file where a report should be.
- The index merges: a partial run (``--only``, one notebook) keeps the other jobs' rows, and a row is only kept
  while its report still exists.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from loyaltylab import paths
from loyaltylab.errors import ConfigError

SCRATCH_PREFIX = ".work-"
LOCK_FILE = ".lock"


def check_output_folder(out_root: Path) -> Path:
    """The output folder exists (or is created) and is writable: otherwise one line naming it."""
    shown = paths.display_path(out_root)
    if out_root.exists() and not out_root.is_dir():
        raise ConfigError(shown, "--out names an existing file, not a folder")
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out_root, prefix=SCRATCH_PREFIX, delete=True)
        probe.close()
    except OSError as exc:
        reason = "is read-only" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else (
            f"cannot be written ({exc.strerror or exc})")
        raise ConfigError(shown, f"the output folder {reason}") from None
    return out_root


@contextlib.contextmanager
def exclusive(out_root: Path) -> Iterator[None]:
    """Hold the output folder for one run; a concurrent run into the same folder is refused (never interleaved).
    Scratch folders left by an interrupted run are removed once the lock is held."""
    import fcntl

    check_output_folder(out_root)
    handle = open(out_root / LOCK_FILE, "a+")  # noqa: SIM115 — held for the whole run
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(paths.display_path(out_root), "another report run is writing into this folder; wait "
                              "for it to finish or choose another --out") from None
        for stale in out_root.glob(SCRATCH_PREFIX + "*"):
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def scratch_folder(out_root: Path) -> Path:
    """A fresh, private folder inside ``out_root`` (same file system, so the final move is a rename)."""
    out_root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=out_root))


def install(built: Path, final: Path) -> str:
    """Move a job's finished outputs from ``built`` to ``final``, replacing the previous ones; return the time."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = built.parent / "previous"
    if final.exists():
        final.rename(old)
    built.rename(final)
    shutil.rmtree(built.parent, ignore_errors=True)
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def previous_jobs(out_root: Path, manifest_name: str) -> list[dict]:
    """The job rows of the folder's current manifest whose report still exists (none if unreadable)."""
    try:
        manifest = json.loads((out_root / manifest_name).read_text(encoding="utf-8"))
        jobs = manifest["jobs"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    kept = []
    for job in jobs if isinstance(jobs, list) else []:
        report = job.get("report") if isinstance(job, dict) else None
        if isinstance(report, str) and not os.path.isabs(report) and (out_root / report).is_file():
            kept.append(job)
    return kept


def merge_jobs(previous: list[dict], current: list[dict], keep_previous) -> list[dict]:
    """Rows of this run replace rows of the same name in place; previous rows stay where ``keep_previous(name)``;
    rows new to the index come last, in run order."""
    by_name = {job["name"]: job for job in current}
    merged = []
    for job in previous:
        if job["name"] in by_name:
            merged.append(by_name.pop(job["name"]))
        elif keep_previous(job["name"]):
            merged.append(job)
    return merged + list(by_name.values())


# --------------------------------------------------------------------------------------------------------------
# Inputs read once per batch

BATCH_CACHE_ENV = "LOYALTYLAB_BATCH_CACHE"
"""Set by the batch runner in the kernels it starts: a private folder (mode 0700, removed when the batch ends)."""
CACHE_SUFFIX = ".frame.pickle"


@contextlib.contextmanager
def batch_cache(out_root: Path) -> Iterator[Path]:
    """A private folder for the batch's validated inputs (see :func:`reused_in_batch`), removed afterwards."""
    folder = scratch_folder(out_root)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def reused_in_batch(read):
    """Decorator for a table reader ``read(path, ...) -> DataFrame`` (read + validate): within one batch run the
    frame for the same file content (its SHA-256, as in the manifest), the same path and the same options is built
    by the first job that asks and loaded by every later one (the six NPS jobs of a course batch read one survey).
    Outside a batch (no ``LOYALTYLAB_BATCH_CACHE``) it is ``read`` itself. A failing read caches nothing, so every
    job still reports the same one-line error. Frames are stored with pickle (exact dtypes, index and ``attrs``)
    in the runner's own 0700 folder, which nothing else writes. Every frame returned, cached or not, has its date
    range recorded for :func:`data_period`."""
    import functools

    @functools.wraps(read)
    def reader(path, *args, **kwargs):
        folder = os.environ.get(BATCH_CACHE_ENV)
        key = _cache_key(read, path, args, kwargs) if folder else None
        if key is None:
            return record_period(path, read(path, *args, **kwargs))
        file = Path(folder) / f"{key}{CACHE_SUFFIX}"
        frame = _load_frame(file)
        if frame is None:
            frame = read(path, *args, **kwargs)
            _store_frame(file, frame)
        return record_period(path, frame)

    return reader


def _cache_key(read, path, args, kwargs) -> str | None:
    """SHA-256 over the reader, the file (resolved path and content hash), the options and today's date (rules
    such as 'no future dates' depend on it); None when an option is not plain data or the file is unreadable."""
    import hashlib

    try:
        p = Path(path).expanduser().resolve()
        if not p.is_file():
            return None
        options = json.dumps([_plain_option(args), _plain_option(kwargs)], sort_keys=True, ensure_ascii=False)
        content = paths.sha256_file(p)
    except (TypeError, ValueError, OSError):
        return None
    text = "\n".join((f"{read.__module__}.{read.__qualname__}", str(p), content, options, dt.date.today().isoformat()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain_option(value):
    from collections.abc import Mapping

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain_option(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain_option(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"not a plain option: {type(value).__name__}")


def _load_frame(file: Path):
    import pickle

    try:
        with open(file, "rb") as fh:
            return pickle.load(fh)  # noqa: S301 — written by this batch into its own 0700 folder
    except FileNotFoundError:
        return None
    except Exception:  # damaged or half-visible: build it again
        return None


def _store_frame(file: Path, frame) -> None:
    """Write atomically (a parallel job never sees half a file); a frame that cannot be stored is not cached."""
    import pickle

    try:
        fd, tmp = tempfile.mkstemp(prefix=SCRATCH_PREFIX, dir=file.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(frame, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, file)
    except Exception:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


# --------------------------------------------------------------------------------------------------------------
# The period the data covers

_PERIODS: dict[str, dict] = {}


def record_period(path, frame):
    """Remember the dates ``frame`` (read from ``path``) covers — first and last value over its date columns —
    for the results document of the run that read it; returns ``frame``."""
    try:
        dates = frame.select_dtypes(include=["datetime", "datetimetz"])
        shown = paths.display_path(path)
    except Exception:  # not a frame, or no path: nothing to remember
        return frame
    # each column's local wall-clock dates (a time zone on one column must not make columns incomparable)
    columns = [col.dt.tz_localize(None) if col.dt.tz is not None else col for _, col in dates.items()]
    first = [v for v in (col.min() for col in columns) if str(v) != "NaT"]
    last = [v for v in (col.max() for col in columns) if str(v) != "NaT"]
    if first:
        _PERIODS[shown] = {"first": _iso_date(min(first)), "last": _iso_date(max(last))}
    else:
        _PERIODS.pop(shown, None)
    return frame


def data_period(inputs, snapshot_date=None) -> dict:
    """The period the inputs cover, for results.json and the index: ``first`` and ``last`` date over the input
    files read and validated in this process — None unless every input's dates are known (an input read without
    validation, say, would otherwise leave a period that is another file's) — and ``snapshot``: the
    ``snapshot_date`` parameter when given, else the course world's snapshot (its truth.json), else None."""
    given = [shown for shown in (inputs or {}).values() if isinstance(shown, str)]
    periods = [_PERIODS.get(shown) or _PERIODS.get(paths.display_path(shown)) for shown in given]
    first = last = None
    if periods and all(periods):
        first = min(period["first"] for period in periods)
        last = max(period["last"] for period in periods)
    snapshot = _iso_date(snapshot_date)
    if snapshot is None:
        for shown in given:
            truth = paths.truth_for(_resolved(shown))
            if isinstance(truth, dict) and truth.get("snapshot_date"):
                snapshot = str(truth["snapshot_date"])[:10]
                break
    return {"first": first, "last": last, "snapshot": snapshot}


def _resolved(shown: str) -> Path:
    p = Path(shown)
    return p if p.is_absolute() else paths.project_root() / p


def _iso_date(value) -> str | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        return None
