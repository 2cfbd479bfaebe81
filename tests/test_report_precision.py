"""Seeds needed to resolve an effect (``pde_lib.report.precision``): the target half-width, the
seed search against a brute-force loop, the spread upper bound's coverage by simulation, and the
spread a family table's interval implies against the spread of its per-seed log ratios."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pde_lib.report.aggregate import COORDS
from pde_lib.report.findings import family
from pde_lib.report.precision import (half_width, precision_summary, precision_table, precision_view, seeds_needed,
                                      spread_upper_bound, target_half_width)


def test_target_half_width_separates_none_from_ten_percent():
    h = target_half_width(10.0)
    assert h == pytest.approx(0.052680, abs=1e-6)
    # an interval of that half-width around no effect ends exactly where a 10% gain begins
    assert 100 * (1 - np.exp(-2 * h)) == pytest.approx(10.0)
    with pytest.raises(ValueError, match="pct"):
        target_half_width(100.0)


@pytest.mark.parametrize("sd", [0.0, 0.004, 0.03, 0.0527, 0.13, 0.6])
def test_seeds_needed_is_the_smallest_count_that_reaches_the_target(sd):
    target = target_half_width()
    m = int(seeds_needed(sd, target)[0])
    brute = next(k for k in range(2, 5000) if stats.t.ppf(0.975, k - 1) * sd / np.sqrt(k) <= target)
    assert m == brute
    assert half_width(sd, m) <= target
    if m > 2:
        assert half_width(sd, m - 1) > target


def test_seeds_needed_beyond_the_search_and_nan():
    out = seeds_needed([5.0, np.nan], target_half_width(), max_seeds=50)
    assert np.isinf(out[0]) and np.isnan(out[1])


@pytest.mark.parametrize("n", [3, 5])
def test_spread_upper_bound_covers_sigma_at_its_level(n):
    rng = np.random.default_rng(n)
    sd = rng.normal(0.0, 0.07, size=(20000, n)).std(axis=1, ddof=1)
    covered = np.mean(spread_upper_bound(sd, n, level=0.8) >= 0.07)
    assert abs(covered - 0.8) < 0.015, covered


def test_precision_table_recovers_the_per_seed_spread():
    """A family table built from known per-seed log ratios: the spread precision_table infers
    from the interval equals the sample sd of those log ratios."""
    rng = np.random.default_rng(0)
    rows = []
    spreads = {"a": 0.02, "b": 0.09}
    logs = {}
    for strategy, sigma in spreads.items():
        logs[strategy] = rng.normal(-0.1, sigma, size=5)
        for seed in range(5):
            for name, err in (("none", 0.2), (strategy, 0.2 * np.exp(logs[strategy][seed]))):
                row = {c: "x" for c in COORDS}
                row.update(strategy=name, seed=seed, test_rel_l2=err, test_copy_last_rel_l2=1.0)
                rows.append(row)
    df = pd.DataFrame(rows).drop_duplicates(subset=COORDS)
    table = precision_table(family(df, ["strategy"]))
    for strategy in spreads:
        row = table[table["strategy"] == strategy].iloc[0]
        assert row["sd_log"] == pytest.approx(np.std(logs[strategy], ddof=1), rel=1e-9)
        assert row["narrow_enough"] == (row["half_width"] <= target_half_width())
        assert row["seeds_needed"] <= row["seeds_needed_conservative"]
    narrow, wide = (table[table["strategy"] == s].iloc[0] for s in ("a", "b"))
    assert narrow["narrow_enough"] and not wide["narrow_enough"]
    assert wide["seeds_needed"] > 5


def test_precision_summary_and_view_name_the_widest_interval():
    rng = np.random.default_rng(1)
    rows = []
    for seed in range(3):
        for name, err in (("none", 0.2), ("a", 0.2 * np.exp(rng.normal(0, 0.2))), ("b", 0.18)):
            row = {c: "x" for c in COORDS}
            row.update(strategy=name, seed=seed, test_rel_l2=err, test_copy_last_rel_l2=1.0)
            rows.append(row)
    table = family(pd.DataFrame(rows), ["strategy"])
    p = precision_table(table)
    line = precision_summary(table)
    assert line.startswith("1 of 2 intervals narrow enough to tell 10% from none")
    assert f"the widest needs {int(p['seeds_needed'].max())} seeds" in line
    view = precision_view(table, ["strategy"])
    assert list(view["strategy"]) == ["a", "b"]
    assert list(view["narrow enough (<= 0.053)"]) == ["no", "yes"] and list(view["seeds needed"])[1] == "2"
    assert precision_summary(family(pd.DataFrame(rows[:3]), ["strategy"])) == "no intervals (fewer than 2 seeds)"
