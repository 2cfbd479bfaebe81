"""Which PDEs a backbone learned: the rule that keeps an unlearned PDE out of pooled verdicts.

The relative L2 error of predicting 0 is exactly 1. A PDE whose ``none`` baseline does no better
than that carries no information about pretraining (every strategy's error is the zero
prediction's too, so its log ratios are ~0), and averaging it into a pooled comparison pulls
every effect towards 0. The rule, per backbone, distribution and PDE (``LEARNED_KEYS``): the
``none`` baseline's geometric-mean test error over seeds (all its fine-tune sample counts
averaged within each seed, no augmentation) has a 95% Student-t interval whose upper end is
below ``LEARNED_BELOW`` = 0.9, i.e. it clearly beats the zero prediction by 10% or more.
Unlearned PDEs are reported separately, flagged, and placed last."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pde_lib.report.aggregate import select, summarise

#: the upper end of none's 95% interval must lie below this fraction of the zero prediction's error
LEARNED_BELOW = 0.9
LEARNED_KEYS = ["model", "distribution", "pde"]


def learned_table(results: pd.DataFrame, baseline: str = "none", below: float = LEARNED_BELOW) -> pd.DataFrame:
    """Per (model, distribution, pde): n_seeds, mean, ci_low, ci_high of ``baseline``'s test
    error (geometric mean over seeds) and ``learned`` (ci_high < ``below``)."""
    rows = select(results, strategy=baseline, augmentation="none")
    if rows.empty:
        return pd.DataFrame(columns=LEARNED_KEYS + ["n_seeds", "mean", "ci_low", "ci_high", "learned"])
    s = summarise(rows, LEARNED_KEYS).drop(columns="points")
    s["learned"] = np.isfinite(s["ci_high"]) & (s["ci_high"] < below)
    return s


def unlearned(results: pd.DataFrame, below: float = LEARNED_BELOW) -> list[tuple[str, str, str]]:
    """The (model, distribution, pde) settings that fail the rule, sorted."""
    t = learned_table(results, below=below)
    return sorted(tuple(map(str, k)) for k in t.loc[~t["learned"], LEARNED_KEYS].itertuples(index=False))


def learned_rows(results: pd.DataFrame, below: float = LEARNED_BELOW) -> pd.DataFrame:
    """The rows of ``results`` whose (model, distribution, pde) was learned (module rule); rows
    of a setting without a ``none`` baseline are dropped too (they cannot be compared)."""
    t = learned_table(results, below=below)
    keep = set(map(tuple, t.loc[t["learned"], LEARNED_KEYS].astype(str).to_numpy().tolist()))
    key = zip(*(results[k].astype(str) for k in LEARNED_KEYS))
    return results[[k in keep for k in key]]


def unlearned_note(results: pd.DataFrame, below: float = LEARNED_BELOW) -> str:
    """One sentence naming the settings left out of pooled verdicts, or saying none are."""
    bad = unlearned(results, below)
    if not bad:
        return "Every PDE was learned (the none baseline's 95% interval is below 0.9 of the zero prediction's error)."
    names = ", ".join(f"{p} ({m}, {d.upper()})" for m, d, p in bad)
    return (f"Not learned, so left out of every pooled verdict and shown last: {names}: the none "
            f"baseline's 95% interval of its test error does not lie below {below:g} (predicting 0 gives 1).")


def pde_order(results: pd.DataFrame, below: float = LEARNED_BELOW) -> list[str]:
    """The PDEs of ``results`` in reading order: those learned (by every backbone and
    distribution that ran them) first, by name; unlearned ones last."""
    bad = {p for _, _, p in unlearned(results, below)}
    pdes = sorted(set(results["pde"].astype(str)))
    return [p for p in pdes if p not in bad] + [p for p in pdes if p in bad]


def pde_heading(results: pd.DataFrame, pde: str, below: float = LEARNED_BELOW) -> str:
    """``pde``, flagged when some backbone / distribution did not learn it."""
    bad = [f"{m}, {d.upper()}" for m, d, p in unlearned(results, below) if p == pde]
    return f"{pde} (NOT LEARNED: {'; '.join(bad)}; left out of pooled verdicts)" if bad else pde
