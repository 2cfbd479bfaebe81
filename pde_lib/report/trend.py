"""A trend test along one coordinate: does a paired gain over the baseline grow or shrink between
the two ends of an ordered coordinate (fine-tune sample count, pretraining-set size, width)?

Input: ``aggregate.paired_improvement`` rows (``log_ratio`` = log(err / err_baseline)). Per group
of ``by`` whose rows hold at least two levels of ``along``, the levels are ordered by ``key``
(a number per level); ``level`` is the end the question favours (``favour="min"``: the smallest,
``"max"``: the largest) and ``versus`` the other end. Per seed

    r(v) = mean of log_ratio over the seed's rows at level v   (the pooled PDEs, ...)
    d    = r(level) - r(versus)

and over the n seeds that have both ends: mean(d), sd(d) (ddof 1) and the 95% Student-t
interval, shown as ``extra_gain`` = 100 (1 - exp(mean d)) %, the interval's ends mapped the
same way (``intervals``), with the two-sided t-test p-value of mean d = 0. Positive: the
baseline's error is cut more at ``level`` than at ``versus``. Fewer than 2 seeds: NaN bounds
and p (no interval, not part of a Holm family)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from pde_lib.report.intervals import MIN_SEEDS, t_bounds, t_pvalue
from pde_lib.report.multiple import holm
from pde_lib.report.verdicts import verdict

TREND_COLUMNS = ["level", "versus", "n_seeds", "extra_gain", "ci_low", "ci_high", "points", "p_value"]


def _pct(v):
    return 100.0 * (1.0 - np.exp(v))


def level_trend(paired: pd.DataFrame, by: list[str], along: str, favour: str = "min",
                key: Callable[[object], float] = float) -> pd.DataFrame:
    """The trend test of the module doc, one row per group of ``by`` (sorted) with two or more
    levels of ``along``. Columns: by..., level, versus, n_seeds, extra_gain, ci_low, ci_high,
    points (per-seed 100 (1 - exp(d)), by seed), p_value."""
    if favour not in ("min", "max"):
        raise ValueError(f"favour must be 'min' or 'max', got {favour!r}")
    out = []
    for group, sub in paired.groupby(by, sort=True):
        group = group if isinstance(group, tuple) else (group,)
        levels = sorted(sub[along].unique(), key=key)
        low, high = levels[0], levels[-1]
        if key(low) == key(high):
            continue
        level, versus = (low, high) if favour == "min" else (high, low)
        per_seed = sub.groupby(["seed", along])["log_ratio"].mean().unstack(along)
        d = (per_seed[level] - per_seed[versus]).dropna().to_numpy()
        n = len(d)
        centre, sd = (float(d.mean()), float(d.std(ddof=1))) if n > 1 else (float(d.mean()) if n else np.nan, 0.0)
        lo, hi = t_bounds([centre], [sd], [n], min_seeds=MIN_SEEDS)
        out.append({**dict(zip(by, group)), "level": level, "versus": versus, "n_seeds": n,
                    "extra_gain": _pct(centre), "ci_low": float(_pct(hi[0])), "ci_high": float(_pct(lo[0])),
                    "points": tuple(float(v) for v in _pct(d)),
                    "p_value": float(t_pvalue([centre], [sd], [n])[0])})
    return pd.DataFrame(out, columns=by + TREND_COLUMNS)


def joint_family(table: pd.DataFrame, trend: pd.DataFrame, words: dict, alpha: float = 0.05
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A comparison table (``improvement_summary`` rows: mean, ci_low, ci_high, p_value) and its
    trend rows (``level_trend``: extra_gain, ...) Holm-corrected as ONE family at ``alpha``: adds
    ``p_holm``, ``holm_reject`` and the ``effect`` label (``verdicts.verdict``; a trend's decided
    labels renamed by ``words``, e.g. helps -> "more when scarce") to both; ``attrs`` of both hold
    the joint family size and survivors."""
    reject, adjusted = holm(np.concatenate([table["p_value"].to_numpy(dtype=float),
                                            trend["p_value"].to_numpy(dtype=float)]), alpha)
    k = len(table)
    table = table.assign(p_holm=adjusted[:k], holm_reject=reject[:k])
    table["effect"] = [verdict(m, lo, hi, r) for m, lo, hi, r
                       in zip(table["mean"], table["ci_low"], table["ci_high"], table["holm_reject"])]
    trend = trend.assign(p_holm=adjusted[k:], holm_reject=reject[k:])
    labels = [verdict(m, lo, hi, r) for m, lo, hi, r
              in zip(trend["extra_gain"], trend["ci_low"], trend["ci_high"], trend["holm_reject"])]
    trend["effect"] = [words.get(lab, lab) for lab in labels]
    attrs = dict(family=int(np.isfinite(adjusted).sum()), survivors=int(reject.sum()), alpha=alpha)
    table.attrs.update(attrs)
    trend.attrs.update(attrs)
    return table, trend
