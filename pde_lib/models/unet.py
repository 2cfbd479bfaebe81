"""U-Net (Ronneberger et al. 2015) on the periodic square, with every skip connection used.

With channels (c_0, ..., c_{L-1}) (default 16/32/64, L = 3 levels at N, N/2, N/4):

    e_0 = Block(a)                          a = [frames, x, y (, coeffs)], at N
    e_l = Block(MaxPool(e_{l-1}))           l = 1..L-1; e_{L-1} is the bottleneck
    d_{L-1} = e_{L-1}
    d_l = Block([Up(d_{l+1}), e_l])         l = L-2..0: every encoder level's skip, the finest too
    h = d_0                                 the feature map, (B, c_0, N, N)
    y = Conv1x1(h)                          decode

Block = (periodic 3x3 conv, GELU) x 2; Up = 2x2 transposed conv, stride 2.
N must be divisible by 2^(L-1) (4 for the default: 32 and 64 both work).

The layers are ``nn.Conv2d`` / ``nn.ConvTranspose2d`` / ``nn.MaxPool2d`` with the parameters they
always had (checkpoints of any version load unchanged), but the network runs channels-last,
(B, N, N, C) in memory: oneDNN's convolutions are fastest on that layout at 8-64 channels, the
skip concatenation is along the last dimension and the 1x1 projection is one matrix product.
``encode`` returns the (B, c_0, N, N) features as a channels-last view (``permute``, no copy).
The outputs equal the NCHW network's up to float rounding.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from pde_lib.errors import ConfigError
from pde_lib.models.base import MODELS, Backbone, checked_int
from pde_lib.models.layers import channels_last_linear, conv3x3, periodic_conv_channels_last


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """Two periodic 3x3 convolutions, each followed by GELU.

    No normalisation layer: per-sample normalisation (GroupNorm/InstanceNorm) discards each
    sample's amplitude, which a field regression has to reproduce (it slowed fitting a lot), and
    BatchNorm would make train and eval behave differently."""
    return nn.Sequential(
        conv3x3(c_in, c_out), nn.GELU(),
        conv3x3(c_out, c_out), nn.GELU(),
    )


def block_channels_last(block: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """``conv_block``'s map on a channels-last (B, N, N, C_in) tensor -> (B, N, N, C_out)."""
    conv1, _, conv2, _ = block
    return F.gelu(periodic_conv_channels_last(F.gelu(periodic_conv_channels_last(x, conv1)), conv2))


def _to_nchw(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2)


def _to_nhwc(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 3, 1).contiguous()  # a view when x is channels-last in memory


@MODELS.register("unet")
class UNet(Backbone):
    """U-Net. Size kwarg: ``channels`` per level, finest first (16, 32, 64)."""

    name = "unet"

    def __init__(
        self,
        in_frames: int = 8,
        coeff_dim: int = 5,
        condition_on_coeffs: bool = False,
        coeff_scale=None,
        channels: Sequence[int] = (16, 32, 64),
    ):
        if isinstance(channels, (str, bytes)) or not isinstance(channels, Sequence) or len(channels) < 2:
            raise ConfigError(f"model 'unet': channels must be a list of >= 2 integers, got {channels!r}")
        channels = [checked_int(self.name, "channels", c) for c in channels]
        super().__init__(in_frames, coeff_dim, condition_on_coeffs, coeff_scale, channels=channels)
        self.feature_channels = channels[0]
        self.levels = len(channels)
        self.pool = nn.MaxPool2d(2)
        self.down = nn.ModuleList(
            conv_block(c_in, c_out) for c_in, c_out in zip([self.in_channels] + channels[:-1], channels)
        )
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(channels[l + 1], channels[l], 2, stride=2) for l in range(self.levels - 1)
        )
        self.merge = nn.ModuleList(conv_block(2 * channels[l], channels[l]) for l in range(self.levels - 1))
        self.project = nn.Conv2d(channels[0], 1, 1)

    def encode(self, frames, grid, coeffs=None):
        x = self.assemble_input(frames, grid, coeffs)
        n = x.shape[-1]
        factor = 2 ** (self.levels - 1)
        if n % factor:
            raise ValueError(f"unet: N={n} must be divisible by {factor} for {self.levels} levels")
        x = _to_nhwc(x)
        skips = []
        for l, block in enumerate(self.down):
            x = block_channels_last(block, x if l == 0 else _to_nhwc(self.pool(_to_nchw(x))))
            skips.append(x)
        for l in reversed(range(self.levels - 1)):
            x = block_channels_last(self.merge[l], torch.cat([_to_nhwc(self.up[l](_to_nchw(x))), skips[l]], dim=-1))
        return _to_nchw(x)

    def decode(self, h):
        return _to_nchw(channels_last_linear(h.permute(0, 2, 3, 1), self.project)).contiguous()
