"""How many seeds a paired comparison needs to resolve a given effect.

A family table (``findings.family``) reports, per comparison, the improvement over a baseline
with a 95% Student-t interval over n seeds of the per-seed log ratio r = log(err / err_base):

    half = t_{n-1, 0.975} * s / sqrt(n),   improvement = 100 (1 - exp(r)) %.

The interval "tells a 10% improvement from none" when it cannot hold both: its whole width on
the log scale is at most the distance between them, 2 half <= log(1 / 0.9), i.e.

    half <= h* = log(1 / (1 - p / 100)) / 2      (p = 10: h* = 0.0527).

Given the spread s measured at n seeds, ``seeds_needed`` is the smallest m with
t_{m-1, 0.975} s / sqrt(m) <= h*. s is itself estimated from few seeds, so a second figure uses
the one-sided upper confidence bound of sigma, s sqrt((n - 1) / chi2_{1-level, n-1}) (level 0.8:
at 3 seeds about 2.2 s), which assumes the per-seed log ratios are normal like the interval
does. Both are planning figures, not guarantees: a seed count chosen from them holds h* only
if the spread at the larger count is what was measured."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from pde_lib.report.intervals import t_bounds

#: the improvement (percent) an interval must tell from none
RESOLVE_PCT = 10.0
#: confidence of the upper bound of the spread used for the conservative seed count
SPREAD_LEVEL = 0.8
#: seed counts searched (beyond this, "more than MAX_SEEDS")
MAX_SEEDS = 1000


def target_half_width(pct: float = RESOLVE_PCT) -> float:
    """h* = log(1 / (1 - pct / 100)) / 2: the largest half-width (log scale) of an interval that
    cannot hold both no effect and a ``pct`` % improvement."""
    if not 0 < pct < 100:
        raise ValueError(f"pct must be in (0, 100), got {pct}")
    return float(np.log(1.0 / (1.0 - pct / 100.0)) / 2.0)


def half_width(sd, n, ci: float = 0.95) -> np.ndarray:
    """t_{n-1,(1+ci)/2} sd / sqrt(n), elementwise (``intervals.t_bounds`` around 0); NaN where n < 2."""
    sd = np.asarray(sd, dtype=np.float64)
    return t_bounds(np.zeros_like(sd), sd, n, ci)[1]


def seeds_needed(sd, target: float, ci: float = 0.95, max_seeds: int = MAX_SEEDS) -> np.ndarray:
    """Smallest seed count m >= 2 with ``half_width(sd, m, ci) <= target``, elementwise (float
    array); ``inf`` where even ``max_seeds`` is not enough, NaN where ``sd`` is NaN."""
    sd = np.atleast_1d(np.asarray(sd, dtype=np.float64))
    m = np.arange(2, max_seeds + 1, dtype=np.float64)
    per_seed = stats.t.ppf(0.5 + ci / 2, m - 1) / np.sqrt(m)  # half-width per unit sd, decreasing
    # the first m whose factor is <= target / sd (searchsorted on the increasing reversed array)
    ratio = np.where(sd > 0, target / np.where(sd > 0, sd, 1.0), np.inf)
    idx = len(m) - np.searchsorted(per_seed[::-1], ratio, side="right")
    out = np.where(idx < len(m), m[np.minimum(idx, len(m) - 1)], np.inf)
    return np.where(np.isnan(sd), np.nan, out)


def spread_upper_bound(sd, n, level: float = SPREAD_LEVEL) -> np.ndarray:
    """One-sided ``level`` upper confidence bound of sigma from a sample sd over n normal values:
    sd sqrt((n - 1) / chi2_{1 - level, n - 1}); NaN where n < 2."""
    sd, n = np.asarray(sd, dtype=np.float64), np.asarray(n, dtype=np.float64)
    ok = n >= 2
    dof = np.where(ok, n - 1, 1)
    return np.where(ok, sd * np.sqrt(dof / stats.chi2.ppf(1 - level, dof)), np.nan)


def precision_table(table: pd.DataFrame, pct: float = RESOLVE_PCT, ci: float = 0.95,
                    level: float = SPREAD_LEVEL) -> pd.DataFrame:
    """For each row of a family table (columns n_seeds, ci_low, ci_high in %, as
    ``findings.family`` writes them): the log-scale half-width of its interval, the spread s of
    the per-seed log ratios it implies, whether it is already narrow enough to tell ``pct`` %
    from none whatever the effect (half_width <= h*), and the seeds needed to be, from s and
    from its ``level`` upper bound. A row that is not narrow enough may still be decided (an
    interval far from 0 excludes no effect); the seed counts are what a re-run needs to decide
    every row of the family. Columns added: half_width, sd_log, narrow_enough, seeds_needed,
    seeds_needed_conservative."""
    out = table.copy()
    r_low = np.log1p(-np.asarray(out["ci_high"], dtype=np.float64) / 100.0)  # improvement -> log ratio
    r_high = np.log1p(-np.asarray(out["ci_low"], dtype=np.float64) / 100.0)
    n = np.asarray(out["n_seeds"], dtype=np.float64)
    half = (r_high - r_low) / 2.0
    unit = half_width(np.ones_like(n), n, ci)
    sd = half / unit
    target = target_half_width(pct)
    out["half_width"] = half
    out["sd_log"] = sd
    out["narrow_enough"] = half <= target
    out["seeds_needed"] = seeds_needed(sd, target, ci)
    out["seeds_needed_conservative"] = seeds_needed(spread_upper_bound(sd, n, level), target, ci)
    return out


def _count(v: float) -> str:
    return "-" if np.isnan(v) else (f"> {MAX_SEEDS}" if np.isinf(v) else str(int(v)))


def precision_summary(table: pd.DataFrame, pct: float = RESOLVE_PCT) -> str:
    """One line for a family table: how many of its intervals are narrow enough to tell ``pct``
    % from none, and the seeds the widest needs (estimate / conservative)."""
    p = precision_table(table, pct)
    p = p[np.isfinite(p["half_width"])]
    if p.empty:
        return "no intervals (fewer than 2 seeds)"
    worst = p.loc[p["half_width"].idxmax()]
    return (f"{int(p['narrow_enough'].sum())} of {len(p)} intervals narrow enough to tell {pct:g}% from none; "
            f"the widest needs {_count(worst['seeds_needed'])} seeds "
            f"({_count(worst['seeds_needed_conservative'])} at the {SPREAD_LEVEL:.0%} upper bound of its spread)")


def precision_view(table: pd.DataFrame, by: list[str], pct: float = RESOLVE_PCT) -> pd.DataFrame:
    """``precision_table`` for reading: ``by`` columns, seeds, log half-width, whether narrow
    enough, and the seeds needed (estimate, conservative)."""
    p = precision_table(table, pct)
    view = p[by].copy()
    view["seeds"] = p["n_seeds"].to_numpy()
    view["half-width (log)"] = [f"{h:.3f}" if np.isfinite(h) else "-" for h in p["half_width"]]
    view[f"narrow enough (<= {target_half_width(pct):.3f})"] = ["yes" if v else "no" for v in p["narrow_enough"]]
    view["seeds needed"] = [_count(v) for v in p["seeds_needed"]]
    view[f"seeds needed ({SPREAD_LEVEL:.0%} bound)"] = [_count(v) for v in p["seeds_needed_conservative"]]
    return view.reset_index(drop=True)
