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
import fcntl
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
