"""Notebook 01 in Chinese (issue 14): with ``language = "zh"`` nothing the NPS report shows — key findings, "What this
shows", table captions, headers and word cells, chart titles, axis labels, legends — is left for a Chinese reader to
read in English; English stays as it was."""
from __future__ import annotations

from dataclasses import replace

import matplotlib
import pytest

from loyaltylab import display, i18n
from loyaltylab.analyses import nps
from loyaltylab.analyses.nps.linked import LinkedHiding

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

DATA_COLUMNS = {"Segment", "Period", "Group"}
"""Table columns holding data values (segment values, period labels), which are never translated."""
PLOTS = ("plot_distribution", "plot_overall", "plot_segments", "plot_trend", "plot_dimensions", "plot_odds_ratios",
         "plot_themes", "plot_truth")


@pytest.fixture(scope="module")
def report(small_course_dir):
    """The notebook's run on the small course world, clustered by customer as the notebook's default."""
    return nps.analyze(nps.Params(survey_path=str(small_course_dir / "survey.csv"),
                                  customers_path=str(small_course_dir / "customers.csv")))


def _sentences(result, fallback: bool = True) -> list[str]:
    return [*nps.key_findings(result), *nps.describe_overall(result), *nps.describe_segments(result),
            *nps.describe_trend(result, fallback=fallback), *nps.describe_dimensions(result, fallback=fallback),
            *nps.describe_themes(result, fallback=fallback), *nps.describe_sample_size(result),
            *nps.describe_truth(result), *nps.describe_join(result), *nps.describe.describe_linked(result)]


def _english(texts) -> list[str]:
    return [str(t) for t in texts if i18n.english_only(t)]


def _tables(result):
    """(caption, table) of every table the notebook shows, as :func:`notebook.show_table` gets them."""
    return [*nps.segment_views(result), ("NPS by period", nps.view(result.trend, "trend")),
            ("Promoters vs detractors", nps.view(result.dimensions.effects, "effects")),
            ("Themes among commenting detractors and promoters", nps.view(result.themes, "themes")),
            ("Responses needed", nps.view(result.sample_sizes, "sample_size")),
            ("Estimated vs true NPS", nps.view(result.truth, "truth"))]


def test_sentences_are_chinese(report):
    with i18n.language("zh"):
        lines = _sentences(report)
        assert lines and not _english(lines)
        assert all(i18n.has_chinese(line) for line in lines)
        assert nps.key_findings(report)[0].startswith("NPS 为 **")


def test_fallbacks_small_cells_and_withheld_parts_are_chinese(report):
    bare = replace(report, trend=None, dimensions=None, themes=None, truth=None)
    small = nps.run(report.data, replace(report.params, min_cell=300))  # suppressed groups, a wholly hidden table
    part = replace(report, data=replace(report.data, filters={"region": "North"}),
                   linked=LinkedHiding(withheld=True))
    with i18n.language("zh"):
        for result in (bare, small, part):
            lines = _sentences(result)
            assert lines and not _english(lines), lines
        notes = ["no SERVQUAL perception items", "too few promoters or detractors to fit (need 10 of each)",
                 "model could not be fit (LinAlgError)",
                 "the fit did not converge cleanly (near-perfect separation?); read the odds ratios with care"]
        assert not _english(nps.describe.model_note(n) for n in notes)
    assert [nps.describe.model_note(n) for n in notes] == notes
    assert nps.describe_trend(bare, fallback=True) == ["No date column: no trend."] and not nps.describe_trend(bare)


def test_tables_captions_and_quotes_are_chinese(report):
    with i18n.language("zh"):
        for caption, table in _tables(report):
            assert i18n.has_chinese(i18n.word(caption)), caption
            shown = display.for_people(table, precision=2)
            assert not _english(shown.columns), (caption, list(shown.columns))
            english_columns = [display.header_en(c) for c in table.columns]
            words = [v for c, col in zip(english_columns, shown.columns) if c not in DATA_COLUMNS
                     for v in shown[col]]
            assert not _english(words), (caption, words)
        truth = display.for_people(nps.view(report.truth, "truth"))
        assert truth.iloc[0, :2].tolist() == ["总体", "全体客户"]
        assert "推荐者" in nps.quotes_html(report.quotes) and "Promoters" not in nps.quotes_html(report.quotes)


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # the texts are checked here, not the font
def test_charts_are_chinese(report):
    with i18n.language("zh"):
        for name in PLOTS:
            drawn = getattr(nps, name)(report)
            fig = drawn if isinstance(drawn, matplotlib.figure.Figure) else drawn.figure
            i18n.translate_figure(fig)
            texts = [a.get_text() for a in i18n.figure_texts(fig)]
            plt.close(fig)
            assert texts and not _english(texts), (name, texts)


def test_english_is_unchanged_and_both_reads_chinese_then_english(report):
    assert i18n.current() == "en"
    default = _sentences(report)
    with i18n.language("en"):
        assert _sentences(report) == default
    assert default[0].startswith("NPS is **") and "% promoters" in default[0]
    assert nps.segment_views(report)[0][0] == "NPS by segment"
    assert list(nps.view(report.sample_sizes, "sample_size").columns)[1].startswith("observed (P ")
    with i18n.language("both"):
        first = nps.key_findings(report)[0]
        zh, en = first.split("\n")
        assert zh.startswith("NPS 为") and en == default[0]
        assert nps.segment_views(report)[0][0] == "按细分市场划分的 NPS / NPS by segment"
