"""The overview analysis (loyaltylab.analyses.overview) on the small course world and tiny hostile files."""
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from loyaltylab.analyses import overview
from loyaltylab.analyses.overview import tables as overview_tables

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("customers", "survey", "transactions", "incidents")


def course_params(course_dir, **kwargs) -> overview.Params:
    return overview.Params(**{f"{t}_path": str(course_dir / f"{t}.csv") for t in TABLES}, **kwargs)


@pytest.fixture(scope="module")
def ov(small_course_dir):
    return overview.analyze(course_params(small_course_dir, min_cell=5))


def test_summary_counts_match_files(ov, small_course_dir):
    for table in TABLES:
        n = len(pd.read_csv(small_course_dir / f"{table}.csv"))
        assert ov.summary.set_index("table").loc[table, "rows"] == n


def test_missing_values_are_counted(ov, small_course_dir):
    customers = pd.read_csv(small_course_dir / "customers.csv")
    row = ov.missing[(ov.missing.table == "customers") & (ov.missing.column == "churn_date")]
    assert int(row["missing"].iloc[0]) == int(customers["churn_date"].isna().sum())


def test_segment_sizes_suppress_small_groups():
    customers = pd.DataFrame({"segment": ["A"] * 10 + ["B"] * 3 + ["C"] * 5 + ["D"] * 6})
    table = overview_tables.segment_sizes(customers, ["segment"], min_cell=5)["segment"].set_index("value")
    assert table.loc["B", "suppressed"] and pd.isna(table.loc["B", "n"]) and pd.isna(table.loc["B", "pct"])
    # B alone could be recovered as total − A − C − D, so the next-smallest group is hidden too
    assert table.loc["C", "suppressed"] and pd.isna(table.loc["C", "n"])
    assert not table.loc["D", "suppressed"] and table.loc["D", "n"] == 6


def test_quality_warnings_find_orphans_and_straightlining():
    customers = pd.DataFrame({"customer_id": ["a", "b"], "segment": ["X", "X"]})
    items = {f"P{i}": [4, 4, 3] for i in range(1, 23)}
    items["P2"] = [4, 5, 3]
    survey = pd.DataFrame({"customer_id": ["a", "b", "zz"], "nps": [9, None, 3], **items})
    warnings = overview_tables.quality_warnings({"customers": customers, "survey": survey}, min_cell=5)
    text = " ".join(warnings)
    assert "1 survey responses belong to customers not in" in text
    assert "2 responses give the same answer" in text  # rows 1 and 3
    assert "1 responses have no NPS score" in text


def test_filters_follow_customers_to_other_tables(small_course_dir):
    ov = overview.analyze(course_params(small_course_dir, filters={"region": "North"}))
    assert set(ov.data["customers"]["region"]) == {"North"}
    assert ov.data["survey"]["customer_id"].isin(ov.data["customers"]["customer_id"]).all()


def test_plot_column_refuses_identifiers():
    with pytest.raises(ValueError):
        overview.plot_column(pd.DataFrame({"customer_id": ["a"]}), "customer_id")


def test_a_filter_leaving_fewer_than_min_cell_customers_is_refused(small_course_dir):
    from loyaltylab.errors import DataError

    customers = pd.read_csv(small_course_dir / "customers.csv")
    few = customers["customer_id"].iloc[:3].tolist()
    with pytest.raises(DataError, match="fewer than min_cell=5"):
        overview.analyze(course_params(small_course_dir, filters={"customer_id": few}))


def test_own_survey_is_not_mixed_with_course_tables(small_course_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("LOYALTYLAB_DATA", str(tmp_path / "nowhere"))  # the course data must not be touched
    ov = overview.analyze(overview.Params(survey_path=str(small_course_dir / "survey.csv")))
    assert list(ov.data) == ["survey"]
    assert not any("not in the customers table" in w for w in ov.warnings)


def test_key_findings_are_built_from_the_summary(ov, small_course_dir):
    lines = ov.key_findings()
    n = len(pd.read_csv(small_course_dir / "customers.csv"))
    assert lines[0].startswith(f"{n:,} customers")
    assert lines[1].startswith("Survey responses run from 20")


# --- the package shape and the drift defects of issue 7 ---------------------------------------------------------

HOSTILE_COLUMN = "`x` [click](javascript:alert(1)) <img src=x onerror=alert(1)> | y"
HOSTILE_VALUE = "<img src=x onerror=alert(1)>"


def _drawn_heights(ax, horizontal: bool = False) -> list[float]:
    """The counts a bar chart shows: bar heights (bar widths for horizontal bars)."""
    return [p.get_width() if horizontal else p.get_height() for p in ax.patches]


def _write_customers(path: Path, n: int = 60, **columns) -> Path:
    frame = pd.DataFrame({"customer_id": [f"{i:05d}" for i in range(n)], **columns})
    frame.to_csv(path, index=False)
    return path


def test_nps_distribution_is_the_nps_reports_own_suppressed_table(small_course_dir, tmp_path):
    """Defect: the overview drew the score counts 01_nps hides (score 0 with n = 3 and its complement)."""
    from loyaltylab.analyses.nps import tables as nps_tables

    survey = pd.read_csv(small_course_dir / "survey.csv", dtype={"customer_id": str, "response_id": str})
    survey = survey[survey["nps"] != 0].copy()
    survey.loc[survey.index[:3], "nps"] = 0  # three respondents gave 0: 01_nps hides that score
    path = tmp_path / "survey.csv"
    survey.to_csv(path, index=False)
    result = overview.analyze(overview.Params(survey_path=str(path), min_cell=5))
    expected = nps_tables.distribution(result.data["survey"], score_col="nps", min_cell=5)
    pd.testing.assert_frame_equal(result.nps_distribution, expected)
    dist = result.nps_distribution.set_index("score")
    assert dist.loc[0, "suppressed"] and pd.isna(dist.loc[0, "n"])
    assert dist["suppressed"].sum() >= 2  # and a complementary detractor score
    ax = overview.plot_nps_distribution(result)
    drawn = sorted(_drawn_heights(ax))
    assert drawn == sorted(float(n) for n in dist.loc[~dist["suppressed"], "n"])
    assert 3.0 not in drawn and "hidden" in ax.get_xlabel()
    plt.close("all")


def test_histograms_hide_small_bars(tmp_path):
    """Defect: tenure and revenue histograms drew bars of 1..min_cell−1 customers with their heights."""
    tenure = [10.0] * 30 + [500.0] * 27 + [1000.0] * 3  # 3 customers alone at the top end
    revenue = [20.0] * 40 + [21.0] * 18 + [900.0, 950.0]
    path = _write_customers(tmp_path / "customers.csv", tenure_days=tenure, monthly_revenue=revenue)
    result = overview.analyze(overview.Params(customers_path=str(path), segment_cols=[]))
    for col in ("tenure_days", "monthly_revenue"):
        table = result.histograms[col]
        shown = table.loc[~table["suppressed"], "n"].astype(int)
        assert ((shown == 0) | (shown >= 5)).all(), col
        assert table.loc[table["suppressed"], "n"].isna().all()
        hidden_total = len(result.data["customers"]) - shown.sum()
        assert hidden_total == 0 or hidden_total >= 5  # the total cannot give the hidden bars away
        assert table["suppressed"].any()
    fig = overview.plot_histograms(result)
    for ax in fig.axes:
        assert not any(0 < h < 5 for h in _drawn_heights(ax))
        assert "hidden" in ax.get_xlabel()
    plt.close("all")


def test_histogram_edges_are_round_and_hide_extremes():
    from loyaltylab.analyses.overview import distributions

    table = distributions.histogram(pd.Series([3.7, 12.2, 55.0, 99.1] * 5 + [1234.5]), min_cell=5)
    assert table["left"].iloc[0] == 0 and table["right"].iloc[-1] % 10 == 0
    assert table["suppressed"].sum() == 2 and table["suppressed"].iloc[-1]  # 1234.5 hidden, with a complement
    assert table.loc[table["suppressed"], "n"].isna().all() and table["n"].sum() == 10


def test_explorer_chart_hides_small_bars_and_levels():
    frame = pd.DataFrame({"amount": [1.0] * 30 + [500.0] * 2, "kind": ["a"] * 30 + ["b"] * 2,
                          "customer_id": [f"c{i}" for i in range(32)]})
    for column, horizontal in (("amount", False), ("kind", True)):
        ax = overview.plot_column(frame, column, min_cell=5)
        assert not any(0 < h < 5 for h in _drawn_heights(ax, horizontal)), column
        plt.close("all")
    # the same customer many times is one person: 12 rows of 2 customers are hidden
    repeat = pd.DataFrame({"kind": ["a"] * 30 + ["b"] * 12,
                           "customer_id": [f"c{i}" for i in range(30)] + ["x", "y"] * 6})
    from loyaltylab.analyses.overview.explorer import column_distribution

    _, table = column_distribution(repeat, "kind", min_cell=5)
    assert table.set_index("value").loc["b", "suppressed"]


def test_key_findings_and_sentences_escape_data_derived_values(tmp_path):
    """Defect: the key findings put column names in Markdown unescaped (a backtick broke out of the code span)."""
    path = _write_customers(tmp_path / "customers.csv", segment=[HOSTILE_VALUE] * 40 + ["B"] * 20,
                            **{HOSTILE_COLUMN: [None] * 59 + [1]})
    result = overview.analyze(overview.Params(customers_path=str(path), segment_cols=["segment", HOSTILE_COLUMN]))
    from loyaltylab.narrative import esc

    text = "\n".join(result.key_findings() + overview.describe_segments(result))
    assert esc(HOSTILE_COLUMN) in text and esc(HOSTILE_VALUE) in text
    for raw in ("<img", "](javascript", "`x`"):
        assert raw not in text
    assert not re.search(r"(?<!\\)\|", text)  # every pipe escaped: no table cell break


def test_min_cell_zero_is_one_parameter_line_before_any_file_is_read(tmp_path):
    """Defect: min_cell=0 printed a traceback."""
    from loyaltylab.errors import ParameterError

    with pytest.raises(ParameterError) as err:
        overview.Params(customers_path=str(tmp_path / "missing.csv"), min_cell=0)
    assert str(err.value).startswith("parameters: min_cell = 0: must be a whole number")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name,value", [("columns", {"customer": {"a": "b"}}), ("columns", {"customers": "a"}),
                                        ("segment_cols", 3), ("snapshot_date", "30 June"), ("filters", ["x"])])
def test_bad_parameters_are_one_line(name, value):
    from loyaltylab.errors import ParameterError

    with pytest.raises(ParameterError, match=f"^parameters: {re.escape(name)}"):
        overview.Params(**{name: value})


def test_dimension_means_use_the_one_definition_of_a_dimension_score():
    """Defect: the overview pooled item answers (overview.likert_means) where NPS used respondent means."""
    from loyaltylab import measures
    from loyaltylab.analyses.overview import distributions

    items = {f"{p}{i}": [7.0, 1.0] for p in "EP" for i in range(1, 23)}
    for i in (2, 3, 4):  # the second respondent answered one tangibles item only
        items[f"P{i}"] = [7.0, None]
        items[f"E{i}"] = [7.0, None]
    survey = pd.DataFrame({"customer_id": ["a", "b"], **items})
    means = distributions.dimension_means(survey, min_cell=1).set_index("dimension")
    expected = measures.dimension_means(survey, prefix="P").set_index("dimension")["mean"]
    assert means["perception"].to_dict() == pytest.approx(expected.to_dict())
    assert means.loc["tangibles", "perception"] == pytest.approx(4.0)  # respondents' means (7 and 1), not 29/5
    hidden = distributions.dimension_means(survey, min_cell=5)
    assert hidden["suppressed"].all() and hidden["perception"].isna().all() and hidden["n"].isna().all()


def test_results_keep_every_key_and_add_the_document(ov):
    from loyaltylab import results

    doc = json.loads(results.dumps(ov.to_results()))
    old_keys = {"rows", "missing", "date_ranges", "warnings", "segments", "inputs", "headline", "headline_order"}
    assert old_keys | set(results.DOCUMENT_KEYS) == set(doc)
    assert doc["analysis"] == "overview" and doc["headline_order"] == ["Customers", "Responses", "Incidents", "Warnings"]
    assert doc["params"]["min_cell"] == 5
    for name, rows in doc["tables"].items():
        for row in rows:
            if row.get("suppressed"):
                assert row.get("n") is None, name


def test_params_defaults_match_the_notebook():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "00_data_overview.ipynb", as_version=4)
    namespace: dict = {}
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    exec(params.source, namespace)  # the parameters cell: plain assignments
    names = {k for k in namespace if not k.startswith("__")}
    assert names == set(overview.Params.names()) | set(overview.NOTEBOOK_ONLY)
    assert overview.Params.from_namespace(namespace) == overview.Params()


def test_explorer_charts_every_explorable_column(ov):
    import ipywidgets

    from loyaltylab.analyses.overview.explorer import column_distribution

    widget = overview.explorer(ov)
    assert isinstance(widget, ipywidgets.Widget)
    for name, frame in ov.data.items():
        for column in overview.explorable_columns(frame):
            kind, table = column_distribution(frame, column, min_cell=5)
            hidden = table[table["suppressed"]]
            assert hidden["n"].isna().all(), (name, column)
            assert kind in ("histogram", "periods", "levels")
    plt.close("all")


def test_charts_draw_dollar_signs_in_data_as_text(tmp_path):
    """A `$` in a column name or value must not be parsed as mathtext (a broken formula fails at draw time)."""
    import io as _io

    path = _write_customers(tmp_path / "customers.csv", **{"$\\frac{$": ["$x^{$"] * 30 + ["$\\bad$"] * 30})
    result = overview.analyze(overview.Params(customers_path=str(path), segment_cols=["$\\frac{$"]))
    fig = overview.plot_segment_sizes(result)
    fig.savefig(_io.BytesIO(), format="png")
    ax = overview.plot_column(result.data["customers"], "$\\frac{$", min_cell=5)
    ax.figure.savefig(_io.BytesIO(), format="png")
    plt.close("all")
