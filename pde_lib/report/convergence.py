"""The convergence rule: did a fine-tune's budget let it finish learning? Applied identically to
every strategy and backbone, over a results table (``results.csv`` rows).

A run's *best-epoch fraction* is ``best_epoch / epoch_budget``: where in its budget the selected
(lowest-valid) state lies. A run **converged** when that fraction is below ``fraction`` (0.8):
its validation error stopped improving before the last fifth of the budget. A group of runs
(say every ``none`` fine-tune of one backbone) **passes** when at least ``share`` (0.9) of its
runs converged. A baseline that fails keeps improving at the end of its budget, so a gain of a
pretrained run over it may be a head start rather than a better optimum.

The budget comes from the table's ``epoch_budget`` column (recorded per run since it existed) or, for
tables written before, from ``budget``: one epoch count, or a mapping model label -> epochs."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from pde_lib.errors import DataError

#: defaults of the rule (module docstring)
FRACTION = 0.8
SHARE = 0.9
GROUP = ("model", "strategy")
CONVERGENCE_COLUMNS = ["n_runs", "n_converged", "share_converged", "median_best_fraction", "passes"]


def run_budget(df: pd.DataFrame, budget: int | Mapping[str, int] | None = None) -> pd.Series:
    """Each run's epoch budget: its ``epoch_budget`` value where recorded, else ``budget`` (an
    int, or model label -> epochs). DataError naming the rows' models when a budget is unknown."""
    col = "epoch_budget"
    epochs = pd.to_numeric(df[col], errors="coerce") if col in df else pd.Series(np.nan, index=df.index)
    if budget is not None:
        fill = df["model"].map(dict(budget)) if isinstance(budget, Mapping) else pd.Series(float(budget), index=df.index)
        epochs = epochs.fillna(pd.to_numeric(fill, errors="coerce"))
    missing = epochs.isna()
    if missing.any():
        models = sorted(df.loc[missing, "model"].astype(str).unique()) if "model" in df else []
        raise DataError(f"{int(missing.sum())} run(s) have no epoch budget (no 'epoch_budget' value) for model(s) "
                        f"{models}; pass budget= (the study's finetune.epochs, or per model)")
    if (epochs < 1).any():
        raise DataError(f"epoch budgets must be >= 1, got {sorted(epochs[epochs < 1].unique())}")
    return epochs


def best_epoch_fraction(df: pd.DataFrame, budget: int | Mapping[str, int] | None = None) -> pd.Series:
    """Per run: ``best_epoch / epoch_budget`` in (0, 1] (NaN where the run has no best epoch)."""
    epochs = run_budget(df, budget)
    best = pd.to_numeric(df["best_epoch"], errors="coerce")
    if ((best < 1) | (best > epochs)).any():
        bad = df.loc[(best < 1) | (best > epochs)]
        raise DataError(f"best_epoch outside 1..epochs in {len(bad)} run(s), e.g. best_epoch="
                        f"{bad['best_epoch'].iloc[0]} of {epochs[bad.index[0]]} epochs")
    return best / epochs


def with_convergence(df: pd.DataFrame, fraction: float = FRACTION,
                     budget: int | Mapping[str, int] | None = None) -> pd.DataFrame:
    """``df`` plus per-run columns ``epoch_budget``, ``best_fraction`` and ``converged``
    (``best_fraction < fraction``)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    out = df.copy()
    out["epoch_budget"] = run_budget(df, budget)
    out["best_fraction"] = best_epoch_fraction(df, budget)
    out["converged"] = out["best_fraction"] < fraction
    return out


def convergence_table(df: pd.DataFrame, by: Sequence[str] = GROUP, fraction: float = FRACTION,
                      share: float = SHARE, budget: int | Mapping[str, int] | None = None) -> pd.DataFrame:
    """One row per group ``by``: ``n_runs``, ``n_converged``, ``share_converged``,
    ``median_best_fraction`` and ``passes`` (``share_converged >= share``)."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    runs = with_convergence(df, fraction, budget)
    rows = []
    for key, g in runs.groupby(list(by), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        n, k = len(g), int(g["converged"].sum())
        rows.append({**dict(zip(by, key)), "n_runs": n, "n_converged": k, "share_converged": k / n,
                     "median_best_fraction": float(g["best_fraction"].median()), "passes": k / n >= share})
    return pd.DataFrame(rows, columns=list(by) + CONVERGENCE_COLUMNS)


def baseline_converges(df: pd.DataFrame, baseline: str = "none", by: Sequence[str] = ("model",),
                       fraction: float = FRACTION, share: float = SHARE,
                       budget: int | Mapping[str, int] | None = None) -> pd.DataFrame:
    """The rule on the ``baseline`` strategy's runs, per ``by`` (default: per backbone)."""
    runs = df[df["strategy"] == baseline]
    if runs.empty:
        raise DataError(f"no {baseline!r} runs in the table; the convergence rule is checked on the baseline")
    return convergence_table(runs, by=by, fraction=fraction, share=share, budget=budget)
