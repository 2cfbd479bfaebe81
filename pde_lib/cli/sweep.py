"""``python -m pde_lib sweep PARAMS --out DIR``: run (or resume) a whole study grid on Dask."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("params", help="study parameter file, e.g. parameters/smoke.yaml")
    p.add_argument("--out", default=None,
                   help="sweep folder (default: the machine profile's out_dir / the study name); "
                        "rerunning with the same folder resumes")
    p.add_argument("--machine", default=None,
                   help="machine profile (default: parameters/machines/local_cpu.yaml)")
    p.add_argument("--scheduler", default=None,
                   help="address of a running Dask scheduler (default: start a LocalCluster)")
    p.add_argument("--workers", type=int, default=None, help="LocalCluster worker processes (default: profile)")
    p.add_argument("--dashboard", action="store_true",
                   help="serve the local cluster's Dask dashboard on 127.0.0.1:8787 (default: none)")
    p.add_argument("--cells", default=None, metavar="ID[,ID...]",
                   help="run only these cells (ids as in results.csv's cell_id column; see --list-cells)")
    p.add_argument("--list-cells", action="store_true",
                   help="print the ids of the study's cells (one a line) and exit; runs nothing")
    p.add_argument("--no-reports", action="store_true", help="skip rendering the report notebooks")
    p.add_argument("--no-progress", action="store_true")


def run(args) -> int:
    from pde_lib.errors import ConfigError
    from pde_lib.sweep import run_sweep

    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}")
    if args.list_cells:
        from pde_lib.params import load_params
        from pde_lib.sweep import expand_grid, select_cells

        params = load_params(args.params)
        for cell in (expand_grid(params) if args.cells is None else select_cells(params, args.cells)):
            print(cell.id)
        return 0
    result = run_sweep(args.params, args.out, machine=args.machine, scheduler=args.scheduler,
                       n_workers=args.workers, progress=not args.no_progress, reports=not args.no_reports,
                       dashboard=args.dashboard or None, cells=args.cells)
    print(result.format())
    return 1 if result.failed or any(v.startswith("error") for v in result.reports.values()) else 0
