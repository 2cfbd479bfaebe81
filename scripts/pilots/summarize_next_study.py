"""Tables of the pilots that size the next study (issue 28 -> 29): one row per fine-tune and one
per (model label, PDE), from the run folders written by run_finetunes.py / neuralop_peer.py.

    python scripts/pilots/summarize_next_study.py OUT_DIR ROOT [ROOT ...]

Writes OUT_DIR/runs.csv (per run: test / valid error, best epoch, the convergence rule's
``best_fraction`` and ``converged``, the last-fifth gain, wall and CPU seconds, load average) and
OUT_DIR/summary.csv (per label and PDE: geometric mean test error over seeds, the per-seed
values, median best epoch / budget, runs converged, the rule's pass at share 0.9, median last-fifth
gain, median wall and CPU seconds, the load range). Also prints the summary.

*Last-fifth gain* of a run: 1 - min(valid, last 20% of epochs) / min(valid, first 80%), the
relative improvement of the best validation error over the last fifth of the budget (0 when the
run had stopped improving). It says how much a run that fails the rule was still gaining."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pde_lib.report.convergence import FRACTION, SHARE, with_convergence


def collect(roots: list[Path]) -> pd.DataFrame:
    rows = []
    for root in roots:
        for path in sorted(root.glob("*/*/metrics.json")):
            m = json.loads(path.read_text())
            p = m["params"]
            cost_path = path.parent / "cost.json"
            cost = json.loads(cost_path.read_text()) if cost_path.exists() else {}
            valid = np.asarray(m["valid_curve"], dtype=float)
            cut = int(round(FRACTION * p["epochs"]))
            gain = 1.0 - valid[cut:].min() / valid[:cut].min() if 0 < cut < len(valid) else np.nan
            rows.append({"run": f"{root.name}/{path.parent.parent.name}/{path.parent.name}",
                         "model": path.parent.parent.name.split("__")[0], "backbone": p["model"],
                         "model_kwargs": json.dumps(p.get("model_kwargs") or {}, sort_keys=True),
                         "pde": p["pde"], "samples": p["samples"], "seed": p["seed"],
                         "subset_draw": (m.get("train_subset") or {}).get("draw"),
                         "epoch_budget": p["epochs"], "batch_size": p["batch_size"], "lr": p["lr"],
                         "weight_decay": p["weight_decay"], "warmup_steps": p.get("warmup_steps", 0),
                         "clip_grad_norm": p.get("clip_grad_norm"), "n_params": m["n_params"],
                         "test_rel_l2": m["test_rel_l2"], "valid_rel_l2": m["valid_rel_l2"],
                         "test_copy_last_rel_l2": m["test_copy_last_rel_l2"], "best_epoch": m["best_epoch"],
                         "last_fifth_gain": max(gain, 0.0), "wall_time_s": m["wall_time_s"],
                         "cpu_time_s": cost.get("cpu_time_s"), "load_before": cost.get("load_before"),
                         "load_after": cost.get("load_after")})
    if not rows:
        sys.exit(f"no */*/metrics.json under {', '.join(map(str, roots))}")
    return with_convergence(pd.DataFrame(rows))


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (model, pde), g in runs.groupby(["model", "pde"], sort=False):
        g = g.sort_values("seed")
        loads = pd.concat([g["load_before"], g["load_after"]]).dropna()
        out.append({"model": model, "pde": pde, "n_runs": len(g), "n_params": int(g["n_params"].iloc[0]),
                    "test_geomean": float(np.exp(np.log(g["test_rel_l2"]).mean())),
                    "test_per_seed": " ".join(f"{v:.3f}" for v in g["test_rel_l2"]),
                    "seeds": " ".join(str(s) for s in g["seed"]),
                    "copy_last": float(g["test_copy_last_rel_l2"].iloc[0]),
                    "median_best_epoch": float(g["best_epoch"].median()), "epoch_budget": int(g["epoch_budget"].max()),
                    "best_epochs": " ".join(str(b) for b in g["best_epoch"]),
                    "n_converged": int(g["converged"].sum()),
                    "passes": bool(g["converged"].mean() >= SHARE),
                    "median_last_fifth_gain": float(g["last_fifth_gain"].median()),
                    "median_wall_s": float(g["wall_time_s"].median()),
                    "median_cpu_s": float(g["cpu_time_s"].median()) if g["cpu_time_s"].notna().any() else np.nan,
                    "load_min": float(loads.min()) if len(loads) else np.nan,
                    "load_max": float(loads.max()) if len(loads) else np.nan})
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("roots", nargs="+")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs = collect([Path(r) for r in args.roots])
    summary = summarize(runs)
    for name, df in (("runs.csv", runs), ("summary.csv", summary)):
        df.to_csv(out / (name + ".tmp"), index=False, float_format="%.6g")
        os.replace(out / (name + ".tmp"), out / name)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(summary.drop(columns=["seeds"]).to_string(index=False))


if __name__ == "__main__":
    main()
