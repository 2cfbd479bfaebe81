"""The manipulation check of pretraining: was each strategy's pretext task learned, and had its
held-out figure stopped improving by the end of the pretraining budget?

Input: a pretraining run's ``pretrain_metrics.json`` (``pretraining.loop``), whose history holds
the held-out pretext figure per epoch: ``holdout_accuracy`` (classification strategies; chance
``chance_accuracy``, best ``max_accuracy``) or ``holdout_loss`` with ``holdout_trivial_loss``,
the loss of the strategy's input-blind predictor (regression strategies; PICL has none).

Rules, the same for every strategy and backbone:

- **learned**: the last epoch's skill is above 0, i.e. the held-out figure beats its reference
  (accuracy above chance, loss below the input-blind predictor's). No reference (PICL): None.
- **above chance** (classification only): the held-out accuracy over ``n`` scored problems is
  above chance by a one-sided exact binomial test at ``ALPHA`` (5%). A held-out set of 29
  samples moves the accuracy in steps of 1/29, so skill > 0 alone may be one lucky sample.
- **held-out loss** (classification): the cross-entropy the run records next to the accuracy,
  against ln(classes), the loss of the uniform guess; a finer figure than the accuracy on few
  held-out samples (it moves before the accuracy does). ``loss_*`` columns apply the rules above
  to it (regression: the same as the figure).
- **settled epoch**: the first epoch from which the figure stays within ``REL_TOL`` (5%,
  relative) of its final value (accuracies: within ``ACC_TOL`` = 0.02 absolute).
- **plateau**: over the last third of the epochs (the last ``ceil(E / 3)``), the figure improved
  by less than ``PLATEAU_REL`` (2%, relative to its value where that third starts; accuracies:
  less than ``ACC_TOL`` absolute). A figure that got worse over it counts as a plateau too."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from pde_lib.errors import DataError

#: defaults of the rules (module docstring)
REL_TOL = 0.05
ACC_TOL = 0.02
PLATEAU_REL = 0.02
ALPHA = 0.05
HOLDOUT_CURVE_COLUMNS = ["epoch", "metric", "value", "reference", "skill"]


def holdout_curve(metrics: dict) -> pd.DataFrame:
    """Per epoch (1-based): ``metric`` ("accuracy" or "loss"), held-out ``value``, its
    ``reference`` (chance, or the input-blind predictor's loss; NaN where none is defined) and
    ``skill`` ((acc - chance) / (max acc - chance), or 1 - loss / reference; NaN without a
    reference). DataError naming the missing key when the metrics hold no held-out history."""
    if metrics.get("classification"):
        values = metrics.get("holdout_accuracy")
        if not values:
            raise DataError("pretrain metrics: classification run without 'holdout_accuracy' per epoch")
        chance, best = float(metrics["chance_accuracy"]), float(metrics["max_accuracy"])
        v = np.array([np.nan if x is None else x for x in values], dtype=float)
        ref = np.full_like(v, chance)
        skill = (v - chance) / (best - chance) if best > chance else np.full_like(v, np.nan)
        metric = "accuracy"
    else:
        values = metrics.get("holdout_loss")
        if not values:
            raise DataError("pretrain metrics: no 'holdout_loss' per epoch (no held-out samples?)")
        v = np.array([np.nan if x is None else x for x in values], dtype=float)
        trivial = metrics.get("holdout_trivial_loss")
        ref = (np.array([np.nan if x is None else x for x in trivial], dtype=float) if trivial
               else np.full_like(v, np.nan))
        with np.errstate(divide="ignore", invalid="ignore"):
            skill = 1.0 - v / ref
        metric = "loss"
    return pd.DataFrame({"epoch": np.arange(1, len(v) + 1), "metric": metric, "value": v,
                         "reference": ref, "skill": skill})[HOLDOUT_CURVE_COLUMNS]


def _check(values: Sequence[float], metric: str) -> np.ndarray:
    if metric not in ("accuracy", "loss"):
        raise ValueError(f"metric must be 'accuracy' or 'loss', got {metric!r}")
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or len(v) == 0 or not np.isfinite(v).all():
        raise DataError(f"a held-out curve must be a non-empty 1-D sequence of finite values, got {values!r}")
    return v


def _close(v: np.ndarray, final: float, metric: str, rel_tol: float, acc_tol: float) -> np.ndarray:
    if metric == "accuracy":
        return np.abs(v - final) <= acc_tol
    return np.abs(v - final) <= rel_tol * abs(final)


def settled_epoch(values: Sequence[float], metric: str, rel_tol: float = REL_TOL, acc_tol: float = ACC_TOL) -> int:
    """The first epoch (1-based) from which every later value lies within ``rel_tol`` of the
    final value (relative; accuracies: ``acc_tol`` absolute)."""
    v = _check(values, metric)
    close = _close(v, v[-1], metric, rel_tol, acc_tol)
    outside = np.flatnonzero(~close)
    return 1 if len(outside) == 0 else int(outside[-1]) + 2


def last_third_gain(values: Sequence[float], metric: str) -> float:
    """The improvement over the last ``ceil(E / 3)`` epochs: accuracy gained (absolute), or the
    loss's relative decrease (value where the last third starts - final) / |that value|. Negative
    when the figure got worse. A single epoch: NaN (nothing to compare)."""
    v = _check(values, metric)
    if len(v) < 2:
        return math.nan
    start = v[len(v) - 1 - math.ceil(len(v) / 3)] if len(v) > 2 else v[0]
    if metric == "accuracy":
        return float(v[-1] - start)
    return float((start - v[-1]) / abs(start)) if start != 0 else math.nan


def plateaued(values: Sequence[float], metric: str, rel: float = PLATEAU_REL, acc_tol: float = ACC_TOL) -> bool:
    """Whether the figure improved by less than ``rel`` (relative; accuracies: ``acc_tol``
    absolute) over the last third of the epochs (``last_third_gain``)."""
    gain = last_third_gain(values, metric)
    if math.isnan(gain):
        return False
    return gain < (acc_tol if metric == "accuracy" else rel)


def learned(skill: float | None) -> bool | None:
    """Whether the pretext task was learned: skill above 0 (the held-out figure beats its
    reference). None when the strategy has no reference (PICL) or the skill is missing."""
    if skill is None or not math.isfinite(skill):
        return None
    return bool(skill > 0)


def above_chance_p(accuracy: float, chance: float, n: int) -> float:
    """One-sided exact binomial p-value of ``round(accuracy * n)`` correct answers out of ``n``
    when each is right with probability ``chance``."""
    from scipy.stats import binomtest

    if n < 1 or not 0 < chance < 1:
        raise ValueError(f"need n >= 1 and 0 < chance < 1, got n={n}, chance={chance}")
    return float(binomtest(int(round(accuracy * n)), n, chance, alternative="greater").pvalue)


def pretext_summary(metrics: dict, alpha: float = ALPHA) -> dict:
    """One run's check: ``metric``, ``epochs``, final ``value``, ``reference``, ``skill``,
    ``settled_epoch``, ``last_third_gain``, ``plateau``, ``learned`` (None without a reference),
    and for classification runs ``p_above_chance`` and ``above_chance`` (p < ``alpha``; over the
    ``n_holdout`` held-out samples, each scored once per epoch; None for regression), and the
    ``loss_*`` figures: ``loss_value``, ``loss_reference``, ``loss_skill``,
    ``loss_settled_epoch``, ``loss_last_third_gain``, ``loss_plateau`` (module docstring)."""
    c = holdout_curve(metrics)
    metric = str(c["metric"].iloc[0])
    values = c["value"].to_numpy()
    ref, skill = float(c["reference"].iloc[-1]), float(c["skill"].iloc[-1])
    p = {"p_above_chance": None, "above_chance": None}
    if metric == "accuracy" and metrics.get("n_holdout"):
        p["p_above_chance"] = above_chance_p(float(values[-1]), ref, int(metrics["n_holdout"]))
        p["above_chance"] = p["p_above_chance"] < alpha
    loss = _loss_check(metrics) if metric == "accuracy" else {
        "loss_value": float(values[-1]), "loss_reference": ref if math.isfinite(ref) else None,
        "loss_skill": skill if math.isfinite(skill) else None, "loss_settled_epoch": settled_epoch(values, metric),
        "loss_last_third_gain": last_third_gain(values, metric), "loss_plateau": plateaued(values, metric)}
    return {**_figure(metric, c, values, ref, skill, p), **loss}


def _loss_check(metrics: dict) -> dict:
    losses = [x for x in metrics.get("holdout_loss") or [] if x is not None]
    if not losses:
        return {"loss_value": None, "loss_reference": None, "loss_skill": None, "loss_settled_epoch": None,
                "loss_last_third_gain": None, "loss_plateau": None}
    uniform = math.log(1.0 / float(metrics["chance_accuracy"]))
    return {"loss_value": float(losses[-1]), "loss_reference": uniform, "loss_skill": 1.0 - losses[-1] / uniform,
            "loss_settled_epoch": settled_epoch(losses, "loss"), "loss_last_third_gain": last_third_gain(losses, "loss"),
            "loss_plateau": plateaued(losses, "loss")}


def _figure(metric: str, c: pd.DataFrame, values: np.ndarray, ref: float, skill: float, p: dict) -> dict:
    return {"metric": metric, "epochs": len(c), "value": float(values[-1]),
            "reference": ref if math.isfinite(ref) else None,
            "skill": skill if math.isfinite(skill) else None,
            "settled_epoch": settled_epoch(values, metric), "last_third_gain": last_third_gain(values, metric),
            "plateau": plateaued(values, metric), "learned": learned(skill), **p}
