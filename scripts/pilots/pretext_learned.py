"""Pretrain every (backbone, strategy) cell of a study one at a time with the sweep's own
pretraining config (``sweep.cell._pretrain``: per-backbone settings from ``optim.models``) on a
given pretraining file, and check each held-out pretext figure (``report.pretext_check``).
Finished runs (``OUT/<cell id>/pretrain/PRETRAINED.json``) are skipped; an interrupted one
restarts. Each run's cost (wall and CPU seconds of this process, load averages) goes to
``OUT/<cell id>/cost.json``. Then ``OUT/runs.csv`` (one row per run) and ``OUT/curves.csv`` (one
row per run and epoch).

    python scripts/pilots/pretext_learned.py PARAMS.yaml PRETRAIN.h5 OUT [--models a,b] [--strategies s,t]
    python scripts/pilots/pretext_learned.py PARAMS.yaml PRETRAIN.h5 OUT --collect-only

PRETRAIN.h5 is the study's pretraining file (laptop: pretrain_id_p192-*.h5)."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import pandas as pd
import torch


def _cells(params, models, strategies):
    from pde_lib.sweep.grid import expand_grid

    cells = [c for c in expand_grid(params) if c.strategy != "none" and not c.augmentation]
    for label in models:  # backbone by backbone, so a partial run covers the first backbones fully
        for strategy in strategies:
            yield from (c for c in cells if c.model == label and c.strategy == strategy)


def run_one(cell, params, data: Path, out: Path) -> None:
    from pde_lib.sweep import cell as cell_mod
    from pde_lib.sweep.datasets import pretrain_file_samples
    from pde_lib.utils.atomic import write_json

    cell_dir = out / cell.id
    if (cell_dir / "pretrain" / cell_mod.PRETRAINED).exists():
        return
    paths = {f"pretrain_id_p{pretrain_file_samples(params, cell.fraction)}": data}
    load0, wall0, cpu0 = os.getloadavg(), time.perf_counter(), time.process_time()
    cell_mod._pretrain(cell, params, "cpu", paths, cell_dir, True, None)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    write_json(cell_dir / "cost.json", {"wall_s": wall, "cpu_s": cpu, "load_before": load0,
                                        "load_after": os.getloadavg(), "torch_threads": torch.get_num_threads()})
    print(f"{cell.id}: {wall:.0f} s wall, {cpu:.0f} s CPU", flush=True)


def collect(cells, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    from pde_lib.report.pretext_check import holdout_curve, pretext_summary

    rows, curves = [], []
    for cell in cells:
        path = out / cell.id / "pretrain" / "pretrain_metrics.json"
        if not path.exists():
            continue
        m = json.loads(path.read_text())
        cost = json.loads((out / cell.id / "cost.json").read_text()) if (out / cell.id / "cost.json").exists() else {}
        s = pretext_summary(m)
        rows.append({"strategy": cell.strategy, "backbone": cell.model, "epochs": s["epochs"], "steps": m["steps"],
                     "batch_size": m["params"]["batch_size"], "n_train": m["n_train"], "n_holdout": m["n_holdout"],
                     "metric": s["metric"], "value": s["value"], "reference": s["reference"],
                     "reference_is": m.get("holdout_reference_is") or "none defined", "skill": s["skill"],
                     "learned": s["learned"], "p_above_chance": s["p_above_chance"],
                     "above_chance": s["above_chance"], "settled_epoch": s["settled_epoch"],
                     "last_third_gain": s["last_third_gain"], "plateau": s["plateau"],
                     **{k: v for k, v in s.items() if k.startswith("loss_")},
                     "n_params_backbone": m["n_params_backbone"], "wall_s": cost.get("wall_s"),
                     "cpu_s": cost.get("cpu_s"),
                     "load_1min": None if not cost else round((cost["load_before"][0] + cost["load_after"][0]) / 2, 2)})
        c = holdout_curve(m)
        c.insert(0, "backbone", cell.model)
        c.insert(0, "strategy", cell.strategy)
        c["holdout_loss"] = m["holdout_loss"]
        c["train_loss"] = m["pretext_loss"]
        c["lr"] = m["lr"]
        curves.append(c)
    runs = pd.DataFrame(rows)
    curve = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    return runs, curve


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("params")
    ap.add_argument("data", help="the pretraining HDF5 file")
    ap.add_argument("out")
    ap.add_argument("--models", default=None, help="comma-separated grid.models labels, in run order (default: all)")
    ap.add_argument("--strategies", default=None, help="comma-separated strategies (default: the grid's)")
    ap.add_argument("--collect-only", action="store_true", help="write the tables from finished runs; run nothing")
    args = ap.parse_args()
    torch.set_num_threads(1)

    from pde_lib.params import load_params

    params = load_params(args.params)
    data, out = Path(args.data), Path(args.out)
    if not data.is_file():
        raise SystemExit(f"pretraining file {data} does not exist")
    models = args.models.split(",") if args.models else list(params.grid.models)
    strategies = args.strategies.split(",") if args.strategies else [s for s in params.grid.strategies if s != "none"]
    cells = list(_cells(params, models, strategies))
    if not args.collect_only:
        for cell in cells:
            run_one(cell, params, data, out)
            runs, curve = collect(cells, out)
            runs.to_csv(out / "runs.csv", index=False)
    runs, curve = collect(cells, out)
    out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(out / "runs.csv", index=False)
    curve.to_csv(out / "curves.csv", index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(runs.drop(columns=["reference_is", "n_train", "n_holdout", "batch_size", "steps", "n_params_backbone"],
                        errors="ignore"))


if __name__ == "__main__":
    main()
