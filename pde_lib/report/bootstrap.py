"""Percentile bootstrap confidence intervals of a mean, vectorised over resamples.

For values x_1..x_n: draw B resamples of size n with replacement (indices (B, n)), take their
means m_b, and report (mean(x), q_{a/2}(m), q_{1-a/2}(m)). A fixed ``seed`` makes it reproducible."""

from __future__ import annotations

import numpy as np


def bootstrap_ci(values, n_boot: int = 10_000, ci: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high) of the ``ci`` percentile-bootstrap interval of the mean of ``values``.
    NaNs are dropped; no values gives (nan, nan, nan); one value a zero-width interval."""
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[~np.isnan(x)]
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    means = x[idx].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    mean = float(x.mean())
    # clip rounding so a constant sample gives exactly [mean, mean]
    return mean, float(min(lo, mean)), float(max(hi, mean))
