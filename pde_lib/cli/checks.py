"""Checks every command runs on its arguments before any work: the device is present, an output
is never one of the inputs (also through symlinks, hard links or another spelling of the path),
and an existing output is replaced only with ``--overwrite`` (a training run's folder may also be
continued with ``--resume``). Each failure is a one-line ``ConfigError``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from pde_lib.errors import ConfigError
from pde_lib.utils.device import resolve_device

OVERWRITE_HELP = "replace an existing output (default: refuse); the new one replaces it only once complete"


def add_overwrite_argument(p) -> None:
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)


def check_device(device: str) -> None:
    """ConfigError unless ``device`` is a valid torch device present on this machine."""
    resolve_device(device)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file: the same inode when both exist, else the same
    fully resolved path (symlinks, ``..`` and relative spellings resolved)."""
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def refuse_inputs(outputs: Iterable[Path], inputs: Iterable[tuple[str, str | None]], out_flag: str = "--out") -> None:
    """ConfigError if any output path is the same file as an input (``(flag, path)`` pairs)."""
    for out in outputs:
        for flag, path in inputs:
            if path is not None and same_file(out, path):
                raise ConfigError(f"{out_flag} {out} is the same file as {flag} {path}: writing it would "
                                  f"destroy the input; choose another {out_flag}")


def check_output_file(out: str, inputs: Iterable[tuple[str, str | None]] = (), overwrite: bool = False) -> None:
    """An output file path: not an input, not a folder, and new unless ``overwrite``."""
    path = Path(out)
    refuse_inputs([path], list(inputs))
    if path.is_dir():
        raise ConfigError(f"--out {path} is a directory; expected a file path")
    if path.exists() and not overwrite:
        raise ConfigError(f"--out {path} already exists; pass --overwrite to replace it")


def check_output_folder(out: str, results: Iterable[str], inputs: Iterable[tuple[str, str | None]] = (),
                        overwrite: bool = False, resume: bool = False, can_resume: bool = False) -> list[Path]:
    """A run's output folder: not a file, none of its ``results`` files an input, and holding none
    of them unless ``overwrite`` (or ``resume``, which continues the run; ``can_resume``: the
    command has ``--resume``). Returns the result files ``overwrite`` replaces (to remove once
    every check has passed; none without it)."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out {folder} is a file; expected a folder")
    if overwrite and resume:
        raise ConfigError("--overwrite and --resume contradict each other: pass one of them")
    files = [folder / name for name in results]
    refuse_inputs(files, list(inputs))
    present = [f for f in files if f.exists()]
    if present and not (overwrite or resume):
        raise ConfigError(f"--out {folder} already holds a run ({', '.join(f.name for f in present)}); pass "
                          f"--overwrite to replace it{' or --resume to continue it' if can_resume else ''}")
    return present if overwrite else []


def remove(paths: Iterable[Path]) -> None:
    """Remove the old results ``--overwrite`` replaces, so none of them outlives a failed rerun."""
    for p in paths:
        p.unlink(missing_ok=True)
