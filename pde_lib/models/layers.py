"""Small building blocks shared by the backbones."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F


class PointwiseLinear(nn.Linear):
    """A linear map of the channels (last dimension) at every grid point: ``y = x W^T + b`` on a
    (..., C_in) channels-last tensor, the same map as a 1x1 convolution on (B, C_in, N, N).

    Loads either layout of the weight: (out, in), or the (out, in, 1, 1) of the 1x1 convolution
    that earlier versions of the backbones stored (converted on load, the same numbers)."""

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + "weight"
        w = state_dict.get(key)
        if isinstance(w, torch.Tensor) and w.dim() == 4 and tuple(w.shape[2:]) == (1, 1):
            state_dict[key] = w.reshape(w.shape[0], w.shape[1])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def to_grid_major(x: torch.Tensor) -> torch.Tensor:
    """(B, C, N, M) -> (N, M, B, C), contiguous: one 2-D transpose (B C, N M) -> (N M, B C), which
    torch copies several times faster than the equivalent 4-D permutation."""
    b, c, n, m = x.shape
    return x.reshape(b * c, n * m).T.contiguous().reshape(n, m, b, c)


def from_grid_major(v: torch.Tensor) -> torch.Tensor:
    """(N, M, B, C) -> (B, C, N, M), contiguous (the inverse of ``to_grid_major``)."""
    n, m, b, c = v.shape
    return v.reshape(n * m, b * c).T.contiguous().reshape(b, c, n, m)


def mlp(dims: Sequence[int], layer: Callable[[int, int], nn.Module] = nn.Linear) -> nn.Sequential:
    """A GELU MLP dims[0] -> ... -> dims[-1] (no activation after the last layer). ``layer(d_in,
    d_out)`` builds each linear map: ``nn.Linear`` / ``PointwiseLinear`` act on the last dimension
    (the latter for channels-last maps whose checkpoints may hold 1x1-convolution weights); a 1x1
    ``nn.Conv2d`` acts on (B, C, N, N)."""
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(layer(d_in, d_out))
        if i < len(dims) - 2:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


def periodic_features(grid: torch.Tensor, n_freq: int) -> torch.Tensor:
    """(2, N, N) coordinates on [-1, 1)^2 -> (4 n_freq, N, N) periodic features
    [sin(k pi x), cos(k pi x), sin(k pi y), cos(k pi y)] for k = 1..n_freq.

    Every feature has period 2, so anything built from them is periodic on the domain."""
    k = torch.arange(1, n_freq + 1, device=grid.device, dtype=grid.dtype) * math.pi
    phase = k[None, :, None, None] * grid[:, None]  # (2, F, N, N)
    feats = torch.stack([phase.sin(), phase.cos()], dim=1)  # (2, 2, F, N, N)
    return feats.reshape(4 * n_freq, *grid.shape[1:])


def conv3x3(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution with circular (periodic) padding."""
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, padding_mode="circular")


#: from this many elements on, the periodic pad writes one buffer (fewer passes over memory);
#: below it, two concatenations (fewer kernel launches). Both give the same bits.
PAD_ONE_BUFFER_FROM = 1 << 17


def _fold_columns(g: torch.Tensor) -> torch.Tensor:
    """(..., R, M + 2, C) -> (..., R, M, C): the wrapped columns' gradient added back onto the
    columns they copy (last column's onto the first, first's onto the last)."""
    f = g[..., 1:-1, :].clone()
    f[..., 0, :] += g[..., -1, :]
    f[..., -1, :] += g[..., 0, :]
    return f


class _PeriodicPad(torch.autograd.Function):
    """(B, N, M, C) -> (B, N + 2, M + 2, C): the map with its last row / column wrapped in front
    and its first behind (periodic padding by one). The backward folds the gradient of the wrapped
    rows and columns back onto the rows and columns they copy, without the full-size zero tensors
    autograd would allocate for each slice: columns first, then rows, in every path, so the
    gradient's bits do not depend on the path."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        if x.numel() < PAD_ONE_BUFFER_FROM:
            x = torch.cat([x[..., -1:, :, :], x, x[..., :1, :, :]], dim=-3)
            return torch.cat([x[..., -1:, :], x, x[..., :1, :]], dim=-2)
        n, m, c = x.shape[-3:]
        out = x.new_empty(x.shape[:-3] + (n + 2, m + 2, c))
        out[..., 1:-1, 1:-1, :] = x
        out[..., 0, 1:-1, :] = x[..., -1, :, :]
        out[..., -1, 1:-1, :] = x[..., 0, :, :]
        out[..., :, 0, :] = out[..., :, -2, :]
        out[..., :, -1, :] = out[..., :, 1, :]
        return out

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, g):
        if g.numel() < PAD_ONE_BUFFER_FROM:
            gc = _fold_columns(g)  # (B, N + 2, M, C)
            gr = gc[..., 1:-1, :, :].clone()  # fold the rows: (B, N, M, C)
            gr[..., 0, :, :] += gc[..., -1, :, :]
            gr[..., -1, :, :] += gc[..., 0, :, :]
            return gr
        gr = _fold_columns(g[..., 1:-1, :, :])  # the inner rows only, then the two wrapped rows
        gr[..., 0, :, :] += _fold_columns(g[..., -1:, :, :])[..., 0, :, :]
        gr[..., -1, :, :] += _fold_columns(g[..., :1, :, :])[..., 0, :, :]
        return gr


def periodic_pad_channels_last(x: torch.Tensor) -> torch.Tensor:
    """(B, N, M, C) -> (B, N + 2, M + 2, C), contiguous: periodic padding by one grid point."""
    return _PeriodicPad.apply(x)


def periodic_conv_channels_last(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """(B, N, M, C_in) -> (B, N', M', C_out), contiguous: ``conv`` (a 3x3 ``nn.Conv2d`` with
    circular padding 1, any stride) on the periodic map, the same map as ``conv`` on the
    (B, C_in, N, M) layout. oneDNN computes it in channels-last memory format, its fastest for
    8-64 channels, and returns channels-last, so no layout copy is made."""
    y = F.conv2d(periodic_pad_channels_last(x).permute(0, 3, 1, 2), conv.weight, conv.bias, conv.stride)
    return y.permute(0, 2, 3, 1).contiguous()  # a view when oneDNN returned channels-last


def channels_last_linear(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """(..., C_in) -> (..., C_out): the 1x1 ``nn.Conv2d`` ``conv`` applied to a channels-last map,
    as one matrix product ``x W^T + b`` with W its (out, in, 1, 1) weight."""
    return F.linear(x, conv.weight.flatten(1), conv.bias)
