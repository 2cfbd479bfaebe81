"""Small building blocks shared by the backbones."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn


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
