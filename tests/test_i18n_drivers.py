"""Issue 14 for notebook 03 (loyalty drivers): with ``language = "zh"`` every sentence, table and chart a reader sees
is in Chinese (data values — column names, segment values — excepted); ``"both"`` is Chinese then English; English
stays what it was. On the small course world (nps, and promoter vs not), R's swiss data (a user's own columns: sign
flip, too few rows, no bootstrap) and a small simulated file (collinear drivers, a suppressed segment, a control)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pandas as pd
import pytest

from loyaltylab import display, i18n, narrative
from loyaltylab.analyses import drivers as dr
from loyaltylab.analyses.drivers import truth as truth_mod
from loyaltylab.analyses.drivers import words

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "03_loyalty_drivers.ipynb"
FIXTURES = Path(__file__).parent / "fixtures"
SWISS_X = ["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"]
DESCRIBE = (dr.describe_data, dr.describe_importance, dr.describe_measures, dr.describe_uncertainty,
            dr.describe_dominance, dr.describe_promoter, dr.describe_key_drivers, dr.describe_stated,
            dr.describe_kano, dr.describe_segments, dr.describe_warnings, dr.describe_truth)
PLOTS = (dr.plot_importance, dr.plot_measures, dr.plot_rank_probabilities, dr.plot_pairs, dr.plot_key_drivers,
         dr.plot_stated, dr.plot_kano, dr.plot_segments, dr.plot_truth)
CAPTIONS = ("Relative importance", "The measures in R² units", "Pairwise LMG differences", "Who dominates whom",
            "Promoter vs not", "Key drivers", "Derived vs stated importance", "Penalty and reward", "Warnings",
            "Estimated vs true", "Shares for this selection")
pytestmark = pytest.mark.filterwarnings("ignore:Glyph:UserWarning")  # Agg without a CJK font: the text is checked
TITLES = ("Key findings", "What this shows", "The data", "Derived vs stated", "Selection")


def _with_truth(result):
    """The result with a course-truth comparison (the small world's truth.json may not carry the population)."""
    table = result.drivers
    pop = {"r2": result.r2, "lmg": dict(zip(table["driver"], table["lmg"])),
           "lmg_share": dict(zip(table["driver"], table["lmg_share"])),
           "relative_weight_share": dict(zip(table["driver"], table["relative_weight_share"]))}
    truth = {"drivers": {"population": {"nps": pop}, "weights": dict.fromkeys(table["driver"], 0.2)}}
    return dataclasses.replace(result, truth=truth_mod.truth_comparison(truth, "nps", table, result.r2, result.boot))


@pytest.fixture(scope="module")
def results(small_course_dir, tmp_path_factory):
    survey = str(small_course_dir / "survey.csv")
    rng = np.random.default_rng(4)
    n = 300
    a = rng.normal(size=n)
    frame = pd.DataFrame({"speed": a, "speed2": a + 0.1 * rng.normal(size=n), "staff": rng.normal(size=n),
                          "plan": ["Tiny"] * 3 + ["Small"] * 6 + list(rng.choice(["Plus", "Pro"], n - 9)),
                          "customer_id": [f"K{i:04d}" for i in range(n)]})
    frame["score"] = frame[["speed", "speed2", "staff"]].sum(axis=1) + rng.normal(size=n)
    path = tmp_path_factory.mktemp("i18n_drivers") / "sim.csv"
    frame.to_csv(path, index=False)
    return {
        "course": _with_truth(dr.analyze(dr.Params(survey_path=survey, n_bootstrap=50))),
        "promoter": dr.analyze(dr.Params(survey_path=survey, outcome="promoter", n_bootstrap=20, segment_cols=[])),
        "swiss": dr.analyze(dr.Params(survey_path=str(FIXTURES / "swiss.csv"), outcome="Fertility", drivers=SWISS_X,
                                      cluster_col=None, n_bootstrap=0)),
        "simulated": dr.analyze(dr.Params(survey_path=str(path), outcome="score", drivers=["speed", "speed2", "staff"],
                                          controls=["plan"], segment_cols=["plan"], n_bootstrap=20)),
    }


def _data_words(r) -> list[str]:
    """Values from the data (column names, segment values) a report shows as they are, longest first."""
    values = {r.outcome, *r.data.drivers, *r.data.controls, *r.data.segment_cols, *r.data.control_columns}
    for col in r.data.segment_cols:
        values |= set(r.data.frame[col].dropna().astype(str))
    values |= {narrative.esc(v) for v in values}
    return sorted(values, key=len, reverse=True)


def _english_only(text, data_words) -> bool:
    for value in data_words:
        text = str(text).replace(value, " ")
    return i18n.english_only(text)


def _sentences(r) -> list[str]:
    lines = [*r.key_findings(), *(x for fn in DESCRIBE for x in fn(r))]
    lines += [x for section in ("measures", "promoter", "segments", "truth") for x in dr.fallback(section)]
    lines += [dr.selection(r, r.outcome, list(r.data.drivers)[:2])[1], dr.selection(r, r.outcome, [r.outcome])[1]]
    return lines


def _tables(r) -> list[tuple[str, pd.DataFrame]]:
    """Every table the notebook shows, as notebook.show_table shows it (caption, table for people)."""
    shown = [("Relative importance", dr.view(r.ranked(), "drivers")),
             ("The measures in R² units", dr.view(r.drivers, "measures")),
             ("Key drivers", dr.view(r.key_drivers, "key_drivers")), ("Penalty and reward", dr.view(r.kano, "kano")),
             ("Warnings", dr.view(r.warnings, "warnings"))]
    if r.boot is not None:
        shown.append(("Pairwise LMG differences", dr.view(r.boot.pairs, "pairs")))
    if r.decomposition.dominance is not None:
        shown.append(("Who dominates whom", dr.view(r.decomposition.dominance, "dominance")))
    if r.promoter is not None:
        shown.append(("Promoter vs not", dr.view(r.promoter.point.table, "promoter")))
    if r.stated is not None:
        shown.append(("Derived vs stated importance", dr.view(r.stated, "stated")))
    if r.truth is not None:
        shown.append(("Estimated vs true", dr.view(r.truth, "truth")))
    shown += dr.segment_views(r)
    return [(i18n.word(caption), display.for_people(table)) for caption, table in shown]


def test_every_sentence_is_in_chinese(results):
    with i18n.language("zh"):
        for name, r in results.items():
            data_words = _data_words(r)
            for line in _sentences(r):
                assert line and not _english_only(line, data_words), (name, line)
            assert all(i18n.has_chinese(x) for x in r.key_findings()), name


def test_every_table_caption_header_and_word_cell_is_in_chinese(results):
    with i18n.language("zh"):
        for caption in (*CAPTIONS, *TITLES):
            assert i18n.has_chinese(i18n.word(caption)), caption
        for name, r in results.items():
            data_words = _data_words(r)
            for caption, table in _tables(r):
                assert not _english_only(caption, data_words), (name, caption)
                for text in [*table.columns, *table.astype(str).to_numpy().ravel()]:
                    assert not _english_only(text, data_words), (name, caption, text)
        course = _tables(results["course"])
        assert any("重点改进" in set(t.to_numpy().ravel()) for _, t in course)
        assert any("可靠性" in set(t.to_numpy().ravel()) for _, t in course)


def test_every_chart_label_is_in_chinese(results):
    with i18n.language("zh"):
        for name, r in results.items():
            data_words = _data_words(r)
            for plot in PLOTS:
                ax = plot(r)
                if ax is None:
                    continue
                fig = ax.figure
                i18n.translate_figure(fig)
                texts = [a.get_text() for a in i18n.figure_texts(fig)]
                texts += [t.get_text() for a in fig.axes for t in (*a.get_xticklabels(), *a.get_yticklabels())]
                for text in texts:
                    assert not _english_only(text, data_words), (name, plot.__name__, text)
                plt.close(fig)


def test_both_is_chinese_then_english_and_english_is_unchanged(results):
    r = results["course"]
    english = _sentences(r)
    with i18n.language("zh"):
        chinese = _sentences(r)
    with i18n.language("both"):
        both = _sentences(r)
        assert words.pick("Outcome", "结果变量") == "结果变量 / Outcome"
        assert i18n.word("concentrate here") == "重点改进 / concentrate here"
    assert both == [f"{zh}\n{en}" if zh != en else en for zh, en in zip(chinese, english)]
    assert i18n.current() == "en"
    findings = r.key_findings()
    assert findings == english[:len(findings)] and "Reliability (可靠性)" in findings[1]
    assert [t.columns[0] for _, t in _tables(r)][:3] == ["Driver", "Driver", "Driver"]
    swiss = results["swiss"]
    assert not any(i18n.has_chinese(x) for x in _sentences(swiss))  # a user's own columns: no Chinese in English
    assert any(x.startswith("Sign flip: Agriculture") for x in dr.describe_warnings(swiss))


def test_notes_stay_english_in_results_json_and_are_translated_in_the_report(results):
    r = results["promoter"]
    assert r.notes and all(not i18n.has_chinese(n) for n in r.to_results()["notes"])
    with i18n.language("zh"):
        assert all(not i18n.has_chinese(n) for n in r.to_results()["notes"])
        lines = dr.describe_data(r)
    assert len(lines) == 1 + len(r.notes) and all(i18n.has_chinese(x) for x in lines)


def test_notebook_narrative_has_a_chinese_cell_for_every_english_one():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert 'language = "en"' in params.source
    english = [c for c in nb.cells if "lang-en" in c.metadata.get("tags", [])]
    chinese = {c.id: c for c in nb.cells if "lang-zh" in c.metadata.get("tags", [])}
    assert english and len(english) == len(chinese)
    for cell in english:
        zh = chinese[f"zh-{cell.id}"]
        assert zh.source.split(" ", 1)[0] == cell.source.split(" ", 1)[0]  # same heading level
        assert set(zh.metadata["tags"]) - {"lang-zh"} == set(cell.metadata["tags"]) - {"lang-en"}
        assert i18n.has_chinese(zh.source)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "i18n.use(language)" in code and 'or ["' not in code  # no English fallback sentences in the notebook


def test_segment_shares_and_the_rest_are_on_one_scale(results):
    """'Rest %' is a percentage like 'Share %' (it read 0.2 next to 17)."""
    from loyaltylab.analyses.drivers import views

    seg = results["course"].segments
    table = views.view(seg.table[seg.table["column"] == seg.table["column"].iloc[0]], "segment")
    shares, rest = table["Share %"].astype(float), table["Rest %"].astype(float)
    assert rest.dropna().between(1, 100).all() and abs(rest.mean() - shares.mean()) < 20


def test_kano_and_ipa_use_the_course_terms():
    from loyaltylab.analyses.drivers.words import KANO_ZH

    assert KANO_ZH == {"basic": "必备型因素", "performance": "期望型因素", "excitement": "魅力型因素"}
    with i18n.language("zh"):
        assert "必备型" in i18n.word("Penalty–reward (Kano): basic below the line, excitement above")
        assert i18n.word("Importance-performance analysis") == "重要性—表现分析"
