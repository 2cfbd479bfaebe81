"""Heat equation u_t = nu Lap(u), solved exactly: each Fourier mode decays as exp(-nu |k|^2 t)."""

from __future__ import annotations

import torch

from pde_lib.pdes.registry import PDES
from pde_lib.pdes.base import PDE, Range, SolverSettings, coefficient_view
from pde_lib.pdes.initial_conditions import SineSumInitialCondition
from pde_lib.pdes.spectral import irfft2, laplacian, rfft2, wavenumbers


@PDES.register("heat")
class Heat(SineSumInitialCondition, PDE):
    name = "heat"
    seed_slot = 0
    coefficient_names = ("nu",)
    ranges = {
        "id": {"nu": Range(2e-3, 2e-2)},
        "ood": {"nu": Range(2e-2, 5e-2)},
    }

    def solve(self, u0, coeffs, times, settings: SolverSettings | None = None, progress=None):
        """Exact: u_hat(k, t) = u_hat(k, 0) exp(-nu |k|^2 t). (B, N, N) -> (B, T, N, N)."""
        n = u0.shape[-1]
        kx, ky = wavenumbers(n, device=u0.device)
        uh = rfft2(u0.to(torch.float64))[:, None]
        t = times.to(device=u0.device, dtype=torch.float64)[None, :, None, None]
        nu = coefficient_view(coeffs, "nu", uh.real)
        decay = torch.exp(-nu * (kx**2 + ky**2) * t)
        return irfft2(uh * decay, s=(n, n)).to(u0.dtype)

    def rhs(self, u, coeffs):
        return coefficient_view(coeffs, "nu", u) * laplacian(u)
