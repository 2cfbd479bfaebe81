"""``python -m pde_lib report DIR``: rewrite results.csv from the metrics on disk and re-render
the report notebooks (DIR/reports/*.ipynb and *.html)."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("sweep_dir", help="a sweep folder (holding cells/ and params.yaml)")
    p.add_argument("--only", default=None,
                   help="comma-separated report names (default: all), e.g. report_strategies")


def run(args) -> int:
    from pathlib import Path

    from pde_lib.errors import ConfigError
    from pde_lib.sweep.render import REPORTS, render_reports
    from pde_lib.sweep.results import refresh_results

    sweep = Path(args.sweep_dir)
    if not (sweep / "cells").is_dir():
        raise ConfigError(f"{sweep} is not a sweep folder (no cells/ inside)")
    names = REPORTS if args.only is None else [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [n for n in names if n not in REPORTS]
    if unknown:
        raise ConfigError(f"unknown report(s) {', '.join(unknown)}; valid: {', '.join(REPORTS)}")
    csv = refresh_results(sweep)
    print(f"wrote {csv}")
    failed = 0
    for name, path in render_reports(sweep, names).items():
        print(f"  {name}: {path}")
        failed += path.startswith("error")
    return 1 if failed else 0
