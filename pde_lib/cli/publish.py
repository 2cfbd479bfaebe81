"""``python -m pde_lib publish SWEEP_DIR DEST``: copy a finished sweep's results tables,
parameters, checksums and reports into a tracked folder with ``run.json`` (commit, machine, wall
time); see ``pde_lib.sweep.publish``."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("sweep_dir", help="a finished sweep folder (every cell done)")
    p.add_argument("dest", help="the published folder, e.g. outputs/published/laptop")
    p.add_argument("--wall-seconds", type=float, default=None,
                   help="the study's measured wall time, for a sweep folder without a complete runs.json")


def run(args) -> int:
    from pde_lib.sweep.publish import publish_sweep

    run = publish_sweep(args.sweep_dir, args.dest, wall_seconds=args.wall_seconds)
    print(f"published {args.sweep_dir} -> {args.dest}: {run['cells']} cells, {run['finetunes']} fine-tunes, "
          f"commit {run['git_commit'][:12]}, wall time {run['wall_time']} on {run['machine'].get('cpu')}")
    return 0
