"""``python -m pde_lib report DIR``: rewrite results.csv from the metrics on disk and re-render
the report notebooks (DIR/reports/*.ipynb and *.html). ``--join A,B`` renders the reports that
can join other folders (the findings report) on DIR's results stacked with those of A and B:
runs of the same experiment at other seeds or settings (``report.joinable``)."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("sweep_dir", help="a sweep folder (holding cells/ and params.yaml)")
    p.add_argument("--only", default=None,
                   help="comma-separated report names (default: all), e.g. report_strategies")
    p.add_argument("--join", default=None,
                   help="comma-separated folders (sweep or published) whose results to join to DIR's, "
                        "same training settings, disjoint fine-tunes; renders report_findings only")


def run(args) -> int:
    from pathlib import Path

    from pde_lib.errors import ConfigError
    from pde_lib.report.aggregate import dir_list, join_results
    from pde_lib.sweep.render import JOINABLE_REPORTS, REPORTS, check_joinable_reports, render_reports
    from pde_lib.sweep.results import refresh_results

    sweep = Path(args.sweep_dir)
    if not (sweep / "cells").is_dir():
        raise ConfigError(f"{sweep} is not a sweep folder (no cells/ inside)")
    join = dir_list(args.join or "")
    default = JOINABLE_REPORTS if join else REPORTS
    names = default if args.only is None else [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [n for n in names if n not in REPORTS]
    if unknown:
        raise ConfigError(f"unknown report(s) {', '.join(unknown)}; valid: {', '.join(REPORTS)}")
    if join:
        check_joinable_reports(names)
    for d in join:
        if not Path(d).exists():
            raise ConfigError(f"--join: {d} does not exist")
    csv = refresh_results(sweep)
    print(f"wrote {csv}")
    if join:
        joined = join_results(sweep, join)  # the same checks the report makes, before a kernel starts
        print(f"joined {len(join)} folder(s): {len(joined)} fine-tunes")
    failed = 0
    for name, path in render_reports(sweep, names, extra_dirs=join).items():
        print(f"  {name}: {path}")
        failed += path.startswith("error")
    return 1 if failed else 0
