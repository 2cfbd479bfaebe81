"""Report tables: "mean [low, high]" strings pivoted for reading, and per-cell summaries."""

from __future__ import annotations

import math

import pandas as pd

from pde_lib.report.aggregate import improvement_summary, summarise

CELL_SUMMARY_COLUMNS = ["task", "distribution", "pde", "samples", "test_rel_l2", "valid_rel_l2", "best_epoch"]


def format_ci(mean: float, low: float, high: float, digits: int = 4, pct: bool = False) -> str:
    """"0.123 [0.110, 0.135]" (or "+12.3% [+4.0, +20.1]" with ``pct``); "-" when missing."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    if pct:
        return f"{mean:+.1f}% [{low:+.1f}, {high:+.1f}]"
    return f"{mean:.{digits}g} [{low:.{digits}g}, {high:.{digits}g}]"


def ci_table(summary: pd.DataFrame, index: str | list[str], columns: str | list[str],
             pct: bool = False, digits: int = 4) -> pd.DataFrame:
    """Pivot a ``summarise`` output into a table of "mean [low, high]" strings."""
    s = summary.copy()
    s["cell"] = [format_ci(m, lo, hi, digits, pct) for m, lo, hi in zip(s["mean"], s["ci_low"], s["ci_high"])]
    table = s.pivot_table(index=index, columns=columns, values="cell", aggfunc="first", sort=True)
    table.columns.name = table.columns.name if isinstance(columns, str) else None
    return table.fillna("-")


def strategy_table(df: pd.DataFrame, pde: str, value: str = "test_rel_l2") -> pd.DataFrame:
    """Strategy (rows) x model (columns) for one PDE: mean [95% CI] over seeds (other
    coordinates averaged within each seed)."""
    sub = df[df["pde"] == pde]
    return ci_table(summarise(sub, ["strategy", "model"], value), "strategy", "model")


def improvement_table(df: pd.DataFrame, columns: str = "model", baseline: str = "none",
                      factor: str = "strategy") -> pd.DataFrame:
    """Paired improvement over ``baseline`` (%) with 95% CI, ``factor`` x ``columns``."""
    s = improvement_summary(df, [factor, columns], baseline, factor=factor)
    if s.empty:
        return pd.DataFrame()
    return ci_table(s, factor, columns, pct=True)


def mean_table(summary: pd.DataFrame, index: str, columns: str) -> pd.DataFrame:
    """Pivot of the ``mean`` column of a ``summarise`` output (numbers, for heatmaps)."""
    return summary.pivot_table(index=index, columns=columns, values="mean", aggfunc="first", sort=True)


def sweep_overview(df: pd.DataFrame) -> str:
    """What a results table holds: fine-tune count and the values of every coordinate."""
    lines = [f"{len(df)} fine-tunes from {df['cell_id'].nunique()} cells"]
    for col in ["model", "strategy", "augmentation", "pretrain_fraction", "seed", "task", "distribution",
                "pde", "samples"]:
        values = sorted(df[col].unique().tolist(), key=lambda v: (str(type(v)), v))
        lines.append(f"  {col}: {', '.join(map(str, values))}")
    return "\n".join(lines)


def cell_summary(rows: list[dict]) -> pd.DataFrame:
    """One row per fine-tune of a cell (the table the experiment notebook shows)."""
    return pd.DataFrame(rows)[CELL_SUMMARY_COLUMNS]


def counts(df: pd.DataFrame) -> pd.DataFrame:
    """How many fine-tunes there are per coordinate value (a quick completeness check)."""
    out = []
    for col in ["model", "strategy", "augmentation", "pretrain_fraction", "seed", "task", "distribution",
                "pde", "samples"]:
        for v, n in df[col].value_counts(sort=False).sort_index().items():
            out.append({"coordinate": col, "value": str(v), "fine_tunes": int(n)})
    return pd.DataFrame(out)


def dataset_summary(name: str, ds) -> str:
    """A deterministic text summary of a loaded dataset: samples per PDE, the range of each
    non-zero coefficient, and u's min / max (4 significant digits)."""
    import numpy as np

    from pde_lib.pdes import COEFFICIENT_KEYS

    lines = [f"{name}: {len(ds)} samples, u {tuple(ds.u.shape[1:])} (T, N, N)"]
    pdes = np.asarray(ds.pde)
    coeffs = ds.coeffs.numpy()
    u = ds.u.numpy()
    for pde in sorted(set(pdes.tolist())):
        m = pdes == pde
        ranges = [f"{k} in [{coeffs[m, i].min():.4g}, {coeffs[m, i].max():.4g}]"
                  for i, k in enumerate(COEFFICIENT_KEYS) if np.any(coeffs[m, i] != 0)]
        ranges += [f"{k} in [{v.numpy()[m].min():.4g}, {v.numpy()[m].max():.4g}]"
                   for k, v in sorted(ds.extra.items())]
        lines.append(f"  {pde}: {int(m.sum())} samples; {'; '.join(ranges)}; "
                     f"u in [{u[m].min():.4g}, {u[m].max():.4g}]")
    return "\n".join(lines)
