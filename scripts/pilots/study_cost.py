"""Planned cost of the study v2 (docs/preregistration.md, section 9), from measured CPU times.

Per run kind, CPU seconds measured by the pilots (one torch thread on the shared 2-core machine,
so on the high side): a 500-epoch, 32-sample fine-tune per backbone
(``outputs/published/next_study_convergence/runs.csv`` and, for OFormer2D, the OFormer2D runs
given as an argument) and a pretraining epoch per backbone (``outputs/published/pretext_learned/
runs.csv``). A fine-tune's cost is modelled as c32 * (TRAIN_SHARE * n / 32 * (1 + ratio if
augmented) + (1 - TRAIN_SHARE) / 5) * area: its optimiser steps scale with the sample count, the
pilots validated every epoch (1 - TRAIN_SHARE of their time), the study every 5; Navier-Stokes at
64^2 costs 4x per sample. A pretraining costs its epochs x the cost per epoch x its fraction
(x 1.5 with augmentation). Wall time: CPU seconds / 2 workers. A planning estimate, not a
measurement of the study.

    python scripts/pilots/study_cost.py [OFORMER_RUNS.csv]"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import pandas as pd

from pde_lib.params import load_params
from pde_lib.params.run_settings import run_settings
from pde_lib.sweep import expand_grid, finetunes
from pde_lib.sweep.grid import NAVIER_STOKES

ROOT = Path(__file__).resolve().parents[2]
TRAIN_SHARE = 0.75
WIDTH_FACTOR = {8: 0.5, 16: 1.0, 32: 2.5}  # FNO2D CPU time against width 16 (small matmuls)


def unit_costs(oformer_csv: str | None) -> tuple[dict, dict]:
    ft = pd.read_csv(ROOT / "outputs/published/next_study_convergence/runs.csv")
    if oformer_csv:
        ft = pd.concat([ft, pd.read_csv(oformer_csv)])
    fine = ft.groupby("model")["cpu_time_s"].median().to_dict()
    pre = pd.read_csv(ROOT / "outputs/published/pretext_learned/runs.csv")
    per_epoch = (pre["cpu_s"] / pre["epochs"]).groupby(pre["backbone"]).median().to_dict()
    return fine, per_epoch


def main() -> None:
    fine, per_epoch = unit_costs(sys.argv[1] if len(sys.argv) > 1 else None)
    p = load_params(ROOT / "parameters" / "study.yaml")
    ratio = p.finetune.augmentation_ratio
    seeds = list(p.grid.seeds)
    rows = []
    for c in expand_grid(p):
        if c.seed != seeds[0]:
            continue
        width = WIDTH_FACTOR.get(c.model_kwargs.get("width", 16), 1.0) if c.backbone == "fno2d" else 1.0
        c32 = fine[c.backbone] * width
        aug = 1 + ratio if c.augmentation else 1.0
        ft_cost = 0.0
        for ft in finetunes(p, c):
            area = 4.0 if ft.pde == NAVIER_STOKES else 1.0
            ft_cost += c32 * (TRAIN_SHARE * ft.samples / 32 * aug + (1 - TRAIN_SHARE) / 5) * area
        pre_cost = 0.0
        if c.strategy != "none":
            epochs = run_settings(p, c.model, "pretrain")["epochs"]
            pre_cost = per_epoch[c.backbone] * width * epochs * float(Fraction(c.fraction)) * (aug if p.pretrain.augment else 1)
        rows.append({"model": c.model, "finetune_cpu_s": ft_cost, "pretrain_cpu_s": pre_cost, "finetunes": len(finetunes(p, c))})
    t = pd.DataFrame(rows).groupby("model").sum()
    t.loc["all"] = t.sum()
    per_seed = float(t.loc["all", ["finetune_cpu_s", "pretrain_cpu_s"]].sum())
    print(t.round(0).to_string())
    print(f"per seed: {per_seed:.0f} CPU s = {per_seed / 2 / 60:.0f} min of 2-core wall time; "
          f"{len(seeds)} seeds: {per_seed * len(seeds) / 2 / 3600:.1f} h")
    print("unit costs (CPU s): fine-tune 500 epochs, 32 samples:", {k: round(v, 1) for k, v in fine.items()},
          "; pretraining per epoch:", {k: round(v, 2) for k, v in per_epoch.items()})


if __name__ == "__main__":
    main()
