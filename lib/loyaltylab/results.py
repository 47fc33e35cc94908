"""results.json: one document shape for every analysis; JSON-safe numbers (NaN → null), stable key order,
byte-identical for identical inputs.

Every analysis' document carries :data:`DOCUMENT_KEYS` (built by :func:`document`) beside its own keys. The keys
are a public interface that analysts' scripts read: add keys, never rename or drop one.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from loyaltylab import i18n, outputs, paths

FLOAT_DIGITS = 10


def to_jsonable(obj):
    """Recursively turn numpy/pandas values into plain JSON values; non-finite numbers become None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return [to_jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return round(x, FLOAT_DIGITS) if math.isfinite(x) else None
    if obj is None or obj is pd.NaT:
        return None
    if isinstance(obj, (pd.Timestamp, dt.datetime, dt.date)):
        return obj.isoformat()[:10] if _is_midnight(obj) else obj.isoformat()
    if isinstance(obj, pd.Period):
        return str(obj)
    try:
        if pd.isna(obj):
            return None
    except (TypeError, ValueError):
        pass
    return str(obj) if not isinstance(obj, str) else obj


def _is_midnight(value) -> bool:
    return not isinstance(value, dt.datetime) or (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)


def dumps(results: dict) -> str:
    return json.dumps(to_jsonable(results), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_results(results: dict, output_dir: str | Path, name: str = "results.json") -> Path:
    """Write ``results`` into ``output_dir/name`` atomically (no half-written file on failure)."""
    return paths.write_atomic(Path(output_dir) / name, dumps(results))


def written(path: str | Path) -> str:
    """The line a notebook prints after writing its results: 'Wrote reports/01_nps/results.json' (in its language)."""
    path = Path(path)
    scratch = any(part.startswith(".work-") for part in path.parts)  # a batch job's folder before it moves into place
    shown = path.name if scratch else paths.display_path(path)
    return i18n.t(f"Wrote {shown}", f"已写入 {shown}")


def read_results(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


DOCUMENT_KEYS = ("analysis", "params", "inputs", "input_sha256", "course_data", "notes", "headline", "headline_order",
                 "tables", "data_period", "language")


def _resolve(shown: str) -> Path:
    p = Path(shown)
    return p if p.is_absolute() else paths.project_root() / p


def is_course_data(inputs: Mapping[str, str | None]) -> bool:
    """True when every given input is a course-world file (a truth.json beside it): only then may a report use the
    course's framing (its benchmarks, its claims, the comparison with the truth)."""
    given = [shown for shown in inputs.values() if shown is not None]
    return bool(given) and all(paths.has_truth(_resolve(shown)) for shown in given)


def input_hashes(inputs: Mapping[str, str | None]) -> dict[str, str | None]:
    """SHA-256 per named input file (display paths resolve against the project root); None for a missing file."""
    out = {}
    for name, shown in inputs.items():
        if shown is None:
            out[name] = None
            continue
        p = _resolve(shown)
        out[name] = paths.sha256_file(p) if p.is_file() else None
    return out


def document(
    analysis: str,
    *,
    params: Mapping,
    inputs: Mapping[str, str | None],
    headline: Mapping,
    headline_order: Sequence[str] | None = None,
    tables: Mapping[str, object] | None = None,
    notes: Sequence[str] = (),
    **content,
) -> dict:
    """The results.json document of one analysis run: its name, the parameters it ran with, its input files (display
    paths and SHA-256), whether they are the course data, notes, the headline numbers in the order the index shows them, its tables in the standard
    columns, the period its data covers (``data_period``: first / last date of the inputs read, snapshot; see
    :func:`loyaltylab.outputs.data_period`) and the analysis' own keys (``content``)."""
    clash = set(content) & set(DOCUMENT_KEYS)
    if clash:
        raise ValueError(f"results keys {sorted(clash)} are reserved for the document")
    return {
        **content,
        "analysis": analysis,
        "params": dict(params),
        "inputs": dict(inputs),
        "input_sha256": input_hashes(inputs),
        "course_data": is_course_data(inputs),
        "notes": list(notes),
        "headline": dict(headline),
        "headline_order": list(headline_order or headline),
        "tables": dict(tables or {}),
        "data_period": outputs.data_period(inputs, dict(params).get("snapshot_date")),
        "language": i18n.current(),
    }
