"""Numbers for people: errors and losses printed with a fixed count of significant digits."""

from __future__ import annotations

import math


def sig(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, trailing zeros kept so the precision shows:
    1.0004 -> "1.000", 0.012345 -> "0.01235", 328.44 -> "328.4", 1.5e-6 -> "1.500e-06";
    a whole number with exactly ``digits`` digits drops the point (1234.4 -> "1234")."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:#.{digits}g}".rstrip(".")
