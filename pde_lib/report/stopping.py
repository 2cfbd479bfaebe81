"""What extending seeds only where a comparison was undecided costs: optional stopping.

The study's seed extensions ran more seeds only for the comparisons that the first seeds left
undecided (neither significant nor inside +-10%). Testing again after looking is two looks at
the data, so under no true effect the chance of a false helps / hurts exceeds the nominal 5%.
``false_decision_rate`` simulates exactly that rule for one comparison: per-seed log ratios
drawn from N(0, sd) (no effect), a two-sided t test and the 95% interval at ``n_first`` seeds;
if that is significant, stop (a false decision); if the interval lies inside +-10%, stop (no
effect, correct); else add seeds up to ``n_final`` and test once more."""

from __future__ import annotations

import numpy as np
from scipy import stats

from pde_lib.report.verdicts import RESOLUTION_PCT


def _test(y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise (significant, low, high) of the t test / interval of mean(y) = 0 (log ratios)."""
    n = y.shape[1]
    m, s = y.mean(axis=1), y.std(axis=1, ddof=1)
    half = stats.t.ppf(1 - alpha / 2, n - 1) * s / np.sqrt(n)
    return np.abs(m) > half, m - half, m + half


def false_decision_rate(n_first: int = 5, n_final: int = 10, sd: float = 0.1, alpha: float = 0.05,
                        resolution: float = RESOLUTION_PCT, trials: int = 200_000, seed: int = 0) -> dict:
    """Under no effect, the share of comparisons the extend-if-undecided rule calls helps / hurts
    (``adaptive``), against a single test at ``n_first`` seeds (``fixed``, ~alpha). ``sd``: the
    seed-to-seed sd of the per-seed log ratio; ``extended``: share of comparisons extended."""
    if not 2 <= n_first < n_final:
        raise ValueError(f"need 2 <= n_first < n_final, got n_first={n_first}, n_final={n_final}")
    rng = np.random.default_rng(seed)
    y = rng.normal(0.0, sd, size=(trials, n_final))
    sig1, lo1, hi1 = _test(y[:, :n_first], alpha)
    band = np.log(1 - resolution / 100), -np.log(1 - resolution / 100)  # log-ratio bounds of +-10%
    inside = (lo1 > -band[1]) & (hi1 < -band[0])
    extend = ~sig1 & ~inside
    sig2, _, _ = _test(y, alpha)
    adaptive = sig1 | (extend & sig2)
    return {"fixed": float(sig1.mean()), "adaptive": float(adaptive.mean()), "extended": float(extend.mean()),
            "n_first": n_first, "n_final": n_final, "sd": sd}
