"""Whether pretraining "is highly dependent on model and dataset choices": two interaction
families over a results table, each Holm-corrected as ONE family, each row labelled by the one
verdict rule (``verdicts.verdict``).

Per backbone m (the ``model`` column), strategy s, PDE p and seed, the paired log ratio
l_m(s, p) = log(err_s / err_none) (``aggregate.paired_improvement``: same seed, fine-tune,
sample count; in distribution, one augmentation, one pretraining fraction). Seeds pair across
backbones and PDEs: a seed draws the same data for every backbone.

- strategy x backbone (``backbone_interactions``): per strategy and pair of backbones (a, b),
  per seed d = mean_p [l_a(s, p) - l_b(s, p)] over the PDEs both backbones have (so both sides
  pool the same PDEs) = r_a(s) - r_b(s);
- strategy x PDE (``pde_interactions``): per backbone, strategy and pair of PDEs (a, b), per
  seed d = l_m(s, a) - l_m(s, b).

Over the n seeds: mean(d) with its 95% Student-t interval and two-sided t-test p-value, shown
as ``mean`` = 100 (1 - exp(mean d)) % ("gain on a beyond the gain on b": positive when
pretraining cuts the error more on a). The interval covers seed-to-seed variation
(initialisation, data order, the fine-tune subset drawn) with the grid's other choices fixed;
it does not cover other hyper-parameters, PDE parameters or sample counts. ``helps`` / ``hurts``
on a row: the interaction survives Holm (a's gain larger / smaller than b's); ``no 10% effect``:
the two gains differ by less than 10% (as an error ratio) at 95%.

``dependence_verdict`` answers the question from both families; ``improvement_cells`` gives
the per-(strategy, backbone) improvements the figure (``dependence_grid``) shows."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from pde_lib.report.aggregate import improvement_summary, paired_improvement, select
from pde_lib.report.colors import order_values
from pde_lib.report.intervals import MIN_SEEDS, t_bounds, t_pvalue
from pde_lib.report.multiple import mark_holm
from pde_lib.report.verdicts import HELPS, HURTS, NO_EFFECT, verdict

#: the PDEs the dependence question pools by default (the learnable trajectory PDEs)
DEPENDENCE_PDES = ("heat", "burgers")
INTERACTION_COLUMNS = ["a", "b", "pdes", "n_seeds", "mean", "ci_low", "ci_high", "points", "p_value", "p_holm",
                       "holm_reject", "effect"]
#: the answers of ``dependence_verdict``
DEPENDS, NO_DEPENDENCE, UNDECIDED = "depends", "no 10% dependence", "undecided"


def dependence_rows(rows: pd.DataFrame, samples: int | None = 32, pdes=DEPENDENCE_PDES,
                    augmentation: str = "none", distribution: str = "id", fraction: str | None = "1",
                    models=None) -> pd.DataFrame:
    """The rows the dependence families compare: ``rows`` (e.g. ``learned.learned_rows``
    output) at ``samples``, in ``distribution``, ``augmentation``, on ``pdes``, the strategies
    pretrained on the ``fraction`` (``none`` is kept whatever its label), backbones ``models``
    (None: all)."""
    out = select(rows, samples=samples, pde=list(pdes), augmentation=augmentation, distribution=distribution,
                 model=models)
    if fraction is not None:
        keep = (out["strategy"].astype(str) == "none") | (out["pretrain_fraction"].astype(str) == str(fraction))
        out = out[keep.to_numpy()]
    return out


def _log_ratios(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (model, strategy, pde, seed): the mean paired log ratio over the seed's fine-tunes."""
    paired = paired_improvement(rows)
    keys = ["model", "strategy", "pde", "seed"]
    if paired.empty:
        return pd.DataFrame(columns=keys + ["log_ratio"])
    paired = paired.assign(model=paired["model"].astype(str), pde=paired["pde"].astype(str))
    return paired.groupby(keys, sort=True)["log_ratio"].mean().dropna().reset_index()


def _contrast(d: np.ndarray) -> dict:
    """Mean, 95% t interval, per-seed points (all as 100 (1 - exp(.)) %) and p of the per-seed d."""
    n = len(d)
    centre = float(d.mean()) if n else np.nan
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    lo, hi = t_bounds([centre], [sd], [n], min_seeds=MIN_SEEDS)
    pct = lambda v: 100.0 * (1.0 - np.exp(np.asarray(v, dtype=np.float64)))  # noqa: E731
    return {"n_seeds": n, "mean": float(pct(centre)), "ci_low": float(pct(hi[0])), "ci_high": float(pct(lo[0])),
            "points": tuple(float(v) for v in pct(d)), "p_value": float(t_pvalue([centre], [sd], [n])[0])}


def _pairwise(lr: pd.DataFrame, by: list[str], along: str, pool: list[str], kind: str) -> pd.DataFrame:
    """Per group of ``by`` and pair (a, b) of ``along`` values (a before b in reading order):
    per seed d = mean over the shared ``pool`` values of (l_a - l_b); ``_contrast`` of d."""
    out = []
    for group, sub in lr.groupby(by, sort=True):
        group = group if isinstance(group, tuple) else (group,)
        for a, b in itertools.combinations(order_values(kind, sub[along].unique()), 2):
            left = sub[sub[along] == a][["seed", *pool, "log_ratio"]]
            right = sub[sub[along] == b][["seed", *pool, "log_ratio"]]
            both = left.merge(right, on=["seed", *pool], suffixes=("_a", "_b"))
            if both.empty:
                continue
            per_seed = (both["log_ratio_a"] - both["log_ratio_b"]).groupby(both["seed"], sort=True).mean()
            shared = sorted(set(both["pde"])) if "pde" in both else []
            out.append({**dict(zip(by, group)), "a": a, "b": b, "pdes": "+".join(shared),
                        **_contrast(per_seed.to_numpy(dtype=np.float64))})
    return pd.DataFrame(out, columns=by + INTERACTION_COLUMNS[:-3])


def _label(table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Holm over the whole table (one family) and the verdict of each row."""
    out = mark_holm(table, alpha)
    out["effect"] = [verdict(float(m), float(lo), float(hi), bool(r)) for m, lo, hi, r
                     in zip(out["mean"], out["ci_low"], out["ci_high"], out["holm_reject"])]
    return out


def backbone_interactions(rows: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Strategy x backbone (module doc), one Holm family: per strategy (not ``none``) and pair of
    backbones (a, b) of ``rows`` (``dependence_rows`` output). Columns: strategy, a, b, pdes
    (those pooled), n_seeds, mean, ci_low, ci_high, points, p_value, p_holm, holm_reject, effect;
    ``attrs``: family size, survivors."""
    lr = _log_ratios(rows)
    return _label(_pairwise(lr, ["strategy"], "model", ["pde"], "model"), alpha)


def pde_interactions(rows: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Strategy x PDE (module doc), one Holm family: per backbone, strategy and pair of PDEs
    (a, b) of ``rows``. Columns: model, strategy, then as ``backbone_interactions``."""
    lr = _log_ratios(rows)
    return _label(_pairwise(lr, ["model", "strategy"], "pde", [], "pde"), alpha)


def dependence_verdict(*families: pd.DataFrame) -> tuple[str, str]:
    """The answer to "does pretraining depend on model and dataset choices", from interaction
    families (``backbone_interactions``, ``pde_interactions``): ``depends`` if some interaction
    survives Holm in its family (labelled helps / hurts), ``no 10% dependence`` if every row of
    every family is ``no 10% effect``, else ``undecided``. Returns (answer, counts: how many rows
    carry each label, e.g. "2 helps, 5 no 10% effect, 3 too wide to tell of 10")."""
    labels = pd.concat([f["effect"] for f in families if len(f)], ignore_index=True) if any(
        len(f) for f in families) else pd.Series(dtype=object)
    counts = labels.value_counts()
    text = ", ".join(f"{n} {name}" for name, n in counts.items())
    text = f"{text} of {len(labels)}" if len(labels) else "no interactions"
    if labels.isin([HELPS, HURTS]).any():
        return DEPENDS, text
    if len(labels) and (labels == NO_EFFECT).all():
        return NO_DEPENDENCE, text
    return UNDECIDED, text


def improvement_cells(rows: pd.DataFrame, by: list[str] = ("model",)) -> pd.DataFrame:
    """Each strategy's paired improvement over ``none`` per group of ``by`` (e.g. ["model"], or
    ["model", "pde"]) with its 95% t interval (``aggregate.improvement_summary``, PDEs of a
    group pooled per seed), for the figure; not a tested family (the interactions are)."""
    return improvement_summary(rows, ["strategy", *by])
