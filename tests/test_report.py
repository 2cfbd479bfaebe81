"""Report layer: aggregation of metrics on disk into a sorted
tidy table, summaries over seeds, paired improvements and tables."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from pde_lib.report.aggregate import COLUMNS, load_results, paired_improvement, select, summarise
from pde_lib.sweep.results import collect_results, write_results
from pde_lib.report.tables import ci_table, format_ci, improvement_table, strategy_table
from pde_lib.sweep.grid import Cell, FineTune

torch.set_num_threads(1)


def _frame() -> pd.DataFrame:
    """Two strategies x two seeds x two PDEs; transfer is exactly 10% better than none."""
    rows = []
    for strategy, factor in (("none", 1.0), ("transfer", 0.9)):
        for seed in (0, 1):
            for pde, base in (("heat", 0.2), ("burgers", 0.4)):
                for n in (2, 4):
                    err = base * (1 + 0.1 * seed) / n * factor
                    rows.append({"model": "fno2d", "backbone": "fno2d", "strategy": strategy,
                                 "augmentation": "none", "pretrain_fraction": "1", "seed": seed,
                                 "task": "fixed_future", "distribution": "id", "pde": pde, "samples": n,
                                 "test_rel_l2": err, "valid_rel_l2": err, "best_epoch": 1,
                                 "cell_id": f"fno2d__{strategy}__none__s{seed}",
                                 "finetune_id": f"fixed_future__id__{pde}__n{n}"})
    return pd.DataFrame(rows, columns=COLUMNS)


def test_summarise_averages_within_seed_then_over_seeds():
    df = _frame()
    s = summarise(df, ["strategy", "pde"])
    row = s[(s.strategy == "none") & (s.pde == "heat")].iloc[0]
    # log scale: the geometric mean within each seed, then over seeds
    per_seed = [np.mean(np.log([0.2 * (1 + 0.1 * seed) / n for n in (2, 4)])) for seed in (0, 1)]
    assert row.n_seeds == 2
    assert row["mean"] == pytest.approx(np.exp(np.mean(per_seed)))
    assert row.points == pytest.approx(tuple(np.exp(per_seed)))
    assert row.ci_low <= row["mean"] <= row.ci_high


def test_paired_improvement_is_exact_for_a_constant_ratio():
    paired = paired_improvement(_frame())
    assert len(paired) == 8 and set(paired.strategy) == {"transfer"}
    assert np.allclose(paired.improvement_pct, 10.0)
    table = improvement_table(_frame(), columns="pde")
    assert table.loc["transfer", "heat"] == "+10.0% [+10.0, +10.0] *"  # no spread: survives Holm


def test_paired_improvement_along_augmentation():
    df = _frame()
    aug = df[df.strategy == "none"].assign(augmentation="shift", test_rel_l2=lambda d: d.test_rel_l2 * 0.8)
    paired = paired_improvement(pd.concat([df, aug]), factor="augmentation", baseline="none")
    assert len(paired) == 8 and set(paired.strategy) == {"none"}
    assert np.allclose(paired.improvement_pct, 20.0)


def test_paired_improvement_needs_matching_partner():
    df = _frame()
    df = df[~((df.strategy == "none") & (df.seed == 1))]
    assert set(paired_improvement(df).seed) == {0}


def test_tables_and_formatting():
    assert format_ci(0.12345, 0.1, 0.15) == "0.1235 [0.1, 0.15]"
    assert format_ci(float("nan"), 0, 0) == "-"
    t = strategy_table(_frame(), "heat")
    assert list(t.index[:2]) == ["none", "transfer"] and list(t.columns) == ["fno2d"]
    assert t.loc["baseline: copy last frame", "fno2d"] == "-"  # this table has no copy-last errors
    assert t.loc["baseline: zero prediction", "fno2d"] == "1 (no model)"
    assert "[" in t.loc["none", "fno2d"]
    assert ci_table(summarise(_frame(), ["strategy", "samples"]), "strategy", "samples").shape == (2, 2)
    assert len(select(_frame(), pde="heat", samples=[2])) == 4


def _write_cell(root, cell: Cell, fts, value):
    d = root / "cells" / cell.id
    d.mkdir(parents=True)
    (d / "cell.json").write_text(json.dumps(cell.to_dict()))
    for ft in fts:
        m = d / "finetune" / ft.id
        m.mkdir(parents=True)
        (m / "metrics.json").write_text(json.dumps(
            {"test_rel_l2": value(cell, ft), "valid_rel_l2": 0.5, "best_epoch": 1, "train_loss": [1.0]}))


def test_collect_results_from_disk_is_sorted_and_complete(tmp_path):
    fts = [FineTune("fixed_future", d, p, n) for d in ("ood", "id") for p in ("heat", "navier_stokes") for n in (4, 2)]
    cells = [Cell("unet", "unet", s, (), seed) for s in ("transfer", "none") for seed in (1, 0)]
    for c in cells:
        _write_cell(tmp_path, c, fts, lambda c, ft: 0.1 * ft.samples + c.seed)
    df = collect_results(tmp_path)
    assert len(df) == len(cells) * len(fts)
    assert list(df.columns) == COLUMNS
    assert not df.duplicated(["cell_id", "finetune_id"]).any()
    assert df.iloc[0][["strategy", "seed", "distribution", "pde", "samples"]].tolist() == ["none", 0, "id", "heat", 2]
    row = df[(df.cell_id == "unet__transfer__none__s1") & (df.finetune_id == "fixed_future__ood__heat__n4")]
    assert row.test_rel_l2.item() == pytest.approx(1.4)
    # round trip through results.csv, byte-identical on rewrite
    path = write_results(df, tmp_path / "results.csv")
    first = path.read_bytes()
    write_results(load_results(tmp_path), tmp_path / "results.csv")
    assert path.read_bytes() == first
