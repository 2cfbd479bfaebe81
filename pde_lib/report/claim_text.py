"""One verdict per claim and run length, in words, computed from the claim tables
(``evidence.claim_tables``): ``(verdict, text, headline)``: agree / partly / disagree, the
effects and intervals behind it with their labels (``verdicts``), and the one or two effects
that carry it (the README's short paragraph). The rules, per claim:

1. gains, most when scarce: **agree** if a strategy helps at the smallest sample count and its
   extra gain at that count is ``more when scarce`` (survives Holm in the claim's joint family);
   **partly** if a strategy helps at the smallest count but no trend survives; else **disagree**;
2. transfer and physics-based strategies best: **agree** if ``transfer`` and a physics-based
   strategy help on every backbone; **partly** if ``transfer`` helps on every backbone (or a
   physics-based one does) but not both; else **disagree**;
3. augmentations help: against the step-matched control (unchanged copies): **agree** if every
   augmentation tested helps, **partly** if some help, else **disagree**;
4. gains under shift and on an unseen PDE: **agree** if a strategy helps by 10% or more (its
   mean) out of distribution and one does on the unseen PDE, **partly** if only one of the two,
   else **disagree** (a Holm survivor below 10% is named, but is not the gain the paper claims)."""

from __future__ import annotations

import pandas as pd

from pde_lib.report.findings import PHYSICS_BASED
from pde_lib.report.tables import format_ci
from pde_lib.report.verdicts import HELPS, HURTS, NO_EFFECT, RESOLUTION_PCT, TREND_WORDS


def ci(row, value: str = "mean", star: bool = True) -> str:
    """"+34.5% [+30.5, +38.2] *" for a family-table row (* survives Holm in its family)."""
    return format_ci(row[value], row["ci_low"], row["ci_high"], pct=True, mark=star and bool(row["holm_reject"]))


def _names(t: pd.DataFrame, col: str = "strategy") -> str:
    return ", ".join(f"`{v}`" for v in t[col]) or "none"


def claim1(tables: dict) -> tuple[str, str, str]:
    s, trend = tables["scarcity"], tables["trend"]
    if s.empty:
        return "not tested", "no strategy ran at two or more sample counts", "not tested"
    n_min = int(s["samples"].min())
    small = s[s["samples"] == n_min]
    helps = small[small["effect"] == HELPS].sort_values("mean", ascending=False)
    more = trend[trend["effect"] == TREND_WORDS[HELPS]]
    less = trend[trend["effect"] == TREND_WORDS[HURTS]]
    parts = []
    for _, r in helps.iterrows():
        counts = s[(s["strategy"] == r["strategy"]) & (s["effect"] == HELPS)]["samples"]
        tr = trend[trend["strategy"] == r["strategy"]]
        text = f"`{r['strategy']}` helps at n={'/'.join(map(str, counts))} ({ci(r)} at n={n_min})"
        if len(tr):
            t = tr.iloc[0]
            text += (f", extra gain at n={t['n_min']} over n={t['n_max']} {ci(t, 'extra_gain')} "
                     f"({t['effect']})")
        parts.append(text)
    if len(less):
        parts.append(f"{_names(less)} gain{'s' * (len(less) == 1)} less when scarce")
    if not parts:
        parts.append(f"no strategy helps at n={n_min}")
    verdict = ("agree" if set(helps["strategy"]) & set(more["strategy"])
               else "partly" if len(helps) else "disagree")
    return verdict, "; ".join(parts), parts[0]


def claim2(tables: dict) -> tuple[str, str, str]:
    t = tables["strategies"]
    if t.empty:
        return "not tested", "no strategy comparison", "not tested"
    models = sorted(t["model"].unique())
    parts, heads, transfer_all, physics_all = [], [], True, True
    for m in models:
        sub = t[t["model"] == m].sort_values("mean", ascending=False)
        tr = sub[sub["strategy"] == "transfer"]
        transfer_all &= bool(len(tr)) and tr.iloc[0]["effect"] == HELPS
        phys = sub[sub["strategy"].isin(PHYSICS_BASED)]
        physics_all &= bool((phys["effect"] == HELPS).any())
        text = f"{m}: " + (f"`transfer` {ci(tr.iloc[0])} ({tr.iloc[0]['effect']})" if len(tr) else "no `transfer` run")
        best = phys.iloc[0] if len(phys) else None  # sub is sorted by effect
        heads.append(text + (f", best physics-based `{best['strategy']}` {best['mean']:+.1f}% ({best['effect']})"
                             if best is not None else ", no physics-based strategy run"))
        others = sub[(sub["strategy"] != "transfer") & sub["effect"].isin([HELPS, HURTS])]
        for eff in (HELPS, HURTS):
            o = others[others["effect"] == eff]
            if len(o):
                text += f"; {eff}: " + ", ".join(f"`{r['strategy']}` {r['mean']:+.1f}%" for _, r in o.iterrows())
        n_none = int((sub.loc[sub["strategy"] != "transfer", "effect"] == NO_EFFECT).sum())
        rest = len(sub) - len(tr) - len(others) - n_none
        if len(sub) > len(tr):
            text += f"; of the {len(sub) - len(tr) - len(others)} others, {n_none} {NO_EFFECT}, {rest} undecided"
        if not len(phys):
            text += "; no physics-based strategy run"
        parts.append(text)
    verdict = ("agree" if transfer_all and physics_all else "partly" if transfer_all or physics_all else "disagree")
    return verdict, "; ".join(parts), "; ".join(heads)


def claim3(tables: dict) -> tuple[str, str, str]:
    t = tables["augmentation"]
    if t.empty:
        return "not tested", "the step-matched control (unchanged copies) did not run", "not tested"
    counts = t["effect"].value_counts()
    parts = [f"against unchanged copies at the same step count, {len(t)} comparisons: "
             + ", ".join(f"{n} {name}" for name, n in counts.items())]
    for _, r in t[t["effect"].isin([HELPS, HURTS])].iterrows():
        parts.append(f"`{r['augmentation']}` with `{r['strategy']}` {ci(r)} ({r['effect']})")
    helps = int((t["effect"] == HELPS).sum())
    verdict = "agree" if helps == len(t) else "partly" if helps else "disagree"
    return verdict, "; ".join(parts), "; ".join(parts)


def claim4(tables: dict) -> tuple[str, str, str]:
    t = tables["shift"]
    if t.empty:
        return "not tested", "no strategy fine-tuned out of distribution", "not tested"
    parts, heads, found = [], [], {}
    for setting in ("OOD", "unseen PDE"):
        sub = t[t["setting"] == setting].sort_values("mean", ascending=False)
        helps, hurts = sub[sub["effect"] == HELPS], sub[sub["effect"] == HURTS]
        found[setting] = bool((helps["mean"] >= RESOLUTION_PCT).any())
        small = lambda r: f" (by less than {RESOLUTION_PCT:g}%)" if r["mean"] < RESOLUTION_PCT else ""  # noqa: E731
        text = f"{setting}: " + (", ".join(f"`{r['strategy']}` {ci(r)} helps{small(r)}" for _, r in helps.iterrows())
                                 or "nothing helps")
        top = helps.iloc[0] if len(helps) else None
        heads.append(f"{setting}: `{top['strategy']}` {ci(top)} helps{small(top)}" if top is not None else text)
        if len(hurts):
            text += "; " + ", ".join(f"`{r['strategy']}` {r['mean']:+.1f}% hurts" for _, r in hurts.iterrows())
        n_none = int((sub["effect"] == NO_EFFECT).sum())
        if n_none:
            text += f"; {n_none} {NO_EFFECT}"
        parts.append(text)
    verdict = "agree" if all(found.values()) else "partly" if any(found.values()) else "disagree"
    return verdict, "; ".join(parts), "; ".join(heads)


CLAIM_TEXT = {1: claim1, 2: claim2, 3: claim3, 4: claim4}
