"""``TrainConfig``: every parameter of one supervised training / fine-tuning run, validated."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from pde_lib.errors import ConfigError

TASKS = ("fixed_future", "next_step")


@dataclass
class TrainConfig:
    """One training run. Files are HDF5 paths; ``*_group`` None means the file's single group;
    ``pde`` None or "all" keeps every sample; ``samples`` takes the first n training samples
    (nested prefixes). Strength fields left None use the augmentation's own default."""

    model: str = "fno2d"
    task: str = "fixed_future"
    train: str | None = None
    valid: str | None = None
    test: str | None = None
    train_group: str | None = None
    valid_group: str | None = None
    test_group: str | None = None
    pde: str | None = None
    samples: int | None = None
    epochs: int = 200
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-6
    lr_min: float = 1e-5
    seed: int = 0
    device: str = "cpu"
    out: str | None = None
    init: str | None = None
    model_kwargs: dict = field(default_factory=dict)
    condition_on_coeffs: bool = False
    window: int = 8
    target_frame: int = 31
    augmentation: list = field(default_factory=list)
    augmentation_ratio: float = 0.5
    noise_level: float | None = None
    max_shift: float | None = None
    max_scale: float | None = None
    max_velocity: float | None = None
    subgrid: bool | None = None
    burgers_refine: int | None = None
    strict_augmentation: bool = False
    resume: bool = False
    progress: bool = True
    eval_every: int = 1

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """Build from a dict; ConfigError for keys that are not fields (listing the valid ones)."""
        if not isinstance(d, dict):
            raise ConfigError(f"a training config must be a mapping, got {type(d).__name__}")
        unknown = sorted(set(d) - set(cls.field_names()))
        if unknown:
            raise ConfigError(f"unknown training parameter(s) {', '.join(map(str, unknown))}; "
                              f"valid parameters: {', '.join(cls.field_names())}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    # ---------------------------------------------------------------- validation
    def validate(self) -> None:
        """Check types and ranges of every field (files and names are checked by the trainer,
        which knows the registries and the data)."""
        if not isinstance(self.model, str) or not self.model:
            raise ConfigError(f"model must be a backbone name, got {self.model!r}")
        if self.task not in TASKS:
            raise ConfigError(f"unknown task {self.task!r}; valid tasks: {', '.join(TASKS)}")
        for key in ("train", "valid", "test", "train_group", "valid_group", "test_group", "out", "init"):
            value = getattr(self, key)
            if value is not None:
                if hasattr(value, "__fspath__"):
                    setattr(self, key, str(value))
                elif not isinstance(value, str):
                    raise ConfigError(f"{key} must be a path/name string or None, got {value!r}")
        if isinstance(self.pde, str) and self.pde.lower() == "all":
            self.pde = None
        if self.pde is not None and not isinstance(self.pde, str):
            raise ConfigError(f"pde must be a PDE name, 'all' or None, got {self.pde!r}")
        if self.samples is not None:
            _int(self, "samples", 1)
        _int(self, "epochs", 1)
        _int(self, "batch_size", 1)
        _int(self, "seed", 0)
        _int(self, "window", 1)
        _int(self, "target_frame", 1)
        _int(self, "eval_every", 1)
        if self.target_frame < self.window:
            raise ConfigError(f"target_frame={self.target_frame} lies inside the input window "
                              f"0..{self.window - 1}; it must be >= window={self.window}")
        _float(self, "lr", positive=True)
        _float(self, "weight_decay")
        _float(self, "lr_min")
        if self.lr_min > self.lr:
            raise ConfigError(f"lr_min={self.lr_min} must not exceed lr={self.lr}")
        _float(self, "augmentation_ratio")
        if self.augmentation_ratio > 1:
            raise ConfigError(f"augmentation_ratio must be in [0, 1], got {self.augmentation_ratio}")
        for key in ("noise_level", "max_shift", "max_scale", "max_velocity"):
            if getattr(self, key) is not None:
                _float(self, key)
        if self.subgrid is not None and not isinstance(self.subgrid, bool):
            raise ConfigError(f"subgrid must be true or false, got {self.subgrid!r}")
        if self.burgers_refine is not None:
            _int(self, "burgers_refine", 0)
        for key in ("condition_on_coeffs", "strict_augmentation", "resume", "progress"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"{key} must be true or false, got {getattr(self, key)!r}")
        if not isinstance(self.device, str) or not self.device:
            raise ConfigError(f"device must be a string such as 'cpu' or 'cuda', got {self.device!r}")
        if self.model_kwargs is None:
            self.model_kwargs = {}
        if not isinstance(self.model_kwargs, dict) or not all(isinstance(k, str) for k in self.model_kwargs):
            raise ConfigError(f"model_kwargs must be a mapping of argument names to values, got {self.model_kwargs!r}")
        reserved = {"in_frames", "condition_on_coeffs"} & set(self.model_kwargs)
        if reserved:
            raise ConfigError(f"model_kwargs may not set {sorted(reserved)}: use window / condition_on_coeffs")
        if isinstance(self.augmentation, str):
            self.augmentation = [s.strip() for s in self.augmentation.split(",") if s.strip()]
        if self.augmentation is None:
            self.augmentation = []
        if not isinstance(self.augmentation, (list, tuple)) or not all(isinstance(a, str) for a in self.augmentation):
            raise ConfigError(f"augmentation must be a list of augmentation names, got {self.augmentation!r}")
        self.augmentation = list(self.augmentation)

    def require_files(self) -> None:
        """ConfigError unless train, valid and test files are all given."""
        missing = [k for k in ("train", "valid", "test") if getattr(self, k) is None]
        if missing:
            raise ConfigError(f"missing data file(s) for {', '.join(missing)}: train, valid and "
                              "test HDF5 files are all required")

    def augmentation_strengths(self) -> dict[str, float | int | bool]:
        """The strength keywords that were set, for ``augment_dataset``."""
        keys = ("noise_level", "max_shift", "max_scale", "max_velocity", "subgrid", "burgers_refine")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


def _int(cfg: TrainConfig, key: str, minimum: int) -> None:
    value = getattr(cfg, key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key} must be an integer >= {minimum}, got {value!r}")


def _float(cfg: TrainConfig, key: str, positive: bool = False) -> None:
    value = getattr(cfg, key)
    if isinstance(value, str):  # YAML reads 1e-3 (no dot) as a string
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ConfigError(f"{key} must be a number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ConfigError(f"{key} must be {'> 0' if positive else '>= 0'}, got {value!r}")
    setattr(cfg, key, float(value))
