"""Notebook 05 in Chinese (issue 14): with ``language = "zh"`` nothing the dual-proactivity and recovery report shows —
key findings, "What this shows", the fallbacks, table captions, headers and word cells, chart titles, axis labels,
legends and word ticks — is left for a Chinese reader to read in English; English stays as it was."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

from loyaltylab import display, i18n
from loyaltylab.analyses import dual_proactivity as dual

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

ROOT = Path(__file__).resolve().parents[1]
STATES = ROOT / "tests" / "fixtures" / "moderation" / "states.csv"
DATA_COLUMNS = {"Failure type", "Term"}
"""Table columns holding data values (the incidents' failure types, the model's term names)."""
PLOTS = ("plot_interaction", "plot_jn", "plot_surface", "plot_cells", "plot_retention", "plot_recovery_groups",
         "plot_paradox", "plot_speed", "plot_hazard")
DESCRIBE = ("describe_data", "describe_model", "describe_slopes", "describe_jn", "describe_synergy",
            "describe_retention", "describe_cox", "describe_claims_or_note", "describe_recovery", "describe_speed",
            "describe_paradox_or_note", "describe_hazard_or_note", "describe_truth_or_note")


@pytest.fixture(scope="module")
def course(small_course_dir) -> dual.Result:
    return dual.analyze(dual.Params(survey_path=str(small_course_dir / "survey.csv")))


@pytest.fixture(scope="module")
def states() -> dual.Result:
    """A user's single file (R's state.x77): neutral wording, the other sections skipped with a reason."""
    return dual.analyze(dual.Params(survey_path=str(STATES), x="illiteracy", moderator="murder", outcome="income",
                                    controls=["hs_grad"], cluster_col=None, customers_path=None,
                                    incidents_path=None, cov_type="nonrobust"))


def _sentences(result) -> list[str]:
    return [*result.key_findings(), *(line for name in DESCRIBE for line in getattr(dual, name)(result))]


def _english(texts) -> list[str]:
    return [str(t) for t in texts if i18n.english_only(t)]


def _tables(result):
    """(caption, table) of every table the notebook shows, as :func:`notebook.show_table` gets them."""
    it, rec = result.interaction, result.recovery
    return [("Coefficients", dual.view(it.model.coefficients, "coefficients")),
            ("Simple slopes of x", dual.view(it.slopes, "slopes")),
            ("Cell means", dual.view(it.cells, "cells", result)), ("Contrasts", dual.view(it.contrasts, "contrasts")),
            ("Retention by cell", dual.view(result.retention.cells, "retention", result)),
            ("The slides' claims against the data", dual.view(result.claims, "claims")),
            ("Customers by failure history", dual.view(rec.status_counts, "status")),
            ("Recovery by failure type", dual.view(rec.by_type, "by_type")),
            ("NPS after the failure", dual.view(rec.groups, "groups")),
            ("Paradox tests", dual.view(rec.paradox_table, "paradox")),
            ("Churn hazard by failure status", dual.view(rec.hazard.table, "hazard")),
            ("Estimated vs true", dual.view(result.truth, "truth")),
            ("2×2 at the report's cuts", dual.view(it.cells, "cells", result))]


def test_sentences_are_chinese(course, states):
    with i18n.language("zh"):
        for result in (course, states):
            lines = _sentences(result)
            assert lines and not _english(lines), _english(lines)
            assert all(i18n.has_chinese(line) for line in lines)
        assert "“1+1>2”成立" in " ".join(course.key_findings())
        assert any(line.startswith("已跳过按四组的留存分析：没有客户文件") for line in states.key_findings())
        assert i18n.has_chinese(dual.explorer_slope_line(course, 2.0))
        assert i18n.has_chinese(dual.explorer_cut_line(course, 2.0, 2.0))


def test_tables_captions_and_words_are_chinese(course):
    with i18n.language("zh"):
        for caption, table in _tables(course):
            assert i18n.has_chinese(i18n.word(caption)), caption
            shown = display.for_people(table, precision=2)
            assert len(set(shown.columns)) == len(table.columns) - ("suppressed" in table), list(shown.columns)
            assert not _english(shown.columns), (caption, list(shown.columns))
            english_columns = [display.header_en(c) for c in table.columns if c != "suppressed"]
            words = [v for c, col in zip(english_columns, shown.columns) if c.strip() not in DATA_COLUMNS
                     for v in shown[col]]
            assert not _english(words), (caption, _english(words))
        cells = display.for_people(dual.view(course.interaction.cells, "cells", course))
        assert cells.columns[0] == "组别" and cells.iloc[:, 0].tolist() == ["双方都不主动", "仅企业主动", "仅顾客主动",
                                                                      "双方都主动"]


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # the texts are checked here, not the font
def test_charts_are_chinese(course):
    with i18n.language("zh"):
        for name in PLOTS:
            fig = getattr(dual, name)(course).figure
            fig.canvas.draw()
            i18n.translate_figure(fig)
            texts = [a.get_text() for a in i18n.figure_texts(fig)]
            ticks = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()]
            plt.close(fig)
            assert texts and not _english(texts + ticks), (name, _english(texts + ticks))


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_english_is_unchanged_and_both_reads_chinese_then_english(course, states):
    assert i18n.current() == "en"
    default = _sentences(course)
    with i18n.language("en"):
        assert _sentences(course) == default
    assert not any(i18n.has_chinese(line) for line in default + _sentences(states))
    assert default[1].startswith("“1+1>2” holds: both − firm only − customer only + neither = ")
    assert dual.describe_truth_or_note(states) == ["Not the course data: no truth to compare."]
    assert "Skipped recovery: no incidents file." in states.key_findings()
    cells = dual.view(course.interaction.cells, "cells", course)
    assert cells["Cell"].tolist() == ["neither proactive", "firm only", "customer only", "both"]
    assert list(dual.view(course.retention.cells, "retention", course).columns)[-3:-1] == ["CI low ", "CI high "]
    fig = dual.plot_hazard(course).figure
    assert fig.axes[0].get_title() == "Churn by failure status"
    plt.close(fig)
    with i18n.language("both"):
        zh, en = course.key_findings()[1].split("\n")
        assert zh.startswith("“1+1>2”成立") and en == default[1]
        both = dual.view(course.recovery.status_counts, "status")["Failure history"].tolist()
        assert both[0] == "从未失误 / never failed"


def test_columns_terms_and_the_horizon_are_named_in_chinese(course):
    with i18n.language("zh"):
        lines = [line.replace("\\_", "_") for name in dir(dual) if name.startswith("describe_")
                 for line in getattr(dual, name)(course)]
        retention = dual.view(course.retention.cells, "retention", course)
        terms = dual.view(course.interaction.model.coefficients, "coefficients", course)["Term"].tolist()
    assert not [line for line in lines if "控制 provider_proactive" in line or "调整了 tenure_days" in line]
    assert any("控制企业主动服务、" in line for line in lines)
    assert "12 个月留存率" in retention.columns
    assert terms[:4] == ["截距", "企业主动服务", "顾客主动参与", "企业主动服务 × 顾客主动参与"]
