"""The paper's four claims, each answered by one family of paired comparisons over a results
table (``results.csv``), with the rule that turns a comparison into a verdict stated in code.

Every comparison is a paired improvement over a baseline (``aggregate.improvement_summary``):
per seed the mean log ratio r = log(err / err_baseline) over the fine-tunes it pools (PDEs),
then mean over seeds with a 95% Student-t interval, shown as 100 (1 - exp(r)) %; each table is
one family, Holm-corrected at 5% (``multiple.mark_holm``). ``effect`` names what a row shows:

- ``helps`` / ``hurts``: survives Holm, with a positive / negative improvement;
- ``no 10% effect``: does not survive, and its whole interval lies inside (-10%, +10%), so an
  effect of 10% or more either way is ruled out at this scale;
- ``unresolved``: neither (the interval is too wide to tell a 10% effect from none).

The claims (the paper's wording, ``CLAIMS``) and the tables that answer them:

1. ``scarcity_table``: each pretraining strategy vs ``none`` at each fine-tune sample count,
   and ``scarcity_trend``: whether the gain at the smallest count exceeds the gain at the
   largest (per seed, the difference of the two pooled log ratios; t interval over seeds);
2. ``strategies_table``: every strategy vs ``none`` per backbone;
3. ``augmentation_table``: every augmentation vs no augmentation, per pretraining strategy, and
   ``augmentation_control_table``: every augmentation vs the step-matched control ``copy``
   (unchanged copies at the same ratio: the same steps without the transform);
4. ``shift_table``: each strategy vs ``none`` in distribution, out of distribution and on the
   unseen PDE (Navier-Stokes)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pde_lib.report.aggregate import improvement_summary, paired_improvement, select
from pde_lib.report.intervals import MIN_SEEDS, t_bounds, t_pvalue
from pde_lib.report.multiple import mark_holm

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
#: the effect size a laptop-scale study must resolve (percent)
RESOLUTION_PCT = 10.0
FAMILY_COLUMNS = ["n_seeds", "mean", "ci_low", "ci_high", "points", "p_value", "p_holm", "holm_reject", "effect"]


def effect(mean: float, low: float, high: float, reject: bool, resolution: float = RESOLUTION_PCT) -> str:
    """The verdict of one comparison (module doc): helps / hurts / no 10% effect / unresolved."""
    if reject:
        return "helps" if mean > 0 else "hurts"
    if np.isfinite(low) and np.isfinite(high) and -resolution < low and high < resolution:
        return f"no {resolution:g}% effect"
    return "unresolved"


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
    paired = paired_improvement(rows)
    out = []
    for strategy, sub in paired.groupby("strategy", sort=True):
        n_min, n_max = sub["samples"].min(), sub["samples"].max()
        if n_min == n_max:
            continue
        per_seed = sub.groupby(["seed", "samples"])["log_ratio"].mean().unstack("samples")
        d = (per_seed[n_min] - per_seed[n_max]).dropna().to_numpy()
        n = len(d)
        centre, sd = (float(d.mean()), float(d.std(ddof=1))) if n > 1 else (float(d.mean()) if n else np.nan, 0.0)
        lo, hi = t_bounds([centre], [sd], [n], min_seeds=MIN_SEEDS)
        pct = lambda v: 100.0 * (1.0 - np.exp(v))  # noqa: E731
        out.append({"strategy": strategy, "n_min": int(n_min), "n_max": int(n_max), "n_seeds": n,
                    "extra_gain": pct(centre), "ci_low": float(pct(hi[0])), "ci_high": float(pct(lo[0])),
                    "p_value": float(t_pvalue([centre], [sd], [n])[0])})
    return pd.DataFrame(out, columns=["strategy", "n_min", "n_max", "n_seeds", "extra_gain", "ci_low", "ci_high",
                                      "p_value"])


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
    """"3 helps, 1 hurts, 4 unresolved" for a family table."""
    counts = table["effect"].value_counts() if len(table) else pd.Series(dtype=int)
    return ", ".join(f"{n} {name}" for name, n in counts.items()) or "no comparisons"


def family_view(table: pd.DataFrame, by: list[str], label: str = "improvement over none") -> pd.DataFrame:
    """A family table for reading: ``by`` columns, "+12.3% [+4.0, +20.1] *" (95% t interval; *
    survives Holm), seeds and effect; in the order of ``by``."""
    from pde_lib.report.tables import format_ci

    if table.empty:
        return pd.DataFrame(columns=by + [label, "seeds", "effect"])
    view = table[by].copy()
    view[label] = [format_ci(m, lo, hi, pct=True, points=p, mark=bool(k)) for m, lo, hi, p, k in
                   zip(table["mean"], table["ci_low"], table["ci_high"], table["points"], table["holm_reject"])]
    view["seeds"] = table["n_seeds"].to_numpy()
    view["effect"] = table["effect"].to_numpy()
    return view.reset_index(drop=True)


def trend_view(trend: pd.DataFrame) -> pd.DataFrame:
    """``scarcity_trend`` for reading: strategy, counts compared, extra gain with its interval."""
    from pde_lib.report.tables import format_ci

    view = trend[["strategy"]].copy()
    view["compared"] = [f"n={a} vs n={b}" for a, b in zip(trend["n_min"], trend["n_max"])]
    view["extra gain at the smallest count (95% t)"] = [
        format_ci(m, lo, hi, pct=True) for m, lo, hi in zip(trend["extra_gain"], trend["ci_low"], trend["ci_high"])]
    view["p"] = [f"{p:.3f}" if np.isfinite(p) else "-" for p in trend["p_value"]]
    view["seeds"] = trend["n_seeds"].to_numpy()
    return view.reset_index(drop=True)
