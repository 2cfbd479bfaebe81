"""``AugmentationOptions``: the augmentation fields every run config shares (training and
pretraining), their validation, and the strength keywords for ``augment_dataset``."""

from __future__ import annotations

from dataclasses import dataclass, field

from pde_lib.errors import ConfigError
from pde_lib.utils.config import check_bools, check_float, check_int

#: strength keywords passed on to ``augment_dataset`` when set (None: the augmentation's default)
STRENGTH_KEYS = ("noise_level", "max_shift", "max_scale", "max_velocity", "subgrid", "burgers_refine")


@dataclass
class AugmentationOptions:
    """``augmentation``: names applied in order to each augmented copy; ``augmentation_ratio``:
    probability that a sample gets a copy; strengths left None use each augmentation's default;
    ``strict_augmentation``: fail instead of skipping a PDE an augmentation is not valid for."""

    augmentation: list = field(default_factory=list)
    augmentation_ratio: float = 0.5
    noise_level: float | None = None
    max_shift: float | None = None
    max_scale: float | None = None
    max_velocity: float | None = None
    subgrid: bool | None = None
    burgers_refine: int | None = None
    strict_augmentation: bool = False

    def validate_augmentation(self) -> None:
        if isinstance(self.augmentation, str):
            self.augmentation = [s.strip() for s in self.augmentation.split(",") if s.strip()]
        if self.augmentation is None:
            self.augmentation = []
        if not isinstance(self.augmentation, (list, tuple)) or not all(isinstance(a, str) for a in self.augmentation):
            raise ConfigError(f"augmentation must be a list of augmentation names, got {self.augmentation!r}")
        self.augmentation = list(self.augmentation)
        check_float(self, "augmentation_ratio")
        if self.augmentation_ratio > 1:
            raise ConfigError(f"augmentation_ratio must be in [0, 1], got {self.augmentation_ratio}")
        for key in ("noise_level", "max_shift", "max_scale", "max_velocity"):
            if getattr(self, key) is not None:
                check_float(self, key)
        if self.subgrid is not None:
            check_bools(self, "subgrid")
        if self.burgers_refine is not None:
            check_int(self, "burgers_refine", 0)
        check_bools(self, "strict_augmentation")

    def augmentation_strengths(self) -> dict[str, float | int | bool]:
        """The strength keywords that were set, for ``augment_dataset``."""
        return {k: getattr(self, k) for k in STRENGTH_KEYS if getattr(self, k) is not None}
