"""``run_training(config) -> metrics``: supervised training / fine-tuning of one backbone on one
task (STUDY_SPEC sections 3 and 7).

Order of work: validate the config and every name, load and check all data (and augment the
training set), build the model (seeded) and load ``init``, check one forward pass, and only then
train. Each epoch: a seeded permutation of the training set (and, for next step, seeded start
times), AdamW steps on the mean per-sample relative L2, a cosine lr step per optimiser step, a
validation pass, an atomic checkpoint. The state with the lowest valid error is kept and its
test error is the reported number.

Random streams, each seeded from ``config.seed`` alone: model initialisation (global torch RNG,
seeded just before the model is built), batch order and start times (a CPU ``torch.Generator``),
augmentation and input noise (their own generators). Batch order and data subsets are therefore
identical across strategies and models for the same seed."""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import torch
from tqdm.auto import tqdm

from pde_lib.errors import ConfigError
from pde_lib.training.checkpoint import (load_backbone, load_training_state, save_backbone,
                                         save_training_state, set_rng_state)
from pde_lib.training.config import TrainConfig
from pde_lib.training.data import RunData, derived_seed, load_run_data, resolve_device
from pde_lib.training.evaluate import copy_last_baseline, evaluate
from pde_lib.training.losses import relative_l2
from pde_lib.training.optim import make_optimizer, make_scheduler
from pde_lib.training.windowing import fixed_future, next_step, random_starts
from pde_lib.utils.atomic import write_json
from pde_lib.utils.provenance import environment, git_commit, sha256_file

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.json"
BACKBONE_NAME = "model.pt"
#: config keys that may change between an interrupted run and its resumption
RESUME_IGNORES = ("resume", "progress", "out", "cuda_graphs")


def build_run_model(config: TrainConfig) -> torch.nn.Module:
    """The backbone for ``config``, its weights initialised from ``config.seed`` (on CPU, so the
    initialisation is the same on every device)."""
    from pde_lib.models import MODELS, build_model

    MODELS.get(config.model)  # ConfigError listing the valid names
    torch.manual_seed(config.seed)
    return build_model(config.model, in_frames=config.window, coeff_dim=5,
                       condition_on_coeffs=config.condition_on_coeffs, **config.model_kwargs)


def _check_forward(model, data: RunData, config: TrainConfig) -> None:
    """One no-grad forward on two samples, so a model/data mismatch fails before training."""
    ds = data.train
    x = ds.u[:2, :config.window]
    try:
        with torch.no_grad():
            y = model(x, ds.x, ds.coeffs[:2])
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(f"model {config.model!r} cannot process the training data "
                          f"(frames {tuple(x.shape)}): {exc}") from exc
    if tuple(y.shape) != (x.shape[0], 1, *x.shape[2:]):
        raise ConfigError(f"model {config.model!r} returned {tuple(y.shape)}; expected {(x.shape[0], 1, *x.shape[2:])}")


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
    if config.resume and config.out is None:
        raise ConfigError("resume=True needs an out folder holding the checkpoint to resume from")
    from pde_lib.models import MODELS

    MODELS.get(config.model)  # fail on an unknown name before reading any data
    data = load_run_data(config, device)
    model = build_run_model(config)
    init_info = None
    if config.init is not None:
        load_backbone(config.init, model)
        init_info = {"path": str(config.init), "sha256": sha256_file(config.init)}
    model.to(device)
    _check_forward(model, data, config)

    steps_per_epoch = math.ceil(len(data.train) / config.batch_size)
    optimizer = make_optimizer(model.parameters(), config.lr, config.weight_decay)
    scheduler = make_scheduler(optimizer, config.epochs * steps_per_epoch, config.lr_min)
    gens = {"data": torch.Generator().manual_seed(derived_seed(config.seed, "data")),
            "noise": torch.Generator(device=device).manual_seed(derived_seed(config.seed, "noise"))}
    history: dict[str, Any] = {"train_loss": [], "valid_curve": [], "wall_time_s": 0.0}
    best: dict[str, Any] = {"epoch": None, "valid": math.inf, "state_dict": None}
    start_epoch = 0

    out = Path(config.out) if config.out is not None else None
    ckpt_path = out / CHECKPOINT_NAME if out is not None else None
    cfg_dict = config.to_dict()
    if config.resume and ckpt_path.exists():
        state = load_training_state(ckpt_path, cfg_dict, ignore=RESUME_IGNORES)
        model.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        for k, g in gens.items():
            g.set_state(state["generators"][k])
        set_rng_state(state["rng"])
        best, history, start_epoch = state["best"], state["history"], state["epoch"]

    batches = Batches(data.train, config, device)
    bar = tqdm(range(start_epoch, config.epochs), desc=f"train {config.model}/{config.task}",
               unit="epoch", disable=not config.progress, initial=start_epoch, total=config.epochs)
    for epoch in bar:
        t_epoch = time.perf_counter()
        train_loss = train_epoch(model, batches, optimizer, scheduler, gens)
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
        bar.set_postfix(loss=f"{train_loss:.4f}", valid="-" if valid is None else f"{valid:.4f}")
        if ckpt_path is not None:
            save_training_state(ckpt_path, config=cfg_dict, epoch=epoch + 1, model=model,
                                optimizer=optimizer, scheduler=scheduler, generators=gens,
                                best=best, history=history)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, history)
    bar.close()
    best = _select_best(model, best, config.epochs)
    return _finish(config, model, data, best, history, init_info, t_start)


def _select_best(model, best: dict, epochs: int) -> dict:
    """Load the selected (lowest-valid) state into ``model``; without any finite validation
    error, warn and keep the final state."""
    if best["state_dict"] is None:
        warnings.warn("no finite validation error in any epoch; reporting the final state")
        best = {"epoch": epochs, "valid": math.nan,
                "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()}}
    model.load_state_dict(best["state_dict"])
    return best


def _finish(config, model, data: RunData, best, history, init_info, t_start, engine: dict | None = None) -> dict:
    """Evaluate the selected state on valid and test, write model.pt and metrics.json.
    ``engine``: how the run was stepped (stacked with how many runs, CUDA graphs)."""
    args = (config.task, config.window, config.target_frame, config.batch_size)
    valid = evaluate(model, data.valid, *args)
    test = evaluate(model, data.test, *args)
    metrics: dict[str, Any] = {
        "model": config.model, "task": config.task,
        "test_rel_l2": test["rel_l2"], "valid_rel_l2": valid["rel_l2"], "best_epoch": best["epoch"],
        "train_loss": history["train_loss"], "valid_curve": history["valid_curve"],
        "test_copy_last_rel_l2": copy_last_baseline(data.test, config.task, config.window, config.target_frame),
        "params": config.to_dict(), "seed": config.seed, "git_commit": git_commit(),
        "data_sha256": {"train": data.train.sha256, "valid": data.valid.sha256, "test": data.test.sha256},
        "init": init_info, "n_params": sum(p.numel() for p in model.parameters()),
        "model_config": dict(model.config),
        "n_train": data.n_train_original, "n_train_augmented": len(data.train),
        "n_valid": len(data.valid), "n_test": len(data.test),
        "environment": environment(),
        "engine": engine or {"stacked_runs": 1, "cuda_graphs": False},
    }
    if config.task == "next_step":
        metrics.update({
            "test_rollout_per_step": test["rollout_per_step"], "test_one_step_rel_l2": test["one_step_rel_l2"],
            "test_one_step_per_step": test["one_step_per_step"], "rollout_frames": test["rollout_frames"],
            "valid_one_step_rel_l2": valid["one_step_rel_l2"]})
    if config.out is not None:
        out = Path(config.out)
        save_backbone(out / BACKBONE_NAME, model, extra={"best_epoch": best["epoch"], "task": config.task,
                                                       "data_sha256": metrics["data_sha256"]})
    metrics["wall_time_s"] = history["wall_time_s"]  # training epochs, summed over resumptions
    metrics["wall_time_total_s"] = time.perf_counter() - t_start
    if config.out is not None:
        write_json(Path(config.out) / METRICS_NAME, metrics)
    return metrics
