"""Results aggregation: fine-tune ``metrics.json`` files on disk -> one tidy table
(``results.csv``: one row per fine-tune with every grid coordinate), then summaries over seeds
(mean and 95% bootstrap CI) and paired improvements over the ``none`` baseline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from pde_lib.report.bootstrap import bootstrap_ci

#: grid coordinates in sort order (results.csv is sorted by these, then by the ids)
COORDS = ["model", "backbone", "strategy", "augmentation", "pretrain_fraction", "seed", "task",
          "distribution", "pde", "samples"]
METRICS = ["test_rel_l2", "valid_rel_l2", "best_epoch"]
COLUMNS = COORDS + METRICS + ["cell_id", "finetune_id"]


def collect_results(sweep_dir: str | Path) -> pd.DataFrame:
    """Every finished fine-tune under ``sweep_dir/cells/*/finetune/*/metrics.json`` as a sorted
    tidy table (cells without ``cell.json`` are ignored)."""
    from pde_lib.sweep.cell import finetune_row
    from pde_lib.sweep.grid import Cell, FineTune

    rows = []
    for cell_json in sorted(Path(sweep_dir).glob("cells/*/cell.json")):
        cell = Cell.from_dict(json.loads(cell_json.read_text()))
        for metrics_path in sorted(cell_json.parent.glob("finetune/*/metrics.json")):
            ft = FineTune.from_id(metrics_path.parent.name)
            rows.append(finetune_row(cell, ft, json.loads(metrics_path.read_text())))
    return sort_results(pd.DataFrame(rows, columns=COLUMNS))


def sort_results(df: pd.DataFrame) -> pd.DataFrame:
    """Deterministic order: by every coordinate, then ids; index reset."""
    df = df.copy()
    df["seed"] = df["seed"].astype("int64")
    df["samples"] = df["samples"].astype("int64")
    df["pretrain_fraction"] = df["pretrain_fraction"].astype(str)
    return df.sort_values(COORDS + ["cell_id", "finetune_id"], kind="mergesort").reset_index(drop=True)[COLUMNS]


def write_results(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``results.csv`` atomically (floats with full precision: reproducible bytes)."""
    from pde_lib.utils.atomic import write_text

    write_text(path, sort_results(df).to_csv(index=False, float_format="%.17g"))
    return Path(path)


def load_results(sweep_dir: str | Path) -> pd.DataFrame:
    """``sweep_dir/results.csv`` if present (or ``sweep_dir`` itself if it is a CSV file), else
    collected from the metrics on disk."""
    p = Path(sweep_dir)
    csv = p if p.suffix == ".csv" else p / "results.csv"
    if csv.exists():
        return pd.read_csv(csv, dtype={"pretrain_fraction": str, "augmentation": str})
    return collect_results(p)


def summarise(df: pd.DataFrame, by: list[str], value: str = "test_rel_l2", ci: float = 0.95,
              n_boot: int = 10_000, seed: int = 0) -> pd.DataFrame:
    """Mean and bootstrap CI over seeds for each group of ``by``. Within a seed, rows that differ in
    coordinates not in ``by`` are averaged first, so each seed counts once.
    Columns: by..., n_seeds, mean, ci_low, ci_high."""
    per_seed = df.groupby(by + ["seed"], sort=True, dropna=False)[value].mean().reset_index()
    out = []
    for key, g in per_seed.groupby(by, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        mean, lo, hi = bootstrap_ci(g[value].to_numpy(), n_boot=n_boot, ci=ci, seed=seed)
        out.append({**dict(zip(by, key)), "n_seeds": int(g[value].notna().sum()), "mean": mean,
                    "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(out, columns=by + ["n_seeds", "mean", "ci_low", "ci_high"])


def pair_keys(factor: str) -> list[str]:
    """Coordinates a run shares with its baseline partner when comparing along ``factor``."""
    keys = ["model", "strategy", "augmentation", "pretrain_fraction", "seed", "task", "distribution",
            "pde", "samples"]
    if factor == "strategy":  # strategy none is pretrained on nothing, so has fraction "1" only
        keys.remove("pretrain_fraction")
    return [k for k in keys if k != factor]


def paired_improvement(df: pd.DataFrame, baseline: str = "none", value: str = "test_rel_l2",
                       factor: str = "strategy") -> pd.DataFrame:
    """Each row whose ``factor`` is not ``baseline`` joined with its baseline partner (same
    ``pair_keys(factor)``: same seed and fine-tune coordinates); adds ``baseline_<value>`` and
    ``improvement_pct`` = 100 (baseline - value) / baseline (positive = lower error than the
    baseline). Rows without a partner are dropped."""
    keys = pair_keys(factor)
    base = df[df[factor].astype(str) == baseline][keys + [value]].rename(columns={value: f"baseline_{value}"})
    other = df[df[factor].astype(str) != baseline]
    merged = other.merge(base, on=keys, how="inner", validate="many_to_one")
    b = merged[f"baseline_{value}"].to_numpy(dtype=np.float64)
    merged["improvement_pct"] = 100.0 * (b - merged[value].to_numpy(dtype=np.float64)) / b
    return merged


def improvement_summary(df: pd.DataFrame, by: list[str], baseline: str = "none",
                        value: str = "test_rel_l2", factor: str = "strategy", **kw) -> pd.DataFrame:
    """Mean paired improvement over ``baseline`` (%) with a bootstrap CI over seeds, per ``by``."""
    paired = paired_improvement(df, baseline, value, factor)
    if paired.empty:
        return pd.DataFrame(columns=by + ["n_seeds", "mean", "ci_low", "ci_high"])
    return summarise(paired, by, value="improvement_pct", **kw)


def select(df: pd.DataFrame, **filters) -> pd.DataFrame:
    """Rows whose columns equal the given values (a list means "any of"; None means no filter)."""
    mask = np.ones(len(df), dtype=bool)
    for col, v in filters.items():
        if v is None:
            continue
        values = v if isinstance(v, (list, tuple)) else [v]
        mask &= df[col].astype(str).isin([str(x) for x in values]).to_numpy()
    return df[mask]
