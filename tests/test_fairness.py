"""Fairness checks of the reports (``pde_lib.report.fairness``): the ``none`` baseline's
plateau and the settings that do not beat copy-last-frame; ``curves.csv`` collected from a
sweep's fine-tunes (``pde_lib.sweep.results``)."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from pde_lib.report.aggregate import COLUMNS
from pde_lib.report.fairness import (CURVE_COLUMNS, copy_last_verdict, curve_improvements, last_share_improvement,
                                     load_curves, not_below_copy_last, plateau_table, plateau_verdict)
from pde_lib.sweep.grid import Cell, FineTune
from pde_lib.sweep.results import collect_curves, refresh_results


def test_last_share_improvement():
    flat = [1.0, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]
    assert last_share_improvement(flat) == 0.0
    falling = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]  # last 2 epochs: 0.3 -> 0.1
    assert last_share_improvement(falling) == pytest.approx(1 - 0.1 / 0.3)
    # a noisy last epoch does not count as progress: the best so far is what selection keeps
    assert last_share_improvement([1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.7]) == 0.0
    assert last_share_improvement([None, 1.0, None, 0.5, 0.5, 0.5, 0.5]) == 0.0  # unevaluated epochs skipped
    assert math.isnan(last_share_improvement([1.0, 0.5]))  # too short to judge


def _results(rows):
    base = {c: None for c in COLUMNS}
    out = []
    for r in rows:
        row = dict(base, backbone="fno2d", augmentation="none", pretrain_fraction="1", task="fixed_future",
                   valid_rel_l2=0.1, best_epoch=1)
        row.update(r)
        row["cell_id"] = f"{row['model']}__{row['strategy']}__{row['augmentation']}__s{row['seed']}"
        row["finetune_id"] = f"fixed_future__{row['distribution']}__{row['pde']}__n{row['samples']}"
        out.append(row)
    return pd.DataFrame(out, columns=COLUMNS)


def _curves(results, make):
    rows = []
    for _, r in results.iterrows():
        for epoch, v in enumerate(make(r), 1):
            rows.append((r["cell_id"], r["finetune_id"], epoch, v))
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


def test_plateau_table_and_verdict():
    res = _results([dict(model="fno2d", strategy=s, seed=seed, distribution="id", pde=pde, samples=10,
                         test_rel_l2=0.1, test_copy_last_rel_l2=0.2)
                    for s in ("none", "transfer") for seed in (0, 1, 2) for pde in ("heat", "burgers")])
    # heat plateaus in every seed; burgers still falls by 20% in the last 20% for seed 2
    def make(r):
        if r["pde"] == "burgers" and r["seed"] == 2:
            return [1.0] * 8 + [0.9, 0.8]
        return [1.0] * 5 + [0.5] * 5
    curves = _curves(res, make)
    table = plateau_table(res, curves)
    assert list(table["pde"]) == ["burgers", "heat"] and list(table["n_runs"]) == [3, 3]
    assert list(table["plateaued"]) == ["no", "yes"] and list(table["epochs"]) == [10, 10]
    assert table.loc[0, "max_improvement"] == pytest.approx(0.2) and table.loc[0, "median_improvement"] == 0.0
    text = plateau_verdict(table)
    assert "1 of 2 settings" in text and "fno2d / burgers / id / n=10" in text and "20.0%" in text
    assert "Every baseline" in plateau_verdict(table[table["pde"] == "heat"])
    # curves too short: no verdict
    short = plateau_table(res, _curves(res, lambda r: [1.0]))
    assert set(short["plateaued"]) == {"n/a"} and "fewer than 5" in plateau_verdict(short)
    # no curves at all (a sweep written before curves.csv): n/a, not an error
    assert set(plateau_table(res, pd.DataFrame(columns=CURVE_COLUMNS))["plateaued"]) == {"n/a"}
    assert "no plateau check" in plateau_verdict(plateau_table(res[res.strategy == "transfer"], curves))
    runs = curve_improvements(res, curves)
    assert len(runs) == len(res) and (runs["epochs"] == 10).all()
    from pde_lib.report.plots import valid_curves
    fig = valid_curves(res, curves)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 3  # burgers (id): 3 seeds of one (model, n)
    assert len(valid_curves(res, curves.iloc[:0]).axes) == 1  # no curves: one panel saying so


def test_not_below_copy_last():
    rows = []
    for seed, (good, bad) in enumerate([(0.1, 0.3), (0.1, 0.15), (0.1, 0.24)]):
        rows += [dict(model="fno2d", strategy="none", seed=seed, distribution="id", pde="heat", samples=10,
                      test_rel_l2=good, test_copy_last_rel_l2=0.2),
                 dict(model="unet", strategy="binary", seed=seed, distribution="id", pde="heat", samples=10,
                      test_rel_l2=bad, test_copy_last_rel_l2=0.2),
                 dict(model="unet", strategy="binary", seed=seed, distribution="ood", pde="heat", samples=10,
                      test_rel_l2=0.9, test_copy_last_rel_l2=0.2)]
    res = _results(rows)
    table = not_below_copy_last(res)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["model"], row["strategy"], row["distribution"]) == ("unet", "binary", "id")
    gm = float(np.exp(np.mean(np.log([0.3, 0.15, 0.24]))))
    assert row["test_rel_l2"] == pytest.approx(gm) and row["ratio"] == pytest.approx(gm / 0.2)
    assert row["runs_not_below"] == 2 and row["n_runs"] == 3
    assert len(not_below_copy_last(res, distribution=None)) == 2
    text = copy_last_verdict(res, table)
    assert "1 of 2 settings in distribution do NOT beat" in text and "2 of 6 single fine-tunes" in text
    ok = res[res.strategy == "none"]
    assert "Every one of 1 settings" in copy_last_verdict(ok, not_below_copy_last(ok))


def test_curves_collected_from_a_sweep_folder(tmp_path):
    cell = Cell("fno2d", "fno2d", "none", (), 0)
    for ft, curve in ((FineTune("fixed_future", "id", "heat", 4), [0.5, None, 0.25]),
                      (FineTune("fixed_future", "id", "advection", 4), [0.125])):
        d = tmp_path / "cells" / cell.id / "finetune" / ft.id
        d.mkdir(parents=True)
        (d / "metrics.json").write_text(json.dumps({"test_rel_l2": 0.2, "valid_curve": curve}))
    (tmp_path / "cells" / cell.id / "cell.json").write_text(json.dumps(cell.to_dict()))
    curves = collect_curves(tmp_path)
    assert list(curves.columns) == CURVE_COLUMNS
    assert curves["finetune_id"].tolist() == ["fixed_future__id__advection__n4"] + ["fixed_future__id__heat__n4"] * 2
    assert curves["epoch"].tolist() == [1, 1, 3] and curves["valid_rel_l2"].tolist() == [0.125, 0.5, 0.25]
    refresh_results(tmp_path)
    first = (tmp_path / "curves.csv").read_bytes()
    pd.testing.assert_frame_equal(load_curves(tmp_path), curves)
    pd.testing.assert_frame_equal(load_curves(tmp_path / "results.csv"), curves)
    refresh_results(tmp_path)
    assert (tmp_path / "curves.csv").read_bytes() == first
    assert load_curves(tmp_path / "nowhere").empty
