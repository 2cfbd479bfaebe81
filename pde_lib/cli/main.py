"""Command line: ``python -m pde_lib <command> ...``.

Each command is one module of ``pde_lib.cli`` defining ``add_arguments(parser)`` and ``run(args)``,
listed in ``COMMANDS``. A ``PDELibError`` is printed as one clear line (exit code 2)."""

from __future__ import annotations

import argparse
import importlib
import sys

from pde_lib.errors import PDELibError

#: command name -> (module, one-line help)
COMMANDS = {
    "generate": ("pde_lib.cli.generate", "generate a PDE dataset into an HDF5 file"),
    "train": ("pde_lib.cli.train", "train (or fine-tune) a backbone on one task"),
    "pretrain": ("pde_lib.cli.pretrain", "pretrain a backbone with one strategy"),
    "augment": ("pde_lib.cli.augment", "write augmented copies of a dataset"),
    "sweep": ("pde_lib.cli.sweep", "run a whole study grid from a parameter file"),
    "report": ("pde_lib.cli.report", "re-render the reports of a sweep folder"),
    "findings-page": ("pde_lib.cli.findings_page", "render the canonical findings page and the README's findings block"),
    "study-report": ("pde_lib.cli.study_report", "render the pre-registered study's report once every chunk is published"),
    "publish": ("pde_lib.cli.publish", "copy a finished sweep's results and provenance into a tracked folder"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or, with ``only``, of that command alone (the others are
    listed but their modules, and what they import, are not loaded: a fine-tune's start-up)."""
    parser = argparse.ArgumentParser(prog="python -m pde_lib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=help_text, description=help_text)
            continue
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:  # a command whose module is not written yet
            if exc.name != module:
                raise
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    args = build_parser(only=command).parse_args(argv)
    try:
        result = args._run(args)
    except PDELibError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
