"""``PretrainConfig``: every parameter of one pretraining run, validated (docs/protocol.md
sections 5, 7)."""

from __future__ import annotations

from dataclasses import dataclass

from pde_lib.augmentations.options import AugmentationOptions
from pde_lib.engine.config import EngineConfig
from pde_lib.engine.subset import SubsetOptions
from pde_lib.engine.windowing import TASKS
from pde_lib.errors import ConfigError
from pde_lib.pretraining.base import HEAD_INPUTS, WINDOW_STARTS
from pde_lib.utils.config import check_bools, check_float, check_int, check_model_kwargs, check_optim, check_paths


@dataclass
class PretrainConfig(EngineConfig, SubsetOptions, AugmentationOptions):
    """One pretraining run: the shared run fields of ``EngineConfig`` and its own.

    ``data`` is the pretraining HDF5 file (``group`` None: its single group); ``samples`` takes n
    samples (None: all), or ``samples_per_pde`` n of each PDE in the file (not both), drawn as
    ``subset_draw`` says (``engine.subset``: the first n, or a per-seed draw). A fraction ``holdout`` of them (a seeded random subset, at least
    one sample when > 0) is kept out of training and used only to score the pretext task on
    held-out batches each epoch. ``head_input``: "features" (``model.encode``) or "output" (the
    original study's choice). ``task`` is the transfer strategy's downstream task. ``window_start``:
    "first" (frames 0..window-1) or "random" (a random start per sample and batch). Augmentations
    append copies of the training samples (``pde_lib.augmentations.augment_dataset``); strengths
    left None use the augmentation's default. ``out`` None: nothing is written. ``resume`` (off
    by default): write ``out/checkpoint.pt`` (backbone, head, optimiser, random streams, history)
    (engine.driver: after the first and last epoch, at most every 30 s between) and continue from it
    when present; off, pretraining writes no checkpoint."""

    kind = "pretraining"
    FIELD_ORDER = ("strategy", "model", "data", "group", "samples", "samples_per_pde", "epochs", "batch_size", "lr",
                   "weight_decay", "lr_min", "seed", "device", "out", "model_kwargs", "condition_on_coeffs", "head_input", "task",
                   "window", "window_start", "holdout", "progress", "resume", "warmup_steps",
                   "clip_grad_norm")

    SUBSET_DEFAULTS = {**SubsetOptions.SUBSET_DEFAULTS, "samples_per_pde": None}

    strategy: str = "none"
    data: str | None = None
    group: str | None = None
    samples_per_pde: int | None = None
    head_input: str = "features"
    window_start: str = "first"
    holdout: float = 0.05

    def validate(self) -> None:
        """Types and ranges of every field (names are checked against the registries by the loop)."""
        for key in ("strategy", "model"):
            if not isinstance(getattr(self, key), str) or not getattr(self, key):
                raise ConfigError(f"{key} must be a name, got {getattr(self, key)!r}")
        check_paths(self, "data", "group", "out")
        if self.samples is not None:
            check_int(self, "samples", 2)
        if self.samples_per_pde is not None:
            check_int(self, "samples_per_pde", 1)
            if self.samples is not None:
                raise ConfigError(f"give samples ({self.samples}) or samples_per_pde ({self.samples_per_pde}), "
                                  "not both")
        check_int(self, "epochs", 0)
        check_int(self, "batch_size", 2)
        check_int(self, "window", 1)
        check_optim(self)
        self.validate_schedule()
        check_float(self, "holdout")
        if self.holdout >= 1:
            raise ConfigError(f"holdout is the held-out fraction of the samples, in [0, 1); got {self.holdout}")
        self.validate_augmentation()
        self.validate_subset()
        for key, valid in (("head_input", HEAD_INPUTS), ("task", TASKS), ("window_start", WINDOW_STARTS)):
            if getattr(self, key) not in valid:
                raise ConfigError(f"{key} must be one of {', '.join(valid)}, got {getattr(self, key)!r}")
        check_bools(self, "condition_on_coeffs", "progress", "resume")
        check_model_kwargs(self)
