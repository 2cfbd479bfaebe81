"""The PDE interface: coefficient ranges, per-sample draws, a batched solver and a residual.

Conventions: a batch of fields is a tensor (B, N, N) on the periodic square [-1, 1)^2; a batch of
trajectories is (B, T, N, N). Coefficients travel as a dict of (B,) tensors keyed by the names in
``COEFFICIENT_KEYS`` (and ``EXTRA_KEYS`` for Navier-Stokes)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from pde_lib.errors import ConfigError, SolverError
from pde_lib.pdes.lattice import LATTICES

#: With 2/3 dealiasing the largest advective eigenvalue is cfl * 2 pi / 3 per step; RK4 is stable
#: on the imaginary axis up to 2 sqrt(2), so cfl <= 3 sqrt(2) / pi = 1.35.
MAX_CFL = 1.35


@dataclass(frozen=True)
class Range:
    """A coefficient range: uniform on [low, high], or log-uniform if ``log``."""

    low: float
    high: float
    log: bool = False

    def draw(self, rng: np.random.Generator) -> float:
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))


@dataclass
class SolverSettings:
    """Numerical settings of a solve. ``refine`` is the ratio of the compute grid to the stored
    grid, ``cfl`` the Courant number bounding dt, ``dt_scale`` an extra factor on dt (the
    refinement check uses 1/4), ``max_steps_per_frame`` the stability guard.

    With ``tail_tol`` set (pseudo-spectral PDEs), the compute grid is chosen per sample and frame
    interval out of ``ladder`` (ratios to the stored grid) by the spectral-tail criterion of
    ``pde_lib.pdes.resolution`` with band ``tail_band``; ``refine`` is then the grid the initial
    field is given on. ``lattice`` names the Fourier lattice of the schedule's grids
    (``pde_lib.pdes.lattice``: ``square`` n^2 grids, or ``diagonal`` (n1, n2) grids sheared
    along x = y); a sheared lattice needs the schedule."""

    refine: int = 1
    cfl: float = 0.5
    dt_scale: float = 1.0
    dtype: str = "float64"
    max_steps_per_frame: int = 100_000
    tail_tol: float | None = None
    tail_band: float = 0.5
    ladder: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16)
    lattice: str = "square"

    def __post_init__(self):
        self.ladder = tuple(self.ladder)

    def validate(self, pde: str) -> None:
        if self.refine < 1 or int(self.refine) != self.refine:
            raise ConfigError(f"{pde}: refine must be a positive integer, got {self.refine!r}")
        if self.tail_tol is not None:
            if not 0 < self.tail_tol < 1:
                raise ConfigError(f"{pde}: tail_tol must be in (0, 1) or null, got {self.tail_tol!r}")
            if not 0 < self.tail_band < 1:
                raise ConfigError(f"{pde}: tail_band must be in (0, 1), got {self.tail_band!r}")
            if (not self.ladder or any(int(r) != r or r < 1 for r in self.ladder)
                    or list(self.ladder) != sorted(set(self.ladder))):
                raise ConfigError(f"{pde}: ladder must be increasing positive integers, got "
                                  f"{list(self.ladder)!r}")
        if self.lattice not in LATTICES:
            raise ConfigError(f"{pde}: lattice must be one of {sorted(LATTICES)}, got {self.lattice!r}")
        if self.lattice != "square" and self.tail_tol is None:
            raise ConfigError(f"{pde}: lattice {self.lattice!r} needs the resolution schedule "
                              "(tail_tol); a fixed grid (refine) is square")
        if not 0 < self.cfl <= MAX_CFL:
            raise ConfigError(
                f"{pde}: cfl={self.cfl!r} is outside the stable range (0, {MAX_CFL}] of the RK4 scheme"
            )
        if not 0 < self.dt_scale <= 1.0:
            raise ConfigError(f"{pde}: dt_scale must be in (0, 1], got {self.dt_scale!r}")
        if self.dtype not in ("float32", "float64"):
            raise ConfigError(f"{pde}: dtype must be float32 or float64, got {self.dtype!r}")

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self.dtype)


class PDE:
    """Base class; subclasses are registered in ``pde_lib.pdes.registry.PDES`` by ``name``."""

    name: ClassVar[str]
    #: fixed slot in the seed layout (pde_lib.generation.seeds); a new PDE takes a free one in 0..7
    seed_slot: ClassVar[int]
    #: which of COEFFICIENT_KEYS / EXTRA_KEYS this PDE uses
    coefficient_names: ClassVar[tuple[str, ...]]
    ranges: ClassVar[dict[str, dict[str, Range]]]
    resolution: ClassVar[int] = 32
    frame_dt: ClassVar[float] = 0.0625
    n_frames: ClassVar[int] = 32
    default_solver: ClassVar[SolverSettings] = SolverSettings()
    #: per-distribution overrides of ``default_solver`` (e.g. a finer grid for sharper OOD fronts)
    solver_by_distribution: ClassVar[dict[str, SolverSettings]] = {}

    def solver_settings(self, distribution: str) -> SolverSettings:
        """The default settings that meet the accuracy bar for ``distribution``."""
        return self.solver_by_distribution.get(distribution, self.default_solver)

    # ---- sampling -------------------------------------------------------------------------
    def draw(self, seed: int, distribution: str) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """Draw one sample's coefficients and initial-condition parameters from its own seed."""
        if distribution not in self.ranges:
            raise ConfigError(
                f"unknown distribution {distribution!r} for {self.name}; valid: {sorted(self.ranges)}"
            )
        rng = np.random.default_rng(seed)
        ic = self.draw_initial_condition(rng)
        coeffs = {k: r.draw(rng) for k, r in self.ranges[distribution].items()}
        return coeffs, ic

    def draw_initial_condition(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def initial_condition(self, ic: dict[str, torch.Tensor], n: int, device, dtype) -> torch.Tensor:
        """Evaluate stacked IC parameters (each (B, ...)) on an n x n grid -> (B, n, n)."""
        raise NotImplementedError

    def times(self) -> torch.Tensor:
        return torch.arange(self.n_frames, dtype=torch.float64) * self.frame_dt

    # ---- solving --------------------------------------------------------------------------
    def solve(self, u0: torch.Tensor, coeffs: dict[str, torch.Tensor], times: torch.Tensor,
              settings: SolverSettings | None = None) -> torch.Tensor:
        """Advance (B, M, M) initial fields to each of ``times`` (T,) -> (B, T, M // refine, ...).
        ``u0`` is given on the compute grid; the output is point-sampled to M // refine."""
        raise NotImplementedError

    # ---- checking -------------------------------------------------------------------------
    def rhs(self, u: torch.Tensor, coeffs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The right-hand side F(u) of u_t = F(u) for (B, T, N, N) fields, spectrally."""
        raise NotImplementedError

    def residual(self, u: torch.Tensor, coeffs: dict[str, torch.Tensor], dt: float) -> torch.Tensor:
        """Relative PDE residual per sample, ||u_t - F(u)|| / ||u_t||, with a 4th-order central
        time difference over frames 2..T-3 and spectral space derivatives. (B, T, N, N) -> (B,)."""
        from pde_lib.pdes.spectral import time_derivative

        u = u.to(torch.float64)
        ut = time_derivative(u, dt)
        f = self.rhs(u[:, 2:-2], coeffs)
        num = (ut - f).flatten(1).norm(dim=1)
        return num / ut.flatten(1).norm(dim=1).clamp_min(1e-300)


def coefficient_view(coeffs: dict[str, torch.Tensor], key: str, like: torch.Tensor) -> torch.Tensor:
    """A (B, 1, ..., 1) view of one coefficient that broadcasts against ``like``."""
    c = coeffs[key].to(device=like.device, dtype=like.real.dtype if like.is_complex() else like.dtype)
    return c.reshape(-1, *([1] * (like.dim() - 1)))


def check_finite(pde: str, u: torch.Tensor, bound: float) -> None:
    """Raise SolverError naming the first bad sample (by batch index) if ``u`` (B, ...) is
    non-finite or exceeds ``bound`` in magnitude. The generator adds seed and coefficients."""
    bad = ~torch.isfinite(u).flatten(1).all(dim=1) | (u.abs().flatten(1).amax(dim=1) > bound)
    if bool(bad.any()):
        index = int(torch.nonzero(bad)[0])
        err = SolverError(
            f"{pde} solve went non-finite or exceeded its stability bound |u| <= {bound:g} "
            f"at batch index {index}"
        )
        err.sample_index = index
        raise err
