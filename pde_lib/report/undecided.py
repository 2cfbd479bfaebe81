"""What the study leaves undecided: per family, how many comparisons got a verdict (helps / hurts
with Holm, or a 10% effect ruled out) and, for the others, the residual uncertainty: how wide their
95% intervals are and how large an effect they still allow.

For an undecided row with interval [lo, hi] (% lower error), the effect it still allows is
max(|lo|, |hi|): an effect larger than that, in either direction, is ruled out at 95%."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pde_lib.report.verdicts import NO_EFFECT


def decided(table: pd.DataFrame) -> pd.Series:
    """Per row: survives Holm, or its interval rules a 10% effect out."""
    return table["holm_reject"].fillna(False).astype(bool) | (table["effect"] == NO_EFFECT)


def residual_uncertainty(families: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per family (the order of ``families``): rows, decided, undecided, and over the
    undecided rows the median 95% interval width and the median and largest effect still allowed
    (percentage points)."""
    out = []
    for name, t in families.items():
        if t is None or not len(t):
            continue
        open_rows = t[~decided(t)]
        width = (open_rows["ci_high"] - open_rows["ci_low"]).to_numpy(float)
        allowed = np.maximum(open_rows["ci_low"].abs(), open_rows["ci_high"].abs()).to_numpy(float)
        out.append({"family": name, "rows": len(t), "decided": int(len(t) - len(open_rows)),
                    "undecided": len(open_rows),
                    "median interval width": float(np.median(width)) if len(width) else np.nan,
                    "median effect still allowed": float(np.median(allowed)) if len(allowed) else np.nan,
                    "largest effect still allowed": float(np.max(allowed)) if len(allowed) else np.nan})
    return pd.DataFrame(out)


def undecided_sentence(summary: pd.DataFrame) -> str:
    """The summary in one sentence (plain text)."""
    rows, done = int(summary["rows"].sum()), int(summary["decided"].sum())
    if rows == done:
        return f"All {rows} comparisons of the primary families are decided."
    open_ = summary[summary["undecided"] > 0]
    worst = open_.loc[open_["largest effect still allowed"].idxmax()]
    return (f"Decided: {done} of {rows} comparisons of the primary families (helps or hurts after Holm, or a 10% "
            f"effect ruled out). The other {rows - done} keep their 95% intervals as the residual uncertainty: "
            f"per family the median of their intervals' far end from zero is {open_['median effect still allowed'].min():.0f}% "
            f"to {open_['median effect still allowed'].max():.0f}% (the farthest {worst['largest effect still allowed']:.0f}%, in "
            f"{worst['family']}): effects that large are not ruled out. The seed count was fixed in advance and is "
            "not extended.")
