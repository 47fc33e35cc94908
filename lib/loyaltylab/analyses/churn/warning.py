"""Early warning (提前预警): who will churn within the horizon, the reasons, the action list, and a backtest."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from loyaltylab import io, privacy
from loyaltylab.analyses.churn.cox import CoxResult, conditional_churn_probability, cumhaz_for, fit_cox, partial_hazard
from loyaltylab.analyses.churn.data import SurvivalData, days_per_unit, infer_snapshot, prepare

ACTION_LIST = "at_risk.csv"


@dataclass(frozen=True)
class EarlyWarning:
    horizon: float
    scores: pd.DataFrame           # active customers, ranked: tenure, churn_probability, rank, risk_decile, top_factors, extrapolated
    n_active: int
    expected_churners: float
    factor_counts: pd.DataFrame    # how often each factor is a top reason in the top decile (aggregate, no ids;
    #                                numeric terms grouped by name; counts below min_cell suppressed)
    model: str = "Cox"             # the model that scored (the stratified one when PH was remedied)


def _term_codes(sd: SurvivalData, pos: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per term: (codes per customer, label per code) — 'segment=Basic', 'provider_proactive=0', 'x1=1.23'.

    Labels are formatted once per distinct value (numbers rounded to 3 significant digits), so this stays fast
    at a million customers. ``pos``: row positions in ``sd``."""
    out = {}
    base = sd.base.iloc[pos]
    for term in sd.design.terms:
        parts = term.split(":")
        if len(parts) == 1 and term in sd.design.categorical:
            codes, uniques = pd.factorize(base[term], sort=True)
            names = [f"{term}={u}" for u in uniques]
        else:
            prod = np.ones(len(pos))
            for p in parts:
                if p not in sd.design.categorical:
                    prod = prod * base[p].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                mag = np.where(prod != 0, np.floor(np.log10(np.abs(prod))), 0)
            rounded = np.round(prod / 10 ** (mag - 2)) * 10 ** (mag - 2)
            uniques, codes = np.unique(rounded, return_inverse=True)
            names = [f"{term}={u:.3g}" for u in uniques]
        out[term] = (np.asarray(codes).ravel(), np.array(names, dtype=object))
    return out


def _contributions(cox: CoxResult, sd: SurvivalData, pos: np.ndarray) -> tuple[list[str], np.ndarray]:
    cph = cox.fitter
    X = sd.frame.iloc[pos]
    terms = [t for t in sd.design.terms if any(c in cph.params_.index for c in sd.design.term_columns[t])]
    contrib = np.zeros((len(pos), len(terms)))
    for j, term in enumerate(terms):
        cols = [c for c in sd.design.term_columns[term] if c in cph.params_.index]
        xc = X[cols].to_numpy(dtype=float) - cph._norm_mean[cols].to_numpy(dtype=float)
        contrib[:, j] = xc @ cph.params_[cols].to_numpy()
    return terms, contrib


def top_factors(cox: CoxResult, sd: SurvivalData, rows: pd.Index, k: int = 3) -> tuple[pd.Series, np.ndarray]:
    """The ``k`` model terms that raise each customer's hazard most above the average customer's
    (contribution of a term = Σ β_j (x_j − x̄_j) over its columns), as 'term=value; …'. Terms that lower the
    hazard are not listed."""
    pos = sd.frame.index.get_indexer(rows)
    terms, contrib = _contributions(cox, sd, pos)
    n = len(pos)
    if not terms or k <= 0 or n == 0:
        return pd.Series("", index=rows, dtype=object), contrib
    # one id per (term, value) label; the last id means "nothing"
    labels = _term_codes(sd, pos)
    ids = np.empty((n, len(terms)), dtype=np.int64)
    names: list[str] = []
    for j, term in enumerate(terms):
        codes, term_names = labels[term]
        ids[:, j] = codes + len(names)
        names.extend(term_names)
    none = len(names)
    names_arr = np.array([*names, ""], dtype=object)
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    r = np.arange(n)
    key = np.zeros(n, dtype=np.int64)
    picks = []
    for p in range(order.shape[1]):
        j = order[:, p]
        gid = np.where(contrib[r, j] > 0, ids[r, j], none)
        picks.append(gid)
        key = key * (none + 1) + gid
    # format each distinct combination once
    if (none + 1) ** len(picks) < 2 ** 62:
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:  # too many labels for one integer key
        _, first, inverse = np.unique(np.stack(picks, axis=1), axis=0, return_index=True, return_inverse=True)
    texts = np.array(["; ".join(names_arr[g[i]] for g in picks if g[i] != none) for i in first], dtype=object)
    return pd.Series(texts[inverse.ravel()], index=rows), contrib


def _factor_term(factor: str, sd: SurvivalData) -> str:
    """'segment=Basic' stays (a category); 'MonthlyCharges=44.8' → 'MonthlyCharges' (numeric terms by name)."""
    term = factor.split("=", 1)[0]
    return factor if term in sd.design.categorical else term


def _factor_counts(scores: pd.DataFrame, sd: SurvivalData, min_cell: int) -> pd.DataFrame:
    top = scores.loc[scores["risk_decile"] == 1, "top_factors"]
    exploded = top[top != ""].str.split("; ").explode()
    if not len(exploded):
        return pd.DataFrame(columns=["factor", "customers", "share_of_top_decile", "suppressed"])
    terms = {f: _factor_term(f, sd) for f in pd.unique(exploded)}
    # a customer counts once per term (two values of one numeric term cannot both be listed, but be safe)
    grouped = pd.DataFrame({"row": exploded.index, "factor": exploded.map(terms).to_numpy()}).drop_duplicates()
    counts = grouped["factor"].value_counts().rename_axis("factor").reset_index(name="customers")
    counts["share_of_top_decile"] = counts["customers"] / max(len(top), 1)
    counts = counts.sort_values(["customers", "factor"], ascending=[False, True], kind="mergesort")
    return privacy.suppress(counts.reset_index(drop=True), n_col="customers", min_cell=min_cell,
                            value_cols=["share_of_top_decile"], hide_counts=True, complementary=False)


def early_warning(cox: CoxResult, sd: SurvivalData, *, horizon: float, top_k: int = 3,
                  tail_window: float | None = None, min_cell: int = 5) -> EarlyWarning:
    """For active customers: P(churn within ``horizon`` | already survived their tenure), ranked (stable order).
    A stratified ``cox`` scores each customer with their own stratum's baseline hazard."""
    is_active = sd.frame["event"].to_numpy() == 0
    active = sd.frame.index[is_active]
    X = sd.frame[is_active]
    tenure = X["duration"].to_numpy(dtype=float)
    h_now, _ = cumhaz_for(cox, sd, active, tenure, tail_window=tail_window)
    h_later, extrap = cumhaz_for(cox, sd, active, tenure + float(horizon), tail_window=tail_window)
    prob = conditional_churn_probability(h_now, h_later, partial_hazard(cox, X))
    order = np.argsort(-prob, kind="stable")
    ranked = active[order]
    factors, _ = top_factors(cox, sd, ranked, k=top_k) if len(ranked) else (pd.Series(dtype=object), None)
    n = len(ranked)
    scores = pd.DataFrame({
        "tenure": tenure[order],
        "churn_probability": prob[order],
        "rank": np.arange(1, n + 1),
        "risk_decile": (np.arange(n) * 10) // max(n, 1) + 1,
        "top_factors": factors.to_numpy() if n else [],
        "extrapolated": extrap[order],
    }, index=ranked)
    return EarlyWarning(float(horizon), scores, int(n), float(prob.sum()), _factor_counts(scores, sd, min_cell),
                        cox.label)


def risk_factor_table(ew: EarlyWarning, top: int = 10) -> pd.DataFrame:
    """The ``top`` most common reasons in the top decile (hidden counts stay hidden)."""
    return ew.factor_counts.head(top)


def at_risk_table(ew: EarlyWarning, sd: SurvivalData, value=None) -> pd.DataFrame:
    """The action list (the only output with customer ids): id, probability, rank, top factors — and, given the
    CLV analysis' ``value`` (its per-customer table), expected remaining months, CLV and value at risk."""
    ids = sd.extra["id"].loc[ew.scores.index] if "id" in sd.extra else pd.Series(
        [f"row {int(i) + 2}" for i in ew.scores.index], index=ew.scores.index)
    id_name = sd.roles.get("id") or "row"
    out = pd.DataFrame({
        id_name: ids.to_numpy(),
        "rank": ew.scores["rank"].to_numpy(),
        f"tenure_{sd.time_unit}": ew.scores["tenure"].to_numpy(),
        f"churn_probability_{ew.horizon:g}_{sd.time_unit}": ew.scores["churn_probability"].round(6).to_numpy(),
        "risk_decile": ew.scores["risk_decile"].to_numpy(),
        "top_factors": ew.scores["top_factors"].to_numpy(),
    })
    if value is not None and "clv" in value.customers:
        clv = value.customers["clv"].reindex(ew.scores.index).to_numpy()
        out["expected_remaining_months"] = np.round(
            value.customers["remaining_months"].reindex(ew.scores.index).to_numpy(), 2)
        out["clv"] = np.round(clv, 2)
        out["value_at_risk"] = np.round(clv * ew.scores["churn_probability"].to_numpy(), 2)
    return out


def write_action_list(result, out_dir: str | Path) -> Path:
    """Write the ranked action list ``at_risk.csv`` (customer ids, probabilities, reasons, value at risk when the CLV
    analysis is attached) into ``out_dir``; the only file with customer ids. Returns its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / ACTION_LIST
    at_risk_table(result.warning, result.data, result.value).to_csv(path, index=False, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------------------------
# Backtest
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Backtest:
    """Early warning re-run as of (snapshot − horizon) and compared with who churned in the following window."""

    cutoff: pd.Timestamp
    snapshot: pd.Timestamp
    horizon: float
    n_train: int
    n_scored: int
    n_churned: int
    auc: float
    top_decile_lift: float
    top_decile_rate: float
    base_rate: float
    brier: float
    expected_churners: float
    calibration: pd.DataFrame      # decile, n, predicted, observed


def auc_score(y, score) -> float:
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y, dtype=int)
    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else np.nan


def lift_at(y, score, fraction: float = 0.1) -> tuple[float, float, float]:
    """(lift, rate in the top ``fraction`` by score, base rate); stable ordering for ties."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    k = max(1, int(math.ceil(fraction * n)))
    top = np.argsort(-np.asarray(score, dtype=float), kind="stable")[:k]
    base = float(y.mean()) if n else np.nan
    rate = float(y[top].mean()) if n else np.nan
    return (rate / base if base > 0 else np.nan), rate, base


def _decile_calibration(p: np.ndarray, y: np.ndarray, bins: int) -> pd.DataFrame:
    order = np.argsort(p, kind="mergesort")
    n = len(p)
    nb = int(max(1, min(bins, n // 10 if n >= 20 else 1)))
    dec = np.empty(n, dtype=int)
    dec[order] = (np.arange(n) * nb) // max(n, 1) + 1
    return (pd.DataFrame({"decile": dec, "predicted": p, "observed": y}).groupby("decile")
            .agg(n=("predicted", "size"), predicted=("predicted", "mean"), observed=("observed", "mean"))
            .reset_index())


def backtest(
    df: pd.DataFrame,
    *,
    horizon: float,
    time_unit: str = "days",
    signup_col: str = "signup_date",
    churn_date_col: str = "churn_date",
    snapshot_date=None,
    duration_col: str | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    penalizer: float = 0.0,
    source: str = "<data>",
    bins: int = 10,
) -> Backtest | None:
    """Move the snapshot back by the horizon, fit and score as if it were then, and compare with who actually churned
    in the window. None when the file has no signup/churn dates."""
    if not (signup_col and churn_date_col and signup_col in df.columns and churn_date_col in df.columns):
        return None
    unit_days = days_per_unit(time_unit)
    if snapshot_date is None:
        signup = io.coerce_date(df, signup_col, source=source)
        churn = io.coerce_date(df, churn_date_col, source=source)
        snapshot = infer_snapshot(df, signup, churn, duration_col, time_unit, source)
    else:
        snapshot = io.parse_snapshot(snapshot_date)
    if snapshot is None:
        return None
    cutoff = snapshot - pd.Timedelta(days=round(float(horizon) * unit_days))
    past = prepare(df, duration_col=None, event_col=None, signup_col=signup_col, churn_date_col=churn_date_col,
                   snapshot_date=cutoff, covariates=covariates, categorical=categorical, time_unit=time_unit,
                   source=source)
    if past.events == 0:
        return None
    cox = fit_cox(past, penalizer=penalizer, concordance=False)
    ew = early_warning(cox, past, horizon=horizon, top_k=0)
    churn = io.coerce_date(df, churn_date_col, source=source)
    scored = ew.scores.index
    y = (churn.loc[scored].notna() & (churn.loc[scored] <= snapshot)).to_numpy().astype(int)
    p = ew.scores["churn_probability"].to_numpy()
    lift, rate, base = lift_at(y, p, 0.1)
    n = len(p)
    return Backtest(
        cutoff=cutoff, snapshot=snapshot, horizon=float(horizon), n_train=past.n, n_scored=int(n),
        n_churned=int(y.sum()), auc=auc_score(y, p), top_decile_lift=lift, top_decile_rate=rate, base_rate=base,
        brier=float(np.mean((p - y) ** 2)) if n else np.nan, expected_churners=float(p.sum()),
        calibration=_decile_calibration(p, y, bins),
    )
