"""Optimiser and schedule shared by every model and strategy (docs/protocol.md section 7): AdamW with
lr 1e-3 and weight decay 1e-6, cosine decay to ``lr_min`` over all optimiser steps."""

from __future__ import annotations

import math
from typing import Iterable

import torch

from pde_lib.errors import ConfigError


def make_optimizer(parameters: Iterable, lr: float = 1e-3, weight_decay: float = 1e-6,
                   capturable: bool = False) -> torch.optim.AdamW:
    """AdamW (identical hyper-parameters for every model). Uses the fused kernel when every
    parameter sits on a device that supports it (CPU or CUDA), else the multi-tensor one.

    ``capturable=True`` (CUDA only; for CUDA graphs): the lr is a device tensor that the
    scheduler fills in place, and the step count lives on the device."""
    if not lr > 0:
        raise ConfigError(f"lr must be > 0, got {lr!r}")
    if not weight_decay >= 0:
        raise ConfigError(f"weight_decay must be >= 0, got {weight_decay!r}")
    params = [p for p in parameters if p.requires_grad]
    if not params:
        raise ConfigError("make_optimizer: the model has no trainable parameters")
    devices = {p.device.type for p in params}
    if capturable:
        if devices != {"cuda"}:
            raise ConfigError(f"a capturable optimiser (CUDA graphs) needs CUDA parameters, got {sorted(devices)}")
        lr_t = torch.tensor(float(lr), device=params[0].device)
        return torch.optim.AdamW(params, lr=lr_t, weight_decay=weight_decay, fused=True, capturable=True)
    fused = devices <= {"cpu", "cuda"} and all(p.dtype.is_floating_point for p in params)
    try:
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=fused)
    except (RuntimeError, TypeError):  # an older torch without a fused kernel for this device
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, foreach=True)


def cosine_factor(step: int, total_steps: int, lr: float, lr_min: float) -> float:
    """Multiplier of the base lr after ``step`` optimiser steps:
    lr(step) = lr_min + (lr - lr_min) (1 + cos(pi min(step, total) / total)) / 2."""
    frac = min(step, total_steps) / total_steps
    return (lr_min + (lr - lr_min) * 0.5 * (1.0 + math.cos(math.pi * frac))) / lr


def make_scheduler(optimizer: torch.optim.Optimizer, total_steps: int,
                   lr_min: float = 1e-5) -> torch.optim.lr_scheduler.LambdaLR:
    """Cosine decay from each group's lr to ``lr_min`` over ``total_steps``; call ``.step()``
    after every optimiser step. The lr is exactly ``lr_min`` after ``total_steps`` steps (and
    stays there). Closed form, so a resumed schedule equals an uninterrupted one."""
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise ConfigError(f"total_steps must be an integer >= 1, got {total_steps!r}")
    if not lr_min >= 0:
        raise ConfigError(f"lr_min must be >= 0, got {lr_min!r}")
    lambdas = []
    for group in optimizer.param_groups:
        base = float(group.get("initial_lr", group["lr"]))  # a tensor lr (CUDA graphs) read once
        if lr_min > base:
            raise ConfigError(f"lr_min={lr_min} is larger than the learning rate {base}")
        lambdas.append(lambda step, base=base: cosine_factor(step, total_steps, base, lr_min))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambdas)
