"""DeepONet2D: a deep operator network (Lu et al. 2021) whose branch sees the whole input field.

    b = Branch(a) in R^p           CNN over a = [frames, x, y (, coeffs)] (B, C, N, N), strided
                                   periodic convs -> adaptive average pool to pool x pool ->
                                   flatten -> MLP; the same p numbers for every output point
    t(x) = Trunk(phi(x)) in R^p    MLP over periodic coordinate features phi (so t is periodic):
                                   "axis" sin/cos(k pi x), sin/cos(k pi y), k = 1..F (default), or
                                   "fourier2d" sin/cos(pi (m x + n y)), |m|, |n| <= F, which holds
                                   the oblique waves sin(pi (m x + n y)) the PDE data is built of
    h_k(x) = b_k t_k(x)            the feature map, (B, p, N, N)
    y(x) = sum_k h_k(x) + bias     decode

The adaptive pooling makes the branch resolution-independent (32 x 32 and 64 x 64 alike); the
original study's DeepONet was point-wise and could not couple distant points, this one can.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from pde_lib.models.base import MODELS, Backbone, checked_int
from pde_lib.errors import ConfigError
from pde_lib.models.layers import conv3x3, mlp, periodic_features

#: the trunk's coordinate features (see the module docstring)
TRUNK_FEATURES = ("axis", "fourier2d")


def wave_vectors(n_freq: int) -> torch.Tensor:
    """(M, 2) integer wave vectors (m, n) with |m|, |n| <= n_freq in the half plane n > 0 or
    (n = 0, m > 0): one of each +-pair, M = 2 F^2 + 2 F."""
    r = torch.arange(-n_freq, n_freq + 1)
    m, n = torch.meshgrid(r, r, indexing="ij")
    keep = (n > 0) | ((n == 0) & (m > 0))
    return torch.stack([m[keep], n[keep]], dim=1)


def fourier2d_features(grid: torch.Tensor, n_freq: int) -> torch.Tensor:
    """(2, N, N) coordinates on [-1, 1)^2 -> (2 M, N, N): [sin(pi (m x + n y)), cos(...)] for the
    M = 2 F^2 + 2 F wave vectors of ``wave_vectors(F)``; every feature has period 2 in x and y."""
    k = wave_vectors(n_freq).to(grid) * math.pi  # (M, 2)
    phase = torch.einsum("mc,cij->mij", k, grid)
    return torch.cat([phase.sin(), phase.cos()], dim=0)


@MODELS.register("deeponet2d")
class DeepONet2D(Backbone):
    """DeepONet with a CNN branch. Size kwargs: ``basis`` p (64), ``branch_channels`` (16, doubled
    at each of ``branch_stages`` stride-2 stages, 3), ``pool`` (4), ``branch_hidden`` (128),
    ``trunk_width`` (128), ``trunk_layers`` hidden layers (3), ``trunk_frequencies`` F (4);
    option ``trunk_features`` ("axis", the default, or "fourier2d": ``TRUNK_FEATURES``). An option
    at its default is left out of ``config``, so checkpoints made before it existed still load."""

    name = "deeponet2d"

    def __init__(
        self,
        in_frames: int = 8,
        coeff_dim: int = 5,
        condition_on_coeffs: bool = False,
        coeff_scale=None,
        basis: int = 64,
        branch_channels: int = 16,
        branch_stages: int = 3,
        pool: int = 4,
        branch_hidden: int = 128,
        trunk_width: int = 128,
        trunk_layers: int = 3,
        trunk_frequencies: int = 4,
        trunk_features: str = "axis",
    ):
        sizes = dict(
            basis=basis, branch_channels=branch_channels, branch_stages=branch_stages, pool=pool,
            branch_hidden=branch_hidden, trunk_width=trunk_width, trunk_layers=trunk_layers,
            trunk_frequencies=trunk_frequencies,
        )
        sizes = {k: checked_int(self.name, k, v, minimum=0 if k == "branch_stages" else 1)
                 for k, v in sizes.items()}
        if trunk_features not in TRUNK_FEATURES:
            raise ConfigError(f"model 'deeponet2d': trunk_features must be one of {', '.join(TRUNK_FEATURES)}, "
                              f"got {trunk_features!r}")
        if trunk_features != "axis":
            sizes["trunk_features"] = trunk_features
        super().__init__(in_frames, coeff_dim, condition_on_coeffs, coeff_scale, **sizes)
        self.feature_channels = basis
        self.trunk_frequencies = trunk_frequencies
        self.trunk_features = trunk_features

        c = branch_channels
        convs: list[nn.Module] = [conv3x3(self.in_channels, c), nn.GELU()]
        for _ in range(branch_stages):
            convs += [conv3x3(c, 2 * c, stride=2), nn.GELU()]
            c *= 2
        self.branch = nn.Sequential(
            *convs,
            nn.AdaptiveAvgPool2d(pool),
            nn.Flatten(),
            mlp([c * pool * pool, branch_hidden, basis]),
        )
        n_features = 4 * trunk_frequencies if trunk_features == "axis" else 4 * trunk_frequencies * (trunk_frequencies + 1)
        self.trunk = mlp([n_features] + [trunk_width] * trunk_layers + [basis])
        self.bias = nn.Parameter(torch.zeros(1))

    def trunk_basis(self, grid: torch.Tensor) -> torch.Tensor:
        """(2, N, N) -> (p, N, N): the trunk basis functions t_k at the grid points."""
        if self.trunk_features == "axis":
            phi = periodic_features(grid, self.trunk_frequencies)  # (4F, N, N)
        else:
            phi = fourier2d_features(grid, self.trunk_frequencies)  # (4F(F+1), N, N)
        t = self.trunk(phi.flatten(1).T)  # (N*N, p)
        return t.T.reshape(-1, *grid.shape[1:])

    def encode(self, frames, grid, coeffs=None):
        a = self.assemble_input(frames, grid, coeffs)
        b = self.branch(a)  # (B, p)
        t = self.trunk_basis(self.check_grid(frames, grid))  # (p, N, N)
        return b[:, :, None, None] * t[None]

    def decode(self, h):
        return h.sum(dim=1, keepdim=True) + self.bias
