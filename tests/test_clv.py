"""loyaltylab.analyses.clv: customer value from the churn survival model, and the one rule for discount_rate.

The value hand examples moved here from test_churn.py with the code (loyaltylab.churn → analyses.clv.value).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from loyaltylab import io, loaders, results
from loyaltylab.analyses import churn, clv
from loyaltylab.analyses.churn.aft import fit_aft
from loyaltylab.analyses.churn.data import prepare
from loyaltylab.analyses.clv import sbg
from loyaltylab.analyses.clv.value import customer_value, discounted_lifetime, monthly_discount_factors
from loyaltylab.errors import ParameterError

NO_DATES = {"signup_col": None, "churn_date_col": None}
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]          # Fader & Hardie (2007): alpha 0.668 < 1
FRIENDLY = [1000, 700, 500, 370, 280]                         # a cohort whose alpha comes out > 1


def test_clv_discounting_hand_example():
    # constant monthly retention 0.9, revenue 100, margin 0.3, 12%/year: remaining value = 30 Σ_k (0.9 δ)^k
    months, r, rate = 600, 0.9, 0.12
    disc = monthly_discount_factors(rate, months, start=1)
    assert disc[11] == pytest.approx(1 / 1.12)      # a year ahead = one year's discount
    S = r ** np.arange(1, months + 1)[None, :]
    alive, discounted = discounted_lifetime(S, disc)
    q = r * 1.12 ** (-1 / 12)
    assert alive[0] == pytest.approx(r / (1 - r), rel=1e-9)
    assert discounted[0] == pytest.approx(q / (1 - q), rel=1e-9)
    assert 0.3 * 100 * discounted[0] == pytest.approx(30 * q / (1 - q))
    # at acquisition the first month is paid at once: start=0 adds an undiscounted 1
    disc0 = monthly_discount_factors(rate, months, start=0)
    _, at_signup = discounted_lifetime(r ** np.arange(0, months)[None, :], disc0)
    assert at_signup[0] == pytest.approx(1 / (1 - q), rel=1e-9)


def test_customer_value_exponential_model():
    """With an exponential lifetime (Weibull shape ≈ 1) remaining value does not depend on tenure."""
    rng = np.random.default_rng(3)
    n = 4000
    t = rng.exponential(24.0, n)  # months
    c = rng.uniform(1, 60, n)
    df = pd.DataFrame({"tenure": np.ceil(np.minimum(t, c) * 30) / 30, "churned": (t <= c).astype(int),
                       "x": rng.normal(size=n) * 0.0 + rng.integers(0, 2, n) * 0.0 + rng.normal(size=n) * 1e-3,
                       "revenue": 50.0, "segment": "All"})
    sd = prepare(df, duration_col="tenure", event_col="churned", covariates=["x"], time_unit="months",
                       segment_col="segment", revenue_col="revenue", source="sim", **NO_DATES)
    aft = fit_aft(sd, models=("weibull",))
    value = customer_value(aft, sd, margin=0.5, discount_rate=0.0, max_years=50)
    act = value.customers[value.customers["active"]]
    # E[remaining months] ≈ 24 for an exponential with mean 24 (monthly sum of S ≈ mean − 1/2)
    assert act["remaining_months"].mean() == pytest.approx(23.5, rel=0.08)
    assert act["clv"].mean() == pytest.approx(0.5 * 50 * act["discounted_months"].mean())
    assert value.by_segment["ltv_cac"].isna().all()  # no acquisition cost column


def test_customer_value_chunks_equal_one_pass():
    rng = np.random.default_rng(3)
    n = 500
    df = pd.DataFrame({"tenure": rng.integers(1, 60, n), "churned": rng.integers(0, 2, n), "x": rng.normal(size=n),
                       "revenue": 50.0})
    sd = prepare(df, duration_col="tenure", event_col="churned", covariates=["x"], time_unit="months",
                       revenue_col="revenue", source="sim", **NO_DATES)
    aft = fit_aft(sd, models=("weibull",))
    a = customer_value(aft, sd, chunk=37).customers
    b = customer_value(aft, sd, chunk=10_000).customers
    pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------------------------------------------------------
# discount_rate: one rule (0 ≤ r < 1) for the value and the sBG, checked before anything is read
# --------------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_churn(small_customers):
    p = clv.Params(covariates=["x"], **NO_DATES)
    customers = loaders.Customers(frame=small_customers, source="small", path="small")
    return churn.analyze_customers(customers, p.churn_params())


def test_zero_discount_rate_runs_through_value_and_sbg(small_churn, tmp_path):
    """The first version accepted discount_rate=0 for CLV and refused it in the sBG — after the whole churn
    analysis had run. One rule now: 0 is allowed everywhere; an sBG cohort with α ≤ 1 then has an unbounded
    (undiscounted) expected lifetime, reported as such, not as an error."""
    cohorts = tmp_path / "cohorts.csv"
    pd.DataFrame({"year": range(8), "High End": HIGH_END,
                  "Friendly": FRIENDLY + [None] * 3}).to_csv(cohorts, index=False)
    p = clv.Params(covariates=["x"], discount_rate=0, cohort_retention_path=str(cohorts), **NO_DATES)
    result = clv.analyze(p, churn_result=small_churn)
    assert result.value.discount_rate == 0 and result.cohort_rate == 0
    fits = {f.cohort: f for f in result.sbg_fits}
    assert fits["High End"].alpha < 1 < fits["Friendly"].alpha
    doc = json.loads(results.dumps(result.to_results()))
    by = {c["cohort"]: c for c in doc["sbg"]["cohorts"]}
    assert by["High End"]["derl"] is None and by["High End"]["del"] is None          # infinite → null
    f = fits["Friendly"]
    assert by["Friendly"]["derl"] == pytest.approx((f.beta + f.n_periods) / (f.alpha - 1), rel=1e-9)
    assert any("unbounded" in line for line in clv.describe_sbg(result))
    # whatever the caller, a rate outside [0, 1) is the same one-line error
    with pytest.raises(ParameterError) as from_params:
        clv.Params(discount_rate=1.0)
    with pytest.raises(ParameterError) as from_sbg:
        sbg.period_rate(1.0, "year")
    with pytest.raises(ParameterError) as from_value:
        monthly_discount_factors(1.0, 12)
    assert str(from_params.value) == str(from_sbg.value) == str(from_value.value)
    assert str(from_params.value).startswith("parameters: discount_rate = 1.0: ")


def test_bad_value_parameters_fail_before_any_file_is_read(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("a file was read")
    monkeypatch.setattr(io, "read_raw", boom)
    for name, bad in (("discount_rate", 1), ("discount_rate", -0.1), ("margin", 0), ("cohort_period", "week"),
                      ("revenue_col", 3)):
        with pytest.raises(ParameterError, match=f"^parameters: {name} = "):
            clv.analyze(clv.Params(**{name: bad}))


def test_clv_reuses_the_churn_models(small_churn):
    """No second fit: the value comes from churn's AFT fitters (or its stratified Cox), on churn's customers."""
    p = clv.Params(covariates=["x"], **NO_DATES)
    result = clv.analyze(p, churn_result=small_churn)
    assert result.churn is small_churn
    assert result.value.model in small_churn.aft.fitters or result.value.model == small_churn.scoring.label
    assert len(result.value.customers) == small_churn.data.n
    with pytest.raises(ValueError, match="other churn parameters"):
        clv.analyze(clv.Params(covariates=["x"], horizon=30, **NO_DATES), churn_result=small_churn)
    attached = small_churn.with_clv(result)
    assert attached.value is result.value
    doc = json.loads(results.dumps(attached.to_results()))
    assert doc["clv"]["mean_clv"] == pytest.approx(result.value.mean_clv)
    assert doc["clv"] == json.loads(results.dumps(result.to_results()))["clv"]     # the same keys in both documents


def test_clv_alone_runs_churn_itself(tmp_path, small_customers):
    path = tmp_path / "customers.csv"
    small_customers.to_csv(path, index=False)
    result = clv.analyze(clv.Params(customers_path=str(path), covariates=["x"], **NO_DATES))
    doc = json.loads(results.dumps(result.to_results()))
    assert doc["analysis"] == "clv" and set(results.DOCUMENT_KEYS) <= set(doc)
    assert doc["clv"]["mean_clv"] > 0 and doc["sbg"] is None
    assert result.key_findings()[0].startswith("Active customers' expected remaining lifetime")


def test_cohort_names_never_become_markup(small_churn, tmp_path):
    """Cohort names come from the table's header: the fitted cohorts and the 'too young to fit' note show them as
    text (the first version wrote the note's names into Markdown as they were)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    names = ["<img src=x onerror=alert(1)>", "[click](javascript:alert(1))", "a`b`|c"]
    cohorts = tmp_path / "cohorts.csv"
    pd.DataFrame({"year": range(8), names[0]: HIGH_END, names[1]: FRIENDLY + [None] * 3,
                  names[2]: [1000, 700] + [None] * 6}).to_csv(cohorts, index=False)
    result = clv.analyze(clv.Params(covariates=["x"], cohort_retention_path=str(cohorts), **NO_DATES),
                         churn_result=small_churn)
    assert result.sbg_skipped == (names[2],)
    lines = clv.describe_sbg(result)
    rendered = markdown2html_mistune("\n".join(f"- {line}" for line in lines))
    assert "<img" not in rendered and "<a " not in rendered and "<code>" not in rendered
    assert "Too young to fit" in rendered and "a`b`|c" in rendered.replace("&#96;", "`")
