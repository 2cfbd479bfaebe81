"""What the run configs (``TrainConfig``, ``PretrainConfig``) share: dict round trips and field
checks that raise ConfigError naming the field and what was expected."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from pde_lib.errors import ConfigError


class RunConfig:
    """Mixin for a dataclass config: ``from_dict`` (unknown keys listed against the valid ones),
    ``to_dict`` and ``field_names``. ``validate()`` runs on construction."""

    kind: ClassVar[str] = "run"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:  # pragma: no cover - every config overrides it
        raise NotImplementedError

    @classmethod
    def field_names(cls) -> list[str]:
        """Field names, the config's own first, then those of its option mixins."""
        names = [f.name for f in dataclasses.fields(cls)]
        own = cls.__dict__.get("__annotations__", {})
        return [n for n in names if n in own] + [n for n in names if n not in own]

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        """Build from a dict; ConfigError for keys that are not fields (listing the valid ones)."""
        if not isinstance(d, dict):
            raise ConfigError(f"a {cls.kind} config must be a mapping, got {type(d).__name__}")
        unknown = sorted(set(d) - set(cls.field_names()))
        if unknown:
            raise ConfigError(f"unknown {cls.kind} parameter(s) {', '.join(map(str, unknown))}; "
                              f"valid parameters: {', '.join(cls.field_names())}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def check_int(cfg, key: str, minimum: int) -> None:
    value = getattr(cfg, key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key} must be an integer >= {minimum}, got {value!r}")


def check_float(cfg, key: str, positive: bool = False) -> None:
    """A non-negative (or positive) number; YAML strings such as "1e-3" are converted."""
    value = getattr(cfg, key)
    if isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as a string
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ConfigError(f"{key} must be a number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ConfigError(f"{key} must be {'> 0' if positive else '>= 0'}, got {value!r}")
    setattr(cfg, key, float(value))


def check_bools(cfg, *keys: str) -> None:
    for key in keys:
        if not isinstance(getattr(cfg, key), bool):
            raise ConfigError(f"{key} must be true or false, got {getattr(cfg, key)!r}")


def check_paths(cfg, *keys: str) -> None:
    """Each key is None or a path/name string (path-like objects are converted)."""
    for key in keys:
        value = getattr(cfg, key)
        if value is not None:
            if hasattr(value, "__fspath__"):
                setattr(cfg, key, str(value))
            elif not isinstance(value, str):
                raise ConfigError(f"{key} must be a path/name string or None, got {value!r}")


def check_optim(cfg) -> None:
    """batch_size, lr, weight_decay, lr_min, seed and device of a training-like run."""
    check_int(cfg, "seed", 0)
    check_float(cfg, "lr", positive=True)
    check_float(cfg, "weight_decay")
    check_float(cfg, "lr_min")
    if cfg.lr_min > cfg.lr:
        raise ConfigError(f"lr_min={cfg.lr_min} must not exceed lr={cfg.lr}")
    if not isinstance(cfg.device, str) or not cfg.device:
        raise ConfigError(f"device must be a string such as 'cpu' or 'cuda', got {cfg.device!r}")


def check_model_kwargs(cfg) -> None:
    if cfg.model_kwargs is None:
        cfg.model_kwargs = {}
    if not isinstance(cfg.model_kwargs, dict) or not all(isinstance(k, str) for k in cfg.model_kwargs):
        raise ConfigError(f"model_kwargs must be a mapping of argument names to values, got {cfg.model_kwargs!r}")
    reserved = {"in_frames", "condition_on_coeffs", "coeff_dim"} & set(cfg.model_kwargs)
    if reserved:
        raise ConfigError(f"model_kwargs may not set {sorted(reserved)}: use window / condition_on_coeffs")
