"""``PretrainConfig``: every parameter of one pretraining run, validated (STUDY_SPEC sections 5, 7)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from pde_lib.errors import ConfigError
from pde_lib.pretraining.base import HEAD_INPUTS, WINDOW_STARTS

TASKS = ("fixed_future", "next_step")
STRENGTH_KEYS = ("noise_level", "max_shift", "max_scale", "max_velocity")


@dataclass
class PretrainConfig:
    """One pretraining run.

    ``data`` is the pretraining HDF5 file (``group`` None: its single group); ``samples`` takes the
    first n samples (None: all). A fraction ``holdout`` of them (a seeded random subset, at least
    one sample when > 0) is kept out of training and used only to score the pretext task on
    held-out batches each epoch. ``head_input``: "features" (``model.encode``) or "output" (the
    original study's choice). ``task`` is the transfer strategy's downstream task. ``window_start``:
    "first" (frames 0..window-1) or "random" (a random start per sample and batch). Augmentations
    append copies of the training samples (``pde_lib.augmentations.augment_dataset``); strengths
    left None use the augmentation's default. ``out`` None: nothing is written."""

    strategy: str = "none"
    model: str = "fno2d"
    data: str | None = None
    group: str | None = None
    samples: int | None = None
    epochs: int = 200
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-6
    lr_min: float = 1e-5
    seed: int = 0
    device: str = "cpu"
    out: str | None = None
    model_kwargs: dict = field(default_factory=dict)
    condition_on_coeffs: bool = False
    head_input: str = "features"
    task: str = "fixed_future"
    window: int = 8
    window_start: str = "first"
    holdout: float = 0.05
    augmentation: list = field(default_factory=list)
    augmentation_ratio: float = 0.5
    noise_level: float | None = None
    max_shift: float | None = None
    max_scale: float | None = None
    max_velocity: float | None = None
    subgrid: bool | None = None
    burgers_refine: int | None = None
    strict_augmentation: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PretrainConfig":
        """Build from a dict; ConfigError for keys that are not fields (listing the valid ones)."""
        if not isinstance(d, dict):
            raise ConfigError(f"a pretraining config must be a mapping, got {type(d).__name__}")
        unknown = sorted(set(d) - set(cls.field_names()))
        if unknown:
            raise ConfigError(f"unknown pretraining parameter(s) {', '.join(map(str, unknown))}; "
                              f"valid parameters: {', '.join(cls.field_names())}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def augmentation_strengths(self) -> dict[str, float | int | bool]:
        keys = STRENGTH_KEYS + ("subgrid", "burgers_refine")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}

    def validate(self) -> None:
        """Types and ranges of every field (names are checked against the registries by the loop)."""
        for key in ("strategy", "model"):
            if not isinstance(getattr(self, key), str) or not getattr(self, key):
                raise ConfigError(f"{key} must be a name, got {getattr(self, key)!r}")
        for key in ("data", "group", "out"):
            value = getattr(self, key)
            if value is not None:
                if hasattr(value, "__fspath__"):
                    setattr(self, key, str(value))
                elif not isinstance(value, str):
                    raise ConfigError(f"{key} must be a path/name string or None, got {value!r}")
        if self.samples is not None:
            _int(self, "samples", 2)
        _int(self, "epochs", 0)
        _int(self, "batch_size", 2)
        _int(self, "seed", 0)
        _int(self, "window", 1)
        _float(self, "lr", positive=True)
        _float(self, "weight_decay")
        _float(self, "lr_min")
        if self.lr_min > self.lr:
            raise ConfigError(f"lr_min={self.lr_min} must not exceed lr={self.lr}")
        _float(self, "holdout")
        if self.holdout >= 1:
            raise ConfigError(f"holdout is the held-out fraction of the samples, in [0, 1); got {self.holdout}")
        _float(self, "augmentation_ratio")
        if self.augmentation_ratio > 1:
            raise ConfigError(f"augmentation_ratio must be in [0, 1], got {self.augmentation_ratio}")
        for key in STRENGTH_KEYS:
            if getattr(self, key) is not None:
                _float(self, key)
        if self.subgrid is not None and not isinstance(self.subgrid, bool):
            raise ConfigError(f"subgrid must be true or false, got {self.subgrid!r}")
        if self.burgers_refine is not None:
            _int(self, "burgers_refine", 0)
        for key, valid in (("head_input", HEAD_INPUTS), ("task", TASKS), ("window_start", WINDOW_STARTS)):
            if getattr(self, key) not in valid:
                raise ConfigError(f"{key} must be one of {', '.join(valid)}, got {getattr(self, key)!r}")
        for key in ("condition_on_coeffs", "strict_augmentation", "progress"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"{key} must be true or false, got {getattr(self, key)!r}")
        if not isinstance(self.device, str) or not self.device:
            raise ConfigError(f"device must be a string such as 'cpu' or 'cuda', got {self.device!r}")
        if self.model_kwargs is None:
            self.model_kwargs = {}
        if not isinstance(self.model_kwargs, dict) or not all(isinstance(k, str) for k in self.model_kwargs):
            raise ConfigError(f"model_kwargs must be a mapping of argument names to values, got {self.model_kwargs!r}")
        reserved = {"in_frames", "condition_on_coeffs", "coeff_dim"} & set(self.model_kwargs)
        if reserved:
            raise ConfigError(f"model_kwargs may not set {sorted(reserved)}: use window / condition_on_coeffs")
        if isinstance(self.augmentation, str):
            self.augmentation = [s.strip() for s in self.augmentation.split(",") if s.strip()]
        if self.augmentation is None:
            self.augmentation = []
        if not isinstance(self.augmentation, (list, tuple)) or not all(isinstance(a, str) for a in self.augmentation):
            raise ConfigError(f"augmentation must be a list of augmentation names, got {self.augmentation!r}")
        self.augmentation = list(self.augmentation)


def _int(cfg: PretrainConfig, key: str, minimum: int) -> None:
    value = getattr(cfg, key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key} must be an integer >= {minimum}, got {value!r}")


def _float(cfg: PretrainConfig, key: str, positive: bool = False) -> None:
    value = getattr(cfg, key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ConfigError(f"{key} must be a number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ConfigError(f"{key} must be {'> 0' if positive else '>= 0'}, got {value!r}")
    setattr(cfg, key, float(value))
