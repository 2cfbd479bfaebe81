"""Command line: ``python -m pde_lib <command> ...`` (``main.py``).

Each command is one module in this package defining ``add_arguments(parser)`` and ``run(args)``,
listed in ``main.COMMANDS``. A ``PDELibError`` is printed as one clear line (exit code 2)."""

from pde_lib.cli.main import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "build_parser", "main"]
