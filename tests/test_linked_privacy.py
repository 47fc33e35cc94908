"""No hidden cell is recoverable by subtraction across one batch (issue 8, DESIGN.md §6).

A fan-out batch publishes the report on everyone (the column totals of every per-group table) and one report per
region (its row of each table and the row total). The checks below read only what the reports publish — counts,
and category counts derived from shares × n — and try to get every hidden cell back: a published total minus the
shown cells of its row or column (the issue's attack: overall Premium 43 minus South Premium 40 = North Premium 3),
and any combination of published lines at all (linear algebra: a cell is recovered when its unit vector lies in the
row space of the published equations).
"""
from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyaltylab import privacy, report, results
from loyaltylab.analyses import nps
from loyaltylab.analyses.nps import analysis as nps_analysis
from loyaltylab.constants import NPS_CATEGORIES
from loyaltylab.errors import DataError
from loyaltylab.measures import category_codes

MIN_CELL = 5
ROOT = Path(__file__).resolve().parents[1]

# (promoters, passives, detractors) per region and segment. The issue's case: Premium is 43 overall (26 promoters,
# 14 passives, 3 detractors: 60.47 % and 6.98 %), 40 in South, 3 in North (all detractors), none in West.
ISSUE_CASE = {
    "North": {"Basic": (12, 10, 8), "Standard": (9, 6, 5), "Premium": (0, 0, 3)},
    "South": {"Basic": (20, 12, 8), "Standard": (10, 10, 5), "Premium": (26, 14, 0)},
    "West": {"Basic": (15, 12, 8), "Standard": (10, 7, 5)},
}
WITH_BLANKS = {**ISSUE_CASE, None: {"Basic": (2, 1, 1), "Standard": (3, 2, 1)}}
"""The same with answers whose region is blank: in the report on everyone, in no part (a row of its own)."""
COMMENTS = ["The staff were friendly and helpful", "Delivery was late again", "Too expensive for what you get",
            "The store was clean and modern", "They fixed my problem quickly", "I trust them with my account",
            "", "ok"]
CHANNELS = ["Online", "Store", "Phone"]


def write_survey(folder: Path, spec: dict, seed: int = 0, repeat_cell=("West", "Basic")) -> Path:
    """A survey CSV with ``spec``'s counts; dates over 2024, channels, comments and tangibles items at random
    (``seed``). In ``repeat_cell`` customers answer twice (people are counted, not answers)."""
    rng = np.random.default_rng(seed)
    rows = []
    for region, segments in spec.items():
        for segment, (pro, pas, det) in segments.items():
            scores = np.r_[rng.integers(9, 11, pro), rng.integers(7, 9, pas), rng.integers(0, 7, det)]
            rng.shuffle(scores)
            for i, score in enumerate(scores):
                who = i // 2 if (region, segment) == repeat_cell else i
                rows.append({"customer_id": f"{region or 'none'}-{segment}-{who}", "nps": int(score),
                             "segment": segment, "region": region or "",
                             "channel": CHANNELS[int(rng.choice(3, p=[0.6, 0.3, 0.1]))],
                             "date": f"2024-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 28)):02d}",
                             "comment": COMMENTS[int(rng.integers(len(COMMENTS)))],
                             **{f"P{k}": int(rng.integers(1, 8)) for k in range(1, 5)}})
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    frame.insert(0, "response_id", [f"r{i}" for i in range(len(frame))])
    path = folder / "survey.csv"
    frame.to_csv(path, index=False)
    return path


def params(survey: Path, **kw) -> dict:
    return {"survey_path": str(survey), "cluster_col": "customer_id", "min_cell": MIN_CELL, **kw}


def batch(survey: Path, regions) -> tuple[nps.NPSReport, dict]:
    """The report on everyone and one part per region, as reports.yml's 01_nps and 01_nps_by_region run them."""
    overall = nps.analyze(params(survey, segment_cols=["segment", "region", "channel"]))
    parts = {r: nps.analyze(params(survey, segment_cols=["segment", "channel"], filters={"region": r}))
             for r in regions}
    return overall, parts


# --- what a reader can get from the published reports ----------------------------------------------------------


@dataclass
class Linked:
    """One linked table as published: ``cells[(row, col)]`` a vector of counts or None (hidden / unpublished),
    totals likewise; ``truth`` the real vectors; ``people`` per cell (what min_cell counts)."""

    name: str
    rows: list
    cols: list
    cells: dict = field(default_factory=dict)
    row_total: dict = field(default_factory=dict)  # empty: the parts publish no row total (themes, means)
    col_total: dict = field(default_factory=dict)
    grand: np.ndarray | None = None
    truth: dict = field(default_factory=dict)
    people: dict = field(default_factory=dict)
    categories: bool = False


def _vector(n, pcts=None):
    """(n,) or (n, detractors, passives, promoters) from a published n and shares (None when hidden)."""
    if n is None or pd.isna(n):
        return None
    n = int(n)
    if pcts is None:
        return np.array([n], dtype=float)
    if n == 0:
        return np.zeros(4)
    det, pas, pro = (round(p * n / 100) for p in pcts)
    return np.array([n, det, pas, pro], dtype=float)


def _row_vector(table, n_col="n", pct=True):
    return _vector(table[n_col], [table["detractors_pct"], table["passives_pct"], table["promoters_pct"]]
                   if pct else None)


def _headline(report) -> np.ndarray:
    o = report.overall
    return _vector(o.n, [o.detractors_pct, o.passives_pct, o.promoters_pct])


def _truth_grid(frame, row_key, col_key, value=None):
    """{(row, col): truth vector} and {(row, col): people} from the survey itself."""
    codes = category_codes(frame["nps"])
    out, people = {}, {}
    for (r, c), g in frame.assign(_code=codes).groupby([row_key, col_key], dropna=False, sort=False):
        r = None if (isinstance(r, float) and math.isnan(r)) or r == "" else r
        if value is None:
            vec = np.array([len(g), (g["_code"] == 0).sum(), (g["_code"] == 1).sum(), (g["_code"] == 2).sum()], float)
        else:
            vec = value(g)
        out[(r, str(c))] = vec
        people[(r, str(c))] = g["customer_id"].nunique()
    return out, people


def published(overall, parts: dict, frame: pd.DataFrame) -> list[Linked]:
    """Every linked table of the batch, from the reports alone (and the truth from the survey)."""
    regions = sorted(parts)
    region_table = overall.segments["region"].set_index("value")
    rows = [*regions, None] if nps.MISSING_LABEL in region_table.index else regions  # None: blank region
    frame = frame.assign(region=frame["region"].where(frame["region"].notna() & (frame["region"] != ""), None))
    tables = []

    def row_totals(vector_of):
        out = {r: vector_of(parts[r]) for r in regions}
        miss = region_table.loc[nps.MISSING_LABEL] if nps.MISSING_LABEL in region_table.index else None
        out[None] = None if miss is None or miss["suppressed"] else _row_vector(miss)
        return out

    for col in ("segment", "channel"):
        t = Linked(f"segments:{col}", rows, sorted(frame[col].astype(str).unique()), categories=True)
        t.truth, t.people = _truth_grid(frame, "region", col)
        for r in regions:
            shown = parts[r].segments[col].set_index("value")
            for c in t.cols:
                if c not in shown.index:
                    t.cells[(r, c)] = np.zeros(4)
                else:
                    row = shown.loc[c]
                    t.cells[(r, c)] = None if row["suppressed"] else _row_vector(row)
        ov = overall.segments[col].set_index("value")
        t.col_total = {c: None if ov.loc[c, "suppressed"] else _row_vector(ov.loc[c]) for c in t.cols}
        t.row_total, t.grand = row_totals(_headline), _headline(overall)
        tables.append(t)

    periods = list(overall.trend["period"])
    t = Linked("trend", rows, periods, categories=True)
    t.truth, t.people = _truth_grid(frame.assign(period=pd.PeriodIndex(pd.to_datetime(frame["date"]), freq="Q")
                                                 .strftime("%YQ%q")), "region", "period")
    for r in regions:
        shown = parts[r].trend.set_index("period")
        for c in periods:
            t.cells[(r, c)] = (np.zeros(4) if c not in shown.index else None if shown.loc[c, "suppressed"]
                               else _row_vector(shown.loc[c]))
    ov = overall.trend.set_index("period")
    t.col_total = {c: None if ov.loc[c, "suppressed"] else _row_vector(ov.loc[c]) for c in periods}
    t.row_total, t.grand = row_totals(_headline), _headline(overall)
    tables.append(t)

    scores = frame.assign(score=frame["nps"].astype(int).astype(str), cat=category_codes(frame["nps"]))
    for k, cat in enumerate(NPS_CATEGORIES):
        cols = [str(s) for s in range(11) if category_codes(np.array([s]))[0] == k]
        t = Linked(f"distribution:{cat}", rows, cols)
        truth, people = _truth_grid(scores[scores["cat"] == k], "region", "score", value=lambda g: np.array([len(g)]))
        t.truth, t.people = truth, people
        for r in regions:
            d = parts[r].distribution.set_index(parts[r].distribution["score"].astype(str))
            for c in cols:
                t.cells[(r, c)] = _vector(d.loc[c, "n"]) if not d.loc[c, "suppressed"] else None
        od = overall.distribution.set_index(overall.distribution["score"].astype(str))
        t.col_total = {c: None if od.loc[c, "suppressed"] else _vector(od.loc[c, "n"]) for c in cols}
        t.row_total = row_totals(lambda rep, k=k: np.array([_headline(rep)[1 + k]]))
        t.grand = np.array([_headline(overall)[1 + k]])
        tables.append(t)

    assigned = nps_analysis.comments.th.assign(frame["comment"])
    names = list(overall.themes["theme"])
    for col, who in (("n", None), ("n_promoters", 2), ("n_detractors", 0)):
        t = Linked(f"themes:{col}", rows, names)
        codes = category_codes(frame["nps"])
        for name in names:
            named = (assigned["n_themes"].eq(0) if name == "unclassified" else assigned[name]) & assigned["has_comment"]
            m = named.to_numpy() & ((codes == who) if who is not None else True)
            for r in rows:
                sel = m & (frame["region"].to_numpy(object) == r) if r is not None else m & frame["region"].isna()
                if sel.sum():
                    t.truth[(r, name)] = np.array([sel.sum()], float)
                    t.people[(r, name)] = frame.loc[sel, "customer_id"].nunique()
        for r in regions:
            th = parts[r].themes.set_index("theme")
            for name in names:
                t.cells[(r, name)] = _vector(th.loc[name, col])
        ot = overall.themes.set_index("theme")
        t.col_total = {name: _vector(ot.loc[name, col]) for name in names}
        tables.append(t)

    means = overall.dimensions.means
    for dim in means["dimension"].unique():
        t = Linked(f"means:{dim}", rows, list(NPS_CATEGORIES))
        x = frame[[f"P{k}" for k in range(1, 5)]].mean(axis=1)
        for (r, cat), g in frame.assign(cat=np.asarray(NPS_CATEGORIES)[category_codes(frame["nps"])], x=x) \
                .groupby(["region", "cat"], dropna=False):
            r = None if not isinstance(r, str) else r
            t.truth[(r, cat)] = np.array([len(g), g["x"].sum()])
            t.people[(r, cat)] = g["customer_id"].nunique()

        def sums(table, cat, dim=dim):
            row = table[(table["dimension"] == dim) & (table["category"] == cat)].iloc[0]
            return None if row["suppressed"] else np.array([row["n"], row["n"] * row["mean"]], float)

        for r in regions:
            for cat in NPS_CATEGORIES:
                t.cells[(r, cat)] = sums(parts[r].dimensions.means, cat)
        t.col_total = {cat: sums(means, cat) for cat in NPS_CATEGORIES}
        tables.append(t)
    return tables


def _nonempty(t: Linked, key) -> bool:
    return key in t.truth and t.truth[key][0] > 0


def _inherent(t: Linked, r, c) -> bool:
    """The cell is the only non-empty one of a column whose total the report on everyone shows: it is published."""
    return t.col_total.get(c) is not None and not any(_nonempty(t, (o, c)) for o in t.rows if o != r)


def line_leaks(t: Linked, parts_only=True) -> list[str]:
    """Hidden cells equal to a published total minus the shown cells of its row or column (counts and category
    counts), and lines whose hidden cells all lack a category, or all are of it (0 % / 100 % follows)."""
    leaks = []
    hidden = [(r, c) for r in t.rows for c in t.cols
              if r is not None and t.cells.get((r, c)) is None and _nonempty(t, (r, c))]
    for r, c in hidden:
        if _inherent(t, r, c):
            continue
        lines = []
        if t.row_total.get(r) is not None:
            lines.append(("row", [(r, o) for o in t.cols], t.row_total[r]))
        if t.col_total.get(c) is not None:
            lines.append(("column", [(o, c) for o in t.rows], t.col_total[c]))
        for kind, keys, total in lines:
            shown = [t.cells[k] for k in keys if t.cells.get(k) is not None]
            residual = total - (np.sum(shown, axis=0) if shown else 0)
            if residual[0] == t.truth[(r, c)][0] and np.allclose(residual, t.truth[(r, c)]):
                leaks.append(f"{t.name}: {r}/{c} = {kind} total − shown cells ({residual.tolist()})")
            if t.categories and len(residual) == 4:
                for k in range(3):
                    if (residual[1 + k] == 0 < total[1 + k]) or (residual[1 + k] == residual[0] and
                                                                 total[1 + k] < total[0]):
                        leaks.append(f"{t.name}: the hidden cells of {r}/{c}'s {kind} are all or none "
                                     f"{NPS_CATEGORIES[k]}s")
    return leaks


def algebra_leaks(t: Linked) -> list[str]:
    """Hidden cells of the parts, and column totals hidden by the report on everyone, that some combination of the
    published lines fixes exactly (e_i in the row space of the equations in the unknowns)."""
    unknown = {}
    for r in t.rows:
        for c in t.cols:
            if t.cells.get((r, c)) is None:
                unknown[("cell", r, c)] = len(unknown)
    has_rows = bool(t.row_total)
    if has_rows:
        for r in t.rows:
            if t.row_total.get(r) is None:
                unknown[("row", r)] = len(unknown)
    for c in t.cols:
        if t.col_total.get(c) is None:
            unknown[("col", c)] = len(unknown)
    eqs = []
    if has_rows:
        for r in t.rows:
            e = np.zeros(len(unknown))
            for c in t.cols:
                if ("cell", r, c) in unknown:
                    e[unknown[("cell", r, c)]] = 1
            if ("row", r) in unknown:
                e[unknown[("row", r)]] = -1
            eqs.append(e)
        e = np.zeros(len(unknown))
        for r in t.rows:
            if ("row", r) in unknown:
                e[unknown[("row", r)]] = 1
        eqs.append(e)
    for c in t.cols:
        e = np.zeros(len(unknown))
        for r in t.rows:
            if ("cell", r, c) in unknown:
                e[unknown[("cell", r, c)]] = 1
        if ("col", c) in unknown:
            e[unknown[("col", c)]] = -1
        eqs.append(e)
    if has_rows:
        e = np.zeros(len(unknown))
        for c in t.cols:
            if ("col", c) in unknown:
                e[unknown[("col", c)]] = 1
        eqs.append(e)
    a = np.array([e for e in eqs if e.any()]) if any(e.any() for e in eqs) else np.zeros((0, len(unknown)))
    rank = np.linalg.matrix_rank(a) if len(a) else 0
    leaks = []
    for key, i in unknown.items():
        if key[0] == "cell" and (key[1] is None or not _nonempty(t, key[1:]) or _inherent(t, *key[1:])):
            continue
        if key[0] == "row":
            continue  # a part's own total; the report on everyone's region table (see the module's report)
        unit = np.zeros(len(unknown))
        unit[i] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            leaks.append(f"{t.name}: {key} follows from the published lines")
    return leaks


# --- the issue's case ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["issue", "blanks"])
def issue_batch(tmp_path_factory, request):
    folder = tmp_path_factory.mktemp("linked")
    survey = write_survey(folder, ISSUE_CASE if request.param == "issue" else WITH_BLANKS)
    overall, parts = batch(survey, ["North", "South", "West"])
    return survey, overall, parts, pd.read_csv(survey, keep_default_na=False, na_values=[""])


def test_the_batch_is_the_issues_case(issue_batch):
    _, overall, parts, _ = issue_batch
    premium = overall.segments["segment"].set_index("value").loc["Premium"]
    assert premium["n"] == 43 and round(premium["promoters_pct"], 2) == 60.47
    assert round(premium["detractors_pct"], 2) == 6.98
    assert parts["North"].segments["segment"].set_index("value").loc["Premium", "suppressed"]


def test_no_hidden_cell_is_recovered_by_subtraction_across_the_batch(issue_batch):
    """Fails before issue 8's fix: overall Premium minus South Premium gave North Premium (3 detractors)."""
    _, overall, parts, frame = issue_batch
    tables = published(overall, parts, frame)
    leaks = [leak for t in tables for leak in line_leaks(t)]
    assert not leaks, leaks[:5]
    south = parts["South"].segments["segment"].set_index("value")
    assert south.loc["Premium", "suppressed"] and pd.isna(south.loc["Premium", "n"])


def test_no_combination_of_published_lines_recovers_a_hidden_cell(issue_batch):
    _, overall, parts, frame = issue_batch
    leaks = [leak for t in published(overall, parts, frame) for leak in algebra_leaks(t)]
    assert not leaks, leaks[:5]


def test_each_part_hides_at_least_what_it_hides_alone(issue_batch):
    survey, _, parts, _ = issue_batch
    for region, part in parts.items():
        p = nps.Params(**params(survey, segment_cols=["segment", "channel"], filters={"region": region}))
        alone = nps.run(nps.load(p), p)  # no unfiltered data: its own suppression only
        for col, table in alone.segments.items():
            own = set(table.loc[table["suppressed"], "value"])
            assert own <= set(part.segments[col].loc[part.segments[col]["suppressed"], "value"])
        assert set(alone.trend.loc[alone.trend["suppressed"], "period"]) <= set(
            part.trend.loc[part.trend["suppressed"], "period"])
        assert (alone.distribution["suppressed"] <= part.distribution["suppressed"]).all()


def test_the_report_on_everyone_is_unchanged(issue_batch):
    survey, overall, _, _ = issue_batch
    assert overall.linked is None
    p = nps.Params(**params(survey, segment_cols=["segment", "region", "channel"]))
    again = nps.run(nps.load(p), p)
    for col in overall.segments:
        pd.testing.assert_frame_equal(overall.segments[col], again.segments[col])
    pd.testing.assert_frame_equal(overall.trend, again.trend)
    pd.testing.assert_frame_equal(overall.distribution, again.distribution)


def test_the_page_says_when_cells_are_hidden_for_the_batch(issue_batch):
    _, overall, parts, _ = issue_batch
    north = parts["North"]
    assert north.linked.extra > 0
    sentence = [s for s in north.key_findings() if "further cell(s) are hidden" in s]
    assert len(sentence) == 1 and str(north.linked.extra) in sentence[0]
    assert any("another part of this batch" in n for n in north.notes())
    assert not any("another part of this batch" in s for s in overall.key_findings())
    south = parts["South"]  # Premium and Standard hidden only for the batch: said where the table is described
    assert south.linked.extra_by_table[("segments", "segment")] == 2
    assert "to protect small groups in another part of this batch" in nps.describe_segments(south)[0]


def test_hidden_rows_in_results_json_carry_no_counts(issue_batch):
    _, _, parts, _ = issue_batch
    doc = json.loads(results.dumps(parts["South"].to_results()))
    rows = [r for t in doc["by_segment"].values() for r in t] + doc["trend"]
    hidden = [r for r in rows if r["suppressed"]]
    assert hidden and all(r["n"] is None and r.get("nps") is None for r in hidden)
    assert {"by_segment", "trend", "themes", "n", "nps", "suppressed", "filters"} <= set(doc)


# --- random batches --------------------------------------------------------------------------------------------


def random_spec(seed: int) -> dict:
    """Regions × segments with many small cells (0–6 answers per category) and a few large ones."""
    rng = np.random.default_rng(seed)
    spec = {}
    for region in ["East", "North", "South", "West"][: int(rng.integers(2, 5))]:
        spec[region] = {}
        for segment in ["Basic", "Gold", "Premium", "Standard"]:
            if rng.random() < 0.15:
                continue
            big = rng.random() < 0.5
            spec[region][segment] = tuple(int(v) for v in rng.integers(0, 12 if big else 3, 3))
        if sum(map(sum, spec[region].values())) < 2 * MIN_CELL:
            spec[region]["Basic"] = (8, 4, 3)
    return spec


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_batches_leak_nothing(tmp_path, seed):
    spec = random_spec(seed)
    survey = write_survey(tmp_path, spec, seed=seed, repeat_cell=(next(iter(spec)), "Basic"))
    overall, parts = batch(survey, sorted(spec))
    frame = pd.read_csv(survey, keep_default_na=False, na_values=[""])
    tables = published(overall, parts, frame)
    leaks = [leak for t in tables for leak in line_leaks(t) + algebra_leaks(t)]
    assert not leaks, leaks[:5]


# --- the mask itself, over random cross tables ------------------------------------------------------------------


def _fixed_cells(counts, hidden, totals_hidden, row_totals):
    """Independent of privacy.determined: which hidden cells the published lines fix (numpy matrix_rank)."""
    cells = [tuple(rc) for rc in np.argwhere(hidden)]
    tots = list(np.flatnonzero(totals_hidden))
    u = len(cells) + len(tots)
    eqs = []
    if row_totals:
        for r in range(counts.shape[0]):
            eqs.append([1.0 if i < len(cells) and cells[i][0] == r else 0.0 for i in range(u)])
    for g in range(counts.shape[1]):
        eqs.append([1.0 if i < len(cells) and cells[i][1] == g else -1.0 if i >= len(cells) and
                    tots[i - len(cells)] == g else 0.0 for i in range(u)])
    if tots:
        eqs.append([0.0] * len(cells) + [1.0] * len(tots))
    a = np.array(eqs)
    rank = np.linalg.matrix_rank(a)
    fixed = []
    for i in range(u):
        e = np.zeros(u)
        e[i] = 1
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
            fixed.append(cells[i] if i < len(cells) else ("total", tots[i - len(cells)]))
    return fixed


@pytest.mark.parametrize("seed", range(40))
def test_linked_mask_leaves_no_cell_fixed(seed):
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(2, 6)), int(rng.integers(2, 7))
    counts = rng.integers(0, 15, size=(rows, cols)) * (rng.random((rows, cols)) < 0.8)
    cats = np.stack([rng.multinomial(n, [0.2, 0.3, 0.5]) for n in counts.ravel()]).reshape(rows, cols, 3)
    totals = privacy.complementary_mask(counts.sum(axis=0), MIN_CELL) if seed % 2 else np.zeros(cols, bool)
    row_totals = seed % 5 != 0
    hidden = privacy.linked_mask(counts, MIN_CELL, hidden_totals=totals, row_totals=row_totals, categories=cats)
    assert hidden[(counts > 0) & (counts < MIN_CELL)].all()
    assert not hidden[counts == 0].any()
    shown_totals = totals & (counts.sum(axis=0) > 0)
    # what the published totals fix even with every non-empty cell hidden (a cell alone in its column, or in a row
    # so small its part is refused as a whole) no mask can protect
    inherent = set(_fixed_cells(counts, counts > 0, shown_totals, row_totals))
    fixed = set(_fixed_cells(counts, hidden, shown_totals, row_totals))
    assert fixed <= inherent, (counts, hidden, fixed - inherent)
    lines = [(counts, hidden, cats)] if row_totals else []
    lines.append((counts.T, hidden.T, cats.transpose(1, 0, 2)))
    for i, (grid, mask, c3) in enumerate(lines):
        for j, (line, line_hidden, line_cats) in enumerate(zip(grid, mask, c3)):
            if not line_hidden.any() or (i == len(lines) - 1 and totals[j]):
                continue
            assert line_hidden.sum() >= min(2, (line > 0).sum())
            if line_hidden.sum() < (line > 0).sum():
                assert line[line_hidden].sum() >= MIN_CELL
            in_hidden, in_line = line_cats[line_hidden].sum(axis=0), line_cats.sum(axis=0)
            for k in range(3):
                assert not (in_hidden[k] == 0 < in_line[k])
                assert not (in_hidden[k] == line_cats[line_hidden].sum() and in_line[k] < line_cats.sum())


def test_a_batch_of_one_part_hides_what_the_report_on_everyone_hides():
    counts = np.array([[120, 80, 3]])
    totals = privacy.complementary_mask(counts.sum(axis=0), MIN_CELL)
    assert (privacy.linked_mask(counts, MIN_CELL, seed=totals[None, :], hidden_totals=totals) == totals).all()


# --- end to end: reports.yml with a fan-out ---------------------------------------------------------------------


def test_loyaltylab_report_fan_out_publishes_no_recoverable_cell(tmp_path):
    """The batch runner's fan-out parts (filters = {region: value}) hide South's Premium too: the report on
    everyone's Premium (43) minus South's no longer gives North's (3). One part, so it runs in < 30 s."""
    write_survey(tmp_path, ISSUE_CASE)
    shutil.copy(ROOT / "notebooks" / "01_nps.ipynb", tmp_path / "01_nps.ipynb")
    (tmp_path / "reports.yml").write_text(
        "defaults:\n  parameters: {min_cell: 5, cluster_col: customer_id, survey_path: survey.csv}\n"
        "jobs:\n  - name: by_region\n    notebook: 01_nps.ipynb\n    parameters: {segment_cols: [segment, channel]}\n"
        "    fan_out: {column: region, data: survey.csv}\n", encoding="utf-8")
    out = tmp_path / "out"
    start = time.perf_counter()
    code = report.main(["--config", str(tmp_path / "reports.yml"), "--out", str(out), "--only", "by_region/south"])
    elapsed = time.perf_counter() - start
    assert code == 0
    docs = {p.parent.name: results.read_results(p) for p in out.rglob("results.json")}
    assert set(docs) == {"south"} and docs["south"]["filters"] == {"region": "South"}
    premium = {r["value"]: r for r in docs["south"]["by_segment"]["segment"]}["Premium"]
    assert premium["suppressed"] and premium["n"] is None  # 43 − 40 no longer gives North's 3
    page = (out / "by_region" / "south" / "report.html").read_text(encoding="utf-8")
    assert "another part of this batch" in page
    print(f"end-to-end fan-out part: {elapsed:.1f} s")


def test_complements_close_a_rectangle_rather_than_spread():
    """The issue's grid: North's Premium (3) needs South's Premium; both rows then need a second cell, and the two
    Standard cells close the rectangle — West, with no small cell, keeps everything (a greedy that mended each line
    with its smallest cell would have hidden West's Standard, then West's Basic, then North's Basic)."""
    counts = np.array([[30, 20, 3], [40, 25, 40], [18, 22, 0]])  # Basic, Standard, Premium × North, South, West
    hidden = privacy.linked_mask(counts, MIN_CELL)
    assert hidden.tolist() == [[False, True, True], [False, True, True], [False, False, False]]
    cells, totals = privacy.determined(counts, hidden)
    assert not cells.any() and not totals.any()


# --- the parts' own totals: n and category counts (issue 8) ---------------------------------------------------

BLANK_REGION = {"North": {"Basic": (12, 10, 8), "Standard": (4, 3, 3)},
                "South": {"Basic": (20, 12, 8), "Standard": (5, 3, 2)},
                None: {"Basic": (0, 0, 3)}}
"""North 40, South 50 and 3 answers with a blank region (all detractors): overall − North − South gave them."""
TINY_PART = {"North": {"Basic": (12, 10, 8), "Standard": (4, 3, 3)},
             "South": {"Basic": (20, 12, 8), "Standard": (5, 3, 2)},
             "West": {"Basic": (10, 8, 6), "Standard": (3, 2, 1)},
             "East": {"Basic": (1, 0, 1)}}
"""A part of 2 people (refused) beside parts of 40, 50 and 30: overall − the other parts gave East."""


def batch_or_refused(survey: Path, regions) -> tuple[nps.NPSReport, dict]:
    """As :func:`batch`, a part refused for too few people as None (the batch runner goes on without it)."""
    overall = nps.analyze(params(survey, segment_cols=["segment", "region", "channel"]))
    parts = {}
    for r in regions:
        try:
            parts[r] = nps.analyze(params(survey, segment_cols=["segment", "channel"], filters={"region": r}))
        except DataError:
            parts[r] = None
    return overall, parts


def totals_leaks(overall, parts: dict, frame: pd.DataFrame) -> list[str]:
    """Small groups of the filter column (blank region, refused or withheld parts) that the report on everyone's
    headline (n and category counts from its shares) minus the published parts' headlines gives away: the one
    unpublished group exactly, or unpublished groups that all lack — or all are — a category the survey has."""
    codes = category_codes(frame["nps"])
    truth = {r or None: np.array([len(g), *(np.bincount(codes[g.index], minlength=3)[:3])], float)
             for r, g in frame.groupby(frame["region"].fillna("").astype(str), sort=True)}
    shown = {r: _headline(parts[r]) for r in truth if r is not None and parts.get(r) is not None}
    shown = {r: v for r, v in shown.items() if v is not None}
    hidden = [r for r in truth if r not in shown]
    if not any(0 < truth[r][0] < MIN_CELL for r in hidden):
        return []
    total = _headline(overall)
    residual = total - np.sum(list(shown.values()), axis=0)
    leaks = []
    if len(hidden) == 1 and np.allclose(residual, truth[hidden[0]]):
        leaks.append(f"{hidden[0]!r} = overall − published parts ({residual.tolist()})")
    if residual[0] < MIN_CELL:
        leaks.append(f"the unpublished groups hold only {residual[0]:.0f} answers")
    for k in range(3):
        if residual[1 + k] == 0 < total[1 + k] or residual[1 + k] == residual[0] and total[1 + k] < total[0]:
            leaks.append(f"the unpublished groups are all or none {NPS_CATEGORIES[k]}s")
    return leaks


def assert_withheld(part: nps.NPSReport) -> None:
    """A withheld part publishes no number: no NPS, no count, no table row with a value; one sentence says why."""
    assert part.withheld and part.overall.suppressed and part.overall.n is None
    doc = json.loads(results.dumps(part.to_results()))
    assert doc["n"] is None and doc["nps"] is None and doc["promoters_pct"] is None
    assert doc["by_segment"] == {} and doc["trend"] == [] and doc["themes"] == []
    assert part.distribution["suppressed"].all() and part.distribution["n"].isna().all()
    assert part.headline()["Responses"] is None and part.headline()["NPS"] is None
    findings = part.key_findings()
    assert len(findings) == 1 and "withheld as a whole" in findings[0] and "region" in findings[0]
    assert nps.describe_overall(part) == findings


def test_a_blank_filter_value_is_not_given_away_by_the_parts_totals(tmp_path):
    """Fails before the fix: overall (93) − North (40) − South (50) gave the 3 blank-region answers, all
    detractors. Now North, the smaller part, is withheld with them."""
    survey = write_survey(tmp_path, BLANK_REGION)
    frame = pd.read_csv(survey, keep_default_na=False, na_values=[""])
    overall, parts = batch_or_refused(survey, ["North", "South"])
    assert overall.overall.n == 93 and overall.linked is None
    leaks = totals_leaks(overall, parts, frame)
    assert not leaks, leaks
    assert_withheld(parts["North"])
    assert not parts["South"].withheld and parts["South"].overall.n == 50
    region = overall.segments["region"].set_index("value")  # the report on everyone's table agrees
    assert region.loc["North", "suppressed"] and not region.loc["South", "suppressed"]


def test_no_blank_values_and_no_small_part_withhold_nothing(issue_batch):
    """The issue's batch (no blank region; WITH_BLANKS' blank group holds 10 people, no secret): no part is
    withheld and the parts' totals give away no small group."""
    _, overall, parts, frame = issue_batch
    assert not any(part.withheld for part in parts.values())
    assert all(part.overall.n is not None and not part.overall.suppressed for part in parts.values())
    assert not totals_leaks(overall, parts, frame)


def test_a_refused_tiny_part_withholds_the_smallest_other_part(tmp_path):
    survey = write_survey(tmp_path, TINY_PART, repeat_cell=(None, None))
    frame = pd.read_csv(survey, keep_default_na=False, na_values=[""])
    overall, parts = batch_or_refused(survey, ["East", "North", "South", "West"])
    assert parts["East"] is None  # refused: 2 people
    assert_withheld(parts["West"])  # 30 people, the smallest other part
    assert not parts["North"].withheld and not parts["South"].withheld
    assert not totals_leaks(overall, parts, frame)
    shown = {r: p for r, p in parts.items() if r != "West"}  # without the fix: overall − the rest gives East
    assert totals_leaks(overall, {**shown, "West": _published_anyway(survey)}, frame)


def _published_anyway(survey):
    """West's report as a filtered run without the batch's data computes it (what the fix prevents)."""
    p = nps.Params(**params(survey, segment_cols=["segment", "channel"], filters={"region": "West"}))
    return nps.run(nps.load(p), p)


def test_loyaltylab_report_withheld_part_does_not_fail_the_batch(tmp_path):
    """The batch runner's North part is withheld (the blank region's 3 answers): the job succeeds, the page says
    why, and results.json holds no count."""
    write_survey(tmp_path, BLANK_REGION)
    shutil.copy(ROOT / "notebooks" / "01_nps.ipynb", tmp_path / "01_nps.ipynb")
    (tmp_path / "reports.yml").write_text(
        "defaults:\n  parameters: {min_cell: 5, cluster_col: customer_id, survey_path: survey.csv}\n"
        "jobs:\n  - name: by_region\n    notebook: 01_nps.ipynb\n    parameters: {segment_cols: [segment, channel]}\n"
        "    fan_out: {column: region, data: survey.csv}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert report.main(["--config", str(tmp_path / "reports.yml"), "--out", str(out),
                        "--only", "by_region/north"]) == 0
    docs = {p.parent.name: results.read_results(p) for p in out.rglob("results.json")}
    assert set(docs) == {"north"} and docs["north"]["n"] is None and docs["north"]["by_segment"] == {}
    page = (out / "by_region" / "north" / "report.html").read_text(encoding="utf-8")
    assert "withheld as a whole" in page and "n = 40" not in page
