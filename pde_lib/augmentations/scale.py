"""Amplitude scaling u -> lambda u, lambda = exp(eps), eps ~ U(-max_scale, max_scale)
(docs/protocol.md section 6).

Heat and advection are linear: lambda u solves the same PDE. Burgers,
u_t + u (c . grad u) = nu Lap u, is not, but v = lambda u solves
v_t + v ((c / lambda) . grad v) = nu Lap v, so the copy's (cx, cy) become (cx, cy) / lambda.
Not Navier-Stokes (its forcing does not scale and its velocity depends on w)."""

from __future__ import annotations

import torch

from pde_lib.augmentations.registry import AUGMENTATIONS
from pde_lib.augmentations.base import Augmentation, pde_mask, uniform


@AUGMENTATIONS.register("scale")
class Scale(Augmentation):
    name = "scale"
    valid_pdes = frozenset({"heat", "advection", "burgers"})
    strength_name = "max_scale"
    strength_default = 0.25
    parameters = {"max_scale": 0.25}

    def sample(self, pde_index, generator, **strength):
        p = self.resolve(**strength)
        eps = uniform((pde_index.shape[0],), p["max_scale"], generator, pde_index.device)
        return {"lam": torch.exp(eps)}

    def transform(self, u, coeffs, pde_index, t, params):
        lam = params["lam"].to(u.device)
        u = (u.to(torch.float64) * lam.reshape(-1, 1, 1, 1)).to(u.dtype)
        burgers = pde_mask(pde_index.to(u.device), "burgers")
        factor = torch.where(burgers, 1.0 / lam, torch.ones_like(lam)).to(coeffs.dtype)
        coeffs = coeffs.clone()
        coeffs[:, 3:5] = coeffs[:, 3:5] * factor[:, None]
        return u, coeffs, {}
