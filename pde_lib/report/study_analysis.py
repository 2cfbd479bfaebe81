"""The pre-registered study's analysis (docs/preregistration.md, sections 2, 6 and 7), on the
joined results of its chunks: the exclusions, the learned-PDE rule and its negative control, the
eight Holm families F1-F6b with the manipulation check's label on every row, the convergence
shares and one verdict per hypothesis H1-H6. Nothing here is tuned to the results: every
selection below is the pre-registration's.

Which rows enter a family (``family_rows``):

- no diverged run (section 7): a fine-tune whose test or valid error is not finite, or whose test
  error exceeds ``DIVERGED_ABOVE`` (10 times the zero prediction's), is excluded and listed
  (``diverged``); its seed then has no pair in the comparisons that need it;
- only (backbone, distribution, PDE) settings the backbone's ``none`` baseline learned
  (``learned.learned_rows``: the geometric-mean error's 95% interval below 0.9);
- strategies pretrained on the whole pretraining set (``pretrain_fraction`` "1"), except in F6a;
- the four main backbones (``MAIN_BACKBONES``), except in F6b (the FNO2D widths);
- heat and Burgers pooled (``POOLED_PDES``); out of distribution and Navier-Stokes in F4.

The families (each Holm-corrected at 5% as one family, every row labelled by ``verdicts``):
F1 ``findings.scarcity_family`` (FNO2D, 10 / 32 / 100 samples, with the trend rows), F2
``findings.strategies_table`` (every strategy x backbone at 32 samples), F3
``findings.augmentation_control_table`` (against ``copy``), F4 each strategy x {OOD,
Navier-Stokes}, F5a / F5b ``dependence.backbone_interactions`` / ``pde_interactions``, F6a / F6b
``pretrain_scaling.fraction_family`` / ``width_family`` (``none``, ``transfer``, ``derivative``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pde_lib.report.aggregate import select, summarise
from pde_lib.report.claim_text import claim1, claim2, claim3, claim4
from pde_lib.report.convergence import convergence_table
from pde_lib.report.dependence import backbone_interactions, dependence_rows, dependence_verdict, pde_interactions
from pde_lib.report.findings import (augmentation_control_table, per_pde_table, scarcity_family, shift_table,
                                     strategies_table)
from pde_lib.report.learned import learned_rows, learned_table
from pde_lib.report.manipulation import LEARNED, NOT_LEARNED, manipulation_check
from pde_lib.report.pretrain_scaling import fraction_family, width_family

MAIN_BACKBONES = ("fno2d", "unet", "deeponet2d", "oformer2d")
#: H6's backbone labels and their widths
WIDTHS = {"fno2d_w8": 8, "fno2d": 16, "fno2d_w32": 32}
STUDY_SCALING = ("none", "transfer", "derivative")
POOLED_PDES = ("heat", "burgers")
FULL_SET = "1"
DIVERGED_ABOVE = 10.0
#: the negative control of the learned-PDE rule: (backbone, distribution, PDE) expected unlearned
NEGATIVE_CONTROL = ("fno2d", "id", "advection")
#: family -> (hypothesis, what it compares), in the pre-registration's order
FAMILIES = {
    "F1": ("H1", "FNO2D: transfer, derivative, coefficient vs none at 10 / 32 / 100 samples, and the trend"),
    "F2": ("H2", "every strategy vs none per backbone, 32 samples"),
    "F3": ("H3", "FNO2D: every augmentation vs the step-matched copies, without and with transfer"),
    "F4": ("H4", "FNO2D: transfer, derivative, coefficient vs none out of distribution and on Navier-Stokes"),
    "F5a": ("H5", "strategy x backbone: a strategy's gain on one backbone minus on another"),
    "F5b": ("H5", "strategy x PDE: a strategy's gain on heat minus on Burgers, per backbone"),
    "F6a": ("H6", "FNO2D: transfer, derivative vs none at 1/9, 1/3, all of the pretraining set, and the trend"),
    "F6b": ("H6", "transfer, derivative vs none at FNO2D width 8, 16, 32, and the trend"),
}


@dataclass
class StudyAnalysis:
    """What the study report shows: ``families`` (name -> table; "F1 trend", "F6a trend", "F6b
    trend" hold the trend rows of the joint families), ``hypotheses`` (H -> (verdict, text)) and
    the tables behind the rules."""
    results: pd.DataFrame
    excluded: pd.DataFrame
    learned: pd.DataFrame
    pretext: pd.DataFrame
    convergence: pd.DataFrame
    families: dict[str, pd.DataFrame] = field(default_factory=dict)
    per_pde: pd.DataFrame | None = None
    hypotheses: dict[str, tuple[str, str]] = field(default_factory=dict)


def diverged(results: pd.DataFrame, above: float = DIVERGED_ABOVE) -> pd.Series:
    """Per row: whether the fine-tune diverged (section 7): test or valid error not finite, or
    test error above ``above``."""
    test = pd.to_numeric(results["test_rel_l2"], errors="coerce").to_numpy(dtype=float)
    valid = pd.to_numeric(results["valid_rel_l2"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(test) | ~np.isfinite(valid) | (np.nan_to_num(test, nan=np.inf) > above)
    return pd.Series(bad, index=results.index)


def exclusions(results: pd.DataFrame, above: float = DIVERGED_ABOVE) -> pd.DataFrame:
    """The diverged fine-tunes, one row each with its run and reason (the report lists them)."""
    out = results[diverged(results, above).to_numpy()]
    cols = ["model", "strategy", "augmentation", "pretrain_fraction", "seed", "distribution", "pde", "samples",
            "test_rel_l2", "valid_rel_l2", "cell_id", "finetune_id"]
    out = out[[c for c in cols if c in out]].copy()
    out["reason"] = [f"test or valid error not finite, or test error above {above:g}"] * len(out)
    return out.reset_index(drop=True)


def family_rows(results: pd.DataFrame, models=MAIN_BACKBONES, fraction: str | None = FULL_SET) -> pd.DataFrame:
    """The rows a family compares (module doc): kept (not diverged), learned, of ``models``, heat,
    Burgers and Navier-Stokes, strategies pretrained on ``fraction`` (None: every fraction)."""
    rows = learned_rows(results[~diverged(results).to_numpy()])
    rows = select(rows, model=list(models) if models is not None else None,
                  pde=[*POOLED_PDES, "navier_stokes"])
    if fraction is not None:
        rows = rows[((rows["strategy"].astype(str) == "none")
                     | (rows["pretrain_fraction"].astype(str) == str(fraction))).to_numpy()]
    return rows


def shift_family(rows: pd.DataFrame) -> pd.DataFrame:
    """F4: each strategy vs ``none`` out of distribution (heat and Burgers pooled) and on
    Navier-Stokes (``findings.shift_table`` on those rows only, so in distribution is not in the
    family)."""
    rows = select(rows, model="fno2d")
    shifted = (rows["distribution"].astype(str) != "id") | (rows["pde"].astype(str) == "navier_stokes")
    return shift_table(rows[shifted.to_numpy()])


def width_rows_family(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """F6b on ``rows`` (``family_rows`` of the widths): ``pretrain_scaling.width_family``, or two
    empty tables when some width has no learned rows (nothing to compare across widths)."""
    if set(WIDTHS) - set(rows["model"].astype(str)):
        return pd.DataFrame(columns=["strategy", "model", "width", "effect"]), pd.DataFrame(
            columns=["strategy", "level", "versus", "extra_gain", "effect"])
    return width_family(rows, WIDTHS, strategies=STUDY_SCALING)


def pretext_labels(table: pd.DataFrame, check: pd.DataFrame, model: str | None = None) -> list[str]:
    """Per row of a family table: the manipulation check's label of its strategy on its backbone
    (``model`` where the table has no backbone column; an interaction row of backbones ``a`` and
    ``b`` reads ``learned`` only if learned on both, else names where it is not); ``none``: "-"."""
    labels = {(str(m), str(s)): lab for m, s, lab in zip(check["model"], check["strategy"], check["pretext"])}
    get = lambda m, s: labels.get((str(m), str(s)), "not checkable")  # noqa: E731
    out = []
    for _, r in table.iterrows():
        s = str(r["strategy"])
        if s == "none":
            out.append("-")
        elif "a" in table and "model" not in table:  # strategy x backbone: a and b are backbones
            bad = [f"{get(m, s)} on {m}" for m in (r["a"], r["b"]) if get(m, s) != LEARNED]
            out.append("; ".join(bad) if bad else LEARNED)
        else:
            out.append(get(r["model"] if "model" in table else model, s))
    return out


def _labelled(table: pd.DataFrame, check: pd.DataFrame, model: str | None = "fno2d") -> pd.DataFrame:
    out = table.copy()
    out["pretext"] = pretext_labels(out, check, model) if len(out) else []
    return out


def h6_verdict(trends: dict[str, pd.DataFrame]) -> tuple[str, str]:
    """H6: per axis and strategy, the trend's label with its extra gain (section 2)."""
    parts = []
    for axis, trend in trends.items():
        for _, r in trend.iterrows():
            parts.append(f"{axis}, `{r['strategy']}`: {r['effect']} ({r['extra_gain']:+.1f}% "
                         f"[{r['ci_low']:+.1f}, {r['ci_high']:+.1f}])")
    decided = sum(1 for t in trends.values() for e in t["effect"] if not str(e).startswith(("too wide", "direction")))
    total = sum(len(t) for t in trends.values())
    if not total:
        return "not tested", "no trend: the scaling rows were not learned or did not run"
    return f"{decided} of {total} trends decided", "; ".join(parts) or "no trend tested"


def untested_note(answer: tuple[str, str], table: pd.DataFrame) -> tuple[str, str]:
    """``answer`` (verdict, text) with the rows whose pretext task was not learned named: they
    were not tested (section 6), whatever their label."""
    bad = table[table["pretext"] == NOT_LEARNED]
    if bad.empty:
        return answer
    names = ", ".join(f"{m} `{s}`" for m, s in zip(bad["model"], bad["strategy"]))
    return answer[0], f"{answer[1]}; pretext not learned, so not tested: {names}"


def baselines_table(results: pd.DataFrame) -> pd.DataFrame:
    """Trivial baselines beside ``none``, per (backbone, distribution, PDE) at the fine-tunes'
    sample count 32: ``none``'s test error and the copy-last-frame prediction's (geometric means
    over seeds); the zero prediction's error is 1 by definition."""
    rows = select(results[~diverged(results).to_numpy()], strategy="none", augmentation="none", samples=32)
    keys = ["model", "distribution", "pde"]
    model = summarise(rows, keys).drop(columns="points")
    copy = summarise(rows, keys, value="test_copy_last_rel_l2").rename(columns={"mean": "copy_last"})
    out = model.merge(copy[keys + ["copy_last"]], on=keys, how="left")
    out["zero"] = 1.0
    return out


def analyse(results: pd.DataFrame, pretext: pd.DataFrame) -> StudyAnalysis:
    """The whole pre-registered analysis (module doc) of a joined results table and its
    ``pretext.csv`` rows."""
    kept = results[~diverged(results).to_numpy()]
    check = manipulation_check(pretext)
    main = family_rows(results)
    fno = select(main, model="fno2d")
    fam: dict[str, pd.DataFrame] = {}
    f1, f1_trend = scarcity_family(fno)
    fam["F1"], fam["F1 trend"] = _labelled(f1, check), _labelled(f1_trend, check)
    fam["F2"] = _labelled(strategies_table(select(main, pde=list(POOLED_PDES))), check)
    fam["F3"] = _labelled(augmentation_control_table(fno), check)
    fam["F4"] = _labelled(shift_family(main), check)
    d = dependence_rows(main, models=list(MAIN_BACKBONES))
    fam["F5a"], fam["F5b"] = _labelled(backbone_interactions(d), check), _labelled(pde_interactions(d), check)
    every_fraction = select(family_rows(results, models=["fno2d"], fraction=None), pde=list(POOLED_PDES))
    f6a, f6a_trend = fraction_family(every_fraction, strategies=STUDY_SCALING)
    fam["F6a"], fam["F6a trend"] = _labelled(f6a, check), _labelled(f6a_trend, check)
    f6b, f6b_trend = width_rows_family(family_rows(results, models=list(WIDTHS)))
    fam["F6b"], fam["F6b trend"] = _labelled(f6b, check), _labelled(f6b_trend, check)
    hyp = {"H1": claim1({"scarcity": fam["F1"], "trend": fam["F1 trend"]})[:2],
           "H2": untested_note(claim2({"strategies": fam["F2"]})[:2], fam["F2"]),
           "H3": claim3({"augmentation": fam["F3"]})[:2],
           "H4": claim4({"shift": fam["F4"]})[:2],
           "H5": (dependence_verdict(fam["F5a"], fam["F5b"]) if len(fam["F5a"]) + len(fam["F5b"])
                  else ("not tested", "no interaction: no backbone learned both PDEs")),
           "H6": h6_verdict({"pretraining set": fam["F6a trend"], "width": fam["F6b trend"]})}
    return StudyAnalysis(results=results, excluded=exclusions(results), learned=learned_table(kept),
                         pretext=check, convergence=convergence_table(kept), families=fam,
                         per_pde=per_pde_table(select(main, pde=list(POOLED_PDES))), hypotheses=hyp)


def negative_control(learned: pd.DataFrame, setting: tuple[str, str, str] = NEGATIVE_CONTROL) -> str:
    """One sentence: whether the negative control (advection at frame 31) failed the learned-PDE
    rule as expected."""
    m, dist, pde = setting
    row = learned[(learned["model"] == m) & (learned["distribution"] == dist) & (learned["pde"] == pde)]
    if row.empty:
        return f"the negative control ({m}, {pde}, {dist}) did not run"
    r = row.iloc[0]
    what = ("left out of pooled verdicts, as expected" if not bool(r["learned"])
            else "LEARNED: the rule's negative control failed, so the rule may admit unlearned PDEs")
    return (f"negative control {m} on {pde} ({dist}, frame 31): none's error {r['mean']:.3f} "
            f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}] over {int(r['n_seeds'])} seeds: {what}")
