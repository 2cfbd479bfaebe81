"""The lowest Fourier modes of a periodic 2-D field as small real matrix products.

FNO keeps only ``m`` x ``m`` modes per kx sign; computing them with full FFTs (and inverting a
mostly zero spectrum) costs far more than the few modes need. Here both directions are separable
real matrix products on a grid-major layout (Nx, Ny, R), R = batch x channels:

    forward   X[kx, ky] = sum_{x,y} u[x, y] exp(-2 pi i (kx x + ky y) / N)
              kx in {0..m-1, N-m..N-1} (2m rows), ky in {0..m-1}
              step y: (2m, Ny) [cos; -sin] @ u[x]      -> (Nx, 2 [re, im], m, R)
              step x: (4m, 2 Nx) real form of the complex sum over x -> (2m, 2, m, R)
    inverse   u[x, y] = irfft2 of the spectrum zero outside those modes, i.e.
              (1/N^2) sum_{kx, ky} c_ky Re(X[kx, ky] exp(+2 pi i (kx x + ky y) / N)),
              c_0 = 1, c_ky = 2 (the conjugate half); the imaginary part of ky = 0 is dropped,
              as irfft does

The same numbers as ``torch.fft.rfft2`` / ``irfft2`` up to float rounding. The matrices are built
in float64 once per (N, m, dtype, device) and cached."""

from __future__ import annotations

import functools
import math

import torch


@functools.lru_cache(maxsize=32)
def dft_matrices(nx: int, ny: int, m: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, ...]:
    """(fy (2m, Ny), gx (4m, 2Nx), gx_inv (2Nx, 4m), hy_inv (Ny, 2m)) for an Nx x Ny grid."""
    f64 = dict(dtype=torch.float64)
    kx = torch.cat([torch.arange(m, **f64), torch.arange(nx - m, nx, **f64)])  # (2m,)
    ky = torch.arange(m, **f64)
    xs, ys = torch.arange(nx, **f64), torch.arange(ny, **f64)
    th_y = 2 * math.pi * ky[:, None] * ys[None, :] / ny  # (m, Ny)
    fy = torch.cat([th_y.cos(), -th_y.sin()])  # rows: re of ky, then im of ky
    th_x = 2 * math.pi * kx[:, None] * xs[None, :] / nx  # (2m, Nx)
    c, s = th_x.cos(), th_x.sin()
    # (a + ib) e^{-i th} = (c a + s b) + i (c b - s a); index [kx, out re/im, x, in re/im]
    gx = torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], 1).reshape(4 * m, 2 * nx)
    # (a + ib) e^{+i th} / Nx = (c a - s b + i (c b + s a)) / Nx; index [x, out re/im, kx, in re/im]
    gx_inv = torch.stack([torch.stack([c.T, -s.T], -1), torch.stack([s.T, c.T], -1)], 1).reshape(2 * nx, 4 * m) / nx
    weight = torch.where(ky == 0, 1.0, 2.0)  # the conjugate half of the real spectrum
    th_yi = th_y.T  # (Ny, m)
    hy_inv = torch.cat([weight * th_yi.cos(), -weight * th_yi.sin()], 1) / ny  # Re(a e^{i th}) = a_re cos - a_im sin
    return tuple(t.to(dtype=dtype, device=device) for t in (fy, gx, gx_inv, hy_inv))


def truncated_rfft2(u: torch.Tensor, m: int) -> torch.Tensor:
    """(Nx, Ny, R) real -> (2m kx, 2 [re, im], m ky, R): the kept modes of rfft2 over (x, y)."""
    nx, ny, r = u.shape
    fy, gx, _, _ = dft_matrices(nx, ny, m, u.dtype, u.device)
    half = torch.matmul(fy, u)  # (Nx, 2m, R) = (Nx, 2, m, R)
    return (gx @ half.reshape(2 * nx, m * r)).reshape(2 * m, 2, m, r)


def truncated_irfft2(spec: torch.Tensor, nx: int, ny: int) -> torch.Tensor:
    """(2m kx, 2 [re, im], m ky, R) -> (Nx, Ny, R) real: irfft2 of the spectrum that holds these
    modes and zeros elsewhere (``s=(Nx, Ny)``)."""
    two_m, _, m, r = spec.shape
    _, _, gx_inv, hy_inv = dft_matrices(nx, ny, m, spec.dtype, spec.device)
    half = (gx_inv @ spec.reshape(two_m * 2, m * r)).reshape(nx, 2 * m, r)  # (Nx, 2, m, R)
    return torch.matmul(hy_inv, half)  # (Nx, Ny, R)
