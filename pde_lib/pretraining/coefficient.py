"""``coefficient``: regress the normalised PDE coefficients (nu / 2e-2, ax / 2.5, ay / 2.5, cx, cy)
from the window (mean squared error; zeros where a PDE has no such coefficient, so the head must
also tell the PDEs apart). The normalisation is ``pde_lib.models.base.STUDY_COEFF_SCALE``, the one
coefficient-conditioned backbones use."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from pde_lib.errors import ConfigError
from pde_lib.models.base import STUDY_COEFF_SCALE
from pde_lib.pretraining.registry import STRATEGIES
from pde_lib.pretraining.base import Strategy

COEFF_SCALE = torch.tensor(STUDY_COEFF_SCALE)


def normalised_coefficients(coeffs: torch.Tensor) -> torch.Tensor:
    """(B, 5) raw (nu, ax, ay, cx, cy) -> (nu / 2e-2, ax / 2.5, ay / 2.5, cx, cy)."""
    return coeffs * COEFF_SCALE.to(coeffs.device, coeffs.dtype)


@STRATEGIES.register("coefficient")
class Coefficient(Strategy):
    name = "coefficient"
    needs_coefficients = True

    def check_model(self, model, resolution):
        super().check_model(model, resolution)
        if getattr(model, "condition_on_coeffs", False):
            raise ConfigError("strategy 'coefficient' regresses the PDE coefficients, but the backbone "
                              "has condition_on_coeffs=True and would be given its own targets; "
                              "pretrain it with condition_on_coeffs=False")

    def _build_head(self, model, in_channels):
        from pde_lib.pretraining.heads import ClassifierHead

        return ClassifierHead(in_channels, COEFF_SCALE.numel(), pool=1)

    def make_batch(self, u, coeffs, pde_index, grid, generator, progress=0.0):
        x = self.window_frames(u, generator)
        return self.inputs(x, grid, coeffs), normalised_coefficients(coeffs)

    def loss(self, model, head, batch):
        inputs, target = batch
        pred = head(self.represent(model, inputs["frames"], inputs["grid"], inputs["coeffs"]))
        return F.mse_loss(pred, target), {}

    trivial = "the best constant per coefficient"

    def trivial_loss(self, batch):
        return self.constant_mse(batch[1])
