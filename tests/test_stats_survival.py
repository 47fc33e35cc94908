"""loyaltylab.stats.survival and .ph_test against R 4.2.2 / survival 3.5.3.

The reference values are in tests/fixtures/survival/r_reference.json, written by
``Rscript tests/fixtures/survival/make_reference.R DATA_DIR r_reference.json`` (the script names every R call:
``coxph``, ``summary.coxph``, ``cox.zph`` with each transform and ``terms=FALSE``, ``survfit`` + ``summary(...,
rmean=tau)$table`` for conf.type log/log-log/plain at 0.95 and 0.9, ``survdiff``). Data: lifelines' lung, rossi,
gbsg2 and larynx; R's veteran, pbc (first 312), colon (death records) and mgus2, kept as CSVs beside the JSON.
R is not needed to run these tests.
"""
from __future__ import annotations

import json
import time
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter, datasets
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times

from loyaltylab.errors import ParameterError
from loyaltylab.stats.ph_test import cox_zph, ph_test_from_fitter
from loyaltylab.stats.survival import (
    _cox_sums,
    _risk,
    concordance,
    cox_concordance,
    cox_design,
    cox_design_from_fitter,
    cox_fit,
    cox_model_tests,
    km_median,
    logrank_test,
    monotone_likelihood,
    rmst,
)

FIX = Path(__file__).parent / "fixtures" / "survival"
REF = json.loads((FIX / "r_reference.json").read_text())
TOL = dict(rtol=1e-8, atol=1e-10)


@cache
def dataset(name: str) -> pd.DataFrame:
    if name == "lung":
        return datasets.load_lung()
    if name == "rossi":
        r = datasets.load_rossi()
        return r.assign(w=1 + r.prio % 3, z_none=((r.arrest == 0) & (r.prio <= 1)).astype(int),
                        z_early=((r.arrest == 1) & (r.week <= 8)).astype(int))
    if name == "gbsg2":
        return datasets.load_gbsg2()
    if name == "larynx":
        lx = datasets.load_larynx()
        return lx.assign(stage=1 + lx.Stage_II + 2 * lx.Stage_III + 3 * lx.Stage_IV)
    df = pd.read_csv(FIX / f"{name}.csv")
    return df.assign(sqprior=df.prior * (df.celltype == "squamous")) if name == "veteran" else df


ROSSI = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
# R formula terms as (term, source column or function, is a factor); factors use R's treatment coding (first level
# in sorted order is the reference)
COX = {
    "lung": dict(d="lung", t="time", e="status", spec=[("age", "age", 0), ("sex", "sex", 0),
                                                      ("factor(ph.ecog)", "ph.ecog", 1)]),
    "lung_strata": dict(d="lung", t="time", e="status", spec=[("age", "age", 0), ("factor(ph.ecog)", "ph.ecog", 1)],
                        strata="sex"),
    "rossi": dict(d="rossi", t="week", e="arrest", spec=[(c, c, 0) for c in ROSSI]),
    "rossi_weighted": dict(d="rossi", t="week", e="arrest", spec=[(c, c, 0) for c in ROSSI], w="w"),
    "rossi_breslow": dict(d="rossi", t="week", e="arrest", spec=[(c, c, 0) for c in ROSSI], ties="breslow"),
    "rossi_weighted_strata": dict(d="rossi", t="week", e="arrest", spec=[(c, c, 0) for c in ROSSI if c != "wexp"],
                                  strata="wexp", w="w"),
    "rossi_strata": dict(d="rossi", t="week", e="arrest", spec=[(c, c, 0) for c in ROSSI if c != "wexp"],
                         strata="wexp"),
    "gbsg2": dict(d="gbsg2", t="time", e="cens", spec=[
        ("horTh", "horTh", 1), ("age", "age", 0), ("menostat", "menostat", 1), ("tsize", "tsize", 0),
        ("tgrade", "tgrade", 1), ("pnodes", "pnodes", 0), ("progrec", "progrec", 0), ("estrec", "estrec", 0)]),
    "larynx": dict(d="larynx", t="time", e="death", spec=[("factor(stage)", "stage", 1), ("age", "age", 0)]),
    "veteran": dict(d="veteran", t="time", e="status", spec=[
        ("trt", "trt", 0), ("celltype", "celltype", 1), ("karno", "karno", 0), ("diagtime", "diagtime", 0),
        ("age", "age", 0), ("prior", "prior", 0)]),
    "pbc": dict(d="pbc", t="time", e=lambda d: d.status == 2, spec=[
        ("age", "age", 0), ("edema", "edema", 0), ("log(bili)", lambda d: np.log(d.bili), 0),
        ("log(albumin)", lambda d: np.log(d.albumin), 0), ("log(protime)", lambda d: np.log(d.protime), 0)]),
    "colon": dict(d="colon", t="time", e="status", spec=[("rx", "rx", 1), ("sex", "sex", 0), ("age", "age", 0),
                                                        ("obstruct", "obstruct", 0), ("nodes", "nodes", 0)]),
    "mgus2": dict(d="mgus2", t="futime", e="death", spec=[("age", "age", 0), ("sex", "sex", 1), ("hgb", "hgb", 0),
                                                          ("creat", "creat", 0)]),
    "veteran_strata": dict(d="veteran", t="time", e="status", spec=[("trt", "trt", 0), ("karno", "karno", 0),
                                                                    ("sqprior", "sqprior", 0)], strata="celltype"),
    "mono_none": dict(d="rossi", t="week", e="arrest", spec=[(c, c, 0) for c in ["fin", "age", "prio", "z_none"]]),
    "mono_early": dict(d="rossi", t="week", e="arrest", spec=[(c, c, 0) for c in ["fin", "age", "prio", "z_early"]]),
}
REGULAR = [k for k in COX if not k.startswith("mono")]


@cache
def design(name: str):
    c = COX[name]
    df = dataset(c["d"])
    used = [s[1] for s in c["spec"] if isinstance(s[1], str)] + [c["t"]] + ([c["strata"]] if "strata" in c else [])
    df = df.dropna(subset=used).reset_index(drop=True)
    cols, terms = {}, {}
    for term, src, factor in c["spec"]:
        v = src(df) if callable(src) else df[src]
        if factor:
            names = []
            for level in sorted(pd.unique(v))[1:]:
                cols[f"{term}{level}"] = (v == level).astype(float)
                names.append(f"{term}{level}")
            terms[term] = tuple(names)
        else:
            cols[term], terms[term] = v.astype(float), (term,)
    events = c["e"](df) if callable(c["e"]) else df[c["e"]]
    return cox_design(pd.DataFrame(cols), df[c["t"]], events, terms=terms,
                      strata=df[c["strata"]] if "strata" in c else None, weights=df[c["w"]] if "w" in c else None)


def ties(name: str) -> str:
    return COX[name].get("ties", "efron")


@cache
def fitted(name: str):
    d = design(name)
    return d.with_beta(cox_fit(d, ties=ties(name)).coef.to_numpy())


def r_coef(name):
    return np.array([np.nan if v is None else v for v in REF["cox"][name]["coef"].values()])


# ----------------------------------------------------------------------------------------------------------------
# Cox fit and summary.coxph
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(COX))
def test_cox_fit_equals_coxph(name):
    """coxph(): coef, se, loglik, iterations, and the infinite / singular (NA) rules."""
    r = REF["cox"][name]
    assert r["ties"] == ties(name)
    fit = cox_fit(design(name), ties=ties(name))
    np.testing.assert_allclose(fit.coef.to_numpy(), r_coef(name), **TOL)
    np.testing.assert_allclose(fit.se.to_numpy(), list(r["se"].values()), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose([fit.loglik_null, fit.loglik], r["loglik"], rtol=1e-12)
    assert fit.iterations == r["iter"] and fit.converged
    flagged = [c for c in fit.coef.index if c in fit.infinite]
    assert flagged == (["z_none"] if name == "mono_none" else [])
    r_warnings = [r["warnings"]] if isinstance(r["warnings"], str) else r["warnings"]
    r_infinite = [int(w.split("variable")[1].split(";")[0]) for w in r_warnings if "coefficient may be infinite" in w]
    assert r_infinite == [list(fit.coef.index).index(c) + 1 for c in fit.infinite]
    assert list(fit.singular) == (["z_early"] if name == "mono_early" else [])


@pytest.mark.parametrize("name", list(COX))
def test_model_tests_equal_summary_coxph(name):
    """summary(coxph(...)): logtest, waldtest (unrounded fit$wald.test), sctest — statistic, df, p."""
    r = REF["cox"][name]
    t = cox_model_tests(design(name), ties=ties(name)).table.set_index("test")
    for key, test in [("logtest", "likelihood_ratio"), ("waldtest", "wald"), ("sctest", "score")]:
        np.testing.assert_allclose(t.loc[test, "statistic"], r[key]["test"], rtol=1e-9)
        np.testing.assert_allclose(t.loc[test, "p_value"], r[key]["pvalue"], rtol=1e-7, atol=1e-300)
        assert t.loc[test, "df"] == r[key]["df"]


@pytest.mark.parametrize("name", REGULAR + ["mono_none"])
def test_concordance_equals_coxph(name):
    """summary(coxph(...))$concordance (C, se(C)) and fit$concordance's pair counts. (mono_early is left out: R
    ranks by a linear predictor that still holds the coefficient it then reports as NA.)"""
    r = REF["cox"][name]
    c = cox_concordance(fitted(name))
    np.testing.assert_allclose([c.estimate, c.se], [r["concordance"]["C"], r["concordance"]["se(C)"]], rtol=1e-10)
    np.testing.assert_allclose([c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy],
                               list(r["concordance_counts"].values()), rtol=1e-12)
    assert c.ci_low < c.estimate < c.ci_high


def test_model_tests_at_given_coefficients_equal_fit_path():
    d = fitted("gbsg2")
    a = cox_model_tests(d).table
    b = cox_model_tests(design("gbsg2")).table
    np.testing.assert_allclose(a["statistic"], b["statistic"], rtol=1e-10)


# ----------------------------------------------------------------------------------------------------------------
# cox.zph
# ----------------------------------------------------------------------------------------------------------------
def _table(rows):
    return pd.DataFrame(rows)


@pytest.mark.parametrize("name", REGULAR)
def test_zph_equals_cox_zph(name):
    """cox.zph(fit): per term (a factor is one multi-df test) and GLOBAL — chisq, df, p."""
    ref = _table(REF["cox"][name]["zph"]["table"])
    z = cox_zph(fitted(name), ties=ties(name))
    assert list(z.table["term"]) == list(ref["term"]) and list(z.table["df"]) == list(ref["df"])
    np.testing.assert_allclose(z.table["chisq"], ref["chisq"], rtol=1e-9)
    np.testing.assert_allclose(z.table["p_value"], ref["p"], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("name", ["lung", "lung_strata", "rossi_weighted", "veteran", "gbsg2", "veteran_strata"])
def test_zph_transforms_and_single_columns(name):
    """cox.zph(fit, transform = "identity" / "rank" / "log") and cox.zph(fit, terms = FALSE)."""
    d = fitted(name)
    for tf in ("identity", "rank", "log"):
        ref = _table(REF["cox"][name][f"zph_{tf}"])
        np.testing.assert_allclose(cox_zph(d, transform=tf).table["p_value"], ref["p"], rtol=1e-8, atol=1e-12)
    ref = _table(REF["cox"][name]["zph_singledf"])
    z = cox_zph(d, terms={c: (c,) for c in d.columns})
    assert list(z.table["df"]) == list(ref["df"])
    np.testing.assert_allclose(z.table["chisq"], ref["chisq"], rtol=1e-9)


@pytest.mark.parametrize("name", ["lung", "lung_strata", "rossi_weighted", "veteran", "veteran_strata"])
def test_zph_scaled_residuals_equal_cox_zph(name):
    """cox.zph(fit)$y (scaled Schoenfeld residuals + coef; NA where a term is constant within a stratum), $x
    (transformed time), $time, $strata and $var."""
    ref = REF["cox"][name]["zph"]
    z = cox_zph(fitted(name))
    y = np.array([[np.nan if v is None else v for v in row] for row in ref["y"]], dtype=float)
    got = z.residuals[ref["y_names"]].to_numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(y))
    np.testing.assert_allclose(got, y, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(z.residuals["transformed_time"], ref["x"], rtol=1e-12)
    np.testing.assert_allclose(z.residuals["time"], ref["time"], rtol=0)
    np.testing.assert_allclose(z.var.to_numpy(), ref["var"], rtol=1e-8)
    if "strata" in ref:
        labels = [str(s) for s in z.residuals["stratum"]]
        assert [lab.split("=")[-1] for lab in ref["strata"]] == labels


def test_zph_from_lifelines_fitter_formula_strata_weights():
    """The lifelines entry point: a formula-coded factor, a stratified and a weighted fit equal R's cox.zph."""
    lung = dataset("lung").dropna(subset=["ph.ecog"]).assign(ecog=lambda d: d["ph.ecog"].astype(int).astype(str))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter().fit(lung[["time", "status", "age", "sex", "ecog"]], "time", "status",
                                formula="age + sex + C(ecog)")
    terms = {"age": ["age"], "sex": ["sex"], "factor(ph.ecog)": [c for c in cph.params_.index if "ecog" in c]}
    z = ph_test_from_fitter(cph, lung, terms=terms)
    np.testing.assert_allclose(z.table["p_value"], _table(REF["cox"]["lung"]["zph"]["table"])["p"], rtol=1e-7)

    dummies = pd.get_dummies(lung["ph.ecog"].astype(int), prefix="e", drop_first=True).astype(float)
    frame = pd.concat([lung[["time", "status", "age", "sex"]], dummies], axis=1)
    cph = CoxPHFitter().fit(frame, "time", "status", strata=["sex"])
    z = ph_test_from_fitter(cph, frame, terms={"age": ["age"], "factor(ph.ecog)": list(dummies.columns)})
    np.testing.assert_allclose(z.table["p_value"], _table(REF["cox"]["lung_strata"]["zph"]["table"])["p"],
                               rtol=1e-7)

    rossi = dataset("rossi")[["week", "arrest", *ROSSI, "w"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter().fit(rossi, "week", "arrest", weights_col="w")
    d = cox_design_from_fitter(cph, rossi)
    np.testing.assert_allclose(d.beta, r_coef("rossi_weighted"), **TOL)
    np.testing.assert_allclose(cox_zph(d).table["p_value"], _table(REF["cox"]["rossi_weighted"]["zph"]["table"])["p"],
                               rtol=1e-7)
    unrefined = cox_design_from_fitter(cph, rossi, refit=False)
    np.testing.assert_allclose(unrefined.beta, cph.params_.to_numpy())


# ----------------------------------------------------------------------------------------------------------------
# Score, information and concordance against brute force
# ----------------------------------------------------------------------------------------------------------------
def _toy(seed, n=60, strata=True, weights=True):
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.integers(0, 3, n)]).astype(float)
    t = rng.integers(1, 12, n).astype(float)           # many tied times
    e = rng.random(n) < 0.7
    s = rng.integers(0, 2, n) if strata else None
    w = rng.integers(1, 4, n).astype(float) if weights else None
    return cox_design(x, t, e, strata=s, weights=w)


def _efron_loglik(d, beta):
    """Efron log partial likelihood by definition (loop over strata and event times)."""
    eta = d.x @ beta
    w = np.ones(d.n) if d.weights is None else d.weights
    s = np.zeros(d.n) if d.strata is None else d.strata
    ll = 0.0
    for k in np.unique(s):
        for t in np.unique(d.durations[(s == k) & d.events]):
            risk = (s == k) & (d.durations >= t)
            dead = risk & (d.durations == t) & d.events
            m = dead.sum()
            wave = w[dead].sum() / m
            ll += (w[dead] * eta[dead]).sum()
            for j in range(m):
                ll -= wave * np.log((w[risk] * np.exp(eta[risk])).sum() - j / m * (w[dead] * np.exp(eta[dead])).sum())
    return ll


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_score_and_information_are_derivatives_of_efron_loglik(seed):
    d = _toy(seed)
    beta = np.array([0.3, -0.5, 0.2])
    s = _cox_sums(_risk(d), beta)
    assert s.loglik == pytest.approx(_efron_loglik(d, beta), rel=1e-12)
    h = 1e-6
    grad = [(_efron_loglik(d, beta + h * e) - _efron_loglik(d, beta - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(s.u, grad, rtol=1e-6, atol=1e-6)
    hess = [(_cox_sums(_risk(d), beta + h * e).u - _cox_sums(_risk(d), beta - h * e).u) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(s.info, -np.array(hess), rtol=1e-6, atol=1e-6)


def _brute_concordance(t, e, x, w, s):
    """Harrell's C with R's rules by definition over all pairs, for reverse=TRUE (higher x = shorter time)."""
    n = len(t)
    c = np.zeros(3)
    for i in range(n):
        if not e[i]:
            continue
        for j in range(n):
            if s[i] != s[j] or j == i or not (t[j] > t[i] or (t[j] == t[i] and not e[j])):
                continue
            c[0 if x[i] > x[j] else 1 if x[i] < x[j] else 2] += w[i] * w[j]
    return (c[0] + c[2] / 2) / c.sum()


@pytest.mark.parametrize("seed", [4, 5])
def test_concordance_and_its_jackknife_se_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 70
    t = rng.integers(1, 15, n).astype(float)
    e = rng.random(n) < 0.6
    x = rng.integers(0, 6, n).astype(float)             # tied predictions
    w = rng.integers(1, 4, n).astype(float)
    s = rng.integers(0, 2, n)
    c = concordance(t, e, x, strata=s, weights=w)
    assert c.estimate == pytest.approx(_brute_concordance(t, e, x, w, s), rel=1e-12)
    # R's se is the infinitesimal jackknife: sqrt(Σ (w_i ∂C/∂w_i)²)
    h = 1e-6
    dfbeta = []
    for i in range(n):
        up, down = w.copy(), w.copy()
        up[i] += h
        down[i] -= h
        dfbeta.append(w[i] * (_brute_concordance(t, e, x, up, s) - _brute_concordance(t, e, x, down, s)) / (2 * h))
    assert c.se == pytest.approx(np.sqrt(np.sum(np.square(dfbeta))), rel=1e-5)


# ----------------------------------------------------------------------------------------------------------------
# Kaplan–Meier median and restricted mean, survdiff
# ----------------------------------------------------------------------------------------------------------------
KM = {  # name: data, time, event, group (None: one curve)
    "lung": ("lung", "time", "status", "sex"), "lung_all": ("lung", "time", "status", None),
    "rossi": ("rossi", "week", "arrest", "fin"), "gbsg2": ("gbsg2", "time", "cens", "horTh"),
    "larynx": ("larynx", "time", "death", "stage"), "veteran": ("veteran", "time", "status", "celltype"),
    "pbc": ("pbc", "time", None, "trt"), "colon": ("colon", "time", "status", "rx"),
    "mgus2": ("mgus2", "futime", "death", "sex"),
}


def _km_inputs(name):
    dn, t, e, g = KM[name]
    df = dataset(dn)
    return df[t], (df.status == 2) if e is None else df[e], None if g is None else df[g]


def _nan(v):
    return np.nan if v is None else float(v)


@pytest.mark.parametrize("name", list(KM))
@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_km_median_ci_equals_survfit(name, conf_type, confidence):
    """print(survfit(..., conf.type, conf.int)): median, LCL, UCL (NA where a band never crosses ½)."""
    ref = REF["km"][name][f"{conf_type}_{confidence}"]
    m = km_median(*_km_inputs(name), confidence=confidence, conf_type=conf_type)
    want = np.array([[_nan(r["median"]), _nan(r["lcl"]), _nan(r["ucl"])] for r in ref])
    np.testing.assert_array_equal(m[["estimate", "ci_low", "ci_high"]].to_numpy(float), want)
    assert list(m["n"]) == [r["records"] for r in ref] and list(m["events"]) == [r["events"] for r in ref]
    assert (m["conf_type"] == conf_type).all()


@pytest.mark.parametrize("name", ["lung", "veteran", "colon", "larynx"])
def test_lifelines_median_ci_is_the_log_log_one(name):
    """lifelines' median CI (its exponential-Greenwood band crossing ½) is R's conf.type="log-log", not R's default
    "log"; where R says NA lifelines says inf."""
    t, e, g = _km_inputs(name)
    ours = km_median(t, e, g, conf_type="log-log")
    for label, row in zip(ours["group"], ours.itertuples()):
        kmf = KaplanMeierFitter().fit(t[g == label], e[g == label])
        ci = median_survival_times(kmf.confidence_interval_).to_numpy(float).ravel()
        np.testing.assert_array_equal(np.where(np.isinf(ci), np.nan, ci), [row.ci_low, row.ci_high])


@pytest.mark.parametrize("name", list(KM))
def test_rmst_equals_survfit_rmean(name):
    """print(survfit(...), rmean = tau): *rmean and *se(rmean)."""
    ref = REF["km"][name]["log_0.95"]
    r = rmst(*_km_inputs(name), tau=REF["km"][name]["tau"])
    np.testing.assert_allclose(r["estimate"], [x["rmean"] for x in ref], rtol=1e-12)
    np.testing.assert_allclose(r["se"], [x["se_rmean"] for x in ref], rtol=1e-10)
    np.testing.assert_allclose(r["ci_high"] - r["estimate"], 1.959963984540054 * r["se"], rtol=1e-12)


def test_rmst_beyond_last_time_and_before_first_event():
    t = np.array([2.0, 3, 3, 5, 8])
    e = np.array([1, 1, 0, 1, 0])
    r = rmst(t, e, tau=10).iloc[0]
    s = np.array([1, 0.8, 0.6, 0.3, 0.3])                   # S on [0,2), [2,3), [3,5), [5,8), [8,10]
    assert r["estimate"] == pytest.approx(np.dot(s, [2, 1, 2, 3, 2]))
    two = rmst(np.append(t, 1.0), np.append(e, 1), np.append(np.zeros(5), 1), tau=1.5).iloc[0]
    assert (two["estimate"], two["se"]) == (1.5, 0.0)       # no time of group 0 before tau: R's rectangle of S = 1
    with pytest.raises(ParameterError):                      # R: "Truncation point for the mean is < smallest survival"
        rmst(t, e, tau=1.0)


@pytest.mark.parametrize("name", [k for k in REF["survdiff"] if k in KM])
def test_logrank_equals_survdiff_and_lifelines(name):
    ref = REF["survdiff"][name]
    t, e, g = _km_inputs(name)
    lt = logrank_test(t, e, g)
    assert lt.df == ref["df"]
    np.testing.assert_allclose([lt.statistic, lt.p_value], [ref["chisq"], ref["p"]], rtol=1e-10)
    np.testing.assert_allclose(lt.table["observed"], ref["obs"], rtol=1e-12)
    np.testing.assert_allclose(lt.table["expected"], ref["exp"], rtol=1e-10)
    ll = multivariate_logrank_test(t, g, e)
    assert lt.statistic == pytest.approx(ll.test_statistic, rel=1e-10)


def test_logrank_strata_and_rho_equal_survdiff():
    vet = dataset("veteran")
    ref = REF["survdiff"]["veteran_strata"]           # survdiff(Surv(time, status) ~ trt + strata(celltype))
    lt = logrank_test(vet.time, vet.status, vet.trt, strata=vet.celltype)
    np.testing.assert_allclose([lt.statistic, lt.p_value], [ref["chisq"], ref["p"]], rtol=1e-10)
    np.testing.assert_allclose(lt.table["expected"], ref["exp"], rtol=1e-10)
    ref = REF["survdiff"]["lung_rho1"]                # survdiff(Surv(time, status) ~ sex, data = lung, rho = 1)
    lung = dataset("lung")
    lt = logrank_test(lung.time, lung.status, lung.sex, rho=1)
    np.testing.assert_allclose([lt.statistic, lt.p_value], [ref["chisq"], ref["p"]], rtol=1e-10)
    np.testing.assert_allclose(lt.table["observed"], ref["obs"], rtol=1e-12)


# ----------------------------------------------------------------------------------------------------------------
# Monotone likelihood
# ----------------------------------------------------------------------------------------------------------------
def test_monotone_likelihood_flags_what_r_warns_about():
    """mono_none: a 0/1 column with 121 members and no events (R: "Loglik converged before variable 4;
    coefficient may be infinite"); mono_early: members all have the earliest events (R: coefficient NA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        none = monotone_likelihood(design("mono_none"))
        early = monotone_likelihood(design("mono_early"))
        regular = [monotone_likelihood(design(k)) for k in ("rossi", "larynx", "lung_strata", "gbsg2")]
    row = none.table.set_index("column").loc["z_none"]
    assert none.affected_terms == ("z_none",)
    assert (row["separation"], row["events"], row["members"], row["r_infinite"]) == ("-", 0, 121, True)
    assert row["coef"] == pytest.approx(REF["cox"]["mono_none"]["coef"]["z_none"], rel=1e-9)
    row = early.table.set_index("column").loc["z_early"]
    assert early.affected_columns == ("z_early",)
    assert (row["separation"], row["singular"], row["events"], row["members"]) == ("+", True, 12, 12)
    for m in regular:
        assert m.affected_columns == () and m.converged


def test_monotone_likelihood_level_without_events_in_a_factor_and_huge_scale_raise_no_warning():
    lx = dataset("larynx").copy()
    lx.loc[lx.stage == 4, "death"] = 0                 # stage IV: 13 members, no events
    df = pd.DataFrame({"s2": lx.Stage_II, "s3": lx.Stage_III, "s4": lx.Stage_IV, "age": lx.age * 1e3})
    d = cox_design(df, lx.time, lx.death, terms={"stage": ("s2", "s3", "s4"), "age": ("age",)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = monotone_likelihood(d)
        fit = cox_fit(d)
        cox_zph(d.with_beta(np.nan_to_num(fit.coef.to_numpy())))
    assert m.affected_columns == ("s4",) and m.affected_terms == ("stage",)
    assert m.table.set_index("column").loc["s4", "separation"] == "-"


# ----------------------------------------------------------------------------------------------------------------
# Parameters and speed
# ----------------------------------------------------------------------------------------------------------------
def test_bad_parameters():
    t, e, g = _km_inputs("lung")
    with pytest.raises(ParameterError):
        km_median(t, e, g, conf_type="logit")
    with pytest.raises(ParameterError):
        km_median(t, e, g, confidence=95)
    with pytest.raises(ParameterError):
        cox_zph(fitted("lung"), transform="square")
    with pytest.raises(ValueError, match="not in the design"):
        cox_zph(fitted("lung"), terms={"age": ["Age"]})
    with pytest.raises(ValueError):
        cox_design(np.ones((3, 1)), [1, 2], [1, 0])
    with pytest.raises(ValueError):
        cox_design(np.ones((3, 2)), [1, 2, 3], [1, 0, 1], columns=["a", "b"], terms={"a": ["a"]})
    with pytest.raises(ValueError, match="0/1"):
        cox_design(np.ones((3, 1)), [1, 2, 3], [1, 2, 2])           # R's lung coding 1/2
    with pytest.raises(ValueError, match="label"):
        logrank_test(t, e, g.where(g == 1))                          # a missing group label
    rossi = dataset("rossi")[["week", "arrest", "fin", "age"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter(penalizer=0.1).fit(rossi, "week", "arrest")
    with pytest.raises(ValueError, match="unpenalised"):
        cox_design_from_fitter(cph, rossi, refit=False)


def _simulated(n, p=10, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    x[:, :3] = x[:, :3] > 0.5
    beta = rng.normal(scale=0.3, size=p)
    t = rng.exponential(np.exp(-x @ beta))
    c = rng.exponential(2, size=n)
    return cox_design(x, np.ceil(np.minimum(t, c) * 365), t < c, beta=beta)


@pytest.mark.slow
def test_ph_test_scales_to_200k_rows():
    """lifelines' test was capped at 25,000 rows (quadratic); this one is one sorted pass: 200k × 10 in seconds."""
    d = _simulated(200_000)
    start = time.perf_counter()
    z = cox_zph(d)
    elapsed = time.perf_counter() - start
    assert len(z.table) == 11 and np.isfinite(z.table["p_value"]).all()
    assert elapsed < 30
