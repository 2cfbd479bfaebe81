"""Space shift u(x, y, t) -> u(x - s1, y - s2, t) (docs/protocol.md section 6).

A symmetry of every PDE here whose coefficients do not depend on x: heat, advection, Burgers,
and Navier-Stokes only along s1 + s2 = 0 (mod 2), which leaves its forcing
A (sin + cos)(pi (x + y)) unchanged (so s2 = -s1 is drawn there). s1, s2 ~ U(-max_shift,
max_shift) in domain units (the domain is [-1, 1), period 2; the default 1.0 covers every shift).

Heat and advection data are band-limited, so any sub-grid amount is exact (Fourier phase).
Stored Burgers / Navier-Stokes frames have content finer than the grid, so there the shift is
rounded to whole cells (an exact index roll) unless ``subgrid=True``."""

from __future__ import annotations

import torch

from pde_lib.augmentations.registry import AUGMENTATIONS
from pde_lib.augmentations.base import Augmentation, pde_mask, shift_fields, uniform


@AUGMENTATIONS.register("shift")
class Shift(Augmentation):
    name = "shift"
    valid_pdes = frozenset({"heat", "advection", "burgers", "navier_stokes"})
    strength_name = "max_shift"
    strength_default = 1.0
    parameters = {"max_shift": 1.0, "subgrid": False}
    #: PDEs shifted by whole cells unless subgrid=True
    whole_cell_pdes = ("burgers", "navier_stokes")

    def sample(self, pde_index, generator, **strength):
        p = self.resolve(**strength)
        s = uniform((pde_index.shape[0], 2), p["max_shift"], generator, pde_index.device)
        ns = pde_mask(pde_index, "navier_stokes")
        s[:, 1] = torch.where(ns, -s[:, 0], s[:, 1])  # keep x + y (the NS forcing) invariant
        whole = pde_mask(pde_index, *self.whole_cell_pdes) & (not p["subgrid"])
        return {"sx": s[:, 0], "sy": s[:, 1], "whole_cells": whole}

    def transform(self, u, coeffs, pde_index, t, params):
        return shift_fields(u, params["sx"], params["sy"], params["whole_cells"]), coeffs, {}
