"""Issue 9: the churn findings name factors in words and say which way they act — no code names such as
``segment[Premium]`` or ``a:b`` in a sentence, hazard ratios read as '0.63× the rate' or 'lowers … by 14%', numbers
per unit and per standard deviation, early-warning reasons as 'segment Basic' / 'low provider_proactive'."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from loyaltylab import loaders
from loyaltylab.analyses import churn, clv
from loyaltylab.analyses.churn import describe
from loyaltylab.analyses.churn.data import build_design

CODE_TERM = re.compile(r"\w\\?\[[^\]]*\\?\]|\b\w+\\?:\w+")       # 'segment[Premium]', 'a:b' (escaped or not)
DIRECTION = ("lowers", "raises", "× the rate", "low ", "high ")


def telco_like(n: int = 3000, seed: int = 7) -> pd.DataFrame:
    """A small Telco-shaped frame: month-to-month and fibre customers leave sooner, so do high charges."""
    rng = np.random.default_rng(seed)
    internet = rng.choice(["DSL", "Fiber optic", "No"], n, p=[0.35, 0.45, 0.2])
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.25, 0.2])
    charges = np.round(rng.uniform(20, 110, n), 2)
    lp = (0.6 * (internet == "Fiber optic") - 1.2 * (internet == "No") - 1.0 * (contract == "One year")
          - 2.0 * (contract == "Two year") + 0.01 * (charges - 65))
    t = rng.exponential(40 / np.exp(lp))
    follow = rng.uniform(1, 72, n)
    tenure = np.maximum(np.ceil(np.minimum(t, follow)), 1).astype(int)
    return pd.DataFrame({"customerID": [f"C{i:05d}" for i in range(n)], "tenure": tenure,
                         "Churn": np.where(t <= follow, "Yes", "No"), "InternetService": internet,
                         "Contract": contract, "MonthlyCharges": charges})


@pytest.fixture(scope="module")
def course_analysis(small_course_dir):
    """The course data's churn analysis (as tests/test_churn.py's fixture, without CLV)."""
    return churn.analyze(clv.Params(customers_path=str(small_course_dir / "customers.csv")).churn_params())


@pytest.fixture(scope="module")
def telco_analysis():
    df = telco_like()
    params = churn.Params(id_col="customerID", duration_col="tenure", event_col="Churn", time_unit="months",
                          horizon=3, segment_col="Contract", signup_col=None, churn_date_col=None,
                          covariates=["InternetService", "MonthlyCharges", "Contract"])
    return churn.analyze_customers(loaders.Customers(frame=df, source="telco_like", path="telco_like"), params)


def _check_words(findings: list[str]) -> None:
    for line in findings:
        assert not CODE_TERM.search(line), line


def test_course_findings_in_words(course_analysis):
    lines = describe.key_findings(course_analysis)
    _check_words(lines)
    cox = describe.findings(course_analysis)["cox"]
    warning = describe.findings(course_analysis)["warning"]
    assert "× the rate of those with segment Basic" in cox       # levels against the reference, with direction
    assert "provider\\_proactive and customer\\_proactive together" in cox
    assert re.search(r"reasons: .*(segment Basic|low provider\\_proactive)", warning)


def test_telco_like_findings_in_words(telco_analysis):
    lines = describe.key_findings(telco_analysis)
    _check_words(lines)
    cox = describe.findings(telco_analysis)["cox"]
    assert any(word in cox for word in DIRECTION)
    # a number is read per unit and per standard deviation, with the direction of its coefficient
    row = next(r for r in telco_analysis.scoring.table.itertuples() if r.covariate == "MonthlyCharges")
    text = describe.driver_words(row, telco_analysis.data_for_models)
    verb = "raises" if row.coef > 0 else "lowers"
    assert re.fullmatch(rf"each extra unit of MonthlyCharges {verb} the churn hazard by [\d.]+% \(HR [\d.]+ per "
                        r"unit; [\d.]+× per standard deviation \([\d.]+\)\)", text), text
    assert "customers with InternetService No churn at" in cox and "the rate of those with InternetService" in cox


def test_drivers_ranked_over_a_meaningful_contrast(telco_analysis):
    """A number's strength is |β|·SD, a level's |β| against the reference: the order in the sentence follows it."""
    t = telco_analysis.scoring.table
    sd = telco_analysis.data_for_models
    sig = t[t["significant"] & ~t["term"].str.contains(":")]
    strength = {r.covariate: describe.driver_strength(r, sd) for r in sig.itertuples()}
    col = "MonthlyCharges"
    assert strength[col] == pytest.approx(abs(t.set_index("covariate").loc[col, "coef"]) * sd.frame[col].std())
    cox = describe.findings(telco_analysis)["cox"]
    rows = {r.covariate: r for r in sig.itertuples()}
    top = sorted(strength, key=strength.get, reverse=True)[:3]
    pos = [cox.index(describe.driver_words(rows[c], sd)) for c in top]
    assert pos == sorted(pos) and cox.count("× the rate") + cox.count("each extra unit") == len(top)


def test_term_words_parses_levels_with_separators():
    df = pd.DataFrame({"plan": ["a:b", "c]d", "e", "a:b", "e", "c]d"] * 5, "x": np.arange(30.0),
                       "y": np.arange(30.0) % 7})
    design = build_design(df, ["plan", "x", "x:y", "plan:x"], source="t")[2]
    for var, levels in design.categorical.items():
        for lv in levels[1:]:
            assert describe.term_parts(f"{var}[{lv}]", design) == [(var, lv)]
            assert describe.term_parts(f"{var}[{lv}]:x", design) == [(var, lv), ("x", None)]
    assert describe.term_words("x:y", design) == "x and y together"
    assert describe.term_parts("x", design) == [("x", None)]


# --------------------------------------------------------------------------------------------------------------------
# issue 9's chart bullet (charts are read by people too)
def test_plot_calibration_shows_every_error_bar(course_analysis):
    import matplotlib.pyplot as plt

    from loyaltylab.analyses.churn import plots

    ax = plots.plot_validation(course_analysis)
    assert ax.get_ylim()[1] >= course_analysis.validation.calibration["observed_upper"].max()
    plt.close(ax.figure)


@pytest.mark.parametrize("lo, hi", [(0.7, 1.6), (0.9, 2.8), (0.2, 9.0), (0.97, 1.04)])
def test_plot_odds_ratios_plain_tick_labels(lo, hi):
    from types import SimpleNamespace

    import matplotlib.pyplot as plt

    from loyaltylab.analyses.nps import plots

    table = pd.DataFrame({"label": ["A", "B"], "odds_ratio": [lo * 1.1, hi / 1.1], "ci_low": [lo, hi / 1.3],
                          "ci_high": [lo * 1.3, hi], "p_value": [0.2, 0.001]})
    ax = plots.plot_odds_ratios(SimpleNamespace(table=table, note=None))
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert len(labels) >= 2 and "1" in labels
    assert all(re.fullmatch(r"\d+(\.\d+)?", t) for t in labels), labels        # no '10⁰' or '2×10⁰'
    plt.close(ax.figure)


def test_plot_periods_labels_do_not_overlap():
    import matplotlib.pyplot as plt

    from loyaltylab.analyses.overview import distributions, plots

    dates = pd.Series(pd.date_range("2019-01-01", "2025-06-01", periods=3000))
    ax = plots.plot_periods(distributions.period_counts(dates, 5), title="signup_date", min_cell=5)
    fig = ax.figure
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()]
    assert len(boxes) >= 3
    assert all(a.x1 <= b.x0 for a, b in zip(boxes, boxes[1:]))
    plt.close(fig)
