"""The manipulation check of a study: was each strategy's pretext task learned on each backbone?

Input: a study's ``pretext.csv`` (``pde_lib.sweep.results.collect_pretext``: one row per
pretraining run, with its held-out ``holdout_skill``: 0 = no better than the task's reference
(chance, the best input-blind predictor, the zero field), 1 = perfect). Per backbone and
strategy, over seeds: the mean skill with its 95% Student-t interval, and the label

- ``learned``: the interval lies above 0 (the pretext task beats its reference on held-out data);
- ``not learned``: it does not (the interval reaches 0 or below);
- ``not checkable``: the strategy has no reference (``picl``), or fewer than 2 seeds have a skill.

A strategy that is not learned on a backbone was not tested there: its "no 10% effect" or "hurts"
against ``none`` says nothing about the strategy (docs/preregistration.md, section 6)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pde_lib.report.aggregate import summarise

LEARNED, NOT_LEARNED, NOT_CHECKABLE = "learned", "not learned", "not checkable"
CHECK_COLUMNS = ["model", "strategy", "metric", "n_seeds", "skill", "ci_low", "ci_high", "pretext"]


def manipulation_check(pretext: pd.DataFrame, by: tuple[str, ...] = ("model", "strategy")) -> pd.DataFrame:
    """Per group of ``by`` (default backbone label and strategy) of a ``pretext.csv`` table of
    runs without augmentation at the full pretraining set: n_seeds (runs with a skill), mean skill,
    its 95% t interval (``aggregate.summarise`` on the arithmetic scale) and the ``pretext`` label
    (module docstring). Columns ``CHECK_COLUMNS``."""
    by = list(by)
    rows = pretext
    if "augmentation" in rows:
        rows = rows[rows["augmentation"].fillna("none").astype(str) == "none"]
    if "pretrain_fraction" in rows:
        rows = rows[rows["pretrain_fraction"].astype(str) == "1"]
    rows = rows.assign(holdout_skill=pd.to_numeric(rows["holdout_skill"], errors="coerce"))
    groups = rows.groupby(by, sort=True)
    out = groups["holdout_metric"].first().reset_index().rename(columns={"holdout_metric": "metric"})
    stats = summarise(rows, by, value="holdout_skill", log=False).rename(columns={"mean": "skill"})
    out = out.merge(stats.drop(columns="points"), on=by, how="left")
    out["n_seeds"] = out["n_seeds"].fillna(0).astype(int)
    out["pretext"] = [NOT_CHECKABLE if not np.isfinite(lo) else LEARNED if lo > 0 else NOT_LEARNED
                      for lo in out["ci_low"].astype(float)]
    return out[by + CHECK_COLUMNS[2:]].reset_index(drop=True)


def label_rows(table: pd.DataFrame, check: pd.DataFrame) -> pd.DataFrame:
    """``table`` (rows with ``model`` and ``strategy``, e.g. a claim family) with the ``pretext``
    label of its strategy on its backbone added; ``none`` (nothing pretrained) reads "-", a
    strategy without a pretraining record ``not checkable``."""
    labels = {(str(m), str(s)): lab for m, s, lab in zip(check["model"], check["strategy"], check["pretext"])}
    out = table.copy()
    out["pretext"] = ["-" if s == "none" else labels.get((str(m), str(s)), NOT_CHECKABLE)
                      for m, s in zip(out["model"], out["strategy"])]
    return out
