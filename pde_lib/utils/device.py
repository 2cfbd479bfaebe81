"""Devices: ``resolve_device(name) -> torch.device``, checking the device is actually present, so a
run on a machine without it stops with one line before any work instead of a CUDA traceback."""

from __future__ import annotations

import torch

from pde_lib.errors import ConfigError


def resolve_device(device: str) -> torch.device:
    """``torch.device`` for ``device``; ConfigError if it is malformed or not available here."""
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise ConfigError(f"device {device!r} is not a valid torch device ('cpu', 'cuda', 'cuda:0', ...)") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {device!r} requested but CUDA is not available on this machine; "
                              "use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) present "
                              f"(cuda:0..cuda:{torch.cuda.device_count() - 1})")
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ConfigError(f"device {device!r} requested but MPS is not available on this machine; "
                              "use --device cpu")
    elif dev.type != "cpu":
        raise ConfigError(f"device {device!r} is not supported; use 'cpu' or 'cuda[:i]'")
    return dev
