"""Early warning (提前预警): who will churn within the horizon, the reasons, the action list, and a backtest."""
from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from loyaltylab import i18n, io, privacy
from loyaltylab.analyses.churn.baseline import conditional_churn_probability, cumhaz_for, partial_hazard
from loyaltylab.analyses.churn.cox import CoxResult
from loyaltylab.analyses.churn.data import (
    SurvivalData,
    days_per_unit,
    fill_churn_dates,
    infer_snapshot,
    parse_terms,
    prepare,
)
from loyaltylab.errors import DataError

ACTION_LIST = "at_risk.csv"
FULL_ACTION_LIST = "at_risk.parquet"
ACTION_LIST_ROWS = 50_000       # at_risk.csv holds at most this many customers, the riskiest (the rest: Parquet)
GROUP_SEP = "\x1f"              # joins a customer's reason groups (the aggregate table counts them)


@dataclass(frozen=True)
class EarlyWarning:
    horizon: float
    scores: pd.DataFrame           # active customers, ranked: tenure, churn_probability, rank, risk_decile, top_factors, extrapolated
    n_active: int
    expected_churners: float
    factor_counts: pd.DataFrame    # how often each factor is a reason in the top decile (aggregate, no ids;
    #                                numeric terms grouped by name; counts below min_cell suppressed)
    model: str = "Cox"             # the model that scored (the stratified one when PH was remedied)
    strata: tuple[str, ...] = ()   # variables the scoring model stratifies by (no reasons: no coefficient)


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _term_codes(cox: CoxResult, sd: SurvivalData, pos: np.ndarray, terms: list[str]) -> dict:
    """Per term: (codes per customer, reason per code, group per code, eligible per code).

    A reason is in words — 'Contract is Month-to-month', 'MonthlyCharges is high (104; average 64.8)'. A category
    level is eligible when the term's Wald test is significant and, for a level other than the reference, the level's
    own coefficient is too; a numeric term when its Wald test is significant. Labels are formatted once per distinct
    value (numbers rounded to 3 significant digits), so this stays fast at a million customers."""
    out = {}
    base = sd.base.iloc[pos]
    sig = cox.table.set_index("covariate")["significant"]
    beta = cox.fitter.params_
    for term in terms:
        parts = term.split(":")
        term_ok = cox.term_significant(term)
        if len(parts) == 1 and term in sd.design.categorical:
            codes, uniques = pd.factorize(base[term].astype(str), sort=True)
            ref = sd.design.categorical[term][0]
            names = [f"{term} is {u}" for u in uniques]
            groups = names
            ok = [term_ok and (u == ref or bool(sig.get(f"{term}[{u}]", False))) for u in uniques]
        else:
            prod = np.ones(len(pos))
            for p in parts:
                if p not in sd.design.categorical:
                    prod = prod * base[p].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                mag = np.where(prod != 0, np.floor(np.log10(np.abs(prod))), 0)
            rounded = np.round(prod / 10 ** (mag - 2)) * 10 ** (mag - 2)
            uniques, codes = np.unique(rounded, return_inverse=True)
            cols = sd.design.term_columns[term]
            if len(cols) == 1 and cols[0] in beta.index:
                mean = float(cox.fitter._norm_mean[cols[0]])
                word = "high" if float(beta[cols[0]]) > 0 else "low"
                names = [f"{term} is {word} ({_fmt(u)}; average {_fmt(mean)})" for u in uniques]
            else:
                names = [f"{term} = {_fmt(u)}" for u in uniques]
            groups = [term] * len(uniques)
            ok = [term_ok] * len(uniques)
        out[term] = (np.asarray(codes).ravel(), np.array(names, dtype=object), np.array(groups, dtype=object),
                     np.array(ok, dtype=bool))
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


def top_factors(cox: CoxResult, sd: SurvivalData, rows: pd.Index, k: int = 3
                ) -> tuple[pd.Series, np.ndarray, pd.Series]:
    """The ``k`` model terms that raise each customer's hazard most above the average customer's (contribution of
    a term = Σ β_j (x_j − x̄_j) over its columns) among those the data support (see :func:`_term_codes`), in words,
    joined by '; '. Terms that lower the hazard, or whose effect is not significant, are never listed; a stratifying
    variable has no coefficient and is not listed. Returns (reasons, contributions, reason groups joined by
    :data:`GROUP_SEP` for the aggregate table)."""
    pos = sd.frame.index.get_indexer(rows)
    terms, contrib = _contributions(cox, sd, pos)
    n = len(pos)
    if not terms or k <= 0 or n == 0:
        empty = pd.Series("", index=rows, dtype=object)
        return empty, contrib, empty.copy()
    labels = _term_codes(cox, sd, pos, terms)
    ids = np.empty((n, len(terms)), dtype=np.int64)
    names: list[str] = []
    groups: list[str] = []
    eligible: list[bool] = []
    for j, term in enumerate(terms):
        codes, term_names, term_groups, ok = labels[term]
        ids[:, j] = codes + len(names)
        names.extend(term_names)
        groups.extend(term_groups)
        eligible.extend(ok)
    none = len(names)
    names_arr = np.array([*names, ""], dtype=object)
    groups_arr = np.array([*groups, ""], dtype=object)
    usable = np.append(np.array(eligible, dtype=bool), False)[ids] & (contrib > 0)
    order = np.argsort(np.where(usable, -contrib, np.inf), axis=1, kind="stable")[:, :k]
    r = np.arange(n)
    key = np.zeros(n, dtype=np.int64)
    picks = []
    for p in range(order.shape[1]):
        j = order[:, p]
        gid = np.where(usable[r, j], ids[r, j], none)
        picks.append(gid)
        key = key * (none + 1) + gid
    # format each distinct combination once
    if (none + 1) ** len(picks) < 2 ** 62:
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:  # too many labels for one integer key
        _, first, inverse = np.unique(np.stack(picks, axis=1), axis=0, return_index=True, return_inverse=True)
    texts = np.array(["; ".join(names_arr[g[i]] for g in picks if g[i] != none) for i in first], dtype=object)
    grouped = np.array([GROUP_SEP.join(groups_arr[g[i]] for g in picks if g[i] != none) for i in first],
                       dtype=object)
    inverse = inverse.ravel()
    return pd.Series(texts[inverse], index=rows), contrib, pd.Series(grouped[inverse], index=rows)


def _factor_counts(scores: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    top = scores.loc[scores["risk_decile"] == 1, "factor_groups"]
    exploded = top[top != ""].str.split(GROUP_SEP).explode()
    if not len(exploded):
        return pd.DataFrame(columns=["factor", "customers", "share_of_top_decile", "suppressed"])
    # a customer counts once per term (two values of one numeric term cannot both be listed, but be safe)
    grouped = pd.DataFrame({"row": exploded.index, "factor": exploded.to_numpy()}).drop_duplicates()
    counts = grouped["factor"].value_counts().rename_axis("factor").reset_index(name="customers")
    counts["share_of_top_decile"] = counts["customers"] / max(len(top), 1)
    counts = counts.sort_values(["customers", "factor"], ascending=[False, True], kind="mergesort")
    return privacy.suppress(counts.reset_index(drop=True), n_col="customers", min_cell=min_cell,
                            value_cols=["share_of_top_decile"], hide_counts=True, complementary=False)


def early_warning(cox: CoxResult, sd: SurvivalData, *, horizon: float, top_k: int = 3,
                  min_cell: int = 5) -> EarlyWarning:
    """For active customers: P(churn within ``horizon`` | already survived their tenure) from the supported
    baseline (:mod:`.baseline`), ranked (stable order). A stratified ``cox`` scores each customer with their own
    stratum's baseline hazard."""
    is_active = sd.frame["event"].to_numpy() == 0
    active = sd.frame.index[is_active]
    X = sd.frame[is_active]
    tenure = X["duration"].to_numpy(dtype=float)
    h_now, _ = cumhaz_for(cox, sd, active, tenure)
    h_later, extrap = cumhaz_for(cox, sd, active, tenure + float(horizon))
    prob = conditional_churn_probability(h_now, h_later, partial_hazard(cox, X))
    order = np.argsort(-prob, kind="stable")
    ranked = active[order]
    n = len(ranked)
    if n:
        factors, _, groups = top_factors(cox, sd, ranked, k=top_k)
    else:
        factors = groups = pd.Series(dtype=object)
    scores = pd.DataFrame({
        "tenure": tenure[order],
        "churn_probability": prob[order],
        "rank": np.arange(1, n + 1),
        "risk_decile": (np.arange(n) * 10) // max(n, 1) + 1,
        "top_factors": factors.to_numpy(dtype=object) if n else np.array([], dtype=object),
        "factor_groups": groups.to_numpy(dtype=object) if n else np.array([], dtype=object),
        "extrapolated": extrap[order],
    }, index=ranked)
    return EarlyWarning(float(horizon), scores, int(n), float(prob.sum()), _factor_counts(scores, min_cell),
                        cox.label, tuple(cox.strata))


def risk_factor_table(ew: EarlyWarning, top: int = 10) -> pd.DataFrame:
    """The ``top`` most common reasons in the top decile (hidden counts stay hidden); a category reason reads in the
    report's language ('segment is Basic' → 'segment 为 Basic')."""
    table = ew.factor_counts.head(top)
    if i18n.current() == "en" or "factor" not in table:
        return table
    from loyaltylab.analyses.churn.describe import factor_label

    return table.assign(factor=[factor_label(str(g)) for g in table["factor"]])


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(values: pd.Series) -> pd.Series:
    """Text cells a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) get a
    leading single quote; other cells are unchanged."""
    text = values.astype(object)
    risky = np.fromiter((isinstance(v, str) and v.startswith(FORMULA_START) for v in text), dtype=bool,
                        count=len(text))
    return text.where(~risky, "'" + text.astype(str))


def at_risk_table(ew: EarlyWarning, sd: SurvivalData, value=None) -> pd.DataFrame:
    """The action list (the only output with customer ids): id (as in the input, text), rank, probability, reasons
    — and, given the CLV analysis' ``value`` (its per-customer table), expected remaining months, CLV and value at
    risk. Text that a spreadsheet would run as a formula is neutralised (:func:`neutralise`), headers included."""
    ids = sd.extra["id"].loc[ew.scores.index] if "id" in sd.extra else pd.Series(
        [f"row {int(i) + 2}" for i in ew.scores.index], index=ew.scores.index)
    id_name = sd.roles.get("id") or "row"
    out = pd.DataFrame({
        "__id": ids.to_numpy(dtype=object),
        "rank": ew.scores["rank"].to_numpy(),
        f"tenure_{sd.time_unit}": ew.scores["tenure"].to_numpy(),
        f"churn_probability_{ew.horizon:g}_{sd.time_unit}": ew.scores["churn_probability"].round(6).to_numpy(),
        "risk_decile": ew.scores["risk_decile"].to_numpy(),
        "top_factors": ew.scores["top_factors"].to_numpy(dtype=object),
    })
    if value is not None and "clv" in value.customers:
        clv = value.customers["clv"].reindex(ew.scores.index).to_numpy()
        out["expected_remaining_months"] = np.round(
            value.customers["remaining_months"].reindex(ew.scores.index).to_numpy(), 2)
        out["clv"] = np.round(clv, 2)
        out["value_at_risk"] = np.round(clv * ew.scores["churn_probability"].to_numpy(), 2)
    for col in ("__id", "top_factors"):
        out[col] = neutralise(out[col])
    out.columns = neutralise(pd.Series([id_name, *out.columns[1:]], dtype=object)).tolist()
    return out


def remove_action_list(out_dir: str | Path) -> None:
    """Delete a previous run's ``at_risk.csv`` and ``at_risk.parquet`` (called before the analysis runs: a failed
    rerun must not leave the old list beside the failed report)."""
    for name in (ACTION_LIST, FULL_ACTION_LIST):
        path = Path(out_dir) / name
        if path.is_file() or path.is_symlink():
            path.unlink()


def action_list_note(n_active: int) -> str:
    """Where the action list is, in one sentence, when it is larger than :data:`ACTION_LIST_ROWS` (else "")."""
    if n_active <= ACTION_LIST_ROWS:
        return ""
    return " " + i18n.t(
        f"`{ACTION_LIST}` holds the {ACTION_LIST_ROWS:,} customers at the top of it (a spreadsheet-sized list to "
        f"act on); all {n_active:,}, ranked, are in `{FULL_ACTION_LIST}`.",
        f"`{ACTION_LIST}` 只包含风险最高的 {ACTION_LIST_ROWS:,} 名客户（便于在表格软件中处理）；全部 {n_active:,} 名客户的"
        f"排序名单在 `{FULL_ACTION_LIST}` 中。")


def _write_atomically(out: Path, name: str, write) -> Path:
    """``write(file object)`` into a private temporary file in ``out``, then moved into place as ``name``."""
    path = out / name
    fd, tmp = tempfile.mkstemp(prefix=f".{Path(name).stem}.", suffix=Path(name).suffix, dir=out)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_action_list(result, out_dir: str | Path) -> Path | None:
    """Write the ranked action list ``at_risk.csv`` into ``out_dir`` when the ``write_action_list`` parameter is
    True (opt-in: the only files with customer ids); any previous list is removed either way. Each file is written
    to a private temporary file in the folder and moved into place. Returns the CSV's path, or None when not written.

    The CSV holds every active customer up to :data:`ACTION_LIST_ROWS` (50,000) of them; beyond that it holds the
    50,000 at the top of the ranking — a list a team can open in a spreadsheet and work through (at a million
    customers the whole list was 750,000 rows, 74 MB) — and ``at_risk.parquet`` beside it holds all of them, ranked,
    in the same columns (the ``rank`` column orders both). Text that a spreadsheet would run as a formula is
    neutralised in both."""
    out = Path(out_dir)
    remove_action_list(out)
    if not getattr(result.params, "write_action_list", False):
        return None
    out.mkdir(parents=True, exist_ok=True)
    table = at_risk_table(result.warning, result.data_for_models, result.value)
    if len(table) > ACTION_LIST_ROWS:
        _write_atomically(out, FULL_ACTION_LIST, lambda fh: table.to_parquet(fh, index=False))
        table = table.iloc[:ACTION_LIST_ROWS]
    return _write_atomically(out, ACTION_LIST, lambda fh: table.to_csv(fh, index=False, encoding="utf-8"))


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
    strata: tuple[str, ...] = ()   # what the scoring model stratified by (the PH test's remedy at the cutoff)
    notes: tuple[str, ...] = ()    # the model fitted on a sample (sampling.py), in words


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


def churn_dates(df, churn_date_col, signup_col, event_col, event_value, duration_col, time_unit, snapshot,
                 source) -> pd.Series:
    """Churn dates as the analysis reads them (a churn flag with a blank date filled in, see data.py)."""
    churn = io.coerce_date(df, churn_date_col, source=source)
    signup = io.coerce_date(df, signup_col, source=source)
    scratch = {"churned without a churn date": 0}
    return fill_churn_dates(df, churn, signup, event_col, event_value, duration_col, time_unit, snapshot, source,
                                 scratch)


def _decile_calibration(p: np.ndarray, y: np.ndarray, bins: int) -> pd.DataFrame:
    order = np.argsort(p, kind="mergesort")
    n = len(p)
    nb = int(max(1, min(bins, n // 10 if n >= 20 else 1)))
    dec = np.empty(n, dtype=int)
    dec[order] = (np.arange(n) * nb) // max(n, 1) + 1
    return (pd.DataFrame({"decile": dec, "predicted": p, "observed": y}).groupby("decile")
            .agg(n=("predicted", "size"), predicted=("predicted", "mean"), observed=("observed", "mean"))
            .reset_index())


def backtest_dates(df: pd.DataFrame, *, horizon: float, time_unit: str = "days", signup_col: str = "signup_date",
                   churn_date_col: str = "churn_date", snapshot_date=None, duration_col: str | None = None,
                   source: str = "<data>") -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """(snapshot, cutoff = snapshot − horizon) of the backtest; None when the file has no signup/churn dates."""
    if not (signup_col and churn_date_col and signup_col in df.columns and churn_date_col in df.columns):
        return None
    if snapshot_date is None:
        signup = io.coerce_date(df, signup_col, source=source)
        churn = io.coerce_date(df, churn_date_col, source=source)
        snapshot = infer_snapshot(df, signup, churn, duration_col, time_unit, source)
    else:
        snapshot = io.parse_snapshot(snapshot_date)
    if snapshot is None:
        return None
    return snapshot, snapshot - pd.Timedelta(days=round(float(horizon) * days_per_unit(time_unit)))


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
    event_col: str | None = None,
    event_value=None,
    min_cell: int | None = None,
    confidence: float = 0.95,
    signals: pd.DataFrame | None = None,
    strata: Sequence[str] | None = None,
) -> Backtest | None:
    """Move the snapshot back by the horizon, fit and score as if it were then — the same steps as the analysis
    (:func:`~loyaltylab.analyses.churn.models.fit_models`: the PH test decides whether the stratified model scores,
    on supported baselines) — and compare with who actually churned in the window. None when the file has no
    signup/churn dates. ``signals``: numeric columns known at the cutoff (index = ``df``'s rows, names not in
    ``df``), added to the covariates — the survey signal of :mod:`.survey_signal`. ``strata``: the scoring model's
    strata given (e.g. another backtest's), so no PH test decides them: the model is fitted once, stratified by those
    of them that are still categorical variables of the design."""
    dates = backtest_dates(df, horizon=horizon, time_unit=time_unit, signup_col=signup_col,
                           churn_date_col=churn_date_col, snapshot_date=snapshot_date, duration_col=duration_col,
                           source=source)
    if dates is None:
        return None
    snapshot, cutoff = dates
    if signals is not None:
        df = pd.concat([df, signals.reindex(df.index)], axis=1)
        covariates = [*parse_terms(covariates)[0], *signals.columns]
    past = prepare(df, duration_col=duration_col, event_col=event_col, event_value=event_value,
                   signup_col=signup_col, churn_date_col=churn_date_col, snapshot_date=cutoff, covariates=covariates,
                   categorical=categorical, time_unit=time_unit, source=source, min_cell=min_cell)
    if past.events < 2 or past.events == past.n:
        return None
    from loyaltylab.analyses.churn import sampling
    from loyaltylab.analyses.churn.cox import drop_infinite, fit_cox
    from loyaltylab.analyses.churn.models import fit_models

    everyone, past = past, sampling.sample(past, sampling.BACKTEST_SAMPLE)
    sampled = past is not everyone
    try:
        if strata is None:
            models = fit_models(past, penalizer=penalizer, confidence=confidence, r_stats=False, concordance=False)
            past, scoring = models.data, models.scoring
        else:
            past = drop_infinite(past)[0]
            if not past.design.columns or past.events < 2:
                return None
            scoring = fit_cox(past, penalizer=penalizer, strata=[s for s in strata if s in past.design.categorical],
                              concordance=False, confidence=confidence)
    except DataError:
        return None
    n_train, notes = past.n, ()
    if sampled:
        past, notes = sampling.scoring_data(everyone, past), (sampling.backtest_note(n_train, everyone.n),)
    ew = early_warning(scoring, past, horizon=horizon, top_k=0)
    churn = churn_dates(df, churn_date_col, signup_col, event_col, event_value, duration_col, time_unit, snapshot,
                         source)
    scored = ew.scores.index
    y = (churn.loc[scored].notna() & (churn.loc[scored] <= snapshot)).to_numpy().astype(int)
    p = ew.scores["churn_probability"].to_numpy()
    lift, rate, base = lift_at(y, p, 0.1)
    n = len(p)
    return Backtest(
        cutoff=cutoff, snapshot=snapshot, horizon=float(horizon), n_train=n_train, n_scored=int(n),
        n_churned=int(y.sum()), auc=auc_score(y, p), top_decile_lift=lift, top_decile_rate=rate, base_rate=base,
        brier=float(np.mean((p - y) ** 2)) if n else np.nan, expected_churners=float(p.sum()),
        calibration=_decile_calibration(p, y, bins), strata=tuple(scoring.strata), notes=notes,
    )
