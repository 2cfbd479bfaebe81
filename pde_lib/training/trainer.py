"""``run_training(config) -> metrics``: supervised training / fine-tuning of one backbone on one
task (docs/protocol.md sections 3 and 7).

Order of work: validate the config and every name, load and check all data (and augment the
training set), build the model (seeded) and load ``init``, check one forward pass, and only then
train. Each epoch: a seeded permutation of the training set (and, for next step, seeded start
times), AdamW steps on the mean per-sample relative L2, a cosine lr step per optimiser step, a
validation pass, an atomic checkpoint. The state with the lowest valid error is kept and its
test error is the reported number. An epoch whose loss or weights are not finite stops the run
with a one-line TrainingError before its checkpoint is written (the previous epoch's stays; no
model.pt or metrics.json is written).

Random streams, each seeded from ``config.seed`` alone: model initialisation (global torch RNG,
seeded just before the model is built), batch order and start times (a CPU ``torch.Generator``),
augmentation and input noise (their own generators). Batch order and data subsets are therefore
identical across strategies and models for the same seed."""

from __future__ import annotations

import math
import time
from typing import Callable

import torch
from tqdm.auto import tqdm

from pde_lib.training.checkpoint import save_training_state, set_rng_state
from pde_lib.training.config import TrainConfig
from pde_lib.training.data import resolve_device
from pde_lib.training.evaluate import evaluate
from pde_lib.training.losses import relative_l2
from pde_lib.training.optim import make_optimizer, make_scheduler
from pde_lib.training.run_setup import build_run_model, divergence_context, finish_run, prepare_run  # noqa: F401 (build_run_model re-exported)
from pde_lib.training.windowing import fixed_future, next_step, random_starts
from pde_lib.utils.divergence import check_epoch, finite_weights
from pde_lib.utils.formatting import sig

class Batches:
    """Yields (x, y, noise_std | None, coeffs) training batches of ``ds`` for one epoch: a seeded
    permutation (and, for next step, seeded start times) drawn once per epoch, then gathered
    with tensor indexing."""

    def __init__(self, ds, config: TrainConfig, device):
        self.ds, self.config, self.device = ds, config, device
        self.n = len(self.ds)
        if config.task == "fixed_future":
            # Windows are the same every epoch: slice once (views of u), gather per batch.
            self.x_all, self.y_all = fixed_future(self.ds.u, config.window, config.target_frame)
        self.noise = self.ds.extra.get("input_noise")

    def epoch(self, gen: torch.Generator):
        cfg = self.config
        perm = torch.randperm(self.n, generator=gen).to(self.device)
        if cfg.task == "next_step":
            starts_all = random_starts(self.n, self.ds.u.shape[1], cfg.window, gen, self.device)
        for i in range(0, self.n, cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            if cfg.task == "fixed_future":
                x, y = self.x_all[idx], self.y_all[idx]
            else:
                x, y = next_step(self.ds.u[idx], starts_all[i:i + cfg.batch_size], cfg.window)
            std = None if self.noise is None else self.noise[idx]
            yield x, y, std, self.ds.coeffs[idx]


def train_epoch(model, batches: Batches, optimizer, scheduler, gens: dict[str, torch.Generator]) -> float:
    """One pass over ``batches``: mean per-sample relative L2 loss, AdamW step, cosine lr step per
    batch. Returns the epoch's mean per-sample training error (one device sync per epoch)."""
    model.train()
    grid = batches.ds.x
    noise_fn = None
    if batches.noise is not None:
        from pde_lib.augmentations import add_input_noise as noise_fn
    loss_sum = torch.zeros((), device=grid.device)
    for x, y, std, coeffs in batches.epoch(gens["data"]):
        if noise_fn is not None:
            x = noise_fn(x, std, gens["noise"])  # inputs only, never the target
        loss = relative_l2(model(x, grid, coeffs), y).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        loss_sum += loss.detach() * x.shape[0]
    return loss_sum.item() / batches.n


def run_training(config: TrainConfig | dict, on_epoch_end: Callable[[int, dict], None] | None = None) -> dict:
    """Train ``config.model`` on ``config.task`` and return the metrics dict (also written to
    ``out/metrics.json`` when ``out`` is set). ``on_epoch_end(epoch, history)`` is called after
    each epoch's checkpoint (epoch counted from 1); an exception from it stops the run, which
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
    if config.cuda_graphs:  # the graphed engine lives in the stacked runner (here: one run)
        from pde_lib.training.group import run_training_group

        hook = None if on_epoch_end is None else (lambda epoch, histories: on_epoch_end(epoch, histories[0]))
        return run_training_group([config], on_epoch_end=hook)[0]
    device = resolve_device(config.device)
    from pde_lib.models import MODELS

    MODELS.get(config.model)  # fail on an unknown name before reading any data
    run = prepare_run(config, device)
    model, data, gens = run.model, run.data, run.gens
    steps_per_epoch = math.ceil(len(data.train) / config.batch_size)
    optimizer = make_optimizer(model.parameters(), config.lr, config.weight_decay)
    scheduler = make_scheduler(optimizer, config.epochs * steps_per_epoch, config.lr_min)
    if run.state is not None:
        optimizer.load_state_dict(run.state["optimizer"])
        scheduler.load_state_dict(run.state["scheduler"])
        set_rng_state(run.state["rng"])
        run.state = None
    best, history, start_epoch = run.best, run.history, run.start_epoch
    ckpt_path, cfg_dict = run.ckpt_path, config.to_dict()

    batches = Batches(data.train, config, device)
    bar = tqdm(range(start_epoch, config.epochs), desc=f"train {config.model}/{config.task}",
               unit="epoch", disable=not config.progress, initial=start_epoch, total=config.epochs)
    for epoch in bar:
        t_epoch = time.perf_counter()
        train_loss = train_epoch(model, batches, optimizer, scheduler, gens)
        check_epoch(train_loss, finite_weights(model.parameters())[0],
                    **divergence_context(config, ckpt_path, epoch))  # before anything is written
        valid = None
        if (epoch + 1) % config.eval_every == 0 or epoch + 1 == config.epochs:
            valid = evaluate(model, data.valid, config.task, config.window, config.target_frame,
                             config.batch_size, full=False)["rel_l2"]
            if valid < best["valid"]:
                best = {"epoch": epoch + 1, "valid": valid,
                        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()}}
        history["train_loss"].append(train_loss)
        history["valid_curve"].append(valid)
        history["wall_time_s"] += time.perf_counter() - t_epoch
        bar.set_postfix(loss=sig(train_loss), valid="-" if valid is None else sig(valid))
        if ckpt_path is not None:
            save_training_state(ckpt_path, config=cfg_dict, epoch=epoch + 1, model=model,
                                optimizer=optimizer, scheduler=scheduler, generators=gens,
                                best=best, history=history)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, history)
    bar.close()
    run.best = best
    return finish_run(run, t_start)
