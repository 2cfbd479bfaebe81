"""Optimiser and schedule shared by every model and strategy (docs/protocol.md section 7): AdamW with
lr 1e-3 and weight decay 1e-6, cosine decay to ``lr_min`` over all optimiser steps.

Two options, off by default (then the schedule and the steps are exactly the old ones):
``warmup_steps`` W > 0 raises the lr linearly over the first W steps before the cosine decay
over the remaining ones; ``clip_grad_norm`` c rescales the gradients of all parameters together
so that their global L2 norm is at most c before each optimiser step."""

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


def warmup_cosine_factor(step: int, total_steps: int, lr: float, lr_min: float, warmup_steps: int = 0) -> float:
    """Multiplier of the base lr after ``step`` optimiser steps with a linear warm-up of W =
    ``warmup_steps`` steps: (step + 1) / W for step < W (so the W-th step uses the full lr), then
    ``cosine_factor(step - W, total_steps - W, ...)``. W = 0 is ``cosine_factor`` itself."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return cosine_factor(step - warmup_steps, total_steps - warmup_steps, lr, lr_min)


def check_warmup(warmup_steps, total_steps: int, what: str = "warmup_steps") -> int:
    """ConfigError unless ``warmup_steps`` is an integer in [0, total_steps)."""
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ConfigError(f"{what} must be an integer >= 0, got {warmup_steps!r}")
    if warmup_steps and warmup_steps >= total_steps:
        raise ConfigError(f"{what}={warmup_steps} must be smaller than the run's {total_steps} optimiser steps "
                          "(epochs x batches per epoch); lower it or raise epochs")
    return warmup_steps


def make_scheduler(optimizer: torch.optim.Optimizer, total_steps: int,
                   lr_min: float = 1e-5, warmup_steps: int = 0) -> torch.optim.lr_scheduler.LambdaLR:
    """Cosine decay from each group's lr to ``lr_min`` over ``total_steps`` (after a linear
    warm-up over the first ``warmup_steps``, if any: ``warmup_cosine_factor``); call ``.step()``
    after every optimiser step. The lr is exactly ``lr_min`` after ``total_steps`` steps (and
    stays there). Closed form, so a resumed schedule equals an uninterrupted one."""
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise ConfigError(f"total_steps must be an integer >= 1, got {total_steps!r}")
    check_warmup(warmup_steps, total_steps)
    if not lr_min >= 0:
        raise ConfigError(f"lr_min must be >= 0, got {lr_min!r}")
    lambdas = []
    for group in optimizer.param_groups:
        base = float(group.get("initial_lr", group["lr"]))  # a tensor lr (CUDA graphs) read once
        if lr_min > base:
            raise ConfigError(f"lr_min={lr_min} is larger than the learning rate {base}")
        if warmup_steps:
            lambdas.append(lambda step, base=base: warmup_cosine_factor(step, total_steps, base, lr_min,
                                                                        warmup_steps))
        else:
            lambdas.append(lambda step, base=base: cosine_factor(step, total_steps, base, lr_min))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambdas)


def clip_gradients(optimizer: torch.optim.Optimizer, max_norm: float | None) -> None:
    """Rescale the gradients of every parameter of ``optimizer`` so that their global L2 norm is
    at most ``max_norm`` (None: nothing). No host synchronisation (safe inside a CUDA graph)."""
    if max_norm is None:
        return
    params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    if params:
        torch.nn.utils.clip_grad_norm_(params, max_norm, foreach=True)


def check_clip(value, what: str = "clip_grad_norm"):
    """None, or a number > 0 (as float); else ConfigError."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(f"{what} must be a number > 0 or None (no clipping), got {value!r}")
    return float(value)
