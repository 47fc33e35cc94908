"""Multiple-comparison corrections (the same values as statsmodels' ``multipletests``, without its import cost)."""
from __future__ import annotations

import numpy as np

CORRECTIONS = ("holm", "fdr_bh", "bonferroni", None)
CORRECTION_NAMES = {"holm": "Holm", "fdr_bh": "Benjamini–Hochberg", "bonferroni": "Bonferroni"}


def adjust_pvalues(p_values, method: str | None = "holm", alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Correction over the finite p-values (NaN stays NaN): (adjusted p, reject at ``alpha``).

    ``holm`` (step-down, controls the family-wise error), ``fdr_bh`` (Benjamini–Hochberg false discovery rate),
    ``bonferroni``, or None (no correction). Tested against statsmodels' ``multipletests``.
    """
    if method not in CORRECTIONS:
        raise ValueError(f"unknown correction {method!r}; expected one of {CORRECTIONS}")
    p = np.asarray(p_values, dtype="float64").copy()
    ok = np.isfinite(p)
    q = p[ok]
    m = len(q)
    if method is not None and m:
        order = np.argsort(q, kind="mergesort")
        ranked = q[order]
        if method == "bonferroni":
            adj = np.minimum(ranked * m, 1.0)
        elif method == "holm":
            adj = np.minimum(np.maximum.accumulate(ranked * (m - np.arange(m))), 1.0)
        else:
            adj = np.minimum(np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1], 1.0)
        out = np.empty(m)
        out[order] = adj
        p[ok] = out
    reject = np.where(ok, p < alpha, False)
    return p, reject.astype(bool)
