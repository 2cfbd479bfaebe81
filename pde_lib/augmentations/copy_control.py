"""The step-matched control: an unchanged copy, u -> u, coefficients unchanged, valid for every PDE.

Every augmentation adds copies (``augmentation_ratio``) to the training set, so an augmented
run takes about (1 + ratio) times the optimisation steps of an unaugmented one. ``copy`` adds the
same number of copies with nothing changed, so "augmentation vs copy" isolates what the
transform itself does from what the extra steps do (``report.findings.augmentation_control_table``).
Its draws come from the same generator as any augmentation's, so the copied samples are those
a single augmentation with the same seed and ratio would copy."""

from __future__ import annotations

from pde_lib.augmentations.registry import AUGMENTATIONS
from pde_lib.augmentations.base import Augmentation
from pde_lib.data import PDE_NAMES


@AUGMENTATIONS.register("copy")
class Copy(Augmentation):
    name = "copy"
    valid_pdes = frozenset(PDE_NAMES)
    strength_name = None  # nothing to tune
    strength_default = None
    parameters: dict = {}

    def sample(self, pde_index, generator, **strength):
        self.resolve(**strength)
        return {}

    def transform(self, u, coeffs, pde_index, t, params):
        return u.clone(), coeffs.clone(), {}
