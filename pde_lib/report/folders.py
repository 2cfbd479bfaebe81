"""Where a report's tables live: a sweep or published folder, or the folder of its results.csv."""

from __future__ import annotations

from pathlib import Path


def sweep_folder(sweep_dir: str | Path) -> Path:
    """The sweep folder of ``sweep_dir`` (a folder, or its ``results.csv``)."""
    p = Path(sweep_dir)
    return p.parent if p.suffix == ".csv" else p
