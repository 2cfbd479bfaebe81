"""Spectral tools on the periodic square [-1, 1)^2 (side L = 2, so mode m has wavenumber pi*m).

Fields are real tensors ``u[..., ix, iy]`` ("ij" indexing); their transforms are
``rfft2(u)[..., kx, ky]`` with ``kx`` over all N modes and ``ky`` over N//2 + 1."""

from __future__ import annotations

import math

import torch

DOMAIN_LENGTH = 2.0


def _one_field(t: torch.Tensor) -> bool:
    return t.shape[:-2].numel() == 1


def rfft2(u: torch.Tensor) -> torch.Tensor:
    """``torch.fft.rfft2`` over the last two axes whose result for each field does not depend on
    how many fields share the call (see ``irfft2``; on AMD EPYC (Zen 4) the real-to-complex
    transform of a lone field rounds differently too)."""
    if _one_field(u):
        pair = torch.cat([u.reshape(1, *u.shape[-2:])] * 2)
        return torch.fft.rfft2(pair)[:1].reshape(*u.shape[:-2], u.shape[-2], u.shape[-1] // 2 + 1)
    return torch.fft.rfft2(u)


def irfft2(uh: torch.Tensor, s: tuple[int, int]) -> torch.Tensor:
    """``torch.fft.irfft2`` whose result for each field does not depend on how many fields share
    the call.

    MKL (torch's CPU FFT) takes another code path for a single transform than for a batch of them,
    and on some CPUs the two round differently in the last bit (complex-to-real on AVX-512 Xeons;
    both directions on AMD EPYC); batches of two or more all agree with each other (measured for
    batch sizes 1..16, grids 16..256, float32 and float64). A lone field is therefore transformed
    as a batch of two (itself twice), so a sample's stored frames are the same bytes whatever the
    chunk it is solved in."""
    if _one_field(uh):
        pair = torch.cat([uh.reshape(1, *uh.shape[-2:])] * 2)
        return torch.fft.irfft2(pair, s=s)[:1].reshape(*uh.shape[:-2], *s)
    return torch.fft.irfft2(uh, s=s)


def grid_coordinates(n: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """(2, n, n) coordinates x_i = -1 + 2 i / n (endpoint excluded): [0] is x, [1] is y."""
    axis = -1.0 + DOMAIN_LENGTH * torch.arange(n, device=device, dtype=torch.float64) / n
    gx, gy = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([gx, gy]).to(dtype)


def wavenumbers(n: int, device=None, dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Angular wavenumbers for ``rfft2`` of an (n, n) field: kx (n, 1) and ky (1, n//2 + 1)."""
    scale = 2.0 * math.pi / DOMAIN_LENGTH
    kx = torch.fft.fftfreq(n, d=1.0 / n, device=device, dtype=dtype) * scale
    ky = torch.fft.rfftfreq(n, d=1.0 / n, device=device, dtype=dtype) * scale
    return kx[:, None], ky[None, :]


def dealias_mask(n: int, device=None) -> torch.Tensor:
    """2/3-rule mask (n, n//2 + 1): keeps integer modes |m| < n/3 on both axes."""
    m_x = torch.fft.fftfreq(n, d=1.0 / n, device=device).abs()[:, None]
    m_y = torch.fft.rfftfreq(n, d=1.0 / n, device=device)[None, :]
    cut = n / 3.0
    return (m_x < cut) & (m_y < cut)


#: Hou & Li's exponential filter exp(-ALPHA (|m| / (n/2))^ORDER) per axis: ALPHA = 36 takes the
#: Nyquist mode to machine zero; ORDER = 36 keeps sigma >= 1/2 up to 0.896 of the Nyquist mode.
FILTER_ALPHA = 36.0
FILTER_ORDER = 36
#: the filter's reach against the 2/3 rule's n/3: max over m of m sigma(m), over n/3; sigma(x n/2)
#: x peaks at x = (ALPHA ORDER)^(-1/ORDER), where sigma = exp(-1/ORDER) (1.196 for 36, 36)
FILTER_REACH = 1.5 * (FILTER_ALPHA * FILTER_ORDER) ** (-1.0 / FILTER_ORDER) * math.exp(-1.0 / FILTER_ORDER)


def exponential_filter(n: int, device=None, dtype=torch.float64) -> torch.Tensor:
    """Hou & Li's high-order filter (n, n//2 + 1) on integer modes m of an n-point axis,

        sigma(mx, my) = exp(-36 (|mx| / (n/2))^36) exp(-36 (|my| / (n/2))^36),   Nyquist modes 0,

    instead of the 2/3 rule: a product u^2 of modes |m| < n/2 aliases, but only through modes the
    filter has already taken to near zero, so about 0.9 n/2 modes per axis are resolved against
    the 2/3 rule's n/3 (Hou & Li, J. Comput. Phys. 226, 2007)."""
    m_x = torch.fft.fftfreq(n, d=1.0 / n, device=device, dtype=torch.float64).abs()[:, None]
    m_y = torch.fft.rfftfreq(n, d=1.0 / n, device=device, dtype=torch.float64)[None, :]
    return (filter_1d(m_x, n) * filter_1d(m_y, n)).to(dtype)


def filter_1d(m: torch.Tensor, n: int) -> torch.Tensor:
    """The exponential filter's factor exp(-36 (|m| / (n/2))^36) of mode numbers m (0 at and
    beyond the Nyquist mode n/2)."""
    h = n / 2.0
    return torch.exp(-FILTER_ALPHA * (m.abs() / h) ** FILTER_ORDER) * (m.abs() < h)


def dealias(f: torch.Tensor) -> torch.Tensor:
    """Project a field (..., n, n) onto the 2/3-rule modes (as the solvers do with products)."""
    n = f.shape[-1]
    return irfft2(rfft2(f) * dealias_mask(n, device=f.device), s=f.shape[-2:])


def nyquist_free(uh: torch.Tensor) -> torch.Tensor:
    """Zero the Nyquist modes of an even-sized transform, whose derivative is not real."""
    n = uh.shape[-2]
    if n % 2 == 0:
        uh = uh.clone()
        uh[..., n // 2, :] = 0
        uh[..., :, -1] = 0
    return uh


def derivative(u: torch.Tensor, order_x: int = 0, order_y: int = 0) -> torch.Tensor:
    """Periodic spectral derivative d^(order_x + order_y) u / dx^order_x dy^order_y over the
    last two axes. Exact for band-limited fields; odd orders drop the Nyquist mode."""
    n = u.shape[-1]
    kx, ky = wavenumbers(n, device=u.device, dtype=u.real.dtype if u.is_complex() else u.dtype)
    uh = rfft2(u)
    if order_x % 2 or order_y % 2:
        uh = nyquist_free(uh)
    factor = (1j * kx) ** order_x * (1j * ky) ** order_y
    return irfft2(uh * factor, s=u.shape[-2:])


def laplacian(u: torch.Tensor) -> torch.Tensor:
    """Spectral Laplacian u_xx + u_yy over the last two axes."""
    n = u.shape[-1]
    kx, ky = wavenumbers(n, device=u.device, dtype=u.dtype)
    return irfft2(rfft2(u) * -(kx**2 + ky**2), s=u.shape[-2:])


def fourier_shift(u: torch.Tensor, sx: torch.Tensor, sy: torch.Tensor) -> torch.Tensor:
    """u(x - sx, y - sy) by a Fourier phase, for shifts of any (sub-grid) size.

    ``u`` is (B, ..., N, N); ``sx`` and ``sy`` are (B,) shifts in domain units (one cell = 2/N).
    Exact for band-limited fields; the Nyquist mode is dropped."""
    n = u.shape[-1]
    kx, ky = wavenumbers(n, device=u.device, dtype=torch.float64)
    extra = (1,) * (u.dim() - 3)
    sx = sx.to(torch.float64).reshape(-1, *extra, 1, 1)
    sy = sy.to(torch.float64).reshape(-1, *extra, 1, 1)
    phase = torch.exp(-1j * (kx * sx + ky * sy))
    uh = nyquist_free(rfft2(u.to(torch.float64)))
    return irfft2(uh * phase, s=u.shape[-2:]).to(u.dtype)


def time_derivative(u: torch.Tensor, dt: float) -> torch.Tensor:
    """Fourth-order central difference du/dt along axis 1 of (B, T, ...); returns frames 2..T-3."""
    if u.shape[1] < 5:
        raise ValueError(f"need at least 5 frames for a 4th-order time derivative, got {u.shape[1]}")
    return (u[:, :-4] - 8 * u[:, 1:-3] + 8 * u[:, 3:-1] - u[:, 4:]) / (12.0 * dt)


def point_sample(u_fine: torch.Tensor, n_out: int) -> torch.Tensor:
    """Stored values are the fine solution at the coarse grid points (x_i on both grids coincide
    because the fine size is an integer multiple of the stored one)."""
    n_fine = u_fine.shape[-1]
    if n_fine % n_out:
        raise ValueError(f"fine resolution {n_fine} is not a multiple of the stored {n_out}")
    r = n_fine // n_out
    return u_fine[..., ::r, ::r]


def spectral_upsample(u: torch.Tensor, n_out: int) -> torch.Tensor:
    """Zero-pad the spectrum of (..., n, n) to (..., n_out, n_out): the same band-limited field
    on a finer grid (values at shared points unchanged)."""
    n = u.shape[-1]
    if n_out == n:
        return u
    uh = nyquist_free(rfft2(u))
    out = torch.zeros(*u.shape[:-2], n_out, n_out // 2 + 1, dtype=uh.dtype, device=u.device)
    h = n // 2
    out[..., :h, :h + 1] = uh[..., :h, :h + 1]
    out[..., n_out - h + 1:, :h + 1] = uh[..., h + 1:, :h + 1]
    scale = (n_out / n) ** 2
    return irfft2(out * scale, s=(n_out, n_out))
