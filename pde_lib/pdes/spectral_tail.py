"""Sums over spectral bands of rfft2 states, and exact spectral resampling between grids.

Mode numbers are integers m (wavenumber pi m on the side-2 square); an rfft2 layout (B, n1, n2//2 + 1)
holds all m_1 and m_2 >= 0, so a Parseval sum counts column 0 once and the others twice."""

from __future__ import annotations

import torch


def mode_numbers(n: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer |mode| of an (n, n//2 + 1) rfft2 layout: (n, 1) and (1, n//2 + 1)."""
    mx = torch.fft.fftfreq(n, d=1.0 / n, device=device, dtype=torch.float64).abs()
    my = torch.fft.rfftfreq(n, d=1.0 / n, device=device, dtype=torch.float64)
    return mx[:, None], my[None, :]


def resample(vh: torch.Tensor, n_from: int, n_to: int, fraction: float = 1.0 / 3.0) -> torch.Tensor:
    """The rfft2 (..., n_from, n_from//2 + 1) of a field on n_from^2, moved onto n_to^2 keeping
    the modes |m| < fraction * min(n_from, n_to) (``fraction`` 1/3: the 2/3 rule): zero-padding
    when finer (exact), truncation when coarser."""
    if n_from == n_to:
        return vh
    return _resample_axes(vh, (n_from, n_from), (n_to, n_to), fraction, (n_to / n_from) ** 2)


def resample_grid(vh: torch.Tensor, shape_from: tuple[int, int], shape_to: tuple[int, int],
                  fraction: float) -> torch.Tensor:
    """``resample`` between (n1, n2) grids, axis by axis: keeps |m'_1| < fraction * min(n1, p1)
    and m'_2 < fraction * min(n2, p2)."""
    if tuple(shape_from) == tuple(shape_to):
        return vh
    scale = (shape_to[0] * shape_to[1]) / (shape_from[0] * shape_from[1])
    return _resample_axes(vh, shape_from, shape_to, fraction, scale)


def _resample_axes(vh, shape_from, shape_to, fraction, scale):
    device = vh.device
    mx = torch.fft.fftfreq(shape_to[0], d=1.0 / shape_to[0], device=device, dtype=torch.float64)
    my = torch.fft.rfftfreq(shape_to[1], d=1.0 / shape_to[1], device=device, dtype=torch.float64)
    cut_x = min(shape_from[0], shape_to[0]) * fraction
    cut_y = min(shape_from[1], shape_to[1]) * fraction
    keep = (mx.abs()[:, None] < cut_x) & (my[None, :] < cut_y)
    src_x = torch.where(mx.abs() < cut_x, mx, torch.zeros_like(mx)).long() % shape_from[0]
    src_y = torch.where(my < cut_y, my, torch.zeros_like(my)).long()
    out = vh.index_select(-2, src_x).index_select(-1, src_y)
    return out * (keep * scale).to(vh.real.dtype)


def kept_modes(n: int, fraction: float, device=None) -> torch.Tensor:
    """(n, n//2 + 1) mask of the modes |m|_inf < fraction * n (the 2/3-rule mask for 1/3)."""
    mx, my = mode_numbers(n, device)
    return torch.maximum(mx, my) < fraction * n


def _rows_power(block: torch.Tensor, first_col: int) -> torch.Tensor:
    """Parseval-weighted sum of |v|^2 over a block (B, r, c) of rfft2 columns starting at
    ``first_col`` (column 0 counts once, the others twice: their conjugates are not stored),
    float64 (B,). Each row is reduced on its own, so the value does not depend on the batch."""
    if block.shape[-2] == 0 or block.shape[-1] == 0:
        return torch.zeros(block.shape[0], dtype=torch.float64, device=block.device)
    rows = torch.linalg.vector_norm(torch.view_as_real(block), dim=(-2, -1)).double().square()
    total = 2.0 * rows.sum(-1)
    if first_col == 0:
        total = total - block[..., 0].abs().double().square().sum(-1)
    return total


def ring_power(vh: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    """Parseval-weighted power (B,) float64 of the integer modes lo <= max(|m_x|, m_y) < hi of
    rfft2 states vh (B, n, n//2 + 1), hi <= n/2 (no Nyquist mode), summed block by block (no
    subtraction of large sums: a small ring keeps its relative accuracy)."""
    n = vh.shape[-2]
    if hi > n // 2:
        raise ValueError(f"ring up to |m| < {hi} on a {n}-point grid reaches the Nyquist mode")
    if lo >= hi:
        return torch.zeros(vh.shape[0], dtype=torch.float64, device=vh.device)
    one = max(lo, 1)
    # rows with lo <= |m_x| < hi, columns m_y < hi
    outer = (_rows_power(vh[:, lo:hi, :hi], 0)
             + _rows_power(vh[:, n - hi + 1:n - one + 1, :hi], 0))
    # rows with |m_x| < lo, columns lo <= m_y < hi
    inner = _rows_power(vh[:, :lo, lo:hi], lo) + _rows_power(vh[:, n - lo + 1:, lo:hi], lo) if lo else 0.0
    return outer + inner
