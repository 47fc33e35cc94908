"""Honest validation on held-out customers: concordance, IPCW Brier score, calibration by risk decile and by tenure."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from loyaltylab import i18n
from loyaltylab.analyses.churn.baseline import (
    conditional_churn_probability,
    cumhaz_for,
    partial_hazard,
    predict_survival,
    risk_score,
)
from loyaltylab.analyses.churn.cox import CoxResult, fit_cox
from loyaltylab.analyses.churn.data import UNIT_ZH, SurvivalData, restrict
from loyaltylab.analyses.churn.km import kaplan_meier, step_at


@dataclass(frozen=True)
class Validation:
    horizon: float
    n_train: int
    n_test: int
    c_index_train: float
    c_index_test: float
    brier_at_horizon: float        # IPCW Brier score of the Cox model at the horizon, test data
    brier_null: float              # the same for the no-covariate KM (everyone gets the average)
    calibration: pd.DataFrame      # decile, n, predicted, observed, observed_lower, observed_upper
    test_size: float
    seed: int
    by_tenure: pd.DataFrame = field(default_factory=pd.DataFrame)  # see tenure_calibration()
    model: str = "Cox"
    confidence: float = 0.95
    notes: tuple[str, ...] = ()    # the model fitted on a sample of the training part (sampling.py), in words


def split(n: int, test_size: float = 0.3, seed: int = 0) -> np.ndarray:
    """A fixed-seed boolean test mask."""
    rng = np.random.default_rng(seed)
    test = np.zeros(n, dtype=bool)
    test[rng.permutation(n)[: int(round(test_size * n))]] = True
    return test


def censoring_km(durations, events) -> tuple[np.ndarray, np.ndarray]:
    """G(t): KM of the censoring distribution (censoring is the 'event')."""
    km = kaplan_meier(durations, 1 - np.asarray(events, dtype=int), label="censoring")
    sf = km.fitter.survival_function_
    return sf.index.to_numpy(dtype=float), sf.iloc[:, 0].to_numpy(dtype=float)


def brier_score(durations, events, surv_at_h, horizon: float, G: tuple[np.ndarray, np.ndarray]) -> float:
    """IPCW Brier score at ``horizon`` (Graf et al. 1999): churned before h → (0 − S)²/G(T−); still a customer at
    h → (1 − S)²/G(h); censored before h → 0 weight."""
    T = np.asarray(durations, dtype=float)
    E = np.asarray(events, dtype=int)
    S = np.asarray(surv_at_h, dtype=float)
    gt, gv = G
    g_minus = step_at(gt, gv, np.nextafter(T, -np.inf), before=1.0)
    g_h = float(step_at(gt, gv, np.array([horizon]), before=1.0)[0])
    died = (T <= horizon) & (E == 1)
    alive = T > horizon
    with np.errstate(divide="ignore", invalid="ignore"):
        contrib = np.where(died, S ** 2 / np.where(g_minus > 0, g_minus, np.nan), 0.0)
        contrib = np.where(alive, (1 - S) ** 2 / g_h if g_h > 0 else np.nan, contrib)
    return float(np.nanmean(contrib)) if len(contrib) else np.nan


def calibration_table(durations, events, predicted_risk, horizon: float, bins: int = 10,
                      confidence: float = 0.95) -> pd.DataFrame:
    """Predicted vs observed churn by the horizon, per risk decile; observed = 1 − KM(h) within the decile, with
    its ``confidence`` interval."""
    risk = np.asarray(predicted_risk, dtype=float)
    n = len(risk)
    bins = int(max(1, min(bins, n // 10 if n >= 20 else 1)))
    order = np.argsort(risk, kind="mergesort")
    decile = np.empty(n, dtype=int)
    decile[order] = (np.arange(n) * bins) // max(n, 1) + 1
    T = np.asarray(durations, dtype=float)
    E = np.asarray(events, dtype=int)
    rows = []
    for b in range(1, bins + 1):
        m = decile == b
        km = kaplan_meier(T[m], E[m], times=[horizon], confidence=confidence)
        s = km.survival_at.iloc[0]
        rows.append({"decile": b, "n": int(m.sum()), "predicted": float(risk[m].mean()),
                     "observed": float(1 - s["survival"]), "observed_lower": float(1 - s["upper"]),
                     "observed_upper": float(1 - s["lower"])})
    return pd.DataFrame(rows)


TENURE_COLUMNS = ["band", "landmark", "n_at_risk", "predicted", "observed", "observed_lower", "observed_upper",
                  "top_decile_predicted", "top_decile_observed"]


def _tenure_band(cox, sd, f, T, E, landmark, horizon, min_cell, confidence) -> dict | None:
    at_risk = T > landmark
    n = int(at_risk.sum())
    if n < min_cell or E[at_risk].sum() == 0:
        return None
    idx = f.index[at_risk]
    h_now, _ = cumhaz_for(cox, sd, idx, np.full(n, landmark))
    h_later, _ = cumhaz_for(cox, sd, idx, np.full(n, landmark + horizon))
    p = conditional_churn_probability(h_now, h_later, partial_hazard(cox, f.loc[idx]))
    km = kaplan_meier(T[at_risk] - landmark, E[at_risk], times=[horizon], confidence=confidence)
    srow = km.survival_at.iloc[0]
    # the riskiest tenth of those at risk at t: what the early warning's top decile would contain at this tenure
    k = max(int(math.ceil(0.1 * n)), 1)
    top = np.argsort(-np.nan_to_num(p, nan=-1.0), kind="stable")[:k]
    top_pred = top_obs = np.nan
    if k >= min_cell:
        top_pred = float(np.nanmean(p[top]))
        top_km = kaplan_meier(T[at_risk][top] - landmark, E[at_risk][top], times=[horizon], confidence=confidence)
        top_obs = float(1 - top_km.survival_at["survival"].iloc[0])
    return {"landmark": landmark, "n_at_risk": n, "predicted": float(np.nanmean(p)),
            "observed": float(1 - srow["survival"]), "observed_lower": float(1 - srow["upper"]),
            "observed_upper": float(1 - srow["lower"]), "top_decile_predicted": top_pred,
            "top_decile_observed": top_obs}


def tenure_calibration(cox: CoxResult, sd: SurvivalData, index, horizon: float, *, bands: int = 5,
                       min_cell: int = 5, confidence: float = 0.95) -> pd.DataFrame:
    """Conditional calibration by tenure band (landmark analysis; no dates needed): for each band start t (quantiles
    of the active customers' tenure), the customers still here at t are predicted P(churn in (t, t+h] | survived to
    t, x) by the model and compared with the Kaplan–Meier estimate of the same conditional probability among them.
    This is exactly what the early warning claims for a customer of tenure t. Bands whose t + h lies beyond the
    follow-up, or with fewer than ``min_cell`` customers at risk, are left out."""
    f = sd.frame.loc[index]
    T = f["duration"].to_numpy(dtype=float)
    E = f["event"].to_numpy(dtype=int)
    active_t = T[E == 0] if (E == 0).any() else T
    qs = np.unique(np.quantile(active_t, np.linspace(0, 1, bands + 1)[:-1], method="lower"))
    edges = list(qs) + [np.inf]
    rows = []
    for a, b in zip(edges[:-1], edges[1:]):
        landmark = float(a) if a > 0 else 0.0
        if landmark + horizon > T.max():
            continue
        row = _tenure_band(cox, sd, f, T, E, landmark, horizon, min_cell, confidence)
        if row is not None:
            rows.append({"band": f"{a:g}–{b:g}" if np.isfinite(b) else f"≥ {a:g}", **row})
    out = pd.DataFrame(rows, columns=TENURE_COLUMNS)
    out["within_ci"] = (out["predicted"] >= out["observed_lower"]) & (out["predicted"] <= out["observed_upper"])
    return out


def validate(sd: SurvivalData, *, horizon: float, penalizer: float = 0.0, test_size: float = 0.3, seed: int = 0,
             bins: int = 10, strata: Sequence[str] = (), min_cell: int = 5, confidence: float = 0.95) -> Validation:
    """Fit on a fixed-seed 70% split, evaluate on the other 30%: concordance, Brier at the horizon, calibration by
    risk decile and (conditional, landmark) calibration by tenure band. ``strata``: validate the stratified model
    that scores the early warning (rows of a stratum absent from the training part are left out of the metrics).
    A training part larger than ``sampling.VALIDATION_SAMPLE`` fits on a fixed-seed sample of it (said in
    ``notes``); the held-out part is always evaluated whole."""
    from lifelines.utils import concordance_index

    from loyaltylab.analyses.churn import sampling

    test = split(sd.n, test_size, seed)
    idx = sd.frame.index
    rows = sampling.sample_rows(sd.frame["event"].to_numpy()[~test], sampling.VALIDATION_SAMPLE)
    if rows is None:
        cox = fit_cox(sd, penalizer=penalizer, rows=idx[~test], concordance=True, strata=strata,
                      confidence=confidence)
        notes = ()
    else:
        keep = np.zeros(sd.n, dtype=bool)
        keep[np.flatnonzero(~test)[rows]] = True
        cox = fit_cox(restrict(sd, keep), penalizer=penalizer, concordance=True, strata=strata, confidence=confidence)
        notes = (sampling.validation_note(len(rows), int((~test).sum())),)
    te = sd.frame.loc[idx[test]]
    tr = sd.frame.loc[idx[~test]]
    s_h = predict_survival(cox, te, horizon, sd=sd)
    ok = np.isfinite(s_h)
    te, s_h = te.loc[ok], s_h[ok]
    risk = risk_score(cox, sd, te.index, horizon) if cox.strata else partial_hazard(cox, te)
    c_test = float(concordance_index(te["duration"], -risk, te["event"])) if te["event"].sum() else np.nan
    G = censoring_km(tr["duration"], tr["event"])
    km_train = kaplan_meier(tr["duration"], tr["event"], times=[horizon])
    s_null = float(km_train.survival_at["survival"].iloc[0])
    follow_up = horizon <= te["duration"].max()
    brier = brier_score(te["duration"], te["event"], s_h, horizon, G) if follow_up else np.nan
    brier0 = brier_score(te["duration"], te["event"], np.full(len(te), s_null), horizon, G) if follow_up else np.nan
    calib = calibration_table(te["duration"], te["event"], 1 - s_h, horizon, bins=bins, confidence=confidence)
    by_tenure = tenure_calibration(cox, sd, te.index, horizon, min_cell=min_cell, confidence=confidence)
    return Validation(float(horizon), int((~test).sum()), int(len(te)), float(cox.concordance), c_test,
                      brier, brier0, calib, test_size, seed, by_tenure, cox.label, float(confidence), notes)


def metrics_table(v: Validation, backtest=None, *, time_unit: str = "days") -> pd.DataFrame:
    """Validation and backtest (:class:`~loyaltylab.analyses.churn.warning.Backtest`) numbers as one small table
    (the measures named in the current language)."""
    t = i18n.t
    at = f"{v.horizon:g} {time_unit}"
    at_zh = f"{v.horizon:g} {UNIT_ZH.get(time_unit, time_unit)}"
    rows = [
        (t("C-index, training data", "一致性指数（C 指数），训练集"), v.c_index_train),
        (t(f"C-index, held-out {v.test_size:.0%}", f"一致性指数（C 指数），{v.test_size:.0%} 留出样本"), v.c_index_test),
        (t(f"Brier score at {at}, Cox", f"{at_zh}时的 Brier 分数，Cox"), v.brier_at_horizon),
        (t(f"Brier score at {at}, no covariates", f"{at_zh}时的 Brier 分数，无协变量"), v.brier_null),
    ]
    b = backtest
    if b is not None:
        cutoff = f"{b.cutoff:%Y-%m-%d}"
        rows += [
            (t(f"Backtest cutoff ({cutoff}): customers scored", f"回测截止日（{cutoff}）：评分客户数"), int(b.n_scored)),
            (t("Backtest: churned in the window", "回测：窗口期内实际流失"), int(b.n_churned)),
            (t("Backtest: predicted churners", "回测：预测流失人数"), int(round(b.expected_churners))),
            (t("Backtest AUC", "回测 AUC"), b.auc),
            (t("Backtest top-decile lift", "回测：风险最高 10% 的提升度"), b.top_decile_lift),
        ]
    return pd.DataFrame(rows, columns=["measure", "value"], dtype=object)
