"""Issue 14, notebook 04 (churn and CLV) in Chinese: with ``language = "zh"`` every key finding, "What this shows"
sentence, table caption, table header and word cell, and chart label reads in Chinese — only data values (segment
names, covariate names, cohort names) and field acronyms stay as they are — and English output is unchanged."""
from __future__ import annotations

import re

import matplotlib
import pandas as pd
import pytest

from loyaltylab import display, i18n, loaders, plots
from loyaltylab.analyses import churn, clv
from loyaltylab.narrative import esc

matplotlib.use("Agg")

DESCRIBE = ["describe_data", "describe_km", "describe_logrank", "describe_cox", "describe_ph", "describe_ph_plot",
            "describe_aft", "describe_validation", "describe_warning_intro", "describe_warning", "describe_backtest",
            "describe_nps", "describe_truth"]
ENGLISH_PHRASE = re.compile(r"(?:\b[A-Za-z][A-Za-z'’-]+\b[ ,;:]+){3,}")     # three English words in a row
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]                        # Fader & Hardie (2007)


@pytest.fixture(scope="module")
def course_zh(small_course_dir, tmp_path_factory):
    """The notebook's computation on the small course world, run as the notebook runs it with language = "zh"
    (the language is set before the analysis: notes made while fitting are in it too), with a cohort table."""
    cohorts = tmp_path_factory.mktemp("cohorts") / "cohorts.csv"
    pd.DataFrame({"year": range(8), "High End": HIGH_END, "Young": [1000, 700] + [None] * 6}).to_csv(cohorts,
                                                                                                  index=False)
    p = clv.Params(customers_path=str(small_course_dir / "customers.csv"), cohort_retention_path=str(cohorts))
    with i18n.language("zh"):
        result = churn.analyze(p.churn_params())
        value = clv.analyze(p, churn_result=result)
    return result.with_clv(value), value


def _data_words(result, value) -> list[str]:
    """Words that are data, never translated: covariate and level names, segment values, cohort names."""
    design = result.data.design
    words = {*design.columns, *design.terms, *design.categorical}
    words |= {str(lv) for levels in design.categorical.values() for lv in levels}
    if result.km_groups is not None:
        words |= {str(v) for v in result.km_groups.table["value"]} | {result.km_groups.column}
    words |= {f.cohort for f in value.sbg_fits} | set(value.sbg_skipped)
    words |= {esc(w) for w in words}
    return sorted(words, key=len, reverse=True)


def _left_in_english(texts, data_words) -> list[str]:
    """The texts a Chinese reader would have to read in English once the data words are taken out."""
    bad = []
    for text in texts:
        for line in str(text).split("\n"):
            rest = line
            for word in data_words:
                rest = rest.replace(word, " ")
            if i18n.english_only(rest) or ENGLISH_PHRASE.search(rest):
                bad.append(line)
    return bad


def _sentences(result, value) -> list[str]:
    lines = [*result.key_findings(), *clv.describe_value(value), *clv.describe_sbg(value)]
    for name in DESCRIBE:
        lines += getattr(churn, name)(result)
    return lines


def _tables(result, value) -> dict[str, pd.DataFrame]:
    """Every table notebook 04 shows, as its cells compute them."""
    out = {
        "policy": churn.policy_table(result.data), "km_by_segment": result.km_groups.table, "rmst": result.rmst,
        "logrank": churn.logrank_table(result.logrank), "pairwise": result.logrank.pairwise,
        "cox": churn.coefficient_table(result.cox), "cox_tests": churn.tests_table(result.cox),
        "cox_terms": result.cox.term_tests, "ph": result.ph.table, "advice": result.ph.advice,
        "aft": result.aft.table, "aft_vs_cox": churn.aft_vs_cox(result.aft, result.cox),
        "validation": churn.metrics_table(result.validation, result.backtest, time_unit=result.data.time_unit),
        "by_tenure": result.validation.by_tenure, "risk_factors": churn.risk_factor_table(result.warning),
        "nps": churn.nps_table(result), "truth": result.truth, "by_segment": value.value.by_segment,
        "sbg": clv.sbg_summary_table(value.sbg_fits, value.cohort_rate),
    }
    if result.remedy is not None:
        out["remedy"] = churn.coefficient_table(result.remedy)
    return out


def test_sentences_and_captions_are_chinese(course_zh):
    result, value = course_zh
    words = _data_words(result, value)
    with i18n.language("zh"):
        lines = _sentences(result, value)
        captions = [c for c in [*churn.captions(result).values(), *clv.captions(value).values()] if c]
        assert not _left_in_english(lines, words)
        assert all(i18n.has_chinese(line) for line in lines)
        assert not _left_in_english([i18n.word(c) for c in captions], words)
        assert not _left_in_english(result.data.design.notes + result.model_notes, words)
    assert result.remedy is not None and result.nps is not None and value.sbg_skipped   # every branch shown above


def test_tables_read_in_chinese(course_zh):
    result, value = course_zh
    words = _data_words(result, value)
    with i18n.language("zh"):
        for name, table in _tables(result, value).items():
            shown = display.for_people(table, 3)
            assert not _left_in_english(shown.columns, words), name
            cells = [c for col in shown.columns for c in shown[col]]
            assert not _left_in_english(cells, words), name


def test_charts_read_in_chinese(course_zh):
    import matplotlib.pyplot as plt

    result, value = course_zh
    words = _data_words(result, value)
    first_term = list(result.ph.table["term"][:1])
    charts = {
        "km": lambda: churn.plot_km(result.km, time_unit="days", horizon=90),
        "km_groups": lambda: churn.plot_km(result.km_groups, time_unit="days", horizon=90),
        "hazard_ratios": lambda: churn.plot_hazard_ratios(result.cox),
        "ph": lambda: churn.plot_ph_residuals(result, terms=first_term),
        "validation": lambda: churn.plot_validation(result),
        "backtest": lambda: churn.plot_backtest(result),
        "risk": lambda: churn.plot_risk_distribution(result.warning, time_unit="days"),
        "truth": lambda: churn.plot_truth(result.truth, confidence=0.95),
        "nps": lambda: churn.plot_nps_survival(result),
        "ltv_cac": lambda: clv.plot_ltv_cac(value),
        "sbg": lambda: clv.plot_sbg(value),
    }
    with i18n.language("zh"), matplotlib.rc_context():
        plots.set_theme()                                   # the notebook's theme: a Chinese font
        for name, draw in charts.items():
            plt.close("all")
            draw()
            fig = plt.gcf()
            i18n.translate_figure(fig)
            texts = [artist.get_text() for artist in i18n.figure_texts(fig)]
            assert texts and not _left_in_english(texts, words), name
            if name == "km":        # lifelines' risk table under the curve
                ticks = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels()]
                assert any("风险集" in t for t in ticks) and not any("At risk" in t for t in ticks)
    plt.close("all")


def _everything(result) -> list[str]:
    value = result.clv
    lines = [*result.key_findings(), *clv.describe_value(value), *clv.describe_sbg(value),
             *churn.captions(result).values(), *clv.captions(value).values()]
    for name in DESCRIBE:
        lines += getattr(churn, name)(result)
    return lines + list(churn.metrics_table(result.validation, result.backtest)["measure"])


@pytest.fixture(scope="module")
def small(small_customers):
    p = clv.Params(covariates=["x"], signup_col=None, churn_date_col=None, survey_path=None)
    customers = loaders.Customers(frame=small_customers, source="small", path="small")
    result = churn.analyze_customers(customers, p.churn_params())
    return result.with_clv(clv.analyze(p, churn_result=result))


def test_english_is_unchanged_and_both_reads_chinese_then_english(small):
    english = _everything(small)
    assert i18n.current() == "en"
    assert english[0].startswith("600 customers analysed, ")
    assert [x for x in english if i18n.has_chinese(x)] == churn.describe_warning_intro(small)   # '(提前90天预警)'
    assert english == [*small.key_findings(), *english[len(small.key_findings()):]]
    assert small.key_findings()[-1].startswith("Active customers' expected remaining lifetime averages ")
    assert churn.captions(small)["cox"] == "Cox proportional hazards (95% intervals)"
    with i18n.language("zh"):
        chinese = _everything(small)
    with i18n.language("both"):
        both = _everything(small)
    assert _everything(small) == english                       # nothing stays switched
    made_while_fitting = esc(small.nps_note)            # a note written during the (English) run stays English
    assert len(chinese) == len(english) and made_while_fitting in chinese
    assert all(i18n.has_chinese(x) for x in chinese if x and x != made_while_fitting)
    for line, zh, en in zip(both, chinese, english, strict=True):     # Chinese, then English: whole sentences
        assert line == (en if zh == en else f"{zh}\n{en}")
    # results.json names the validation measures in English whatever the report's language
    with i18n.language("zh"):
        measures = list(small.tables()["validation"]["measure"])
    assert measures == list(churn.metrics_table(small.validation, small.backtest)["measure"])


def test_chinese_sentences_name_course_columns_in_chinese(course_zh):
    """'segment 为 Premium', 'provider_proactive 与 customer_proactive 的共同作用', '按 segment：' read in Chinese;
    the model terms of the Cox table and chart too (segment[Standard] → 细分市场 = Standard)."""
    result, value = course_zh
    code_names = re.compile(r"\b(segment|channel|region|provider_proactive|customer_proactive|tenure_days)\b")
    with i18n.language("zh"):
        lines = [line.replace("\\_", "_") for line in _sentences(result, value)]
        captions = churn.captions(result)
        covariates = churn.coefficient_table(result.cox)["covariate"].tolist()
    assert not [line for line in lines if code_names.search(line)]
    assert "按细分市场" in captions["km_by_segment"] and "按 " not in captions["km_by_segment"]
    assert "细分市场 = Standard" in covariates and "企业主动服务 × 顾客主动参与" in covariates
    assert not [line for line in lines if "提前预警" in line or "C 指数" in line.replace("（C 指数", "")]


def test_notes_made_in_one_language_are_shown_in_the_reader_s(course_zh):
    """Where durations came from and the design notes are made while fitting (here in Chinese); a report in
    another language shows them in its own, and ``both`` never nests the pair inside a sentence."""
    result, _ = course_zh
    english = churn.describe_data(result)
    assert not any(i18n.has_chinese(line) for line in english)
    with i18n.language("zh"):
        chinese = churn.describe_data(result)
    with i18n.language("both"):
        both = churn.describe_data(result)
    for line, zh, en in zip(both, chinese, english, strict=True):
        assert line == (en if zh == en else f"{zh}\n{en}")


def test_counts_read_as_counts(course_zh):
    """The validation table's customer counts are whole numbers ('13,917', not '13,917.000'); the rule that counts
    no rows shows '–', never '<NA>'."""
    result, _ = course_zh
    with i18n.language("zh"):
        metrics = display.for_people(churn.metrics_table(result.validation, result.backtest), 3)
        policy = display.for_people(churn.policy_table(result.data), 3)
    values = dict(zip(metrics.iloc[:, 0], metrics.iloc[:, 1]))
    scored = next(v for k, v in values.items() if "评分客户数" in k)
    assert re.fullmatch(r"[\d,]+", scored)
    assert "<NA>" not in policy.to_string() and "–" in policy.iloc[:, -1].tolist()
