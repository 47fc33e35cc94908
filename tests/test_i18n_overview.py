"""Issue 14, notebook 00 (data overview) in Chinese: findings, sentences, table captions, headers and word cells, and
chart labels leave nothing a Chinese reader must read in English; English output stays as it was."""
from __future__ import annotations

import re
import warnings
from types import SimpleNamespace

import matplotlib
import pandas as pd
import pytest

from loyaltylab import display, i18n, plots
from loyaltylab.analyses import overview
from loyaltylab.analyses.overview import tables as overview_tables

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the Agg backend

TABLES = ("customers", "survey", "transactions", "incidents")
DATA_VALUED_HEADERS = {"Column", "Value"}  # column names of the user's files and segment levels: data, not words
FIXED_CAPTIONS = ("Tables read", "Columns with missing values")


@pytest.fixture(scope="module", params=[5, 450], ids=["min_cell=5", "min_cell=450"])
def result(request, small_course_dir):
    """The overview of the small course world; min_cell 450 hides NPS scores, histogram bars and segment groups."""
    paths = {f"{t}_path": str(small_course_dir / f"{t}.csv") for t in TABLES}
    return overview.analyze(overview.Params(**paths, min_cell=request.param))


def sentences(result) -> list[str]:
    return [*result.key_findings(), *overview.describe_distributions(result), *overview.describe_histograms(result),
            *overview.describe_segments(result), *overview.describe_warnings(result), *result.notes(),
            *overview.segment_tables(result), overview.explorer_off_note()]


def shown_tables(result) -> dict[str, pd.DataFrame]:
    return {"Tables read": result.summary, "Columns with missing values": result.missing,
            **overview.segment_tables(result)}


def charts(result) -> list:
    return [overview.plot_nps_distribution(result).figure, overview.plot_dimension_means(result).figure,
            overview.plot_histograms(result), overview.plot_segment_sizes(result)]


def test_the_high_min_cell_run_exercises_every_hidden_branch(result):
    if result.min_cell == 450:
        assert result.nps_distribution["suppressed"].any()
        assert any(t["suppressed"].any() for t in result.histograms.values())
        assert any(t["suppressed"].any() for t in result.segments.values())


def test_every_sentence_is_chinese(result):
    with i18n.language("zh"):
        lines = sentences(result)
    for line in lines:
        assert i18n.has_chinese(line) and not i18n.english_only(line), line


def test_every_shown_table_has_chinese_caption_headers_and_words(result):
    with i18n.language("zh"):
        for caption, table in shown_tables(result).items():
            assert not i18n.english_only(i18n.word(caption)), caption
            shown = display.for_people(table)
            for name in table.columns.drop("suppressed", errors="ignore"):
                assert not i18n.english_only(display.header(name)), (caption, name)
            data_valued = {display.header(n) for n in table.columns if display.header_en(n) in DATA_VALUED_HEADERS}
            for name in shown.columns:
                if name not in data_valued:
                    left = [cell for cell in shown[name] if i18n.english_only(cell)]
                    assert not left, (caption, name, left)


def test_every_chart_label_is_chinese(result):
    cjk_font = {"font.family": ["DejaVu Sans", plots.register_cjk_font()]}
    with i18n.language("zh"), plt.rc_context(cjk_font), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures = charts(result)
        for fig in figures:
            i18n.translate_figure(fig)
            for artist in i18n.figure_texts(fig):
                assert not i18n.english_only(artist.get_text()), artist.get_text()
            fig.canvas.draw()
        ticks = [t.get_text() for t in figures[1].axes[0].get_xticklabels()]
        assert ticks and all(i18n.has_chinese(t) for t in ticks), ticks
    assert not [str(w.message) for w in caught if "missing from font" in str(w.message)]
    plt.close("all")


def test_english_is_the_default_and_unchanged(result):
    default = sentences(result)
    with i18n.language("en"):
        assert sentences(result) == default
    assert not any(i18n.has_chinese(line) for line in default if "SERVQUAL dimensions" not in line)
    assert re.fullmatch(r"[\d,]+ customers, [\d,]+ survey responses, [\d,]+ transactions and [\d,]+ service "
                        r"incidents\.", default[0])
    assert list(overview.segment_tables(result)) == [f"Customers by {c}" for c in result.segments]
    assert overview.explorer_off_note() == ("Interactive explorer off (`interactive=False`): the charts above are "
                                            "the static view.")
    for caption in FIXED_CAPTIONS:
        assert i18n.word(caption) == caption
    figure = overview.plot_nps_distribution(result).figure
    i18n.translate_figure(figure)
    assert figure.axes[0].get_title() == "NPS answers: detractors 0–6, passives 7–8, promoters 9–10"
    plt.close("all")


def test_both_reads_chinese_then_the_english_sentence(result):
    english = sentences(result)
    with i18n.language("both"):
        both = sentences(result)
    with i18n.language("zh"):
        chinese = sentences(result)
    assert both == [f"{zh}\n{en}" for zh, en in zip(chinese, english)]


def test_every_data_quality_warning_reads_in_chinese():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "segment": ["X", "X", "Y"], "churned": [1, 0, 0],
                              "churn_date": [None, None, None], "tenure_days": [10, 20, 400]})
    items = {f"P{i}": [4, 4, 3, 3] for i in range(1, 23)}
    survey = pd.DataFrame({"customer_id": ["a", "a", "zz", "b"], "date": ["2024-01-01"] * 2 + ["2024-02-01"] * 2,
                           "nps": [9, 9, None, 3], **items})
    tables = {"customers": customers, "survey": survey, "incidents": pd.DataFrame({"customer_id": []})}
    english = overview_tables.quality_warnings(tables, min_cell=5)
    with i18n.language("zh"):
        chinese = overview_tables.quality_warnings(tables, min_cell=5)
    assert len(english) == len(chinese) == 8
    for line in chinese:
        assert i18n.has_chinese(line) and not i18n.english_only(line), line
    assert "The incidents table has no rows." in english
    worded_once = SimpleNamespace(warnings=english, data=tables, min_cell=5)
    assert overview.describe_warnings(worded_once) == english
    with i18n.language("zh"):
        assert overview.describe_warnings(worded_once) == chinese
