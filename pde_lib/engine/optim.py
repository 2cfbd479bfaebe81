"""Optimiser and schedule shared by every model and strategy (docs/protocol.md section 7): AdamW with
lr 1e-3 and weight decay 1e-6, cosine decay to ``lr_min`` over all optimiser steps."""

from __future__ import annotations

import inspect
import math
import sys
from typing import Iterable

import torch

from pde_lib.errors import ConfigError


#: Optimizer methods that torch wraps in ``torch._disable_dynamo``
_DYNAMO_GUARDED = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")


def skip_dynamo_import() -> None:
    """Mark torch's dynamo-guarded ``Optimizer`` methods as their plain selves while
    ``torch._dynamo`` is not loaded, so their first call does not import it.

    torch wraps a few ``Optimizer`` methods in ``torch._disable_dynamo``, which imports
    ``torch._dynamo`` (about 1 s of CPU, a large part of a laptop-size fine-tune's start-up) on
    the first call only to mark the method as never compiled; the mark is cached on the function
    (``__dynamo_disable``). Nothing in pde_lib runs under ``torch.compile``, so the cached mark is
    set to the method itself: the same calls, no import. Once dynamo is loaded (someone
    compiles), torch's own path is left alone."""
    if "torch._dynamo" in sys.modules:
        return
    for name in _DYNAMO_GUARDED:
        fn = getattr(getattr(torch.optim.Optimizer, name, None), "__wrapped__", None)
        if fn is not None and getattr(fn, "__dynamo_disable", None) is None:
            setattr(fn, "__dynamo_disable", fn)


class AdamW(torch.optim.AdamW):
    """``torch.optim.AdamW`` whose ``step`` runs torch's own step function under ``no_grad``
    without its dynamo guard, which imports ``torch._dynamo`` on every process's first step
    (see ``skip_dynamo_import``); the same update, the same state dict. Under ``torch.compile``
    (dynamo loaded) torch's guarded step is used."""

    def __init__(self, *args, **kwargs):
        skip_dynamo_import()
        super().__init__(*args, **kwargs)

    def step(self, closure=None):
        guarded = torch.optim.AdamW.step
        plain = inspect.unwrap(guarded)  # torch's step function, below its guard (and hooks)
        if (plain is guarded or not plain.__qualname__.endswith(".step") or "torch._dynamo" in sys.modules
                or self.defaults.get("differentiable")):
            return guarded(self, closure)
        with torch.no_grad():
            return plain(self, closure)


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
        return AdamW(params, lr=lr_t, weight_decay=weight_decay, fused=True, capturable=True)
    fused = devices <= {"cpu", "cuda"} and all(p.dtype.is_floating_point for p in params)
    try:
        return AdamW(params, lr=lr, weight_decay=weight_decay, fused=fused)
    except (RuntimeError, TypeError):  # an older torch without a fused kernel for this device
        return AdamW(params, lr=lr, weight_decay=weight_decay, foreach=True)


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
