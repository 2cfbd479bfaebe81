"""The one rule that turns a paired comparison into a verdict label, and the labels' meanings.

A comparison is an improvement over a baseline, ``mean`` (%) with its 95% interval
``[low, high]``, and whether it survives Holm in its family (``reject``). In this order:

- ``helps`` / ``hurts``: survives Holm at 5% in its stated family (positive / negative mean);
- ``no 10% effect``: does not survive, and the whole 95% interval lies inside (-10%, +10%):
  an effect of 10% or more either way is ruled out at this scale;
- ``direction clear, not after Holm``: the interval excludes 0 but the comparison does not
  survive Holm (on its own it would read as significant; among its family it does not);
- ``too wide to tell``: everything else (the interval holds 0 and reaches past +-10%, or
  there is no interval: fewer than 2 seeds).

The scarcity trend ("most when data are scarce") uses the same rule with its own words for
the two decided directions: ``more when scarce`` / ``less when scarce``."""

from __future__ import annotations

import math

HELPS, HURTS = "helps", "hurts"
NO_EFFECT = "no 10% effect"
DIRECTION_ONLY = "direction clear, not after Holm"
TOO_WIDE = "too wide to tell"
#: every label in reading order (decided first)
LABELS = (HELPS, HURTS, NO_EFFECT, DIRECTION_ONLY, TOO_WIDE)
#: one sentence per label, as the pages and the README state them
MEANINGS = {
    HELPS: "survives Holm at 5% in its family, lower error than the baseline",
    HURTS: "survives Holm at 5% in its family, higher error than the baseline",
    NO_EFFECT: "95% interval inside -10% .. +10%: a 10% effect either way is ruled out",
    DIRECTION_ONLY: "95% interval excludes 0 but the comparison does not survive Holm",
    TOO_WIDE: "95% interval holds 0 and reaches past +-10%: too wide to tell a 10% effect from none",
}
#: the effect size a laptop-scale study must resolve (percent)
RESOLUTION_PCT = 10.0
#: the trend test's words for helps / hurts
TREND_WORDS = {HELPS: "more when scarce", HURTS: "less when scarce"}


def verdict(mean: float, low: float, high: float, reject: bool, resolution: float = RESOLUTION_PCT) -> str:
    """The label of one comparison (module doc). ``low``/``high`` NaN: no interval."""
    if reject:
        return HELPS if mean > 0 else HURTS
    finite = not (math.isnan(low) or math.isnan(high))
    if finite and -resolution < low and high < resolution:
        return NO_EFFECT if resolution == RESOLUTION_PCT else f"no {resolution:g}% effect"
    if finite and (low > 0 or high < 0):
        return DIRECTION_ONLY
    return TOO_WIDE


def is_decided(label: str) -> bool:
    """Whether a label is a verdict a reader can act on (helps, hurts, no 10% effect)."""
    return label in (HELPS, HURTS, NO_EFFECT) or label in TREND_WORDS.values()
