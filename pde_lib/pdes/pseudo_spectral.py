"""``PseudoSpectralPDE``: the shared solve of semi-linear PDEs v_t = L v + N(v) on the periodic
square (Burgers, Navier-Stokes): Fourier transform of the initial field with 2/3 dealiasing,
integrating-factor RK4 with per-sample CFL steps (``integrators.integrate_frames``), point sampling
of the compute grid onto the stored grid, and the stability checks. A subclass gives only its
linear operator, nonlinear term and advecting speed (``setup``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from pde_lib.pdes.base import PDE, SolverSettings, check_finite
from pde_lib.pdes.integrators import integrate_frames
from pde_lib.pdes.spectral import DOMAIN_LENGTH, dealias_mask, irfft2, point_sample, wavenumbers


@dataclass
class SpectralGrid:
    """The compute grid's transform axes: ``kx`` (n, 1), ``ky`` (1, n//2 + 1), ``k2`` = |k|^2,
    the 2/3-rule ``mask``, and the real ``dtype`` of the solve."""

    n: int
    kx: torch.Tensor
    ky: torch.Tensor
    k2: torch.Tensor
    mask: torch.Tensor
    dtype: torch.dtype

    def to_physical(self, vh: torch.Tensor) -> torch.Tensor:
        return irfft2(vh, s=(self.n, self.n))


@dataclass
class SpectralProblem:
    """``linear`` L (broadcasting to (B, n, n//2 + 1)); ``nonlinear(vh)`` N in Fourier space;
    ``speed(vh, v)`` each sample's largest advecting speed (B,) given the state in Fourier (vh) and
    physical (v) space; ``bound`` the largest |v| a stable solve may reach."""

    linear: torch.Tensor
    nonlinear: Callable[[torch.Tensor], torch.Tensor]
    speed: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    bound: float


class PseudoSpectralPDE(PDE):
    def setup(self, vh0: torch.Tensor, coeffs: dict[str, torch.Tensor], grid: SpectralGrid,
              u0: torch.Tensor) -> SpectralProblem:
        raise NotImplementedError

    def solve(self, u0, coeffs, times, settings: SolverSettings | None = None, progress=None):
        """(B, n, n) initial fields on the compute grid -> (B, T, n // refine, n // refine)."""
        settings = settings or self.default_solver
        settings.validate(self.name)
        n = u0.shape[-1]
        dtype = settings.torch_dtype
        kx, ky = wavenumbers(n, device=u0.device, dtype=dtype)
        grid = SpectralGrid(n, kx, ky, kx**2 + ky**2, dealias_mask(n, device=u0.device), dtype)
        vh0 = torch.fft.rfft2(u0.to(dtype)) * grid.mask
        problem = self.setup(vh0, coeffs, grid, u0)
        dx = DOMAIN_LENGTH / n
        n_out = n // settings.refine

        def max_dt(vh):
            v = grid.to_physical(vh)
            check_finite(self.name, v, problem.bound)
            return settings.dt_scale * settings.cfl * dx / problem.speed(vh, v).clamp_min(1e-12)

        def record(vh):
            return point_sample(grid.to_physical(vh), n_out).to(u0.dtype)

        out = integrate_frames(vh0, problem.linear, problem.nonlinear, times, max_dt, record,
                               max_steps_per_frame=settings.max_steps_per_frame, pde=self.name,
                               progress=progress)
        check_finite(self.name, out, problem.bound)
        return out
