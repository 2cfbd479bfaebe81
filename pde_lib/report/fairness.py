"""Fairness checks of a study, from its results tables (``results.csv`` and ``curves.csv``,
written by ``pde_lib.sweep.results``):

- **plateau**: does the ``none`` baseline pass the plateau check (no longer improving at the end of its schedule; a longer schedule may still lower its error)? A fine-tune's improvement over
  the last ``share`` (20%) of its epochs is ``1 - best / best_before``, with ``best`` its lowest
  valid error over all epochs and ``best_before`` the lowest before the last 20% (what model
  selection gains from those epochs). The baseline plateaued where that is below ``threshold``
  (5%) for every seed, so that "pretraining helps" is not "more steps help";
- **copy-last-frame**: every (model, strategy, augmentation, PDE, distribution) whose test error
  (geometric mean over seeds and sample counts) is not below the copy-last-frame baseline's on the
  same test samples: a model that does not beat copying its input has learned nothing usable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pde_lib.report.folders import sweep_folder

#: ``curves.csv``: one row per (fine-tune, evaluated epoch)
CURVE_COLUMNS = ["cell_id", "finetune_id", "epoch", "valid_rel_l2"]
#: the share of the last epochs and the relative improvement below which a run has plateaued
PLATEAU_SHARE = 0.2
PLATEAU_THRESHOLD = 0.05
#: fewer evaluated epochs than this: no plateau verdict (the last 20% would be 0 or 1 epoch)
MIN_EPOCHS = 5

PLATEAU_COLUMNS = ["model", "augmentation", "distribution", "pde", "samples", "epochs", "n_runs",
                   "median_improvement", "max_improvement", "plateaued"]
COPY_LAST_COLUMNS = ["model", "strategy", "augmentation", "pde", "distribution", "n_runs", "test_rel_l2",
                     "copy_last_rel_l2", "ratio", "runs_not_below"]


def load_curves(sweep_dir: str | Path, extra_dirs=()) -> pd.DataFrame:
    """``curves.csv`` of a sweep folder (or of the folder holding a given results.csv), or the
    ``curves.csv.gz`` of a published one; an empty table when there is none (a sweep written
    before curves were collected). ``extra_dirs``: folders joined to it (their curves stacked)."""
    if extra_dirs:
        return pd.concat([load_curves(d) for d in [sweep_dir, *extra_dirs]], ignore_index=True)
    folder = sweep_folder(sweep_dir)
    for csv in (folder / "curves.csv", folder / "curves.csv.gz"):
        if csv.exists():
            return pd.read_csv(csv)
    return pd.DataFrame(columns=CURVE_COLUMNS)


def last_share_improvement(curve, share: float = PLATEAU_SHARE) -> float:
    """``1 - min(curve) / min(curve before its last share)``: the relative improvement of the
    best valid error in the last ``share`` of the epochs (0: none). NaN for curves shorter than
    ``MIN_EPOCHS``."""
    values = np.asarray([v for v in curve if v is not None and np.isfinite(v)], dtype=np.float64)
    if len(values) < MIN_EPOCHS:
        return float("nan")
    k = max(1, int(round(len(values) * share)))
    return float(1.0 - values.min() / values[:-k].min())


def curve_improvements(results: pd.DataFrame, curves: pd.DataFrame, share: float = PLATEAU_SHARE) -> pd.DataFrame:
    """``results`` (rows: fine-tunes) with ``epochs`` (evaluated epochs) and ``improvement``
    (``last_share_improvement`` of each run's valid curve; NaN without a curve)."""
    out = results.copy()
    if curves.empty:
        out["epochs"], out["improvement"] = 0, np.nan
        return out
    g = curves.sort_values("epoch").groupby(["cell_id", "finetune_id"], sort=False)["valid_rel_l2"]
    per_run = pd.DataFrame({"epochs": g.count(), "improvement": g.agg(lambda c: last_share_improvement(list(c), share))})
    out = out.merge(per_run.reset_index(), on=["cell_id", "finetune_id"], how="left")
    out["epochs"] = out["epochs"].fillna(0).astype(int)
    return out


def plateau_table(results: pd.DataFrame, curves: pd.DataFrame, strategy: str = "none",
                  share: float = PLATEAU_SHARE, threshold: float = PLATEAU_THRESHOLD) -> pd.DataFrame:
    """Per (model, augmentation, distribution, PDE, sample count) of ``strategy``'s fine-tunes:
    ``epochs``, ``n_runs`` (seeds), the median and largest improvement over the last ``share`` of
    epochs, and ``plateaued`` ("yes" if every run improved by less than ``threshold``, "no",
    or "n/a" for curves shorter than ``MIN_EPOCHS``). Columns ``PLATEAU_COLUMNS``."""
    runs = curve_improvements(results[results["strategy"].astype(str) == strategy], curves, share)
    if runs.empty:
        return pd.DataFrame(columns=PLATEAU_COLUMNS)
    by = ["model", "augmentation", "distribution", "pde", "samples"]
    g = runs.groupby(by, sort=True)
    out = g.agg(epochs=("epochs", "max"), n_runs=("cell_id", "count"),
                median_improvement=("improvement", "median"), max_improvement=("improvement", "max")).reset_index()
    has = g["improvement"].apply(lambda s: s.notna().all()).to_numpy()
    ok = out["max_improvement"].to_numpy() < threshold
    out["plateaued"] = np.where(~has, "n/a", np.where(ok, "yes", "no"))
    return out[PLATEAU_COLUMNS]


def plateau_verdict(table: pd.DataFrame, strategy: str = "none", share: float = PLATEAU_SHARE,
                    threshold: float = PLATEAU_THRESHOLD) -> str:
    """One paragraph: did ``strategy`` plateau everywhere, and where not."""
    rule = (f"valid error improved by less than {100 * threshold:.0f}% over the last "
            f"{100 * share:.0f}% of epochs, in every seed")
    if table.empty:
        return f"No `{strategy}` fine-tunes in this selection: no plateau check."
    judged = table[table["plateaued"] != "n/a"]
    if judged.empty:
        return (f"No plateau verdict for `{strategy}`: its fine-tunes have fewer than {MIN_EPOCHS} "
                f"evaluated epochs (rule: {rule}).")
    bad = judged[judged["plateaued"] == "no"]
    head = (f"`{strategy}` reached a plateau in {len(judged) - len(bad)} of {len(judged)} settings "
            f"(rule: {rule}).")
    caveat = (" This looks only at the last epochs of this schedule: a longer schedule (with its own "
              "learning-rate decay) can still lower the error, as the 240-epoch runs did for the 60-epoch "
              "baselines.")
    if bad.empty:
        return head + " Every baseline passes this check." + caveat
    worst = bad.sort_values("max_improvement", ascending=False).iloc[0]
    return (head + f" Not plateaued: {len(bad)} setting(s); the worst is {worst['model']} / {worst['pde']} / "
            f"{worst['distribution']} / n={worst['samples']}, whose best valid error still fell by "
            f"{100 * worst['max_improvement']:.1f}% in the last {100 * share:.0f}% of epochs, so "
            "improvements over it there may partly be more training." + caveat)


def not_below_copy_last(results: pd.DataFrame, distribution: str | None = "id") -> pd.DataFrame:
    """Every (model, strategy, augmentation, PDE, distribution) whose test error, as a geometric
    mean over its seeds and sample counts, is not below the copy-last-frame baseline's on the same
    test samples (``ratio`` >= 1). ``distribution`` None: all distributions. ``runs_not_below``
    counts the single fine-tunes at or above copy-last. Columns ``COPY_LAST_COLUMNS``, worst first."""
    df = results if distribution is None else results[results["distribution"] == distribution]
    df = df.dropna(subset=["test_rel_l2", "test_copy_last_rel_l2"])
    if df.empty:
        return pd.DataFrame(columns=COPY_LAST_COLUMNS)
    df = df.assign(_log=np.log(df["test_rel_l2"]), _log_copy=np.log(df["test_copy_last_rel_l2"]),
                   _not_below=(df["test_rel_l2"] >= df["test_copy_last_rel_l2"]).astype(int))
    by = ["model", "strategy", "augmentation", "pde", "distribution"]
    out = df.groupby(by, sort=True).agg(n_runs=("cell_id", "count"), test_rel_l2=("_log", "mean"),
                                        copy_last_rel_l2=("_log_copy", "mean"),
                                        runs_not_below=("_not_below", "sum")).reset_index()
    out["test_rel_l2"] = np.exp(out["test_rel_l2"])
    out["copy_last_rel_l2"] = np.exp(out["copy_last_rel_l2"])
    out["ratio"] = out["test_rel_l2"] / out["copy_last_rel_l2"]
    out = out[out["ratio"] >= 1].sort_values(["ratio"] + by, ascending=[False] + [True] * len(by), kind="mergesort")
    return out.reset_index(drop=True)[COPY_LAST_COLUMNS]


def copy_last_verdict(results: pd.DataFrame, table: pd.DataFrame, distribution: str | None = "id") -> str:
    """One sentence: how many settings (and single fine-tunes) do not beat copy-last-frame."""
    df = results if distribution is None else results[results["distribution"] == distribution]
    by = ["model", "strategy", "augmentation", "pde", "distribution"]
    n = len(df.groupby(by)) if len(df) else 0
    where = "in distribution" if distribution == "id" else (f"on {distribution} data" if distribution else "")
    runs = int((df["test_rel_l2"] >= df["test_copy_last_rel_l2"]).sum()) if len(df) else 0
    if table.empty:
        return (f"Every one of {n} settings {where} beats copy-last-frame (geometric mean over seeds and "
                f"sample counts); {runs} of {len(df)} single fine-tunes do not.").replace("  ", " ")
    return (f"{len(table)} of {n} settings {where} do NOT beat copy-last-frame (listed below, worst first); "
            f"{runs} of {len(df)} single fine-tunes do not.").replace("  ", " ")
