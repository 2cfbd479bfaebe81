"""Galilean boost (STUDY_SPEC section 6), a per-frame sub-grid shift by Fourier phase.

Advection u_t + a . grad u = 0: v(x, t) = u(x - V t, t) solves it with a -> a + V,
V = (Vx, Vy) ~ U(-max_velocity, max_velocity)^2.

Burgers u_t + u (c . grad u) = nu Lap u: v(x, t) = u(x - w c t, t) + w, w ~ U(-max_velocity,
max_velocity), coefficients unchanged. Check: with y = x - w c t, grad v = grad u and
v_t = u_t - w c . grad u, so v_t + v (c . grad v) = u_t - w c.grad u + (u + w) c.grad u
= u_t + u c.grad u = nu Lap u = nu Lap v.

Not heat (a moving frame adds an advection term) nor Navier-Stokes (its forcing is fixed in
space). Stored Burgers frames are not band-limited, so the sub-grid shift of later frames is
approximate (measured in tests/test_augmentations.py: about 1e-3 relative L2 on 32 x 32 ID data)."""

from __future__ import annotations

import torch

from pde_lib.augmentations import AUGMENTATIONS
from pde_lib.augmentations.base import Augmentation, moving_shift, pde_mask, uniform


@AUGMENTATIONS.register("galilean")
class Galilean(Augmentation):
    name = "galilean"
    valid_pdes = frozenset({"advection", "burgers"})
    strength_name = "max_velocity"
    strength_default = 0.5
    parameters = {"max_velocity": 0.5}

    def sample(self, pde_index, generator, **strength):
        p = self.resolve(**strength)
        return {"v": uniform((pde_index.shape[0], 2), p["max_velocity"], generator,
                             pde_index.device)}

    def transform(self, u, coeffs, pde_index, t, params):
        """Burgers rows: velocity w c with w = v[:, 0], u += w; other rows (advection): velocity
        v, (ax, ay) += v."""
        v = params["v"].to(u.device, torch.float64)
        burgers = pde_mask(pde_index.to(u.device), "burgers")
        c = coeffs[:, 3:5].to(torch.float64)
        w = v[:, 0]
        vel = torch.where(burgers[:, None], w[:, None] * c, v)  # (B, 2) frame velocity
        tt = t.to(u.device, torch.float64)[None, :]
        out = moving_shift(u, vel[:, 0:1] * tt, vel[:, 1:2] * tt)
        offset = torch.where(burgers, w, torch.zeros_like(w)).to(u.dtype)
        out = out + offset.reshape(-1, 1, 1, 1)
        coeffs = coeffs.clone()
        coeffs[:, 1:3] = coeffs[:, 1:3] + torch.where(burgers[:, None], 0.0, v).to(coeffs.dtype)
        return out, coeffs, {}
