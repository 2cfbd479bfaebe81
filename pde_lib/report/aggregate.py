"""Results aggregation: fine-tune ``metrics.json`` files on disk -> one tidy table
(``results.csv``: one row per fine-tune with every grid coordinate, its errors and the
copy-last-frame baseline's), then summaries over seeds (geometric mean and 95% Student-t interval,
see ``intervals``) and paired improvements over the ``none`` baseline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from pde_lib.report.intervals import MIN_SEEDS, t_bounds, t_pvalue, to_log

#: grid coordinates in sort order (results.csv is sorted by these, then by the ids)
COORDS = ["model", "backbone", "strategy", "augmentation", "pretrain_fraction", "seed", "task",
          "distribution", "pde", "samples"]
METRICS = ["test_rel_l2", "valid_rel_l2", "best_epoch", "test_copy_last_rel_l2"]
COLUMNS = COORDS + METRICS + ["cell_id", "finetune_id"]
SUMMARY_COLUMNS = ["n_seeds", "mean", "ci_low", "ci_high", "points"]


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
        df = pd.read_csv(csv, dtype={"pretrain_fraction": str, "augmentation": str})
        for col in METRICS:  # results written before a metric existed
            if col not in df:
                df[col] = np.nan
        return df
    return collect_results(p)


def _over_seeds(df: pd.DataFrame, by: list[str], y: np.ndarray, ci: float, min_seeds: int) -> pd.DataFrame:
    """Per group of ``by``: ``y`` averaged within each seed, then n_seeds, centre (mean over
    seeds), sd, t bounds (``intervals.t_bounds``) and the per-seed values (``points``, by seed)."""
    tmp = df[by + ["seed"]].assign(_y=np.asarray(y, dtype=np.float64))
    per_seed = tmp.groupby(by + ["seed"], sort=True, dropna=False)["_y"].mean().dropna().reset_index()
    g = per_seed.groupby(by, sort=True, dropna=False)["_y"]
    out = g.agg(n_seeds="count", centre="mean", sd="std").reset_index()
    out["points"] = g.agg(tuple).to_numpy() if len(out) else []
    out["lo"], out["hi"] = t_bounds(out["centre"], out["sd"].fillna(0.0), out["n_seeds"], ci, min_seeds)
    out["n_seeds"] = out["n_seeds"].astype(int)
    return out


def summarise(df: pd.DataFrame, by: list[str], value: str = "test_rel_l2", ci: float = 0.95,
              log: bool = True, min_seeds: int = MIN_SEEDS) -> pd.DataFrame:
    """Centre and ``ci`` Student-t interval over seeds for each group of ``by``. Within a seed,
    rows that differ in coordinates not in ``by`` are averaged first, so each seed counts once.
    ``log=True`` (errors): everything on log(value), so ``mean`` is the geometric mean over
    seeds and the interval is multiplicative (see ``intervals``); ``log=False``: arithmetic.
    Fewer than ``min_seeds`` seeds: NaN bounds; ``points`` always holds the per-seed values.
    Columns: by..., n_seeds, mean, ci_low, ci_high, points."""
    y = to_log(df[value], value) if log else df[value].to_numpy(dtype=np.float64)
    s = _over_seeds(df, by, y, ci, min_seeds)
    back = np.exp if log else (lambda v: np.asarray(v, dtype=np.float64))
    out = s[by].copy()
    out["n_seeds"] = s["n_seeds"]
    out["mean"], out["ci_low"], out["ci_high"] = back(s["centre"]), back(s["lo"]), back(s["hi"])
    out["points"] = [tuple(float(v) for v in back(np.asarray(p))) for p in s["points"]]
    return out[by + SUMMARY_COLUMNS].reset_index(drop=True)


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
    baseline) and ``log_ratio`` = log(value / baseline). Rows without a partner are dropped."""
    keys = pair_keys(factor)
    base = df[df[factor].astype(str) == baseline][keys + [value]].rename(columns={value: f"baseline_{value}"})
    other = df[df[factor].astype(str) != baseline]
    merged = other.merge(base, on=keys, how="inner", validate="many_to_one")
    b = merged[f"baseline_{value}"].to_numpy(dtype=np.float64)
    merged["improvement_pct"] = 100.0 * (b - merged[value].to_numpy(dtype=np.float64)) / b
    merged["log_ratio"] = to_log(merged[value], value) - to_log(b, f"baseline_{value}")
    return merged


def improvement_summary(df: pd.DataFrame, by: list[str], baseline: str = "none",
                        value: str = "test_rel_l2", factor: str = "strategy", ci: float = 0.95,
                        min_seeds: int = MIN_SEEDS) -> pd.DataFrame:
    """Paired improvement over ``baseline`` (%) per group of ``by``, from the per-seed mean log
    ratio r = mean log(value / baseline value): ``mean`` = 100 (1 - exp(r)) over seeds, its
    ``ci`` Student-t interval, ``points`` (per seed) and ``p_value`` (two-sided t test of r = 0;
    NaN below ``min_seeds``). Columns: by..., n_seeds, mean, ci_low, ci_high, points, p_value."""
    cols = by + SUMMARY_COLUMNS + ["p_value"]
    paired = paired_improvement(df, baseline, value, factor)
    if paired.empty:
        return pd.DataFrame(columns=cols)
    s = _over_seeds(paired, by, paired["log_ratio"].to_numpy(), ci, min_seeds)
    out = s[by].copy()
    out["n_seeds"] = s["n_seeds"]
    pct = lambda v: 100.0 * (1.0 - np.exp(np.asarray(v, dtype=np.float64)))  # noqa: E731
    out["mean"], out["ci_low"], out["ci_high"] = pct(s["centre"]), pct(s["hi"]), pct(s["lo"])
    out["points"] = [tuple(float(v) for v in pct(p)) for p in s["points"]]
    out["p_value"] = t_pvalue(s["centre"], s["sd"].fillna(0.0), s["n_seeds"], min_seeds)
    return out[cols].reset_index(drop=True)


def select(df: pd.DataFrame, **filters) -> pd.DataFrame:
    """Rows whose columns equal the given values (a list means "any of"; None means no filter)."""
    mask = np.ones(len(df), dtype=bool)
    for col, v in filters.items():
        if v is None:
            continue
        values = v if isinstance(v, (list, tuple)) else [v]
        mask &= df[col].astype(str).isin([str(x) for x in values]).to_numpy()
    return df[mask]
