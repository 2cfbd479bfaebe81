"""The compute grid of a pseudo-spectral solve and the problem posed on it."""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Callable

import torch

from pde_lib.pdes.base import MAX_CFL
from pde_lib.pdes.integrators import stable_step
from pde_lib.pdes.lattice import LATTICES, Lattice
from pde_lib.pdes.spectral import dealias_mask, irfft2, wavenumbers


@dataclass
class SpectralGrid:
    """The compute grid's transform axes: ``kx`` (n, 1), ``ky`` (1, n//2 + 1), ``k2`` = |k|^2,
    the 2/3-rule ``mask``, and the real ``dtype`` of the solve. On a sheared ``lattice``
    (``pde_lib.pdes.lattice``) the grid is (n1, n2) = ``shape`` and ``kx``, ``ky`` are the physical
    wavenumbers pi T m' of its rfft2 layout, each (n1, n2//2 + 1); ``n`` is then n2."""

    n: int
    kx: torch.Tensor
    ky: torch.Tensor
    k2: torch.Tensor
    mask: torch.Tensor
    dtype: torch.dtype
    shape: tuple[int, int] | None = None
    lattice: Lattice = LATTICES["square"]

    def __post_init__(self):
        if self.shape is None:
            self.shape = (self.n, self.n)

    @classmethod
    def build(cls, n: int, device, dtype: torch.dtype) -> "SpectralGrid":
        kx, ky = wavenumbers(n, device=device, dtype=dtype)
        return cls(n, kx, ky, kx**2 + ky**2, dealias_mask(n, device=device), dtype)

    @classmethod
    def build_on(cls, lattice: Lattice, shape: tuple[int, int], device, dtype: torch.dtype) -> "SpectralGrid":
        """An (n1, n2) grid of a sheared lattice (the square lattice's square grids: ``build``)."""
        mx, my = lattice.physical_modes(shape, device)
        m1, m2 = lattice.grid_modes(shape, device)
        kx, ky = (math.pi * mx).to(dtype), (math.pi * my).to(dtype)
        mask = (m1.abs() < shape[0] / 3) & (m2 < shape[1] / 3)
        return cls(shape[1], kx, ky, kx**2 + ky**2, mask, dtype, tuple(shape), lattice)

    @property
    def is_square(self) -> bool:
        """The square lattice on a square grid (the solvers' original layout)."""
        return self.lattice.is_square and self.shape[0] == self.shape[1]

    def to_physical(self, vh: torch.Tensor) -> torch.Tensor:
        return irfft2(vh, s=self.shape)


@dataclass
class SpectralProblem:
    """``linear`` L (broadcasting to (B, n, n//2 + 1)); ``nonlinear(vh)`` N in Fourier space;
    ``speed(vh, v)`` each sample's largest advecting speed (B,) given the state in Fourier (vh) and
    physical (v) space; ``bound`` the largest |v| a stable solve may reach.

    ``rates(v)``, if given, returns the damping rates a and advective frequencies w (each (B, K))
    of model modes that bound the step (frozen coefficients, v' = (-a + i w) v): the step is then
    the largest one on which IFRK4 is stable on them (``integrators.stable_step``), at least the
    CFL step; without it, the CFL step."""

    linear: torch.Tensor
    nonlinear: Callable[[torch.Tensor], torch.Tensor]
    speed: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    bound: float
    rates: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None

    def max_dt(self, vh: torch.Tensor, v: torch.Tensor, dx: float, settings) -> torch.Tensor:
        """Each sample's largest step (B,): cfl dx / speed, raised where ``rates`` show damping
        that keeps IFRK4 stable beyond it (the advective frequencies raised by MAX_CFL / cfl, so
        without damping both agree), times ``settings.dt_scale``."""
        speed = self.speed(vh, v).clamp_min(1e-12)
        if self.rates is None:  # (this order of operations: the bytes of earlier data)
            return settings.dt_scale * settings.cfl * dx / speed
        decay, freq = self.rates(v)
        dt = stable_step(settings.cfl * dx / speed, decay, freq, margin=MAX_CFL / settings.cfl)
        return settings.dt_scale * dt
