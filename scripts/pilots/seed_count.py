"""The seed count of the study v2 from the measured spread (docs/preregistration.md, section 5).

For every strategy x backbone comparison of the published laptop evidence (32 samples, in
distribution, heat and Burgers pooled, no augmentation), the per-seed pooled log ratio
r = mean over PDEs of log(err / err_none), its sd over seeds, and from it
(``pde_lib.report.precision``) the seeds an interval needs to tell a 10% effect from none
(half-width <= log(1/0.9)/2), as a point estimate and from the 80% upper bound of the sd.
Also the half-width each candidate seed count would give at the median sd.

    python scripts/pilots/seed_count.py OUT_DIR      (writes OUT_DIR/spread.csv, OUT_DIR/by_seeds.csv)"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pde_lib.report.precision import half_width, seeds_needed, spread_upper_bound, target_half_width

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE = {"60 epochs": ["laptop", "laptop_seeds_3_4", "laptop_seeds_5_9"],
            "240 epochs": ["laptop_long_finetune", "laptop_long_finetune_ext"]}
CANDIDATES = (5, 6, 7, 8, 10, 12)


def spread(folders: list[str]) -> pd.DataFrame:
    df = pd.concat([pd.read_csv(ROOT / "outputs" / "published" / f / "results.csv") for f in folders])
    df = df[(df.augmentation == "none") & (df.distribution == "id") & (df.samples == 32)
            & df.pde.isin(["heat", "burgers"]) & (df.task == "fixed_future")]
    df = df.drop_duplicates(["model", "strategy", "seed", "pde"])
    base = df[df.strategy == "none"].set_index(["model", "seed", "pde"]).test_rel_l2
    rows = []
    for (model, strategy), g in df[df.strategy != "none"].groupby(["model", "strategy"]):
        g = g.set_index(["model", "seed", "pde"])
        r = np.log(g.test_rel_l2 / base.reindex(g.index)).dropna()
        both = r.groupby(level="seed").size() == 2
        pooled = r.groupby(level="seed").mean()[both]
        sd, n = float(pooled.std(ddof=1)), len(pooled)
        rows.append({"model": model, "strategy": strategy, "n_seeds": n, "sd_log_ratio": sd,
                     "seeds_needed": float(seeds_needed(sd, target_half_width())[0]),
                     "seeds_needed_80pct_bound": float(seeds_needed(spread_upper_bound(sd, n), target_half_width())[0])})
    return pd.DataFrame(rows)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tables = [spread(f).assign(evidence=name) for name, f in EVIDENCE.items()]
    table = pd.concat(tables, ignore_index=True)[["evidence", "model", "strategy", "n_seeds", "sd_log_ratio",
                                                   "seeds_needed", "seeds_needed_80pct_bound"]]
    table.to_csv(out / "spread.csv", index=False, float_format="%.4g")
    rows = []
    for (ev, model), g in table.groupby(["evidence", "model"]):
        sd = float(g.sd_log_ratio.median())
        row = {"evidence": ev, "model": model, "comparisons": len(g), "median_sd": sd,
               "median_seeds_needed": float(g.seeds_needed.median())}
        row.update({f"half_width_at_{m}": float(half_width(sd, m)) for m in CANDIDATES})
        row.update({f"decidable_at_{m}": int((half_width(g.sd_log_ratio.to_numpy(), m) <= target_half_width()).sum())
                    for m in CANDIDATES})
        rows.append(row)
    by = pd.DataFrame(rows)
    by.to_csv(out / "by_seeds.csv", index=False, float_format="%.4g")
    print(f"target half-width {target_half_width():.4f}")
    print(by.to_string(index=False))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "outputs/published/seed_count"))
