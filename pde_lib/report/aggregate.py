"""Statistics over a results table (``results.csv``: one row per fine-tune with every grid
coordinate, its errors and the copy-last-frame baseline's; ``COLUMNS`` defines it,
``pde_lib.sweep.results`` writes it): summaries over seeds (geometric mean and 95% Student-t interval,
see ``intervals``) and paired improvements over the ``none`` baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pde_lib.errors import DataError
from pde_lib.report.intervals import MIN_SEEDS, t_bounds, t_pvalue, to_log
from pde_lib.report.joinable import check_joinable

#: grid coordinates in sort order (results.csv is sorted by these, then by the ids)
COORDS = ["model", "backbone", "strategy", "augmentation", "pretrain_fraction", "seed", "task",
          "distribution", "pde", "samples"]
#: the metrics of a fine-tune's metrics.json that go into the table
#: ``epoch_budget`` is the run's configured epochs (so ``best_epoch / epoch_budget`` is where in it
#: the selected state lies: ``report.convergence``); NaN in tables written before it was recorded
METRICS = ["test_rel_l2", "valid_rel_l2", "best_epoch", "test_copy_last_rel_l2", "epoch_budget"]
COLUMNS = COORDS + METRICS + ["cell_id", "finetune_id"]
SUMMARY_COLUMNS = ["n_seeds", "mean", "ci_low", "ci_high", "points"]


def load_results(sweep_dir: str | Path) -> pd.DataFrame:
    """The results table ``sweep_dir/results.csv`` (or ``sweep_dir`` itself if it is a CSV file),
    as written by ``pde_lib.sweep.results``; DataError naming the file if it is missing."""
    p = Path(sweep_dir)
    csv = p if p.suffix == ".csv" else p / "results.csv"
    if not csv.exists():
        raise DataError(f"{csv}: no results table; `python -m pde_lib report {csv.parent}` writes it "
                        "from the fine-tunes on disk")
    df = pd.read_csv(csv, dtype={"pretrain_fraction": str, "augmentation": str})
    for col in METRICS:  # results written before a metric existed
        if col not in df:
            df[col] = np.nan
    return df


def dir_list(dirs) -> list:
    """Folders given as a list, or as one comma-separated string (what ``papermill -p`` passes)."""
    if isinstance(dirs, str):
        return [d.strip() for d in dirs.split(",") if d.strip()]
    return list(dirs)


def join_results(sweep_dir: str | Path, extra_dirs=()) -> pd.DataFrame:
    """The results table of ``sweep_dir`` joined with those of ``extra_dirs`` (runs of the same
    study's grid at other seeds, e.g. a published seed extension; a cell depends only on its own
    seed, so the tables stack). DataError naming both folders if a fine-tune (cell_id,
    finetune_id) is in two of them, or if two of them were trained differently
    (``joinable.check_joinable``: e.g. other fine-tuning epochs). ``extra_dirs`` may also be one
    comma-separated string (what ``papermill -p`` passes)."""
    dirs = [sweep_dir, *dir_list(extra_dirs)]
    check_joinable(dirs)
    tables = [load_results(d) for d in dirs]
    seen: dict[tuple[str, str], str] = {}
    for d, t in zip(dirs, tables):
        for key in zip(t["cell_id"], t["finetune_id"]):
            if key in seen:
                raise DataError(f"fine-tune {key[0]} / {key[1]} is in both {seen[key]} and {d}: "
                                "a joined table needs disjoint runs (e.g. other seeds)")
            seen[key] = str(d)
    return pd.concat(tables, ignore_index=True)


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
