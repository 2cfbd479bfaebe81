"""The held-out pretext figure of (backbone, strategy) pairs across successive pretraining budgets,
from the ``runs.csv`` of ``pretext_learned.py`` runs (one per budget, first budget first).

    python scripts/pilots/pretext_budget_compare.py OUT.csv RUNS_1x.csv RUNS_2x.csv [RUNS_4x.csv ...]
        [--labels 1x,2x,4x]

One row per pair present in the last file: per budget its epochs, value and skill, and, from the
second budget on, the change against the budget before (percent, relative), the skill gained
against the budget before (absolute: skill = 1 - loss / the reference's loss, so a gain of 0.01 is
1% of the trivial predictor's loss), the last-third gain and whether that run met the plateau rule
(``report.pretext_check``: under 2% over the last third of its epochs)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from pde_lib.utils.atomic import atomic_path


def compare(tables: list[pd.DataFrame], labels: list[str]) -> pd.DataFrame:
    keys = ["backbone", "strategy"]
    last = tables[-1][keys]
    out = last.copy()
    for i, (t, label) in enumerate(zip(tables, labels)):
        t = t.set_index(keys).reindex(pd.MultiIndex.from_frame(last))
        out[f"epochs_{label}"] = t["epochs"].to_numpy()
        out[f"value_{label}"] = t["value"].to_numpy()
        out[f"skill_{label}"] = t["skill"].to_numpy()
        if i:
            prev = out[f"value_{labels[i - 1]}"]
            out[f"change_{label}_pct"] = 100 * (out[f"value_{label}"] / prev - 1)
            out[f"skill_gain_{label}"] = out[f"skill_{label}"] - out[f"skill_{labels[i - 1]}"]
            out[f"last_third_gain_{label}"] = t["last_third_gain"].to_numpy()
            out[f"plateau_{label}"] = t["plateau"].to_numpy()
            out[f"cpu_s_{label}"] = t["cpu_s"].to_numpy()
    return out.reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--labels", default=None, help="comma-separated budget labels (default: 1x, 2x, 4x, ...)")
    args = ap.parse_args()
    labels = args.labels.split(",") if args.labels else [f"{2 ** i}x" for i in range(len(args.runs))]
    if len(labels) != len(args.runs):
        raise SystemExit(f"--labels gives {len(labels)} labels for {len(args.runs)} runs files")
    table = compare([pd.read_csv(p) for p in args.runs], labels)
    with atomic_path(Path(args.out)) as tmp:
        table.to_csv(tmp, index=False, float_format="%.4g")
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
