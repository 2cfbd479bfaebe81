"""``run_training(config) -> metrics``: supervised training / fine-tuning of one backbone on one
task (docs/protocol.md sections 3 and 7), on the training engine.

Order of work: validate the config and every name, load and check all data (and augment the
training set), build the model (seeded) and load ``init``, check one forward pass, and only then
train (``run_setup.prepare_run``). Each epoch (``engine.driver``): a seeded permutation of the
training set (and, for next step, seeded start times), AdamW steps on the supervised objective
(the mean per-sample relative L2), a cosine lr step per optimiser step, a validation pass, an
atomic checkpoint when due (after the first and last epoch, at most every 30 s between). The state with the lowest valid error is kept and its test error is the
reported number (``run_setup.finish_run``). An epoch whose loss or weights are not finite stops
the run with a one-line TrainingError before its checkpoint is written (the last one written
stays; no model.pt or metrics.json is written).

Random streams, each seeded from ``config.seed`` alone: model initialisation (global torch RNG,
seeded just before the model is built), batch order and start times (a CPU ``torch.Generator``),
augmentation and input noise (their own generators); the training subset (``subset_draw``:
the first n samples, or a per-seed draw from ``subset_seed``, default ``seed``, see
``engine.subset``). Batch order and data subsets are therefore identical across strategies and
models for the same seed; ``metrics["train_subset"]`` records the train-file rows used."""

from __future__ import annotations

import math
import time
from typing import Callable

import torch

from pde_lib.engine.driver import train_runs
from pde_lib.engine.losses import relative_l2
from pde_lib.engine.optim import make_optimizer, make_scheduler
from pde_lib.engine.stepper import Stepper
from pde_lib.engine.windowing import fixed_future, next_step, random_starts
from pde_lib.training.config import TrainConfig
from pde_lib.training.run_setup import finish_run, prepare_run
from pde_lib.utils.device import resolve_device


class Batches:
    """Training batches of ``ds`` for one epoch, ``((x, y, coeffs), B)`` with x (B, window, N, N)
    (input noise added where ``ds.extra["input_noise"]`` is set, from ``gens["noise"]``), y
    (B, 1, N, N), coeffs (B, C): a seeded permutation (and, for next step, seeded start times)
    drawn from ``gens["data"]`` once per epoch, then gathered with tensor indexing."""

    def __init__(self, ds, config: TrainConfig, device):
        self.ds, self.config, self.device = ds, config, device
        self.n = len(self.ds)
        if config.task == "fixed_future":
            # Windows are the same every epoch: slice once (views of u), gather per batch.
            self.x_all, self.y_all = fixed_future(self.ds.u, config.window, config.target_frame)
        self.noise = self.ds.extra.get("input_noise")
        self._add_noise = None
        if self.noise is not None:
            from pde_lib.augmentations import add_input_noise

            self._add_noise = add_input_noise

    def epoch(self, gens: dict[str, torch.Generator]):
        cfg = self.config
        perm = torch.randperm(self.n, generator=gens["data"]).to(self.device)
        if cfg.task == "next_step":
            starts_all = random_starts(self.n, self.ds.u.shape[1], cfg.window, gens["data"], self.device)
        for i in range(0, self.n, cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            if cfg.task == "fixed_future":
                x, y = self.x_all[idx], self.y_all[idx]
            else:
                x, y = next_step(self.ds.u[idx], starts_all[i:i + cfg.batch_size], cfg.window)
            if self._add_noise is not None:
                x = self._add_noise(x, self.noise[idx], gens["noise"])  # inputs only, never the target
            yield (x, y, self.ds.coeffs[idx]), x.shape[0]


def supervised_objective(model: torch.nn.Module, grid: torch.Tensor):
    """The fine-tuning objective ``(x, y, coeffs) -> (mean per-sample relative L2, {})``."""
    def objective(x, y, coeffs):
        return relative_l2(model(x, grid, coeffs), y).mean(), {}
    return objective


def make_stepper(model, batches: Batches, optimizer, scheduler, gens: dict[str, torch.Generator]) -> Stepper:
    """The engine's step loop for one fine-tuning run: ``.epoch(e)[0]["loss"]`` is the epoch's
    mean per-sample training error."""
    return Stepper(supervised_objective(model, batches.ds.x), lambda epoch: batches.epoch(gens),
                   optimizer, scheduler, modules=(model,), clip_grad_norm=batches.config.clip_grad_norm)


def run_training(config: TrainConfig | dict, on_epoch_end: Callable[[int, dict], None] | None = None) -> dict:
    """Train ``config.model`` on ``config.task`` and return the metrics dict (also written to
    ``out/metrics.json`` when ``out`` is set). ``on_epoch_end(epoch, history)`` is called after
    each epoch (epoch counted from 1; the epoch's checkpoint is written before an exception from
    it propagates); an exception from it stops the run, which
    ``resume=True`` then continues exactly.

    Metrics: ``test_rel_l2`` / ``valid_rel_l2`` at the selected (lowest-valid) state,
    ``best_epoch`` (1-based), ``train_loss`` and ``valid_curve`` (per epoch; None where not
    evaluated), ``params``, ``seed``, ``git_commit``, ``data_sha256``, ``init``, ``n_params``,
    ``wall_time_s``, ``test_copy_last_rel_l2``; next step adds ``test_rollout_per_step``,
    ``test_one_step_rel_l2`` and ``rollout_frames`` (the frame each per-step entry predicts)."""
    t_start = time.perf_counter()
    if isinstance(config, dict):
        config = TrainConfig.from_dict(config)
    config.validate()
    if config.cuda_graphs:  # graphed steps gather inside the step: the stacked runner (here: one run)
        from pde_lib.training.group import run_training_group

        hook = None if on_epoch_end is None else (lambda epoch, histories: on_epoch_end(epoch, histories[0]))
        return run_training_group([config], on_epoch_end=hook)[0]
    device = resolve_device(config.device)
    from pde_lib.models import MODELS

    MODELS.get(config.model)  # fail on an unknown name before reading any data
    run = prepare_run(config, device)
    steps_per_epoch = math.ceil(len(run.data.train) / config.batch_size)
    optimizer = make_optimizer(run.model.parameters(), config.lr, config.weight_decay)
    scheduler = make_scheduler(optimizer, config.epochs * steps_per_epoch, config.lr_min, config.warmup_steps)
    run.restore_optimizer(optimizer, scheduler)
    stepper = make_stepper(run.model, Batches(run.data.train, config, device), optimizer, scheduler, run.gens)
    hook = None if on_epoch_end is None else (lambda epoch, histories: on_epoch_end(epoch, histories[0]))
    train_runs([run], stepper, epochs=config.epochs, desc=f"train {config.model}/{config.task}", on_epoch_end=hook)
    return finish_run(run, t_start)
