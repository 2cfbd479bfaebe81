"""Scaling: fine-tune error against the pretraining-set size and the backbone width, for ``none``,
``transfer`` and a physics-based strategy; two families, each Holm-corrected as ONE family with
its trend tests (as claim 1's ``findings.scarcity_family``), each row labelled by
``verdicts.verdict``.

Pretraining-set size (``fraction_family``): the ``pretrain_fraction`` column holds the sweep's
labels ("1of9", "1of3", "1": ``sweep.grid.fraction_label``), ordered by ``fraction_value``. Per
(strategy, fraction), the paired improvement over ``none`` (``aggregate.improvement_summary``;
``none`` is pretrained on nothing, so it pairs with every fraction), pooled over the PDEs given,
100 (1 - exp(r)) % with its 95% t interval over seeds. The trend per strategy
(``trend.level_trend``): per seed d = r(largest fraction) - r(smallest fraction), shown as
``extra_gain`` = 100 (1 - exp(mean d)) %: positive when the full pretraining set cuts the error
more than the smallest one does.

Width (``width_family``): the backbones are labels (``fno2d_w8``, ``fno2d``, ``fno2d_w32``)
with a caller-given width each. Per (strategy, width), the improvement over ``none`` at the same
width; the trend per strategy: d = r(widest) - r(narrowest) (positive: the gain grows with
width). ``none``'s own error per width (``baseline_by_width``) says whether the wider backbone
fits better without pretraining.

Every interval covers seed-to-seed variation (initialisation, data order, the fine-tune subset
and, where the sweep draws it per seed, the pretraining subset) with the other grid choices
fixed; the trend's interval covers the same for the difference between two ends, not the shape
in between."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from pde_lib.errors import DataError
from pde_lib.report.aggregate import improvement_summary, paired_improvement, select, summarise
from pde_lib.report.trend import joint_family, level_trend
from pde_lib.report.verdicts import HELPS, HURTS

#: the strategies the scaling question covers by default (``none`` is the baseline)
SCALING_STRATEGIES = ("none", "transfer", "picl")
SCALING_PDES = ("heat", "burgers")
#: the trend tests' words for helps / hurts
FRACTION_TREND_WORDS = {HELPS: "more with more pretraining data", HURTS: "less with more pretraining data"}
WIDTH_TREND_WORDS = {HELPS: "more when wider", HURTS: "less when wider"}


def fraction_value(label) -> float:
    """A ``pretrain_fraction`` label as a number: "1of9" -> 1/9, "1" -> 1; DataError otherwise."""
    try:
        return float(Fraction(str(label).replace("of", "/")))
    except (ValueError, ZeroDivisionError):
        raise DataError(f"pretrain_fraction {label!r}: expected a label like '1of9', '1of3' or '1'") from None


def _rows(results: pd.DataFrame, models, strategies, samples, pdes, augmentation, distribution) -> pd.DataFrame:
    return select(results, model=models, strategy=list(strategies), samples=samples, pde=list(pdes),
                  augmentation=augmentation, distribution=distribution)


def fraction_family(results: pd.DataFrame, model: str = "fno2d", strategies=SCALING_STRATEGIES,
                    samples: int | None = 32, pdes=SCALING_PDES, augmentation: str = "none",
                    distribution: str = "id", alpha: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Improvement over ``none`` per (strategy, pretrain_fraction) and the fraction trend per
    strategy (module doc), Holm-corrected together as ONE family. Returns (table, trend): table
    columns strategy, pretrain_fraction, fraction (its value), n_seeds, mean, ci_low, ci_high,
    points, p_value, p_holm, holm_reject, effect; trend columns strategy, level (largest
    fraction), versus (smallest), n_seeds, extra_gain, ci_low, ci_high, points, p_value, p_holm,
    holm_reject, effect (``FRACTION_TREND_WORDS`` for the decided directions)."""
    rows = _rows(results, model, strategies, samples, pdes, augmentation, distribution)
    table = improvement_summary(rows, ["strategy", "pretrain_fraction"])
    table.insert(2, "fraction", [fraction_value(v) for v in table["pretrain_fraction"]])
    table = table.sort_values(["strategy", "fraction"]).reset_index(drop=True)
    trend = level_trend(paired_improvement(rows), ["strategy"], "pretrain_fraction", favour="max",
                        key=fraction_value)
    return joint_family(table, trend, FRACTION_TREND_WORDS, alpha)


def _check_widths(results: pd.DataFrame, widths: dict) -> None:
    if not widths:
        raise DataError("widths: expected a mapping backbone label -> width, e.g. {'fno2d_w8': 8, 'fno2d': 16}")
    missing = sorted(set(widths) - set(results["model"].astype(str)))
    if missing:
        raise DataError(f"widths: backbone label(s) {missing} are not in the results' model column "
                        f"(it holds {sorted(set(results['model'].astype(str)))})")


def width_family(results: pd.DataFrame, widths: dict[str, float], strategies=SCALING_STRATEGIES,
                 samples: int | None = 32, pdes=SCALING_PDES, augmentation: str = "none",
                 distribution: str = "id", fraction: str = "1",
                 alpha: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Improvement over ``none`` per (strategy, backbone label in ``widths``) and the width
    trend per strategy (module doc), pretrained on ``fraction``, Holm-corrected together as ONE
    family. Returns (table, trend) as ``fraction_family``, with columns model and width in place
    of pretrain_fraction and fraction (trend: level = widest label, versus = narrowest);
    ``WIDTH_TREND_WORDS``. DataError if a label of ``widths`` is not in the table."""
    _check_widths(results, widths)
    rows = _rows(results, list(widths), strategies, samples, pdes, augmentation, distribution)
    rows = rows[((rows["strategy"].astype(str) == "none")
                 | (rows["pretrain_fraction"].astype(str) == str(fraction))).to_numpy()]
    rows = rows.assign(model=rows["model"].astype(str))
    table = improvement_summary(rows, ["strategy", "model"])
    table.insert(2, "width", [float(widths[m]) for m in table["model"]])
    table = table.sort_values(["strategy", "width"]).reset_index(drop=True)
    trend = level_trend(paired_improvement(rows), ["strategy"], "model", favour="max", key=lambda m: widths[m])
    return joint_family(table, trend, WIDTH_TREND_WORDS, alpha)


def baseline_by_width(results: pd.DataFrame, widths: dict[str, float], samples: int | None = 32,
                      pdes=SCALING_PDES, distribution: str = "id") -> pd.DataFrame:
    """``none``'s test error per backbone label of ``widths``: geometric mean over seeds (each
    seed's PDEs pooled as log errors) with its 95% t interval (``aggregate.summarise``).
    Columns: model, width, n_seeds, mean, ci_low, ci_high, points."""
    _check_widths(results, widths)
    rows = _rows(results, list(widths), ["none"], samples, pdes, "none", distribution)
    s = summarise(rows.assign(model=rows["model"].astype(str)), ["model"])
    s.insert(1, "width", [float(widths[m]) for m in s["model"]])
    return s.sort_values("width").reset_index(drop=True)


def error_by_fraction(results: pd.DataFrame, model: str = "fno2d", strategies=SCALING_STRATEGIES,
                      samples: int | None = 32, pdes=SCALING_PDES, augmentation: str = "none",
                      distribution: str = "id") -> pd.DataFrame:
    """Test error per (strategy, pretrain_fraction) for the figure: geometric mean over seeds
    (PDEs pooled as log errors within a seed) with its 95% t interval. Columns: strategy,
    pretrain_fraction, fraction, n_seeds, mean, ci_low, ci_high, points (``none`` has its one
    label, whatever the sweep wrote for it)."""
    rows = _rows(results, model, strategies, samples, pdes, augmentation, distribution)
    s = summarise(rows.assign(pretrain_fraction=rows["pretrain_fraction"].astype(str)),
                  ["strategy", "pretrain_fraction"])
    s.insert(2, "fraction", [fraction_value(v) for v in s["pretrain_fraction"]])
    return s.sort_values(["strategy", "fraction"]).reset_index(drop=True)


def error_by_width(results: pd.DataFrame, widths: dict[str, float], strategies=SCALING_STRATEGIES,
                   samples: int | None = 32, pdes=SCALING_PDES, augmentation: str = "none",
                   distribution: str = "id", fraction: str = "1") -> pd.DataFrame:
    """Test error per (strategy, backbone label of ``widths``), pretrained on ``fraction``, for
    the figure (as ``error_by_fraction``). Columns: strategy, model, width, n_seeds, mean,
    ci_low, ci_high, points."""
    _check_widths(results, widths)
    rows = _rows(results, list(widths), strategies, samples, pdes, augmentation, distribution)
    rows = rows[((rows["strategy"].astype(str) == "none")
                 | (rows["pretrain_fraction"].astype(str) == str(fraction))).to_numpy()]
    s = summarise(rows.assign(model=rows["model"].astype(str)), ["strategy", "model"])
    s.insert(2, "width", [float(widths[m]) for m in s["model"]])
    return s.sort_values(["strategy", "width"]).reset_index(drop=True)
