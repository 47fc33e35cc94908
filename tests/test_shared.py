"""The small shared modules: errors, paths, privacy, results, notebook display helpers."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from loyaltylab import notebook, paths, privacy, results
from loyaltylab.errors import DataError


def test_data_error_is_one_line_with_file_column_rule_rows():
    s = pd.Series([3, 11, 7, -1, 12], name="nps")
    err = DataError.from_mask("survey.csv", "nps", "must be between 0 and 10", s, (s < 0) | (s > 10))
    msg = str(err)
    assert "\n" not in msg
    assert msg.startswith("survey.csv: column 'nps': must be between 0 and 10: 3 rows")
    assert "row 3 (11)" in msg and "row 5 (-1)" in msg and "row 6 (12)" in msg
    assert err.n_bad == 3 and err.rows == [3, 5, 6]


def test_data_error_truncates_examples_and_long_values():
    s = pd.Series(["x" * 100] * 20)
    msg = str(DataError.from_mask("f.csv", "comment", "too long", s, s.str.len() > 10))
    assert "20 rows" in msg and msg.count("row ") == 5 + 0 and "…" in msg


def test_suppress_blanks_small_groups_and_never_shows_them():
    t = pd.DataFrame({"group": list("abcd"), "n": [2, 5, 4, 100], "nps": [50.0, 10.0, -20.0, 30.0], "k": [1, 2, 3, 4]})
    out = privacy.suppress(t, min_cell=5)
    assert out["suppressed"].tolist() == [True, False, True, False]
    assert out.loc[out.suppressed, ["nps", "k"]].isna().all().all()
    assert out.loc[~out.suppressed, "nps"].tolist() == [10.0, 30.0]
    assert privacy.visible(out)["group"].tolist() == ["b", "d"]
    hidden = privacy.suppress(t, min_cell=5, hide_counts=True)
    assert hidden.loc[hidden.suppressed, "n"].isna().all()


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_min_cell_must_be_positive_integer(bad):
    with pytest.raises(ValueError):
        privacy.check_min_cell(bad)


def test_results_are_json_safe_and_stable():
    obj = {"b": np.float64(1.5), "a": [np.int64(2), math.nan, np.inf], "c": pd.Timestamp("2026-06-30"),
           "d": np.bool_(True), "e": pd.DataFrame({"x": [1, 2]}), "f": None}
    text = results.dumps(obj)
    assert text == results.dumps(dict(reversed(list(obj.items()))))
    back = json.loads(text)
    assert back == {"a": [2, None, None], "b": 1.5, "c": "2026-06-30", "d": True, "e": [{"x": 1}, {"x": 2}], "f": None}


def test_write_results_roundtrip(tmp_path):
    p = results.write_results({"nps": 12.3456789012345}, tmp_path / "out")
    assert results.read_results(p) == {"nps": 12.3456789012}
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_paths_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("LOYALTYLAB_DATA", str(tmp_path))
    assert paths.resolve_input(None, "survey") == tmp_path / "survey.csv"
    with pytest.raises(ValueError):
        paths.course_file("nope")
    out = paths.resolve_output_dir("reports/_test_paths")
    assert out.is_absolute() and out.exists()
    out.rmdir()
    (tmp_path / "truth.json").write_text('{"x": 1}', encoding="utf-8")
    assert paths.truth_for(tmp_path / "survey.csv") == {"x": 1}
    assert paths.display_path(paths.project_root() / "data" / "x.csv") == "data/x.csv"


def test_quotes_and_tables_are_escaped():
    html = notebook.quotes_html(["<script>alert(1)</script>", "服务很好 & fast"])
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp;" in html
    assert "Key findings" in notebook.findings_markdown(["NPS is 20"])


def test_an_interactive_run_writes_to_scratch_not_reports():
    out = paths.resolve_output_dir(None, "01_nps")
    assert out == paths.project_root() / "scratch" / "01_nps" and out.is_dir()
    assert "reports" not in out.relative_to(paths.project_root()).parts
