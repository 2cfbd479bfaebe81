"""The compute grid of a pseudo-spectral solve and the problem posed on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from pde_lib.pdes.spectral import dealias_mask, irfft2, wavenumbers


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

    @classmethod
    def build(cls, n: int, device, dtype: torch.dtype) -> "SpectralGrid":
        kx, ky = wavenumbers(n, device=device, dtype=dtype)
        return cls(n, kx, ky, kx**2 + ky**2, dealias_mask(n, device=device), dtype)

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
