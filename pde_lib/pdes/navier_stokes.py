"""Incompressible 2D Navier-Stokes in vorticity form on [-1, 1)^2:

    w_t + u . grad(w) = nu Lap(w) + f,   u = (psi_y, -psi_x),   Lap(psi) = -w,
    f(x, y) = A (sin(pi (x + y)) + cos(pi (x + y))).

Pseudo-spectral, 2/3 dealiasing, integrating-factor RK4 with dt <= cfl dx / max|u|."""

from __future__ import annotations

import math

import torch

from pde_lib.pdes.registry import PDES
from pde_lib.pdes.base import Range, SolverSettings, coefficient_view
from pde_lib.pdes.initial_conditions import draw_grf, grf
from pde_lib.pdes.pseudo_spectral import PseudoSpectralPDE, SpectralProblem
from pde_lib.pdes.spectral import (dealias, derivative, grid_coordinates, irfft2, laplacian, rfft2,
                                   wavenumbers)


def forcing(n: int, amp: torch.Tensor, device, dtype) -> torch.Tensor:
    """f = A (sin(pi (x + y)) + cos(pi (x + y))) on the n x n grid, (B, n, n)."""
    x = grid_coordinates(n, device=device, dtype=torch.float64)
    s = math.pi * (x[0] + x[1])
    return (amp.to(device=device, dtype=torch.float64).reshape(-1, 1, 1)
            * (torch.sin(s) + torch.cos(s))).to(dtype)


def velocity(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Velocity (u, v) = (psi_y, -psi_x) from vorticity w (..., N, N), with Lap(psi) = -w."""
    n = w.shape[-1]
    kx, ky = wavenumbers(n, device=w.device, dtype=w.dtype)
    k2 = kx**2 + ky**2
    k2[0, 0] = 1.0
    psi_h = rfft2(w) / k2
    psi_h[..., 0, 0] = 0
    return (irfft2(1j * ky * psi_h, s=(n, n)), irfft2(-1j * kx * psi_h, s=(n, n)))


@PDES.register("navier_stokes")
class NavierStokes(PseudoSpectralPDE):
    name = "navier_stokes"
    seed_slot = 3
    coefficient_names = ("visc", "amp")
    ranges = {
        "id": {"visc": Range(4e-4, 4e-3, log=True), "amp": Range(0.05, 0.2)},
        "ood": {"visc": Range(1e-4, 4e-4, log=True), "amp": Range(0.2, 0.3)},
    }
    resolution = 64
    frame_dt = 0.5
    # Measured against a 2x finer, dt/4 solve at frame 8 (t = 4): ID at 64^2 ~6e-8; OOD
    # (nu ~ 1.7e-4) at 64^2 ~8e-4, at 128^2 ~2e-5, so OOD computes on 128^2.
    default_solver = SolverSettings(refine=1, cfl=0.5, dtype="float64")
    solver_by_distribution = {"ood": SolverSettings(refine=2, cfl=0.5, dtype="float64")}

    def draw_initial_condition(self, rng):
        return draw_grf(rng)

    def initial_condition(self, ic, n, device, dtype):
        return grf(ic, n, device, dtype)

    def setup(self, wh0, coeffs, grid, u0):
        """L = -visc |k|^2; N(w) = f - (u . grad w), dealiased, with psi_hat = w_hat / |k|^2;
        speed max(|u| + |v|)."""
        inv_k2 = 1.0 / torch.where(grid.k2 == 0, torch.ones_like(grid.k2), grid.k2)
        inv_k2[0, 0] = 0.0
        kx, ky, to_physical = grid.kx, grid.ky, grid.to_physical
        fh = rfft2(forcing(grid.n, coeffs["amp"], u0.device, grid.dtype)) * grid.mask

        def vel(wh):
            psi_h = wh * inv_k2
            return to_physical(1j * ky * psi_h), to_physical(-1j * kx * psi_h)

        def nonlinear(wh):
            u, v = vel(wh)
            transport = u * to_physical(1j * kx * wh) + v * to_physical(1j * ky * wh)
            return fh - grid.mask * rfft2(transport)

        def speed(wh, w):
            u, v = vel(wh)
            return (u.abs() + v.abs()).flatten(1).amax(dim=1)

        return SpectralProblem(linear=-coefficient_view(coeffs, "visc", wh0.real) * grid.k2,
                               nonlinear=nonlinear, speed=speed,
                               bound=1e3 * (float(u0.abs().max()) + 1.0))

    def rhs(self, w, coeffs):
        u, v = velocity(w)
        n = w.shape[-1]
        f = forcing(n, coeffs["amp"], w.device, w.dtype)[:, None]
        visc = coefficient_view(coeffs, "visc", w)
        transport = dealias(u * derivative(w, 1, 0) + v * derivative(w, 0, 1))
        return -transport + visc * laplacian(w) + f
