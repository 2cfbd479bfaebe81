"""Initial conditions: random sine sums (heat, advection, Burgers) and a Gaussian random field
vorticity (Navier-Stokes). Parameters are drawn per sample from its seed on the host (numpy), then
evaluated batched on any device, so a seed gives the same field everywhere."""

from __future__ import annotations

import math

import numpy as np
import torch

from pde_lib.pdes.spectral import grid_coordinates, spectral_upsample

N_SINES = 5


class SineSumInitialCondition:
    """PDE mixin: initial conditions are random sine sums (heat, advection, Burgers)."""

    def draw_initial_condition(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return draw_sine_sum(rng)

    def initial_condition(self, ic, n, device, dtype) -> torch.Tensor:
        return sine_sum(ic, n, device, dtype)


def draw_sine_sum(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """u0 = sum_j A_j sin(pi m_j x + pi n_j y + phi_j); A ~ U(-0.5, 0.5), phi ~ U(0, 2 pi),
    m, n ~ {1, 2, 3}."""
    return {
        "amplitude": rng.uniform(-0.5, 0.5, N_SINES),
        "phase": rng.uniform(0.0, 2.0 * math.pi, N_SINES),
        "mx": rng.integers(1, 4, N_SINES).astype(np.float64),
        "my": rng.integers(1, 4, N_SINES).astype(np.float64),
    }


def sine_sum(params: dict[str, torch.Tensor], n: int, device, dtype) -> torch.Tensor:
    """Evaluate stacked sine-sum parameters (each (B, 5)) on the n x n grid -> (B, n, n)."""
    x = grid_coordinates(n, device=device, dtype=torch.float64)
    p = {k: v.to(device=device, dtype=torch.float64)[:, :, None, None] for k, v in params.items()}
    arg = math.pi * p["mx"] * x[0] + math.pi * p["my"] * x[1] + p["phase"]
    return (p["amplitude"] * torch.sin(arg)).sum(dim=1).to(dtype)


#: GRF modes are drawn on this base grid, so the field is band-limited and identical at every
#: compute resolution (the refinement check solves the same initial condition on a finer grid).
GRF_BASE = 64
GRF_ALPHA = 2.5
GRF_TAU = 7.0


def draw_grf(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Standard normal coefficients for the real Gaussian random field of ``grf``."""
    return {"xi": rng.standard_normal((GRF_BASE, GRF_BASE))}


def grf(params: dict[str, torch.Tensor], n: int, device, dtype) -> torch.Tensor:
    """Zero-mean Gaussian random field with covariance tau^(2 alpha - 2) (-Lap + tau^2)^(-alpha)
    on the unit box (7^3 (-Lap + 49)^(-2.5)), mapped onto [-1, 1)^2 by x -> 2x - 1.

    White noise ``xi`` (B, 64, 64) is filtered in Fourier space with the square root of the
    covariance's eigenvalues, sigma (4 pi^2 |m|^2 + tau^2)^(-alpha/2), sigma = tau^(alpha - 1);
    the spectrum is then zero-padded to n x n, so the field is the same at every n >= 64."""
    xi = params["xi"].to(device=device, dtype=torch.float64)
    base = xi.shape[-1]
    if n < base:
        raise ValueError(f"Navier-Stokes compute grid {n} must be at least the GRF base {base}")
    m = torch.fft.fftfreq(base, d=1.0 / base, device=device, dtype=torch.float64)
    m2 = m[:, None] ** 2 + m[None, :] ** 2
    sigma = GRF_TAU ** (GRF_ALPHA - 1.0)
    sqrt_eig = sigma * (4 * math.pi**2 * m2 + GRF_TAU**2) ** (-GRF_ALPHA / 2.0)
    sqrt_eig[0, 0] = 0.0
    half = base // 2
    sqrt_eig[half, :] = 0.0
    sqrt_eig[:, half] = 0.0
    # Real field: filter real white noise (its spectrum is Hermitian by construction).
    coeffs = torch.fft.fft2(xi) * sqrt_eig
    field = torch.fft.ifft2(coeffs).real * base  # unit variance per mode on the base grid
    return spectral_upsample(field, n).to(dtype)
