"""``PseudoSpectralPDE``: the shared solve of semi-linear PDEs v_t = L v + N(v) on the periodic
square (Burgers, Navier-Stokes): Fourier transform of the initial field with 2/3 dealiasing,
integrating-factor RK4 with per-sample CFL steps (``integrators``), point sampling of the compute
grid onto the stored grid, and the stability checks. A subclass gives only its linear operator,
nonlinear term and advecting speed (``setup``).

With ``settings.tail_tol`` set, each sample's compute grid is chosen per frame interval from its
spectrum (``resolution.solve_scheduled``); otherwise one grid, ``refine`` times the stored one."""

from __future__ import annotations

from typing import ClassVar

import torch

from pde_lib.pdes.base import PDE, SolverSettings, check_finite
from pde_lib.pdes.integrators import integrate_frames
from pde_lib.pdes.resolution import ScheduleRecord, kept_modes, solve_scheduled
from pde_lib.pdes.spectral import DOMAIN_LENGTH, point_sample, rfft2
from pde_lib.pdes.spectral_grid import SpectralGrid, SpectralProblem

__all__ = ["PseudoSpectralPDE", "SpectralGrid", "SpectralProblem", "ScheduleRecord"]


class PseudoSpectralPDE(PDE):
    #: a compute grid of n^2 points keeps integer modes |m| < kept_fraction * n per axis:
    #: 1/3 for the 2/3 rule, 1/2 for a high-order filter (the resolution schedule's band)
    kept_fraction: ClassVar[float] = 1.0 / 3.0

    def setup(self, vh0: torch.Tensor, coeffs: dict[str, torch.Tensor], grid: SpectralGrid,
              u0: torch.Tensor) -> SpectralProblem:
        raise NotImplementedError

    def solve(self, u0, coeffs, times, settings: SolverSettings | None = None, progress=None,
              grids: torch.Tensor | None = None, return_record: bool = False):
        """(B, n, n) initial fields -> (B, T, n // refine, n // refine).

        With a fixed grid, ``u0`` is given on the compute grid. With a resolution schedule
        (``settings.tail_tol``), ``u0`` may be on any grid that represents it and ``grids``
        (B, T - 1), if given, forces each sample's compute grid per interval (the refinement
        check); ``return_record`` also returns the ``ScheduleRecord`` (grids and criterion)."""
        settings = settings or self.default_solver
        settings.validate(self.name)
        if settings.tail_tol is not None:
            out, record = solve_scheduled(self, u0, coeffs, times, settings, grids=grids,
                                          progress=progress)
            return (out, record) if return_record else out
        if grids is not None or return_record:
            raise ValueError("grids / return_record need a resolution schedule (settings.tail_tol)")
        n = u0.shape[-1]
        grid = SpectralGrid.build(n, u0.device, settings.torch_dtype)
        vh0 = rfft2(u0.to(grid.dtype)) * kept_modes(n, self.kept_fraction, u0.device)
        problem = self.setup(vh0, coeffs, grid, u0)
        dx = DOMAIN_LENGTH / n
        n_out = n // settings.refine

        def max_dt(vh):
            v = grid.to_physical(vh)
            check_finite(self.name, v, problem.bound)
            return problem.max_dt(vh, v, dx, settings)

        def record(vh):
            return point_sample(grid.to_physical(vh), n_out).to(u0.dtype)

        out = integrate_frames(vh0, problem.linear, problem.nonlinear, times, max_dt, record,
                               max_steps_per_frame=settings.max_steps_per_frame, pde=self.name,
                               progress=progress)
        check_finite(self.name, out, problem.bound)
        return out
