"""FNO2D: a Fourier neural operator (Li et al. 2021) on the periodic square.

    v_0 = P(a)                                   lifting MLP, a = [frames, x, y (, coeffs)]
    v_{l+1} = sigma(K_l v_l + W_l v_l)           K_l: spectral convolution on the lowest modes
    h = v_L (no activation after the last layer) the feature map, (B, width, N, N)
    y = Q(h)                                     projection MLP width -> projection_width -> 1

Option ``channel_mlp`` (default off, the original block above): every Fourier block also mixes
the channels point-wise after its activation, with a skip gated per channel,

    u_l = sigma(K_l v_l + W_l v_l)
    v_{l+1} = sigma(M_l u_l + g_l * v_l)         M_l: MLP width -> width/2 -> width, g_l in R^width
                                                 (initialised to 1); no sigma after the last block

the block form of neuraloperator 2.0's FNO (its default "channel MLP" with a soft-gating skip).

The spectral convolution multiplies the ``modes`` x ``modes`` lowest Fourier modes of each quadrant
pair (kx >= 0 and kx < 0, ky >= 0 as in rfft) by learned complex matrices (width x width); all
higher modes are dropped. Since the domain is periodic no padding is used.

Layout: inside, the fields are grid-major, (N, N, B, C), so every channel mixing (P, W_l, Q) is
one matrix product over the last dimension and the kept modes are small matrix products over the
grid (``truncated_dft``) instead of full FFTs. ``forward`` stays grid-major from the lifted input
to the output; ``encode`` / ``decode`` convert the feature map from / to (B, C, N, N). The parameters are those of the original layout (1x1 convolutions), whose checkpoints
load unchanged (``PointwiseLinear``)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from pde_lib.errors import ConfigError
from pde_lib.models.base import MODELS, Backbone, checked_int
from pde_lib.models.layers import PointwiseLinear, from_grid_major, mlp, to_grid_major
from pde_lib.models.truncated_dft import truncated_irfft2, truncated_rfft2


class SpectralConv2d(nn.Module):
    """(Nx, Ny, B, C) -> (Nx, Ny, B, C): irfft2(W . rfft2(x)) on the lowest ``modes`` per axis."""

    def __init__(self, channels: int, modes: int):
        super().__init__()
        self.modes = modes
        # Real storage of complex weights: (2 kx-blocks, C_in, C_out, modes, modes, re/im).
        # Complex std 1/sqrt(C): the spectral path starts with unit gain per mode.
        std = (2.0 * channels) ** -0.5
        self.weight = nn.Parameter(std * torch.randn(2, channels, channels, modes, modes, 2))

    def mode_matrices(self) -> torch.Tensor:
        """(2 m m, 2 C_in, 2 C_out): per mode (kx-block, kx, ky) the real form [[Re, Im], [-Im, Re]]
        of its complex C_in x C_out matrix, acting on [re | im] rows."""
        m, c_in, c_out = self.modes, self.weight.shape[1], self.weight.shape[2]
        w = self.weight.permute(0, 3, 4, 1, 2, 5).reshape(2 * m * m, c_in, c_out, 2)
        re, im = w[..., 0], w[..., 1]
        return torch.cat([torch.cat([re, im], 2), torch.cat([-im, re], 2)], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, n_y, b, c = x.shape
        m = self.modes
        if 2 * m > n or 2 * m > n_y:
            raise ValueError(f"fno2d: modes={m} is too many for a {n}x{n_y} grid (need 2*modes <= N)")
        spec = truncated_rfft2(x.reshape(n, n_y, b * c), m)  # (2m, 2, m, B C)
        z = spec.reshape(2 * m, 2, m, b, c).permute(0, 2, 3, 1, 4).reshape(2 * m * m, b, 2 * c)
        out = torch.bmm(z, self.mode_matrices())  # (2 m m, B, 2 C)
        out = out.reshape(2 * m, m, b, 2, c).permute(0, 3, 1, 2, 4).reshape(2 * m, 2, m, b * c)
        return truncated_irfft2(out, n, n_y).reshape(n, n_y, b, c)


@MODELS.register("fno2d")
class FNO2D(Backbone):
    """Fourier neural operator. Size kwargs: ``width`` (48), ``modes`` per axis (4),
    ``n_layers`` Fourier layers (4), ``projection_width`` hidden size of the projection MLP (128);
    option ``channel_mlp`` (False): a gated channel MLP in every block (module docstring). An
    option at its default is left out of ``config``, so old checkpoints load."""

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
        channel_mlp: bool = False,
    ):
        width = checked_int(self.name, "width", width)
        modes = checked_int(self.name, "modes", modes)
        n_layers = checked_int(self.name, "n_layers", n_layers)
        projection_width = checked_int(self.name, "projection_width", projection_width)
        if not isinstance(channel_mlp, bool):
            raise ConfigError(f"model 'fno2d': channel_mlp must be true or false, got {channel_mlp!r}")
        options = {"channel_mlp": True} if channel_mlp else {}  # at its default: not recorded
        super().__init__(
            in_frames, coeff_dim, condition_on_coeffs, coeff_scale,
            width=width, modes=modes, n_layers=n_layers, projection_width=projection_width, **options,
        )
        self.feature_channels = width
        self.lift = mlp([self.in_channels, width, width], layer=PointwiseLinear)
        self.spectral = nn.ModuleList(SpectralConv2d(width, modes) for _ in range(n_layers))
        self.pointwise = nn.ModuleList(PointwiseLinear(width, width) for _ in range(n_layers))
        if channel_mlp:
            hidden = max(1, width // 2)
            self.channel_mlp = nn.ModuleList(mlp([width, hidden, width], layer=PointwiseLinear)
                                             for _ in range(n_layers))
            self.channel_gate = nn.Parameter(torch.ones(n_layers, width))
        else:
            self.channel_mlp = None
        self.project = mlp([width, projection_width, 1], layer=PointwiseLinear)

    def features(self, frames, grid, coeffs=None) -> torch.Tensor:
        """The feature map h, grid-major: (N, N, B, width)."""
        v = self.lift(to_grid_major(self.assemble_input(frames, grid, coeffs)))
        last = len(self.spectral) - 1
        for i, (spectral, pointwise) in enumerate(zip(self.spectral, self.pointwise)):
            u = spectral(v) + pointwise(v)
            if self.channel_mlp is not None:
                u = self.channel_mlp[i](F.gelu(u)) + self.channel_gate[i] * v
            v = F.gelu(u) if i < last else u
        return v

    def encode(self, frames, grid, coeffs=None):
        return from_grid_major(self.features(frames, grid, coeffs))

    def decode(self, h):
        return from_grid_major(self.project(to_grid_major(h)))

    def forward(self, frames, grid, coeffs=None):
        return from_grid_major(self.project(self.features(frames, grid, coeffs)))
