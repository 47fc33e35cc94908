"""The pieces every analysis shares: parameter checks, escaping, suppression, the results document."""
import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from loyaltylab import narrative, params, privacy, results
from loyaltylab.errors import DataError, ParameterError

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "a`b`c | d",
    "line\n# heading\n- item",
    "<script>alert(1)</script>",
    "https://evil.example/x",
    "**bold** _it_ ~~s~~",
    "&lt;img&gt;",
    "\u200b<b>zero width</b>",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_escaped_value_renders_as_its_own_text_in_markdown_and_html(value):
    html = markdown2html_mistune(f"Segment {narrative.esc(value)} leads.")
    assert "<img" not in html and "<script" not in html and "<a " not in html and "<b>" not in html
    assert "<code" not in html and "<strong" not in html and "<em" not in html and "<h1" not in html
    assert "<li" not in html and "<del" not in html
    # the reader sees the value itself (whitespace folded, invisible characters dropped)
    import html as html_mod
    import re
    text = html_mod.unescape(re.sub(r"<[^>]+>", "", html))
    expected = " ".join(value.replace("\u200b", "").split())
    assert expected in " ".join(text.split())


def test_number_formats_for_people():
    assert narrative.count(14027.0) == "14,027"
    assert narrative.count(float("nan")) == "–"
    assert narrative.p_value(0.0000001) == "p < 0.001" and narrative.p_value(0.0342) == "p = 0.034"
    assert narrative.duration(float("inf"), "days") == "not reached"
    assert narrative.signed(-0.04) == "0.0" and narrative.signed(3.25) == "+3.2"
    assert narrative.interval(20.8, 24.25) == "95% CI 20.8 to 24.2"
    assert narrative.join_words(["a", "b", "c"]) == "a, b and c"


@dataclasses.dataclass(frozen=True)
class _Example(params.Params):
    confidence: float = params.field(0.95, params.confidence)
    min_cell: int = params.field(5, params.min_cell)
    segment_cols: tuple = params.field(("segment",), params.columns)
    period: str = params.field("Q", params.choice("M", "Q", "Y", aliases={"month": "M"}))
    discount_rate: float = params.field(0.1, params.rate)


def test_params_normalise_and_refuse_in_one_form():
    p = _Example(segment_cols=["a", "a", "b"], period="month", min_cell=5.0)
    assert p.segment_cols == ("a", "b") and p.period == "M" and p.min_cell == 5 and isinstance(p.min_cell, int)
    assert _Example(discount_rate=0).discount_rate == 0.0
    for name, bad in params.bad_examples(_Example):
        with pytest.raises(ParameterError) as info:
            _Example(**{name: bad})
        msg = str(info.value)
        assert msg.startswith(f"parameters: {name} = ") and "\n" not in msg
        assert isinstance(info.value, DataError)


def test_params_from_namespace_takes_fields_by_name():
    p = _Example.from_namespace({"confidence": 0.9, "unrelated": 1, "segment_cols": ["region"]})
    assert p.confidence == 0.9 and p.segment_cols == ("region",)
    assert _Example.defaults()["period"] == "Q"


def test_every_check_has_bad_examples():
    checks = [params.confidence, params.min_cell, params.rate, params.share, params.positive, params.non_negative,
              params.whole(1), params.choice("a"), params.boolean, params.column, params.optional_column,
              params.columns, params.mapping, params.path, params.date, params.encoding, params.sheet]
    for check in checks:
        assert check.bad, check
        for bad in check.bad:
            with pytest.raises(ParameterError):
                check(bad, "x")


def test_suppress_counts_people_and_hides_counts_of_hidden_groups():
    t = pd.DataFrame({"value": list("abc"), "n": [250, 147, 3], "events": [40, 20, 1], "median": [1.0, 2.0, 3.0]})
    out = privacy.suppress(t, min_cell=5)
    hidden = out[out["suppressed"]]
    assert set(hidden["value"]) == {"b", "c"}  # c, plus b so that c cannot be recovered from a total
    assert hidden["n"].isna().all() and hidden["events"].isna().all() and hidden["median"].isna().all()
    answers = pd.DataFrame({"value": ["x", "y"], "n": [6, 40], "people": [2, 30]})
    by_people = privacy.suppress(answers, min_cell=5, people="people", complementary=False)
    assert by_people["suppressed"].tolist() == [True, False] and "people" not in by_people
    assert pd.isna(by_people.loc[0, "n"]) and by_people.loc[1, "n"] == 40


def test_empty_groups_stay_visible_and_are_no_complement():
    mask = privacy.complementary_mask([0, 3, 0, 50, 20], 5)
    assert mask.tolist() == [False, True, False, False, True]
    assert privacy.suppress_counts([0, 0, 7, 9], 5).tolist() == [False, False, False, False]


def test_results_document_carries_the_shared_keys(tmp_path):
    f = tmp_path / "in.csv"
    f.write_text("a\n1\n", encoding="utf-8")
    doc = results.document("demo", params={"confidence": 0.95}, inputs={"survey": str(f)},
                           headline={"NPS": 1.0, "n": 3}, tables={"t": pd.DataFrame({"estimate": [np.nan]})},
                           nps=1.0)
    assert set(results.DOCUMENT_KEYS) <= set(doc)
    assert doc["headline_order"] == ["NPS", "n"] and doc["nps"] == 1.0
    assert len(doc["input_sha256"]["survey"]) == 64
    back = json.loads(results.dumps(doc))
    assert back["tables"]["t"] == [{"estimate": None}]
    with pytest.raises(ValueError):
        results.document("demo", params={}, inputs={}, headline={}, notes=[], tables={}, headline_order=None,
                         input_sha256="x")


def test_charts_render_chinese_without_missing_glyph_warnings():
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    from loyaltylab import plots

    plots.set_theme()
    assert plots.CJK_FONT in plt.rcParams["font.family"]
    assert any(f.name == plots.CJK_FONT for f in font_manager.fontManager.ttflist)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig, ax = plt.subplots()
        ax.bar(["华北", "华东", "North"], [1, 2, 3])
        ax.set_title("净推荐值 by 地区")
        fig.canvas.draw()
        plt.close(fig)


def test_linked_tables_leave_no_cell_recoverable_by_subtraction():
    # the case: Premium in North (3) is hidden in North's report; overall Premium (43) minus South (40)
    # must not give it back, so South's Premium cell (or another) is hidden too
    counts = np.array([[120, 80, 3],    # North: Basic, Standard, Premium
                       [150, 90, 40]])  # South
    hidden = privacy.linked_mask(counts, 5)
    assert hidden[0, 2] and hidden[1, 2]
    for grid, mask in ((counts, hidden), (counts.T, hidden.T)):
        for line, line_hidden in zip(grid, mask):
            assert line_hidden.sum() in (0,) or (line_hidden.sum() >= 2 and line[line_hidden].sum() >= 5)
    assert not privacy.linked_mask(np.array([[10, 20], [30, 40]]), 5).any()
    rng = np.random.default_rng(1)
    for _ in range(200):
        c = rng.integers(0, 12, size=(rng.integers(2, 6), rng.integers(2, 6)))
        m = privacy.linked_mask(c, 5)
        assert m[(c > 0) & (c < 5)].all()
        for grid, mask in ((c, m), (c.T, m.T)):
            for line, line_hidden in zip(grid, mask):
                nonempty = (line > 0).sum()
                assert line_hidden.sum() == 0 or line_hidden.sum() >= min(2, nonempty)
