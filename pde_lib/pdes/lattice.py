"""Sheared Fourier lattices: the same periodic square [-1, 1)^2, other grid axes.

A lattice is an integer matrix T with det +-1. Its grid's mode numbers m' = (m'_1, m'_2) (the
axes of an ``rfft2`` of an (n1, n2) array, ``m'_2 >= 0`` stored) are the physical mode numbers

    m = T m',      u(x) = sum_m u_m exp(i pi m . x) = sum_m' u_m' exp(i pi m' . s),  s = T^T x,

so grid point (i, j) sits at s = (-1 + 2 i / n1, -1 + 2 j / n2), x = T^-T s (mod 2). Every
operator of a pseudo-spectral solve stays diagonal: d/dx_a is i pi (T m')_a. A field whose
spectrum lies along a direction (Burgers fronts whose normals are near the diagonal) fits a
long, narrow box in m' that an anisotropic grid n1 != n2 resolves with far fewer points than a
square grid resolves the same field on the square lattice.

``square`` is T = I. ``diagonal`` is T = [[1, 1], [0, 1]]: m_x = m'_1 + m'_2, m_y = m'_2, so s =
(x, x + y) and the grid's second axis runs across the diagonal fronts; m'_1 = m_x - m_y is small
for modes near m_x = m_y. The last axis keeps m'_2 = m_y, so an ``rfft2`` half-plane (m_y >= 0)
maps onto an ``rfft2`` half-plane."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Lattice:
    """``matrix`` T (rows: m_x, m_y in terms of m'_1, m'_2); T[1] must be (0, 1), so that the
    stored half-plane m'_2 >= 0 is m_y >= 0."""

    name: str
    matrix: tuple[tuple[int, int], tuple[int, int]]

    def __post_init__(self):
        (a, b), (c, d) = self.matrix
        if (c, d) != (0, 1) or a not in (1, -1):
            raise ValueError(f"lattice {self.name}: T must be [[+-1, b], [0, 1]], got {self.matrix}")

    @property
    def is_square(self) -> bool:
        return self.matrix == ((1, 0), (0, 1))

    def grid_modes(self, shape: tuple[int, int], device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Integer grid mode numbers of an rfft2 layout of ``shape``: m'_1 (n1, 1), m'_2 (1, n2//2 + 1),
        float64."""
        n1, n2 = shape
        m1 = torch.fft.fftfreq(n1, d=1.0 / n1, device=device, dtype=torch.float64)
        m2 = torch.fft.rfftfreq(n2, d=1.0 / n2, device=device, dtype=torch.float64)
        return m1[:, None], m2[None, :]

    def physical_modes(self, shape: tuple[int, int], device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Physical mode numbers (m_x, m_y), each (n1, n2//2 + 1) float64, of a grid's rfft2 layout."""
        m1, m2 = self.grid_modes(shape, device)
        (a, b), _ = self.matrix
        mx = a * m1 + b * m2
        return mx, torch.zeros_like(mx) + m2

    def grid_coefficients(self, cx: torch.Tensor, cy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Coefficients of c . m on the grid's mode numbers: c . m = c'_1 m'_1 + c'_2 m'_2, c' = T^T c."""
        (a, b), _ = self.matrix
        return a * cx, b * cx + cy

    def from_square(self, vh: torch.Tensor, shape: tuple[int, int], cut: float) -> torch.Tensor:
        """Move rfft2 states (B, n, n//2 + 1) of the square lattice onto this lattice's grid of
        ``shape``, keeping the physical modes |m|_inf < ``cut`` that land inside the grid's band
        |m'_1| < n1 / 2, m'_2 < n2 / 2 (a relabelling: exact for fields inside both). The DFT over
        the nodes -1 + 2 i / n gives mode m the factor (-1)^m per axis, hence the sign
        (-1)^(m'_1 + m'_2 - m_x - m_y)."""
        n = vh.shape[-2]
        mx, my = self.physical_modes(shape, vh.device)
        m1, m2 = self.grid_modes(shape, vh.device)
        inside = ((mx.abs() < cut) & (my.abs() < cut) & (m1.abs() < shape[0] / 2)
                  & (m2 < shape[1] / 2) & (mx.abs() < n / 2) & (my < n / 2))
        rows = torch.where(inside, mx, torch.zeros_like(mx)).long() % n
        cols = torch.where(inside, my, torch.zeros_like(my)).long()
        flat = vh.flatten(-2).index_select(-1, (rows * vh.shape[-1] + cols).flatten())
        # a DFT over nodes -1 + 2 i / n carries (-1)^(sum of the mode numbers) per axis
        sign = 1.0 - 2.0 * ((m1 + m2 - mx - my).remainder(2) != 0).to(torch.float64)
        factor = (inside * sign * (shape[0] * shape[1] / n**2)).to(vh.real.dtype)
        return flat.reshape(*vh.shape[:-2], *rows.shape) * factor

    def sample_indices(self, shape: tuple[int, int], n_out: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Grid indices (rows, cols), each (n_out, n_out), of the stored grid's points
        x_ij = (-1 + 2 i / n_out, -1 + 2 j / n_out): with s = T^T x, s_1 = a x and s_2 = b x + y,
        the point is node ((a i + (1 - a) n_out / 2) r1, (b i + j - b n_out / 2) r2) (mod the
        grid), r = n / n_out. Needs n1, n2 multiples of n_out (and n_out even)."""
        n1, n2 = shape
        if n1 % n_out or n2 % n_out:
            raise ValueError(f"grid {shape} is not a multiple of the stored {n_out}")
        (a, b), _ = self.matrix
        i = torch.arange(n_out, device=device)[:, None]
        j = torch.arange(n_out, device=device)[None, :]
        half = n_out // 2
        s1 = (a * i + half * (1 - a)) % n_out
        s2 = (b * i + j - half * b) % n_out
        return (s1 * (n1 // n_out)).expand(n_out, n_out), (s2 * (n2 // n_out)).expand(n_out, n_out)

    def point_sample(self, u: torch.Tensor, n_out: int) -> torch.Tensor:
        """The stored grid's point values (..., n_out, n_out) of fields u (..., n1, n2) on this
        lattice's grid (exact: every stored point is a grid node)."""
        rows, cols = self.sample_indices(tuple(u.shape[-2:]), n_out, u.device)
        return u[..., rows, cols]


LATTICES = {
    "square": Lattice("square", ((1, 0), (0, 1))),
    "diagonal": Lattice("diagonal", ((1, 1), (0, 1))),
}


def get_lattice(name: str) -> Lattice:
    try:
        return LATTICES[name]
    except KeyError:
        raise KeyError(f"unknown lattice {name!r}; known: {sorted(LATTICES)}") from None
