"""Many comparisons at once: Holm's step-down correction (``statsmodels``).

For a family of m p-values sorted ascending p_(1) <= ... <= p_(m), Holm rejects H_(1..k) for the
largest k with p_(j) <= alpha / (m - j + 1) for every j <= k; the adjusted p-value is
max_{i <= j} min(1, (m - i + 1) p_(i)). It controls the family-wise error rate at alpha with no
assumption on how the comparisons depend on each other. NaN p-values (comparisons without an
interval) are not part of the family."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests


def holm(p_values, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """(reject, adjusted p) for each p-value; NaN entries give (False, NaN) and do not count
    towards the family size."""
    p = np.asarray(p_values, dtype=np.float64).ravel()
    reject = np.zeros(p.shape, dtype=bool)
    adjusted = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        r, adj, _, _ = multipletests(p[ok], alpha=alpha, method="holm")
        reject[ok], adjusted[ok] = r, adj
    return reject, adjusted


def mark_holm(summary: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """``improvement_summary`` output with ``p_holm`` and ``holm_reject`` added, the whole table
    being one family; ``attrs["family"]`` and ``attrs["survivors"]`` hold the counts."""
    out = summary.copy()
    reject, adjusted = holm(out["p_value"] if len(out) else [], alpha)
    out["p_holm"], out["holm_reject"] = adjusted, reject
    out.attrs.update(family=int(np.isfinite(adjusted).sum()), survivors=int(reject.sum()), alpha=alpha)
    return out


def family_note(marked: pd.DataFrame, where: str = "this table") -> str:
    """One sentence stating the family size (``where`` its comparisons are) and how many
    comparisons survive Holm."""
    m, k = marked.attrs.get("family", 0), marked.attrs.get("survivors", 0)
    alpha = marked.attrs.get("alpha", 0.05)
    if m == 0:
        return "No comparison here has enough seeds for a test (per-seed points only)."
    return (f"Family of {m} comparison{'s' * (m != 1)} ({where}), Holm-corrected at "
            f"{alpha:.0%}: {k} survive{'s' * (k == 1)} (marked *); an unmarked interval that "
            "excludes 0 is not significant once the other comparisons are accounted for.")
