"""Tables of the pilots that size the next study (issue 28 -> 29): one row per fine-tune and one
per (model label, PDE), from the run folders written by run_finetunes.py / neuralop_peer.py.

    python scripts/pilots/summarize_next_study.py OUT_DIR ROOT [ROOT ...] [--pair BASE,OTHER ...] [--models a,b]
        [--published PUBLISHED/runs.csv ...]

Writes OUT_DIR/runs.csv (per run: test / valid error, best epoch, the convergence rule's
``best_fraction`` and ``converged``, the last-fifth gain, wall and CPU seconds, load average) and
OUT_DIR/summary.csv (per label and PDE: geometric mean test error over seeds, the per-seed
values, median best epoch / budget, runs converged, the rule's pass at share 0.9, median last-fifth
gain, median wall and CPU seconds, the load range, the sd over seeds of the log test error and
the seed count ``report.precision`` gives for telling a 10% effect at that spread, taking an
unpaired comparison's log-ratio sd as sqrt(2) x the single-run sd). With ``--pair``,
OUT_DIR/pair.csv: per PDE the per-seed log ratios log(err_OTHER / err_BASE) over the seeds both
ran (same seed = same data draw), the mean improvement, their sd and the seed count for 10%.
Also prints the tables.

*Last-fifth gain* of a run: 1 - min(valid, last 20% of epochs) / min(valid, first 80%), the
relative improvement of the best validation error over the last fifth of the budget (0 when the
run had stopped improving). It says how much a run that fails the rule was still gaining."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pde_lib.report.convergence import FRACTION, SHARE, with_convergence
from pde_lib.report.precision import seeds_needed, target_half_width
from pde_lib.utils.atomic import atomic_path


def cell_augmentation(cell_id: str) -> str:
    """The augmentation label of a cell id (MODEL__STRATEGY__AUG__sSEED...)."""
    return cell_id.split("__")[2]


def run_label(cell_id: str, params: dict) -> str:
    """The row's label: the cell's model label, with ``+AUG`` for an augmented cell and
    ``@rRATIO`` where its augmentation ratio is not the default 0.5."""
    model, aug = cell_id.split("__")[0], cell_augmentation(cell_id)
    if aug == "none":
        return model
    ratio = params.get("augmentation_ratio", 0.5)
    return f"{model}+{aug}" + ("" if ratio == 0.5 else f"@r{ratio:g}")


def collect(roots: list[Path]) -> pd.DataFrame:
    rows = []
    for root in roots:
        for path in sorted(root.glob("*/*/metrics.json")):
            m = json.loads(path.read_text())
            p = m["params"]
            cost_path = path.parent / "cost.json"
            cost = json.loads(cost_path.read_text()) if cost_path.exists() else {}
            valid = np.asarray(m["valid_curve"], dtype=float)
            cut = int(round(FRACTION * len(valid)))
            # epochs without a validation (eval_every > 1) are null in the curve: NaN, skipped
            gain = 1.0 - np.nanmin(valid[cut:]) / np.nanmin(valid[:cut]) if 0 < cut < len(valid) else np.nan
            rows.append({"run": f"{root.name}/{path.parent.parent.name}/{path.parent.name}",
                         "model": run_label(path.parent.parent.name, p), "backbone": p["model"],
                         "augmentation": cell_augmentation(path.parent.parent.name),
                         "augmentation_ratio": p.get("augmentation_ratio"),
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
        log_sd = float(np.log(g["test_rel_l2"]).std(ddof=1)) if len(g) > 1 else np.nan
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
                    "load_max": float(loads.max()) if len(loads) else np.nan,
                    "log_sd": log_sd,
                    "seeds_10pct_unpaired": float(seeds_needed(np.sqrt(2) * log_sd, target_half_width())[0])})
    return pd.DataFrame(out)


def pair_table(runs: pd.DataFrame, base: str, other: str) -> pd.DataFrame:
    """Per PDE: the per-seed log ratios log(err_other / err_base) on the seeds both ran."""
    out = []
    for pde, g in runs.groupby("pde", sort=False):
        a = g[g["model"] == base].set_index("seed")["test_rel_l2"]
        b = g[g["model"] == other].set_index("seed")["test_rel_l2"]
        seeds = sorted(set(a.index) & set(b.index))
        if not seeds:
            continue
        r = np.log(b[seeds].to_numpy() / a[seeds].to_numpy())
        sd = float(r.std(ddof=1)) if len(r) > 1 else np.nan
        out.append({"pde": pde, "base": base, "other": other, "seeds": " ".join(map(str, seeds)),
                    "log_ratio_per_seed": " ".join(f"{v:+.3f}" for v in r),
                    "improvement_pct": 100 * (1 - float(np.exp(r.mean()))), "log_ratio_sd": sd,
                    "seeds_10pct": float(seeds_needed(sd, target_half_width())[0])})
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("roots", nargs="+")
    ap.add_argument("--pair", action="append", default=[],
                    help="BASE,OTHER: model labels compared seed by seed (repeatable)")
    ap.add_argument("--models", default=None, help="comma-separated model labels to keep (default: all)")
    ap.add_argument("--published", action="append", default=[],
                    help="a published runs.csv of this script whose rows join the collected runs (repeatable; "
                         "e.g. the baselines a peer is compared with); --models filters them too")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs = collect([Path(r) for r in args.roots])
    if args.published:
        # the convergence rule again over all rows: a runs.csv of run_finetunes.py lacks its columns
        runs = with_convergence(pd.concat([*(pd.read_csv(p) for p in args.published), runs], ignore_index=True))
    if args.models:
        runs = runs[runs["model"].isin(args.models.split(","))].reset_index(drop=True)
    summary = summarize(runs)
    tables = [("runs.csv", runs), ("summary.csv", summary)]
    if args.pair:
        tables.append(("pair.csv", pd.concat([pair_table(runs, *pair.split(",")) for pair in args.pair],
                                             ignore_index=True)))
    for name, df in tables:
        with atomic_path(out / name) as tmp:
            df.to_csv(tmp, index=False, float_format="%.6g")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        for name, df in tables[1:]:
            print(df.to_string(index=False))


if __name__ == "__main__":
    main()
