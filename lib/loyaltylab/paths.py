"""Where things live: the project root, the course data, the reports folder."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

TABLES = ("customers", "survey", "transactions", "incidents")


def project_root() -> Path:
    """The checkout this package was installed from (``pip install -e``), or the working directory."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "lib" / "loyaltylab").is_dir():
            return parent
    return Path.cwd()


def course_data_dir() -> Path:
    """The course dataset folder; ``LOYALTYLAB_DATA`` overrides it (tests point it at a small copy)."""
    override = os.environ.get("LOYALTYLAB_DATA")
    return Path(override) if override else project_root() / "data" / "course"


def course_file(table: str) -> Path:
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}")
    return course_data_dir() / f"{table}.csv"


def resolve_input(path: str | os.PathLike | None, table: str) -> Path:
    """A notebook's input parameter: None means the course data; relative paths try cwd, then the project root."""
    if path is None or str(path) == "":
        return course_file(table)
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return p
    rooted = project_root() / p
    return rooted if rooted.exists() else p


SCRATCH = "scratch"
"""Where an interactive run writes when its ``output_dir`` is None: never over the batch's reports/."""


def resolve_output_dir(path: str | os.PathLike | None, name: str = "notebook") -> Path:
    """The output folder of a notebook run: None (the notebooks' default in JupyterLab) → ``scratch/<name>`` at the
    project root, so an interactive run leaves reports/ untouched; the batch always passes a folder. Relative
    folders are relative to the project root, so JupyterLab and the batch agree."""
    p = project_root() / SCRATCH / name if path is None or str(path) == "" else Path(path).expanduser()
    if not p.is_absolute():
        p = project_root() / p
    p.mkdir(parents=True, exist_ok=True)
    return p


_TRUTH_CACHE: dict[tuple, dict] = {}


def truth_for(path: str | os.PathLike) -> dict | None:
    """The generator's ground truth when ``path`` is a course-world file (a truth.json lies beside it). Parsed once
    per file, size and modification time (a million-customer world's truth is 12 MB) and shared: read-only."""
    truth_path = Path(path).parent / "truth.json"
    try:
        stat = truth_path.stat()
    except OSError:
        return None
    key = (str(truth_path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _TRUTH_CACHE:
        if len(_TRUTH_CACHE) >= 4:
            _TRUTH_CACHE.clear()
        _TRUTH_CACHE[key] = json.loads(truth_path.read_text(encoding="utf-8"))
    return _TRUTH_CACHE[key]


def has_truth(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a course-world file, without reading its truth."""
    return (Path(path).parent / "truth.json").is_file()


def display_path(path: str | os.PathLike) -> str:
    """A path as reports show it: relative to the project root when inside it (stable across checkouts)."""
    p = Path(path).resolve()
    try:
        return p.relative_to(project_root().resolve()).as_posix()
    except ValueError:
        return p.as_posix()


_HASH_CACHE: dict[tuple, str] = {}


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (cached per path, size and modification time)."""
    p = Path(path)
    stat = p.stat()
    key = (str(p.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASH_CACHE:
        digest = hashlib.sha256()
        with p.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _HASH_CACHE[key] = digest.hexdigest()
    return _HASH_CACHE[key]


def write_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a private temporary file in the same folder (random name, created
    exclusively: a planted ``*.tmp`` symlink is never followed), then rename it into place."""
    import tempfile

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
