"""Pretext heads, shared by the strategies. Each reads a (B, C, N, N) map (backbone features, or
its one-channel output) and is discarded after pretraining. All convolutions are periodic, and every
head works at any resolution.

The layers are the ``nn.Conv2d`` they always were (same names, shapes and initialisation, so heads
saved by any version load unchanged), but the forward passes run channels-last, (B, N, N, C): a
1x1 convolution is one matrix product over the channel dimension (``channels_last_linear``) and
oneDNN's 3x3 convolution gets the channels-last layout it is fastest on
(``periodic_conv_channels_last``). The outputs equal the NCHW convolutions' up to float rounding."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from pde_lib.models.layers import channels_last_linear, periodic_conv_channels_last


def _channels_last(h: torch.Tensor) -> torch.Tensor:
    """(B, C, N, M) -> (B, N, M, C), contiguous (a view when ``h`` is channels-last in memory)."""
    return h.permute(0, 2, 3, 1).contiguous()


def _conv3x3(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, padding_mode="circular")


class ClassifierHead(nn.Module):
    """(B, C, N, N) -> (B, n_out) logits (or regression outputs).

    1x1 conv C -> hidden, GELU, periodic 3x3 stride-2 conv, GELU, then adaptive average pooling of
    the map a and of a^2 to ``pool`` x ``pool`` bins (1 = global pooling; 2 keeps which quadrant a
    feature came from), then an MLP 2 hidden pool^2 -> hidden -> n_out. Pooling second moments as
    well as means gives the classifier signed correlations of the features (e.g. of u_t with u_x,
    which tells the direction of time) that plain average pooling of zero-mean fields would lose."""

    def __init__(self, in_channels: int, n_out: int, hidden: int = 32, pool: int = 1):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 1), nn.GELU(),
            _conv3x3(hidden, hidden, stride=2), nn.GELU(),
        )
        self.pool = nn.AdaptiveAvgPool2d(pool)
        self.classify = nn.Sequential(nn.Linear(2 * hidden * pool * pool, hidden), nn.GELU(),
                                      nn.Linear(hidden, n_out))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        lift, _, conv, _ = self.features
        a = F.gelu(periodic_conv_channels_last(F.gelu(channels_last_linear(_channels_last(h), lift)), conv))
        a = a.permute(0, 3, 1, 2)  # (B, hidden, N', N'), channels-last in memory
        pooled = torch.cat([self.pool(a), self.pool(a * a)], dim=1).flatten(1)
        return self.classify(pooled)


class DenseHead(nn.Module):
    """(B, C, N, N) -> (B, out_channels, N, N): 1x1 conv C -> hidden, GELU, periodic 3x3 conv,
    GELU, 1x1 conv hidden -> out_channels. For dense targets (derivatives, masked frames)."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 1), nn.GELU(),
            _conv3x3(hidden, hidden), nn.GELU(),
            nn.Conv2d(hidden, out_channels, 1),
        )

    def forward(self, h: torch.Tensor, channels_last: bool = False) -> torch.Tensor:
        """(B, out, N, N), contiguous; with ``channels_last`` the same values as a view of the
        (B, N, N, out) map the layers computed (no copy; for a loss against a target in that
        layout, ``torch.channels_last``)."""
        lift, _, conv, _, out = self.net
        a = F.gelu(periodic_conv_channels_last(F.gelu(channels_last_linear(_channels_last(h), lift)), conv))
        y = channels_last_linear(a, out).permute(0, 3, 1, 2)
        # contiguous (B, out, N, N): a loss against an NCHW target is faster than on the view
        return y if channels_last else y.contiguous()


class PointwiseHead(nn.Module):
    """(B, C, N, N) -> (B, out_channels, N, N): a point-wise MLP (1x1 convs) C -> hidden -> out.
    Used where the head's output must stay a field the PDE operator can act on (PICL)."""

    def __init__(self, in_channels: int, out_channels: int = 1, hidden: int = 32):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(in_channels, hidden, 1), nn.GELU(),
                                 nn.Conv2d(hidden, out_channels, 1))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        lift, _, proj = self.net
        y = channels_last_linear(F.gelu(channels_last_linear(_channels_last(h), lift)), proj)
        return y.permute(0, 3, 1, 2).contiguous()  # no copy for one output channel


class NoHead(nn.Module):
    """No parameters: strategies whose head is the backbone itself (transfer) or that do not train."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h
