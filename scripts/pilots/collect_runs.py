"""Collect the fine-tunes under a pilot folder into one CSV and a per-setting summary.

    python scripts/pilots/collect_runs.py RUNS_DIR OUT.csv [--summary SUMMARY.csv] [--by model,pde,samples]

One row per ``**/metrics.json``: the run's folder, model label (the folder above the run for
sweep-style cells), backbone, PDE, samples, seed, target frame, epochs, batch size, optimiser
settings, test / valid error, copy-last-frame error, best epoch and training wall time. The
summary groups rows by ``--by`` (+ target_frame) and gives the run count, the geometric and
arithmetic mean test error over seeds, the copy-last error, the median best epoch / budget and
the median wall time, and the convergence rule's count of runs whose best epoch lies before 80%
of the budget (``pde_lib.report.convergence``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd


def collect(root: Path) -> pd.DataFrame:
    rows = []
    for path in sorted(root.glob("**/metrics.json")):
        m = json.loads(path.read_text())
        p = m["params"]
        label = path.parent.parent.name.split("__")[0] if "__" in path.parent.parent.name else p["model"]
        rows.append({"run": str(path.parent.relative_to(root)), "model": label, "backbone": p["model"],
                     "pde": p["pde"], "samples": p["samples"], "seed": p["seed"], "target_frame": p["target_frame"],
                     "epochs": p["epochs"], "batch_size": p["batch_size"], "lr": p["lr"],
                     "warmup_steps": p.get("warmup_steps", 0), "clip_grad_norm": p.get("clip_grad_norm"),
                     "model_kwargs": json.dumps(p["model_kwargs"], sort_keys=True), "n_params": m["n_params"],
                     "test_rel_l2": m["test_rel_l2"], "valid_rel_l2": m["valid_rel_l2"],
                     "test_copy_last_rel_l2": m["test_copy_last_rel_l2"], "best_epoch": m["best_epoch"],
                     "wall_time_s": m["wall_time_s"]})
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    from pde_lib.report.convergence import with_convergence

    keys = by + ["target_frame"]
    df = with_convergence(df.assign(epoch_budget=df["epochs"], strategy="none"))
    out = df.groupby(keys, sort=True).agg(
        n_runs=("seed", "count"),
        geomean_test_rel_l2=("test_rel_l2", lambda v: float(np.exp(np.log(v).mean()))),
        mean_test_rel_l2=("test_rel_l2", "mean"), min_test_rel_l2=("test_rel_l2", "min"),
        max_test_rel_l2=("test_rel_l2", "max"), copy_last_rel_l2=("test_copy_last_rel_l2", "mean"),
        median_best_epoch=("best_epoch", "median"), epochs=("epochs", "first"),
        n_converged=("converged", "sum"),
        median_wall_time_s=("wall_time_s", "median"))
    return out.reset_index()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("out")
    ap.add_argument("--summary", default=None)
    ap.add_argument("--by", default="model,pde,samples")
    args = ap.parse_args()
    df = collect(Path(args.root))
    df.to_csv(args.out, index=False, float_format="%.6g")
    if args.summary:
        s = summarise(df, args.by.split(","))
        s.to_csv(args.summary, index=False, float_format="%.4g")
        print(s.to_string(index=False))


if __name__ == "__main__":
    main()
