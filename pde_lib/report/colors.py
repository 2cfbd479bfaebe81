"""One fixed colour per strategy, augmentation setting and distribution, the same in every figure
of every report; and the reading order of those values (``none`` first).

Strategies and single augmentations take fixed entries of the colour-blind-safe Okabe-Ito and
Tableau palettes; an augmentation combination ("shift+scale") not listed takes a colour from its
name's CRC32, so it too is the same in every figure and every run."""

from __future__ import annotations

import zlib

#: strategies in reading order (the study's ten; ``none`` is the baseline and comes first)
STRATEGY_ORDER = ("none", "transfer", "picl", "binary", "time_sort", "space_sort", "jigsaw",
                  "derivative", "coefficient", "masked")
STRATEGY_COLORS = {
    "none": "#000000", "transfer": "#0072B2", "picl": "#D55E00", "binary": "#009E73",
    "time_sort": "#CC79A7", "space_sort": "#56B4E9", "jigsaw": "#E69F00", "derivative": "#8C564B",
    "coefficient": "#7F3C8D", "masked": "#7F7F7F",
}
AUGMENTATION_ORDER = ("none", "copy", "noise", "shift", "scale", "galilean", "shift+scale+galilean",
                      "shift+scale+galilean+noise")
#: augmentations and distributions take colours no strategy uses, so a colour has one meaning
#: across every figure (``none``, black, is "no treatment" in both lists)
AUGMENTATION_COLORS = {
    "none": "#000000", "noise": "#BCBD22", "shift": "#17BECF", "scale": "#1B7837", "galilean": "#B2182B",
    "copy": "#A6A6A6", "shift+scale+galilean": "#FDB863", "shift+scale+galilean+noise": "#542788",
}
DISTRIBUTION_COLORS = {"id": "#01665E", "ood": "#C51B7D"}
#: reference lines drawn in every error figure
BASELINE_STYLE = {"copy last frame": {"color": "#555555", "ls": "--", "lw": 1.2},
                  "zero prediction": {"color": "#999999", "ls": ":", "lw": 1.2}}
_SPARE = ("#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#E377C2", "#AEC7E8", "#FFBB78",
          "#98DF8A", "#C5B0D5", "#C49C94", "#F7B6D2")
_FIXED = {"strategy": STRATEGY_COLORS, "augmentation": AUGMENTATION_COLORS,
          "distribution": DISTRIBUTION_COLORS}
_ORDER = {"strategy": STRATEGY_ORDER, "augmentation": AUGMENTATION_ORDER, "distribution": ("id", "ood")}


def color_for(kind: str, value) -> str:
    """The colour of ``value`` of coordinate ``kind`` ("strategy", "augmentation",
    "distribution"; any other kind or unlisted value: a colour fixed by the value's name)."""
    fixed = _FIXED.get(kind, {})
    v = str(value)
    return fixed.get(v) or _SPARE[zlib.crc32(v.encode()) % len(_SPARE)]


def order_values(kind: str, values) -> list:
    """``values`` in reading order: the listed order for strategies / augmentations /
    distributions (``none`` first), then the rest (numbers by value, others by name)."""
    order = _ORDER.get(kind, ())
    rank = {v: i for i, v in enumerate(order)}
    def key(v):
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        return (rank.get(str(v), len(order)), not number, float(v) if number else 0.0, str(v))

    return sorted(set(values), key=key)
