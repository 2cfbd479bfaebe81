"""``run_training_group(configs) -> [metrics]``: several training runs stepped together as
stacked runs (``engine.stacked``: a ``StackedStepper`` in the engine's driver), optionally
replayed as CUDA graphs (``engine.cuda_graph``).

Each run gets what ``run_training`` would give it: the same checks before training, the same
initialisation, batches, noise and schedule, its own model selection on valid, its own
``checkpoint.pt`` (in the single-run format, so either runner can resume it), ``model.pt`` and
``metrics.json``. Results equal separate runs up to the rounding of batched kernels
(tests/test_training_stacked.py). ``metrics["engine"]`` records how the run was stepped.

Runs must agree on every key in ``STACK_KEYS`` (architecture, task, schedule, device). After
loading, runs step together in subgroups of equal training-set shape (samples, frames, grid) and
completed epochs: a run with more augmented copies, on a finer grid, or resumed further along
forms its own subgroup. A run whose loss or weights go non-finite stops the whole group with a
TrainingError before any checkpoint of that epoch is written."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable, Sequence

from pde_lib.engine.driver import train_runs
from pde_lib.engine.optim import make_optimizer, make_scheduler
from pde_lib.engine.stacked import (StackedModel, StackedStepper, restore_group_options,
                                    stack_optimizer_states)
from pde_lib.errors import ConfigError
from pde_lib.training.config import TrainConfig
from pde_lib.training.run_setup import RunState, finish_run, prepare_run
from pde_lib.training.stacked_data import StackedBatches
from pde_lib.utils.device import resolve_device

#: keys every run of a group must share
STACK_KEYS = ("model", "model_kwargs", "condition_on_coeffs", "task", "window", "target_frame", "epochs",
              "batch_size", "lr", "weight_decay", "lr_min", "device", "eval_every", "cuda_graphs", "warmup_steps")


def check_stackable(configs: Sequence[TrainConfig]) -> None:
    """ConfigError unless the runs share ``STACK_KEYS`` and write to distinct folders."""
    first = configs[0]
    for i, c in enumerate(configs[1:], 1):
        diff = [f"{k}: {getattr(first, k)!r} vs {getattr(c, k)!r}" for k in STACK_KEYS
                if getattr(first, k) != getattr(c, k)]
        if diff:
            raise ConfigError(f"runs 0 and {i} cannot be trained together; they differ in {'; '.join(diff)}")
    outs = [str(Path(c.out).resolve()) for c in configs if c.out is not None]
    if len(outs) != len(set(outs)):
        raise ConfigError(f"runs trained together need distinct out folders; got {outs}")


def _optimizer(stacked: StackedModel, members: list[RunState], steps_per_epoch: int):
    """AdamW + cosine over the stacked weights; a resumed group stacks its runs' saved states
    (the global RNG is not restored: stacked steps draw none)."""
    cfg = members[0].config
    capturable = cfg.cuda_graphs and next(iter(stacked.params.values())).device.type == "cuda"
    optimizer = make_optimizer(stacked.parameters(), cfg.lr, cfg.weight_decay, capturable=capturable)
    scheduler = make_scheduler(optimizer, cfg.epochs * steps_per_epoch, cfg.lr_min, cfg.warmup_steps)
    if members[0].state is not None:
        live = [{k: g[k] for k in ("capturable", "fused", "foreach", "lr", "initial_lr") if k in g}
                for g in optimizer.param_groups]
        optimizer.load_state_dict(stack_optimizer_states([m.state["optimizer"] for m in members]))
        restore_group_options(optimizer, live)
        scheduler.load_state_dict(members[0].state["scheduler"])
    for m in members:
        m.state = None  # free the loaded checkpoint
    return optimizer, scheduler


def train_stack(members: list[RunState], on_epoch_end: Callable | None = None) -> dict:
    """Train ``members`` (equal training-set shape and completed epochs) together to the end;
    return how they were stepped (``metrics["engine"]``)."""
    cfg = members[0].config
    stacked = StackedModel([m.model for m in members])
    batches = StackedBatches([m.data.train for m in members], cfg.task, cfg.window, cfg.target_frame,
                             cfg.batch_size)
    optimizer, scheduler = _optimizer(stacked, members, math.ceil(batches.n / cfg.batch_size))
    data_gens, noise_gens = [m.gens["data"] for m in members], [m.gens["noise"] for m in members]
    stepper = StackedStepper(stacked, batches.objective(stacked), lambda epoch: batches.epoch(data_gens, noise_gens),
                             optimizer, scheduler, cuda_graphs=cfg.cuda_graphs and batches.device.type == "cuda")
    train_runs(members, stepper, epochs=cfg.epochs, desc=f"train {len(members)} x {cfg.model}/{cfg.task}",
               on_epoch_end=on_epoch_end)
    return {"stacked_runs": len(members), "cuda_graphs": bool(stepper.step.enabled),
            "cuda_graph_shapes": stepper.step.n_graphs}


def run_training_group(configs: Sequence[TrainConfig | dict],
                       on_epoch_end: Callable[[int, list[dict]], None] | None = None) -> list[dict]:
    """Train every config (see the module docstring) and return their metrics, in order.
    ``on_epoch_end(epoch, histories)`` is called after each stacked epoch (its checkpoints are
    written before an exception from it propagates)."""
    from pde_lib.models import MODELS

    t_start = time.perf_counter()
    configs = [TrainConfig.from_dict(c) if isinstance(c, dict) else c for c in configs]
    if not configs:
        raise ConfigError("run_training_group needs at least one config")
    for c in configs:
        c.validate()
        if c.clip_grad_norm is not None:  # one global norm would couple the stacked runs
            raise ConfigError(f"clip_grad_norm={c.clip_grad_norm} is not supported for stacked runs or CUDA graphs "
                              "(a global gradient norm would couple the runs); train the run alone, without "
                              "stack_finetunes / cuda_graphs")
    check_stackable(configs)
    device = resolve_device(configs[0].device)
    MODELS.get(configs[0].model)  # fail on an unknown name before reading any data
    members = [prepare_run(c, device) for c in configs]
    subgroups: dict[tuple, list[RunState]] = {}
    for m in members:
        subgroups.setdefault((tuple(m.data.train.u.shape), m.start_epoch), []).append(m)
    engines: dict[int, dict] = {}  # id(run) -> engine; runs already finished before this call: none
    for group in subgroups.values():
        if group[0].start_epoch < group[0].config.epochs:
            engine = train_stack(group, on_epoch_end)
            engines.update({id(m): engine for m in group})
    return [finish_run(m, t_start, engine=engines.get(id(m))) for m in members]
