"""``Run``: one run as the engine trains it, and its resumption.

A run holds its config (an ``EngineConfig``), the backbone ``model``, other trained ``modules``
checkpointed beside it (pretraining's head), its named random streams ``gens`` (CPU or device
``torch.Generator``), the model selection ``best`` (``epoch``, ``valid``, ``state_dict``), the
``history`` (per-epoch records plus ``wall_time_s``, the training time summed over resumptions),
and the epoch it starts from.

Training state. With ``checkpoint`` on and an ``out`` folder, the driver writes
``out/checkpoint.pt`` atomically after the first and the last epoch and at most every
``engine.driver.CHECKPOINT_INTERVAL_S`` seconds between (``engine.checkpoint.save_training_state``:
weights, optimiser, scheduler, generators, global RNG, best, history, config). ``resume()``
continues from it when ``config.resume`` is set: weights, modules, generators, best, history and
start epoch at once, the optimiser / scheduler / global RNG states once the optimiser exists
(``restore_optimizer``); a checkpoint of a run with other settings (any config key outside
``resume_ignores``) is refused with a ConfigError. Subclasses define ``end_epoch`` (evaluation,
selection, history) and ``postfix`` (the progress bar's numbers)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from pde_lib.engine.checkpoint import load_training_state, set_rng_state
from pde_lib.errors import ConfigError

CHECKPOINT_NAME = "checkpoint.pt"


def check_resume(config) -> None:
    """ConfigError if ``config.resume`` is set without an ``out`` folder."""
    if config.resume and config.out is None:
        raise ConfigError("resume=True needs an out folder holding the checkpoint to resume from")


class Run:
    """One run of the engine (see the module docstring). ``what`` names it in messages."""

    #: config keys that may change between an interrupted run and its resumption
    resume_ignores: tuple[str, ...] = ("resume", "progress", "out")
    #: what stays on disk when a run without a checkpoint file stops
    nothing_kept = "no out folder, so nothing was written"

    def __init__(self, config, model: torch.nn.Module, gens: dict[str, torch.Generator],
                 modules: dict[str, torch.nn.Module] | None = None, checkpoint: bool = True,
                 history: dict[str, Any] | None = None):
        self.config, self.model, self.gens = config, model, gens
        self.modules = dict(modules or {})
        self.checkpoint = checkpoint
        self.best: dict[str, Any] = {"epoch": None, "valid": math.inf, "state_dict": None}
        self.history: dict[str, Any] = {**(history or {}), "wall_time_s": 0.0}
        self.start_epoch = 0
        self.saved_epoch: int | None = None  # the epoch of the training state on disk, if any
        self.state: dict | None = None  # the loaded checkpoint, until the optimiser has taken it

    @property
    def what(self) -> str:
        """The run in messages, e.g. "training fno2d/next_step into OUT"."""
        return f"training {self.config.model}"

    @property
    def ckpt_path(self) -> Path | None:
        if not self.checkpoint or self.config.out is None:
            return None
        return Path(self.config.out) / CHECKPOINT_NAME

    def resume(self) -> None:
        """Load ``out/checkpoint.pt`` if ``config.resume`` is set and it exists (see above)."""
        path = self.ckpt_path
        if not (self.config.resume and path is not None and path.exists()):
            return
        state = load_training_state(path, self.config.to_dict(), ignore=self.resume_ignores,
                                    defaults=getattr(self.config, "SUBSET_DEFAULTS", None))
        self.model.load_state_dict(state["state_dict"])
        for name, module in self.modules.items():
            module.load_state_dict(state["modules"][name])
        for k, g in self.gens.items():
            g.set_state(state["generators"][k])
        self.best, self.history, self.start_epoch, self.state = state["best"], state["history"], state["epoch"], state
        self.saved_epoch = state["epoch"]

    def restore_optimizer(self, optimizer: torch.optim.Optimizer, scheduler, rng: bool = True) -> None:
        """Load the resumed optimiser and scheduler states (and the global RNG) into the live
        ones, then drop the loaded checkpoint. Nothing to do for a fresh run."""
        if self.state is None:
            return
        optimizer.load_state_dict(self.state["optimizer"])
        scheduler.load_state_dict(self.state["scheduler"])
        if rng:
            set_rng_state(self.state["rng"])
        self.state = None

    def divergence(self, epochs_done: int) -> dict:
        """Keyword arguments of ``utils.divergence.check_epoch`` at ``epochs_done`` completed
        epochs: which run it is and what stays on disk if it stops now."""
        path = self.ckpt_path
        if path is None:
            kept = self.nothing_kept
        elif self.saved_epoch is None:
            kept = "no checkpoint had been written yet"
        else:
            kept = f"the last good checkpoint {path} (epoch {self.saved_epoch}) is kept"
        return {"what": self.what, "epoch": epochs_done + 1, "kept": kept}

    def end_epoch(self, epoch: int, scores: dict[str, float]) -> dict:
        """After epoch ``epoch`` (0-based) of steps with training ``scores`` (``loss`` and stats):
        evaluate, select, append to the history; return a report (``postfix`` shows it)."""
        raise NotImplementedError

    def postfix(self, report: dict) -> dict:
        """The progress bar's numbers for ``report``."""
        return {}
