"""Viscous Burgers u_t + u (cx u_x + cy u_y) = nu Lap(u).

Pseudo-spectral in conservative form, u (c . grad u) = c . grad(u^2 / 2), with a high-order
exponential filter on the nonlinear term (``spectral.exponential_filter``, Hou & Li) and
integrating-factor RK4; dt <= cfl * dx / (max|u| (|cx| + |cy|) FILTER_REACH), up to 1.5x longer
where the viscous damping keeps the step stable (``integrators.stable_step``). Computed per sample on the grids
of its resolution schedule (or on one grid ``refine`` times finer than the stored one) and
point-sampled."""

from __future__ import annotations

import math
from dataclasses import replace

import torch

from pde_lib.pdes.registry import PDES
from pde_lib.pdes.base import Range, SolverSettings, coefficient_view
from pde_lib.pdes.initial_conditions import SineSumInitialCondition
from pde_lib.pdes.pseudo_spectral import PseudoSpectralPDE, SpectralProblem
from pde_lib.pdes.spectral import (FILTER_REACH, derivative, exponential_filter, filter_1d, laplacian,
                                   rfft2)

#: model modes on the ray that bounds each step (``setup``'s ``rates``)
RAY_MODES = 128


@PDES.register("burgers")
class Burgers(SineSumInitialCondition, PseudoSpectralPDE):
    name = "burgers"
    seed_slot = 2
    coefficient_names = ("nu", "cx", "cy")
    ranges = {
        "id": {"nu": Range(7.5e-3, 1.5e-2), "cx": Range(0.5, 1.0), "cy": Range(0.5, 1.0)},
        "ood": {"nu": Range(5e-3, 7.5e-3), "cx": Range(1.0, 1.25), "cy": Range(1.0, 1.25)},
    }
    # A resolution schedule (pde_lib.pdes.resolution): each sample's grid is chosen per frame
    # interval, out of 32^2 .. 512^2, by its spectral tail; the steep early fronts get fine grids,
    # the smoothed later frames coarse ones. Measured against a solve on twice each chosen grid
    # with dt / 4 (tests/test_pdes.py, benchmarks/data_generation.py): every stored frame of
    # every sample, ID and OOD, sharp corners included, within 1e-3. float32 matches float64 at
    # this level. cfl = 1.25 keeps the advective eigenvalues at |lambda| dt <= 1.25 * 2 pi / 3 =
    # 2.6, inside RK4's stability limit 2.83; the diffusion is integrated exactly by the
    # integrating factor. The same settings serve both distributions.
    kept_fraction = 0.5  # the exponential filter keeps modes |m| < n/2
    default_solver = SolverSettings(refine=1, cfl=1.25, dtype="float32", tail_tol=7e-3,
                                    tail_band=0.5)
    # OOD: advection speeds cx, cy in [1, 1.25] point within 6 degrees of the diagonal, and the
    # steep fronts' spectra lie along m_x = m_y; on the diagonal lattice (grid modes m_x - m_y and
    # m_y) they fit (n1, n2) grids with n1 about a third of n2 (``pde_lib.pdes.lattice``).
    solver_by_distribution = {"ood": replace(default_solver, lattice="diagonal")}

    def setup(self, vh0, coeffs, grid, u0):
        """L = -nu |k|^2; N(v) = -sigma (c . grad)(v^2 / 2) with the exponential filter sigma
        (``spectral.exponential_filter``); speed max|v| (|cx| + |cy|) FILTER_REACH (the filtered
        band reaches 1.2x the 2/3 rule's, so cfl keeps its inviscid meaning); the step's model
        modes (``rates``) lie on the ray k = t c / |c| (for a given c . k, the least damped).
        On a sheared lattice's (n1, n2) grid: ``_setup_on_lattice``."""
        if not grid.is_square:
            return self._setup_on_lattice(vh0, coeffs, grid, u0)
        nu = coefficient_view(coeffs, "nu", vh0.real)
        cx = coefficient_view(coeffs, "cx", vh0.real)
        cy = coefficient_view(coeffs, "cy", vh0.real)
        flux_op = -0.5j * (cx * grid.kx + cy * grid.ky) * exponential_filter(grid.n, vh0.device, grid.dtype)
        speed = (cx.abs() + cy.abs()).flatten() * FILTER_REACH

        def nonlinear(vh):
            u = grid.to_physical(vh)
            return flux_op * rfft2(u * u)

        def rates(v):
            """Along the ray of mode numbers p = t (|cx|, |cy|) / |c|, t up to where it leaves the
            band (max component n/2): damping nu pi^2 t^2, frequency sigma(p) pi t |c| max|v|."""
            c = torch.stack([cx.flatten(), cy.flatten()], dim=1).abs().double()  # (B, 2)
            norm = c.norm(dim=1, keepdim=True)
            t_max = 0.5 * grid.n * norm / c.amax(dim=1, keepdim=True)
            t = t_max * torch.arange(1, RAY_MODES + 1, device=c.device, dtype=torch.float64) / RAY_MODES
            sigma = filter_1d(t * c[:, :1] / norm, grid.n) * filter_1d(t * c[:, 1:] / norm, grid.n)
            u_max = v.abs().flatten(1).amax(dim=1, keepdim=True).double()
            decay = nu.flatten()[:, None].double() * (math.pi * t) ** 2
            return decay, sigma * math.pi * t * norm * u_max

        return SpectralProblem(linear=-nu * grid.k2, nonlinear=nonlinear,
                               speed=lambda vh, u: u.abs().flatten(1).amax(dim=1) * speed,
                               bound=1e3 * float(u0.abs().max()) + 1.0, rates=rates)

    def _setup_on_lattice(self, vh0, coeffs, grid, u0):
        """The same problem on an (n1, n2) grid of a sheared lattice (grid modes m', physical
        modes m = T m'): the filter acts per grid axis, sigma(m'_1; n1) sigma(m'_2; n2); the CFL
        speed is max|v| FILTER_REACH (|c'_1| n1 / n2 + |c'_2|) with c' = T^T c, for dx = 2 / n2
        (``grid.n``), so that |c . k| max|v| dt <= cfl 2 pi / 3 FILTER_REACH on the whole band as
        on the square grid; the model modes lie on the ray p = t c / |c| up to where its grid
        modes T^-1 p leave the band."""
        n1, n2 = grid.shape
        lattice = grid.lattice
        nu = coefficient_view(coeffs, "nu", vh0.real)
        cx = coefficient_view(coeffs, "cx", vh0.real)
        cy = coefficient_view(coeffs, "cy", vh0.real)
        m1, m2 = lattice.grid_modes(grid.shape, vh0.device)
        sigma_grid = (filter_1d(m1, n1) * filter_1d(m2, n2)).to(grid.dtype)
        flux_op = -0.5j * (cx * grid.kx + cy * grid.ky) * sigma_grid
        c1, c2 = lattice.grid_coefficients(cx.flatten().double(), cy.flatten().double())
        reach = (c1.abs() * (n1 / n2) + c2.abs()) * FILTER_REACH
        (a, b), _ = lattice.matrix

        def nonlinear(vh):
            u = grid.to_physical(vh)
            return flux_op * rfft2(u * u)

        def rates(v):
            c = torch.stack([cx.flatten(), cy.flatten()], dim=1).double()  # (B, 2), signed
            norm = c.norm(dim=1, keepdim=True)
            d = c / norm  # the ray's direction in physical mode numbers
            g2 = d[:, 1:]  # its grid components: m' = T^-1 p, m'_2 = p_y, m'_1 = (p_x - b p_y) / a
            g1 = (d[:, :1] - b * g2) / a
            t_max = torch.minimum(0.5 * n1 / g1.abs().clamp_min(1e-12), 0.5 * n2 / g2.abs().clamp_min(1e-12))
            t = t_max * torch.arange(1, RAY_MODES + 1, device=c.device, dtype=torch.float64) / RAY_MODES
            sigma = filter_1d(t * g1, n1) * filter_1d(t * g2, n2)
            u_max = v.abs().flatten(1).amax(dim=1, keepdim=True).double()
            decay = nu.flatten()[:, None].double() * (math.pi * t) ** 2
            return decay, sigma * math.pi * t * norm * u_max

        return SpectralProblem(linear=-nu * grid.k2, nonlinear=nonlinear,
                               speed=lambda vh, u: (u.abs().flatten(1).amax(dim=1).double() * reach).to(u.dtype),
                               bound=1e3 * float(u0.abs().max()) + 1.0, rates=rates)

    def rhs(self, u, coeffs):
        cx = coefficient_view(coeffs, "cx", u)
        cy = coefficient_view(coeffs, "cy", u)
        nu = coefficient_view(coeffs, "nu", u)
        # no dealiasing here: stored frames are point samples, not band-limited fields
        return -u * (cx * derivative(u, 1, 0) + cy * derivative(u, 0, 1)) + nu * laplacian(u)
