"""The paper's four claims, each answered by one family of paired comparisons over a results
table (``results.csv``), with the rule that turns a comparison into a verdict stated in code.

Every comparison is a paired improvement over a baseline (``aggregate.improvement_summary``):
per seed the mean log ratio r = log(err / err_baseline) over the fine-tunes it pools (PDEs),
then mean over seeds with a 95% Student-t interval, shown as 100 (1 - exp(r)) %; each table is
one family, Holm-corrected at 5% (``multiple.mark_holm``). ``effect`` names what a row shows:

the verdict labels and their one rule are ``verdicts.verdict``: ``helps`` / ``hurts`` (survives
Holm in its family), ``no 10% effect`` (95% interval inside +-10%), ``direction clear, not after
Holm`` (interval excludes 0, does not survive Holm), ``too wide to tell`` (otherwise).

Pooled rows average the PDEs they are given: pass ``learned.learned_rows(results)`` to leave out
PDEs no backbone learned (the findings page and README block do).

The claims (the paper's wording, ``CLAIMS``) and the tables that answer them:

1. ``scarcity_family``: ``scarcity_table`` (each pretraining strategy vs ``none`` at each
   fine-tune sample count) and ``scarcity_trend`` (whether the gain at the smallest count
   exceeds the gain at the largest: per seed, the difference of the two pooled log ratios; t
   interval over seeds) Holm-corrected as ONE family, every test of the claim;
2. ``strategies_table``: every strategy vs ``none`` per backbone;
3. ``augmentation_table``: every augmentation vs no augmentation, per pretraining strategy, and
   ``augmentation_control_table``: every augmentation vs the step-matched control ``copy``
   (unchanged copies at the same ratio: the same steps without the transform);
4. ``shift_table``: each strategy vs ``none`` in distribution, out of distribution and on the
   unseen PDE (Navier-Stokes).

Per-PDE results (``per_pde_table``) are their own family, stated with them: every strategy x
backbone x PDE in distribution at one sample count."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pde_lib.report.aggregate import improvement_summary, paired_improvement, select
from pde_lib.report.multiple import mark_holm
from pde_lib.report.trend import joint_family, level_trend
from pde_lib.report.verdicts import RESOLUTION_PCT, TREND_WORDS, verdict

#: the paper's claims, numbered as in the README's Findings
CLAIMS = {1: "pretraining improves fine-tuning, most when fine-tune data are scarce",
          2: "transfer learning and physics-based strategies do best",
          3: "augmentations improve pretraining and fine-tuning",
          4: "pretrained models gain under distribution shift and on an unseen PDE"}
PHYSICS_BASED = ("picl", "derivative", "coefficient")
PRETEXT = ("binary", "time_sort", "space_sort", "jigsaw", "masked")
TRAJECTORY_PDES = ("heat", "advection", "burgers")
#: the augmentation that adds unchanged copies: the step-matched control of claim 3
STEP_CONTROL = "copy"
FAMILY_COLUMNS = ["n_seeds", "mean", "ci_low", "ci_high", "points", "p_value", "p_holm", "holm_reject", "effect"]


def effect(mean: float, low: float, high: float, reject: bool, resolution: float = RESOLUTION_PCT) -> str:
    """The verdict label of one comparison: ``verdicts.verdict`` (the one rule)."""
    return verdict(float(mean), float(low), float(high), bool(reject), resolution)


def family(df: pd.DataFrame, by: list[str], factor: str = "strategy", baseline: str = "none") -> pd.DataFrame:
    """``improvement_summary`` of ``df`` per group of ``by``, Holm-marked as one family, with
    the ``effect`` of each row; ``attrs`` hold the family size and survivors."""
    s = improvement_summary(df, by, baseline, factor=factor)
    if s.empty:
        return pd.DataFrame(columns=by + FAMILY_COLUMNS)
    out = mark_holm(s)
    out["effect"] = [effect(m, lo, hi, bool(r)) for m, lo, hi, r
                     in zip(out["mean"], out["ci_low"], out["ci_high"], out["holm_reject"])]
    return out


def _id_rows(results: pd.DataFrame, **filters) -> pd.DataFrame:
    return select(results, distribution="id", pde=list(TRAJECTORY_PDES), **filters)


def scarcity_table(results: pd.DataFrame, model: str = "fno2d", augmentation: str = "none") -> pd.DataFrame:
    """Claim 1: each strategy vs ``none`` at each sample count (``model``, in distribution,
    heat / advection / Burgers pooled), for the strategies run at two or more counts."""
    rows = _id_rows(results, model=model, augmentation=augmentation)
    counts = rows.groupby("strategy")["samples"].nunique()
    rows = rows[rows["strategy"].isin(counts[counts >= 2].index)]
    return family(rows, ["strategy", "samples"])


def scarcity_trend(results: pd.DataFrame, model: str = "fno2d", augmentation: str = "none") -> pd.DataFrame:
    """Claim 1, "most when data are scarce": per strategy and seed, d = r(n_min) - r(n_max), the
    pooled log ratio err / err_none at the smallest minus at the largest sample count; shown as
    ``extra_gain`` = 100 (1 - exp(mean d)) % with its t interval (positive: pretraining cuts the
    error more at n_min than at n_max). Columns: strategy, n_min, n_max, n_seeds, extra_gain,
    ci_low, ci_high, p_value."""
    rows = _id_rows(results, model=model, augmentation=augmentation)
    trend = level_trend(paired_improvement(rows), ["strategy"], "samples", favour="min")
    trend = trend.rename(columns={"level": "n_min", "versus": "n_max"})
    if len(trend):
        trend["n_min"], trend["n_max"] = trend["n_min"].astype(int), trend["n_max"].astype(int)
    return trend[["strategy", "n_min", "n_max", "n_seeds", "extra_gain", "ci_low", "ci_high", "p_value"]]


def scarcity_family(results: pd.DataFrame, model: str = "fno2d", augmentation: str = "none",
                    alpha: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Claim 1 as ONE Holm family: the ``scarcity_table`` rows and the ``scarcity_trend`` rows
    corrected together (every test the claim rests on). Returns (table, trend), each with
    ``p_holm``, ``holm_reject`` and ``effect`` from the joint correction (the trend's decided
    labels read ``more when scarce`` / ``less when scarce``); ``attrs`` of both hold the joint
    family size and survivors."""
    table = scarcity_table(results, model, augmentation)
    trend = scarcity_trend(results, model, augmentation)
    return joint_family(table, trend, TREND_WORDS, alpha)


#: the family of ``per_pde_table``, in the words the pages and README state it
PER_PDE_FAMILY = "every strategy x backbone x learned PDE, in distribution, at {samples} samples"


def per_pde_table(results: pd.DataFrame, samples: int | None = 32, augmentation: str = "none") -> pd.DataFrame:
    """Per-PDE results: every strategy vs ``none`` per (model, pde), in distribution at
    ``samples``, as ONE Holm family (``PER_PDE_FAMILY``; a star on a per-PDE number means it
    survives Holm over all of these)."""
    return family(_id_rows(results, samples=samples, augmentation=augmentation), ["model", "pde", "strategy"])


def strategies_table(results: pd.DataFrame, samples: int | None = 32, augmentation: str = "none") -> pd.DataFrame:
    """Claim 2: every strategy vs ``none`` per backbone (in distribution, heat / advection /
    Burgers pooled, at ``samples`` fine-tune samples)."""
    return family(_id_rows(results, samples=samples, augmentation=augmentation), ["model", "strategy"])


def augmentation_table(results: pd.DataFrame, model: str = "fno2d", samples: int | None = 32) -> pd.DataFrame:
    """Claim 3: every augmentation (the ``copy`` control included) vs no augmentation, per
    pretraining strategy (``model``, in distribution, pooled over the PDEs where the augmentation
    ran)."""
    return family(_id_rows(results, model=model, samples=samples), ["strategy", "augmentation"],
                  factor="augmentation")


def augmentation_control_table(results: pd.DataFrame, model: str = "fno2d", samples: int | None = 32,
                               control: str = STEP_CONTROL) -> pd.DataFrame:
    """Claim 3, step-matched: every augmentation vs the ``control`` augmentation (unchanged
    copies at the same ratio, so the same number of training samples and optimisation steps),
    per pretraining strategy; what the transform adds beyond the extra steps. Empty where the
    control did not run."""
    rows = _id_rows(results, model=model, samples=samples)
    rows = rows[rows["augmentation"].astype(str) != "none"]
    return family(rows, ["strategy", "augmentation"], factor="augmentation", baseline=control)


def setting_of(distribution: str, pde: str) -> str:
    """``ID``, ``OOD`` or ``unseen PDE`` (Navier-Stokes) for a fine-tune."""
    return "unseen PDE" if pde == "navier_stokes" else distribution.upper()


def shift_table(results: pd.DataFrame, model: str = "fno2d", samples: int | None = 32,
                augmentation: str = "none") -> pd.DataFrame:
    """Claim 4: each strategy vs ``none`` per setting (ID, OOD, unseen PDE), for the strategies
    fine-tuned out of distribution; ID and OOD pool heat / advection / Burgers."""
    rows = select(results, model=model, samples=samples, augmentation=augmentation)
    shifted = set(rows.loc[rows["distribution"] != "id", "strategy"]) | {"none"}
    rows = rows[rows["strategy"].isin(shifted)]
    rows = rows.assign(setting=[setting_of(d, p) for d, p in zip(rows["distribution"], rows["pde"])])
    return family(rows, ["setting", "strategy"])


def effect_counts(table: pd.DataFrame) -> str:
    """"3 helps, 1 hurts, 4 too wide to tell" for a family table."""
    counts = table["effect"].value_counts() if len(table) else pd.Series(dtype=int)
    return ", ".join(f"{n} {name}" for name, n in counts.items()) or "no comparisons"


def sort_by_effect(table: pd.DataFrame, by: list[str], value: str = "mean") -> pd.DataFrame:
    """Rows of a family table in reading order: grouped by ``by[0]`` (in its listed order, see
    ``colors.order_values``), largest improvement first within a group; a ``samples`` column
    keeps its numeric order within a strategy, strategies ordered by their mean improvement."""
    from pde_lib.report.colors import order_values

    if table.empty:
        return table
    t = table.copy()
    first = by[0]
    if "samples" in by and first != "samples":
        rank = t.groupby(first)[value].mean().rank(ascending=False, method="first")
        t["_g"] = t[first].map(rank)
        return t.sort_values(["_g", "samples"]).drop(columns="_g")
    rank = {v: i for i, v in enumerate(order_values(first, t[first].unique()))}
    t["_g"] = t[first].map(rank)
    return t.sort_values(["_g", value], ascending=[True, False]).drop(columns="_g")


def family_view(table: pd.DataFrame, by: list[str], label: str = "improvement over none") -> pd.DataFrame:
    """A family table for reading: ``by`` columns, "+12.3% [+4.0, +20.1] *" (95% t interval; *
    survives Holm), seeds, Holm-adjusted p and the verdict; rows sorted by effect
    (``sort_by_effect``)."""
    from pde_lib.report.tables import format_ci

    if table.empty:
        return pd.DataFrame(columns=by + [label, "seeds", "p (Holm)", "verdict"])
    table = sort_by_effect(table, by)
    view = table[by].copy()
    view[label] = [format_ci(m, lo, hi, pct=True, points=p, mark=bool(k)) for m, lo, hi, p, k in
                   zip(table["mean"], table["ci_low"], table["ci_high"], table["points"], table["holm_reject"])]
    view["seeds"] = table["n_seeds"].to_numpy()
    view["p (Holm)"] = [f"{p:.3g}" if np.isfinite(p) else "-" for p in table["p_holm"]]
    view["verdict"] = table["effect"].to_numpy()
    return view.reset_index(drop=True)


def trend_view(trend: pd.DataFrame) -> pd.DataFrame:
    """``scarcity_trend`` (or ``scarcity_family``'s trend) for reading: strategy, counts
    compared, extra gain with its interval, p (and Holm-adjusted p and verdict when marked)."""
    from pde_lib.report.tables import format_ci

    trend = trend.sort_values("extra_gain", ascending=False)
    view = trend[["strategy"]].copy()
    view["compared"] = [f"n={a} vs n={b}" for a, b in zip(trend["n_min"], trend["n_max"])]
    view["extra gain at the smallest count (95% t)"] = [
        format_ci(m, lo, hi, pct=True, mark=bool(k)) for m, lo, hi, k in
        zip(trend["extra_gain"], trend["ci_low"], trend["ci_high"], trend.get("holm_reject", [False] * len(trend)))]
    view["p"] = [f"{p:.3f}" if np.isfinite(p) else "-" for p in trend["p_value"]]
    if "p_holm" in trend:
        view["p (Holm)"] = [f"{p:.3g}" if np.isfinite(p) else "-" for p in trend["p_holm"]]
    view["seeds"] = trend["n_seeds"].to_numpy()
    if "effect" in trend:
        view["verdict"] = trend["effect"].to_numpy()
    return view.reset_index(drop=True)
