"""What a fine-tuning run has before its first step and does after its last, shared by the
single-run trainer (``trainer.py``) and the stacked runner (``group.py``); the epochs between are
the engine's (``engine.driver``).

``prepare_run(config, device) -> RunState``: load and check the data, build the seeded model and
load ``init``, check one forward pass, seed the random streams and read the checkpoint to resume
from: everything that can fail does so before any training. ``RunState.end_epoch`` is the
per-epoch validation and best-state selection. ``finish_run`` loads the selected state, evaluates
valid and test and writes ``model.pt``, ``test_per_sample.json`` (each test sample's error, its
copy-last-frame error and its data seed, in test-file order, so comparisons can pair on test
samples) and, last, ``metrics.json``."""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any

import torch

from pde_lib.engine.checkpoint import load_backbone, save_backbone
from pde_lib.engine.run import CHECKPOINT_NAME, Run, check_resume
from pde_lib.engine.seeding import build_run_model, derived_seed
from pde_lib.errors import ConfigError
from pde_lib.training.config import TrainConfig
from pde_lib.training.data import RunData, load_run_data
from pde_lib.training.evaluate import copy_last_errors, evaluate
from pde_lib.utils.atomic import write_json
from pde_lib.utils.formatting import sig
from pde_lib.utils.provenance import environment, git_commit, sha256_file

__all__ = ["CHECKPOINT_NAME", "METRICS_NAME", "PER_SAMPLE_NAME", "BACKBONE_NAME", "RunState", "prepare_run",
           "finish_run"]

METRICS_NAME = "metrics.json"
PER_SAMPLE_NAME = "test_per_sample.json"
BACKBONE_NAME = "model.pt"


def check_forward(model, data: RunData, config: TrainConfig) -> None:
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


class RunState(Run):
    """One fine-tuning run: the engine's ``Run`` (model, random streams ``data`` and ``noise``,
    best state, history ``train_loss`` / ``valid_curve`` / ``wall_time_s``, start epoch, loaded
    checkpoint) plus its data and the ``init`` backbone it started from."""

    resume_ignores = ("resume", "progress", "out", "cuda_graphs")

    def __init__(self, config: TrainConfig, data: RunData, model: torch.nn.Module,
                 gens: dict[str, torch.Generator], init_info: dict | None = None):
        super().__init__(config, model, gens, history={"train_loss": [], "valid_curve": []})
        self.data, self.init_info = data, init_info

    @property
    def what(self) -> str:
        c = self.config
        return f"training {c.model}/{c.task}" + (f" into {c.out}" if c.out is not None else "")

    def end_epoch(self, epoch: int, scores: dict[str, float]) -> dict:
        """Validate when due (every ``eval_every`` epochs and after the last), keep the state
        with the lowest valid error, record ``train_loss`` and ``valid_curve``."""
        c = self.config
        valid = None
        if c.validates_after(epoch + 1):
            valid = evaluate(self.model, self.data.valid, c.task, c.window, c.target_frame, c.batch_size,
                             full=False)["rel_l2"]
            if valid < self.best["valid"]:
                self.best = {"epoch": epoch + 1, "valid": valid,
                             "state_dict": {k: v.detach().clone() for k, v in self.model.state_dict().items()}}
        self.history["train_loss"].append(scores["loss"])
        self.history["valid_curve"].append(valid)
        return {"loss": scores["loss"], "valid": valid}

    def postfix(self, report: dict) -> dict:
        return {"loss": sig(report["loss"]), "valid": "-" if report["valid"] is None else sig(report["valid"])}


def prepare_run(config: TrainConfig, device: torch.device) -> RunState:
    """Load and check the data, build and initialise the model, check one forward pass and read
    the checkpoint to resume from: everything that can fail does so before any training."""
    check_resume(config)
    data = load_run_data(config, device)
    model = build_run_model(config)
    init_info = None
    if config.init is not None:
        load_backbone(config.init, model)
        init_info = {"path": str(config.init), "sha256": sha256_file(config.init)}
    model.to(device)
    check_forward(model, data, config)
    gens = {"data": torch.Generator().manual_seed(derived_seed(config.seed, "data")),
            "noise": torch.Generator(device=device).manual_seed(derived_seed(config.seed, "noise"))}
    run = RunState(config, data, model, gens, init_info)
    run.resume()
    return run


def select_best(model, best: dict, epochs: int) -> dict:
    """Load the selected (lowest-valid) state into ``model``; without any finite validation
    error, warn and keep the final state."""
    if best["state_dict"] is None:
        warnings.warn("no finite validation error in any epoch; reporting the final state")
        best = {"epoch": epochs, "valid": math.nan,
                "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()}}
    model.load_state_dict(best["state_dict"])
    return best


def finish_run(run: RunState, t_start: float, engine: dict | None = None) -> dict:
    """Load the selected state, evaluate it on valid and test, write model.pt and metrics.json;
    return the metrics. ``engine``: how the run was stepped (stacked runs, CUDA graphs)."""
    config, model, data, history, init_info = run.config, run.model, run.data, run.history, run.init_info
    best = select_best(model, run.best, config.epochs)
    args = (config.task, config.window, config.target_frame, config.batch_size)
    valid = evaluate(model, data.valid, *args)
    test = evaluate(model, data.test, *args)
    copy_last = copy_last_errors(data.test, config.task, config.window, config.target_frame)
    per_sample = {"rel_l2": test.pop("per_sample"), "copy_last_rel_l2": copy_last.tolist(),
                  "sample_seed": data.test.seed.tolist()}
    valid.pop("per_sample", None)
    metrics: dict[str, Any] = {
        "model": config.model, "task": config.task,
        "test_rel_l2": test["rel_l2"], "valid_rel_l2": valid["rel_l2"], "best_epoch": best["epoch"],
        "train_loss": history["train_loss"], "valid_curve": history["valid_curve"],
        "test_copy_last_rel_l2": copy_last.mean().item(),
        "params": config.to_dict(), "seed": config.seed, "git_commit": git_commit(),
        "data_sha256": {"train": data.train.sha256, "valid": data.valid.sha256, "test": data.test.sha256},
        "init": init_info, "n_params": sum(p.numel() for p in model.parameters()),
        "model_config": dict(model.config),
        "n_train": data.n_train_original, "n_train_augmented": len(data.train),
        "train_subset": config.subset_record(data.train_rows),
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
    if config.out is not None:  # metrics.json last: it marks the fine-tune as finished
        write_json(Path(config.out) / PER_SAMPLE_NAME, per_sample)
        write_json(Path(config.out) / METRICS_NAME, metrics)
    return metrics
