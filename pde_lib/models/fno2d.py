"""FNO2D: a Fourier neural operator (Li et al. 2021) on the periodic square.

    v_0 = P(a)                                   lifting MLP, a = [frames, x, y (, coeffs)]
    v_{l+1} = sigma(K_l v_l + W_l v_l)           K_l: spectral convolution on the lowest modes
    h = v_L (no activation after the last layer) the feature map, (B, width, N, N)
    y = Q(h)                                     projection MLP width -> projection_width -> 1

The spectral convolution multiplies the ``modes`` x ``modes`` lowest Fourier modes of each quadrant
pair (kx >= 0 and kx < 0, ky >= 0 via rfft) by learned complex matrices (width x width); all higher
modes are dropped. Since the domain is periodic no padding is used.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from pde_lib.models.base import MODELS, Backbone, checked_int
from pde_lib.models.layers import mlp


class SpectralConv2d(nn.Module):
    """(B, C, N, N) -> (B, C, N, N): irfft2(W . rfft2(x)) on the lowest ``modes`` per axis."""

    def __init__(self, channels: int, modes: int):
        super().__init__()
        self.modes = modes
        # Real storage of complex weights: (2 kx-blocks, C_in, C_out, modes, modes, re/im).
        # Complex std 1/sqrt(C): the spectral path starts with unit gain per mode.
        std = (2.0 * channels) ** -0.5
        self.weight = nn.Parameter(std * torch.randn(2, channels, channels, modes, modes, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, n, n_y = x.shape
        m = self.modes
        if 2 * m > n or 2 * m > n_y:
            raise ValueError(f"fno2d: modes={m} is too many for a {n}x{n_y} grid (need 2*modes <= N)")
        xh = torch.fft.rfft2(x)  # (B, C, N, N//2+1)
        blocks = torch.stack([xh[:, :, :m, :m], xh[:, :, -m:, :m]], dim=1)  # (B, 2, C, m, m)
        w = torch.view_as_complex(self.weight)  # (2, C, C, m, m)
        out_blocks = torch.einsum("bsixy,sioxy->bsoxy", blocks, w)
        # Out of place (so the layer works under torch.func.vmap): kx rows [0, m) and [n-m, n),
        # zeros between; irfft2 zero-pads the ky axis from m to n_y//2+1.
        gap = out_blocks.new_zeros(b, c, n - 2 * m, m)
        out = torch.cat([out_blocks[:, 0], gap, out_blocks[:, 1]], dim=2)  # (B, C, N, m)
        return torch.fft.irfft2(out, s=(n, n_y))


@MODELS.register("fno2d")
class FNO2D(Backbone):
    """Fourier neural operator. Size kwargs: ``width`` (48), ``modes`` per axis (4),
    ``n_layers`` Fourier layers (4), ``projection_width`` hidden size of the projection MLP (128)."""

    name = "fno2d"

    def __init__(
        self,
        in_frames: int = 8,
        coeff_dim: int = 5,
        condition_on_coeffs: bool = False,
        coeff_scale=None,
        width: int = 48,
        modes: int = 4,
        n_layers: int = 4,
        projection_width: int = 128,
    ):
        width = checked_int(self.name, "width", width)
        modes = checked_int(self.name, "modes", modes)
        n_layers = checked_int(self.name, "n_layers", n_layers)
        projection_width = checked_int(self.name, "projection_width", projection_width)
        super().__init__(
            in_frames, coeff_dim, condition_on_coeffs, coeff_scale,
            width=width, modes=modes, n_layers=n_layers, projection_width=projection_width,
        )
        self.feature_channels = width
        self.lift = mlp([self.in_channels, width, width], pointwise_conv=True)
        self.spectral = nn.ModuleList(SpectralConv2d(width, modes) for _ in range(n_layers))
        self.pointwise = nn.ModuleList(nn.Conv2d(width, width, 1) for _ in range(n_layers))
        self.project = mlp([width, projection_width, 1], pointwise_conv=True)

    def encode(self, frames, grid, coeffs=None):
        v = self.lift(self.assemble_input(frames, grid, coeffs))
        for i, (spectral, pointwise) in enumerate(zip(self.spectral, self.pointwise)):
            v = spectral(v) + pointwise(v)
            if i < len(self.spectral) - 1:
                v = F.gelu(v)
        return v

    def decode(self, h):
        return self.project(h)
