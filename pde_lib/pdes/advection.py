"""Linear advection u_t + ax u_x + ay u_y = 0, solved exactly: u(x, t) = u0(x - a t), each
Fourier mode phase-shifted by exp(-i k.a t)."""

from __future__ import annotations

import torch

from pde_lib.pdes.registry import PDES
from pde_lib.pdes.base import PDE, Range, SolverSettings, coefficient_view
from pde_lib.pdes.initial_conditions import SineSumInitialCondition
from pde_lib.pdes.spectral import derivative, irfft2, nyquist_free, rfft2, wavenumbers


@PDES.register("advection")
class Advection(SineSumInitialCondition, PDE):
    name = "advection"
    seed_slot = 1
    coefficient_names = ("ax", "ay")
    ranges = {
        "id": {"ax": Range(0.1, 2.5), "ay": Range(0.1, 2.5)},
        "ood": {"ax": Range(2.5, 4.0), "ay": Range(2.5, 4.0)},
    }

    def solve(self, u0, coeffs, times, settings: SolverSettings | None = None, progress=None):
        """Exact: u_hat(k, t) = u_hat(k, 0) exp(-i (kx ax + ky ay) t). (B, N, N) -> (B, T, N, N)."""
        n = u0.shape[-1]
        kx, ky = wavenumbers(n, device=u0.device)
        uh = nyquist_free(rfft2(u0.to(torch.float64)))[:, None]
        t = times.to(device=u0.device, dtype=torch.float64)[None, :, None, None]
        ax = coefficient_view(coeffs, "ax", uh.real)
        ay = coefficient_view(coeffs, "ay", uh.real)
        phase = torch.exp(-1j * (kx * ax + ky * ay) * t)
        return irfft2(uh * phase, s=(n, n)).to(u0.dtype)

    def rhs(self, u, coeffs):
        ax = coefficient_view(coeffs, "ax", u)
        ay = coefficient_view(coeffs, "ay", u)
        return -(ax * derivative(u, 1, 0) + ay * derivative(u, 0, 1))
