"""Student-t intervals over seeds, on the log scale for errors, vectorised over groups.

Errors are positive and right-skewed (one bad seed can be many times the others), so an error
summary works with ``y = log(error)``: for a group's per-seed values ``y_1..y_n`` (n seeds)

    centre = mean(y),  s = std(y, ddof=1),  half = t_{n-1, (1+ci)/2} * s / sqrt(n)

and reports ``exp(centre)`` (the geometric mean over seeds) with ``[exp(centre - half),
exp(centre + half)]``. A paired comparison works with the per-seed log ratio
``y = log(err / err_baseline)`` and reports the improvement ``100 (1 - exp(y))`` (%), so a
ratio of 0.9 is +10%. The t interval is exact when ``y`` is normal and needs no resampling, so it
keeps its coverage at 2, 3 and 5 seeds, where a percentile bootstrap of n values cannot (it has
only a handful of distinct resample means; at n = 2 it is [min, max]). ``tests/
test_report_stats.py`` measures the coverage by simulation. Below ``MIN_SEEDS`` seeds there is no
interval: bounds are NaN and callers show the per-seed points."""

from __future__ import annotations

import numpy as np
from scipy import stats

#: fewest seeds for which an interval is reported (the t interval needs a spread estimate)
MIN_SEEDS = 2


def t_bounds(centre, sd, n, ci: float = 0.95, min_seeds: int = MIN_SEEDS):
    """Arrays ``(low, high) = centre -/+ t_{n-1,(1+ci)/2} sd / sqrt(n)``; NaN where n < min_seeds."""
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    centre, sd, n = (np.asarray(a, dtype=np.float64) for a in (centre, sd, n))
    ok = n >= max(2, min_seeds)
    q = stats.t.ppf(0.5 + ci / 2, np.where(ok, n - 1, 1))
    half = np.where(ok, q * sd / np.sqrt(np.where(ok, n, 1)), np.nan)
    return centre - half, centre + half


def t_pvalue(centre, sd, n, min_seeds: int = MIN_SEEDS):
    """Two-sided p-value of the one-sample t test of ``mean = 0`` (same array conventions as
    ``t_bounds``); NaN below ``min_seeds``; 0 for a non-zero mean with zero spread."""
    centre, sd, n = (np.asarray(a, dtype=np.float64) for a in (centre, sd, n))
    ok = n >= max(2, min_seeds)
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = np.abs(centre) / (sd / np.sqrt(np.where(ok, n, 1)))
    tstat = np.where(np.isnan(tstat), 0.0, tstat)  # 0 / 0: no difference at all
    p = 2 * stats.t.sf(tstat, np.where(ok, n - 1, 1))
    return np.where(ok, p, np.nan)


def to_log(values: np.ndarray, name: str) -> np.ndarray:
    """``log(values)``, with a clear error when a value is not positive."""
    v = np.asarray(values, dtype=np.float64)
    bad = ~(v > 0) & ~np.isnan(v)
    if bad.any():
        raise ValueError(f"{name}: the log-scale summary needs positive values, got {v[bad][0]!r}")
    return np.log(v)
