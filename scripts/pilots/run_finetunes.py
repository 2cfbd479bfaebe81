"""Run the fine-tunes of a study's cells one at a time on given ID data files, with the sweep's
own fine-tune configs (``sweep.cell._finetune_config``: per-backbone settings from
``optim.models``), without generating the study's other data (pretraining, OOD, Navier-Stokes).
Only for ``none`` cells (nothing to pretrain). Each run writes OUT/<cell id>/<fine-tune id>/
metrics.json and cost.json (the process's CPU seconds over the run, and the 1-minute load average
before and after it); finished runs are skipped. Then OUT/runs.csv: one row per run.

    python scripts/pilots/run_finetunes.py PARAMS.yaml DATA_DIR OUT [--models a,b] [--seeds 0,1] [--pdes burgers]
        [--augmentations none,shift]

DATA_DIR holds train_id.h5, valid_id.h5 and test_id.h5 (heat + advection + Burgers, laptop sizes)."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import pandas as pd
import torch


def run_and_record(cfg, run_dir: Path) -> tuple[dict, dict]:
    """Run the fine-tune ``cfg`` unless ``run_dir/metrics.json`` exists, recording its cost
    (``cost.json``: the process's CPU seconds over the run, wall seconds, the 1-minute load average
    before and after; written atomically); return (metrics, cost) as stored."""
    from pde_lib.training import run_training
    from pde_lib.utils.atomic import write_json

    metrics_path = run_dir / "metrics.json"
    if not metrics_path.exists():
        load_before, cpu0, wall0 = os.getloadavg()[0], time.process_time(), time.perf_counter()
        run_training(cfg)
        cost = {"cpu_time_s": time.process_time() - cpu0, "wall_total_s": time.perf_counter() - wall0,
                "load_before": load_before, "load_after": os.getloadavg()[0]}
        write_json(run_dir / "cost.json", cost)
    cost_path = run_dir / "cost.json"
    return json.loads(metrics_path.read_text()), (json.loads(cost_path.read_text()) if cost_path.exists() else {})


def run_row(model: str, backbone: str, cell, ft, m: dict, cost: dict) -> dict:
    """One ``runs.csv`` row of a fine-tune (``m``: its metrics.json, ``cost``: its cost.json)."""
    p = m["params"]
    return {"model": model, "backbone": backbone, "augmentation": cell.augmentation_label,
            "augmentation_ratio": p.get("augmentation_ratio"), "pde": ft.pde, "samples": ft.samples,
            "seed": cell.seed, "epochs": p["epochs"], "epoch_budget": p["epochs"], "batch_size": p["batch_size"],
            "n_train_augmented": m.get("n_train_augmented", ft.samples),
            "steps": p["epochs"] * -(-m.get("n_train_augmented", ft.samples) // p["batch_size"]),
            "test_rel_l2": m["test_rel_l2"], "valid_rel_l2": m["valid_rel_l2"], "best_epoch": m["best_epoch"],
            "test_copy_last_rel_l2": m["test_copy_last_rel_l2"], "n_params": m["n_params"],
            "wall_time_s": m["wall_time_s"], "cpu_time_s": cost.get("cpu_time_s"),
            "load_before": cost.get("load_before"), "load_after": cost.get("load_after")}


def report(label: str, ft, m: dict, rows: list[dict], out: Path) -> None:
    """Print the run's line and rewrite ``out/runs.csv`` with ``rows`` (atomically)."""
    from pde_lib.utils.atomic import atomic_path

    print(f"{label} {ft.id}: test {m['test_rel_l2']:.4f} (copy-last {m['test_copy_last_rel_l2']:.4f}), "
          f"best epoch {m['best_epoch']}/{m['params']['epochs']}, {m['wall_time_s']:.0f} s", flush=True)
    with atomic_path(out / "runs.csv") as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("params")
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--models", default=None, help="comma-separated grid.models labels (default: all)")
    ap.add_argument("--seeds", default=None, help="comma-separated seeds (default: all)")
    ap.add_argument("--pdes", default=None, help="comma-separated PDEs to fine-tune on (default: the grid's)")
    ap.add_argument("--augmentations", default=None,
                    help="comma-separated augmentation labels of the cells to run (e.g. none,shift; default: all)")
    args = ap.parse_args()
    torch.set_num_threads(1)

    from pde_lib.params import load_params
    from pde_lib.sweep import cell as cell_mod
    from pde_lib.sweep.grid import expand_grid, finetunes

    params = load_params(args.params)
    data = Path(args.data)
    paths = {f"{split}_id": data / f"{split}_id.h5" for split in ("train", "valid", "test")}
    models = args.models.split(",") if args.models else list(params.grid.models)
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    pdes = args.pdes.split(",") if args.pdes else None
    augmentations = args.augmentations.split(",") if args.augmentations else None
    out = Path(args.out)
    rows = []
    for label in models:  # backbone by backbone, so a partial run still compares within one
        for cell in expand_grid(params):
            if cell.model != label or cell.strategy != "none" or (seeds is not None and cell.seed not in seeds):
                continue
            if augmentations is not None and cell.augmentation_label not in augmentations:
                continue
            for ft in finetunes(params, cell):
                if pdes is not None and ft.pde not in pdes:
                    continue
                run_dir = out / cell.id / ft.id
                cfg = cell_mod._finetune_config(cell, ft, params, "cpu", paths, None, run_dir, False)
                cfg.resume = False
                m, cost = run_and_record(cfg, run_dir)
                rows.append(run_row(cell.model, cell.backbone, cell, ft, m, cost))
                report(cell.id, ft, m, rows, out)


if __name__ == "__main__":
    main()
