"""OFormer2D: an operator transformer (Li, Meidani, Barati Farimani 2023) with Galerkin attention.

Encoder, over the N*N grid points as tokens z_i = Lift([frames, x, y (, coeffs)]_i):

    Attn(Z) = R Q (R LN(K))^T LN(V) / n    softmax-free Galerkin attention, per head, O(n d^2);
                                           R: periodic rotary encoding of each point's (x, y)
    Z <- Z + Out(Attn(Z));  Z <- Z + FFN(LN(Z))          (n_layers times)

Decoder, point-wise at the query coordinates x_j (here the same grid):

    q_j = QueryMLP(phi(x_j))               phi: periodic coordinate features
    q_j <- q_j + Out(Attn(q_j; Z))         Galerkin cross-attention (rotary at x_j and the x_i)
    h_j = q_j + FFN(LN(q_j))               the feature map, (B, width, N, N)
    y_j = Linear(h_j)                      decode (a 1x1 convolution on the feature map)

Options (defaults: the first version's model, whose checkpoints still load):
``rotary`` "linear" frequencies k = 1..d/4 (default) or "geometric" 1 .. ``GEOMETRIC_TOP`` in a
geometric ladder, as the original's ladder (integers here, to stay periodic on the domain);
``qkv_init`` "default" (PyTorch's) or "galerkin": each head's Q/K/V block starts as a small
Xavier matrix (gain 1/d) plus (1/d) I, near a scaled identity, as in the Galerkin transformer and
the original code; ``output_mlp`` decodes with a point-wise MLP D -> D -> 1 instead of Linear;
``kv_norm`` "layer" normalises each point's key / value over its d channels (default, as the
Galerkin transformer) or "instance" each channel over the n points (as the original code's
instance norm), both with per-head affine parameters.
"""

from __future__ import annotations

import functools

import math

import torch
from torch import nn
from torch.nn import functional as F

from pde_lib.errors import ConfigError
from pde_lib.models.base import MODELS, Backbone, checked_int
from pde_lib.models.layers import mlp, periodic_features


#: the rotary frequency ladders (see the module docstring)
ROTARY_LADDERS = ("linear", "geometric")
#: the top frequency of the geometric ladder (half the Nyquist number of a 32-point grid)
GEOMETRIC_TOP = 8
QKV_INITS = ("default", "galerkin")
KV_NORMS = ("layer", "instance")


def instance_norm(t: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """(B, h, n, d) -> each (batch, head, channel) normalised over the n points (mean 0, var 1)."""
    mean = t.mean(dim=-2, keepdim=True)
    var = t.var(dim=-2, keepdim=True, unbiased=False)
    return (t - mean) * torch.rsqrt(var + eps)


def rotary_frequencies(head_dim: int, ladder: str = "linear") -> torch.Tensor:
    """The head_dim / 4 integer rotary frequencies: "linear" 1, 2, ..., d/4; "geometric"
    round(top^(j / (J - 1))), j = 0..J-1, J = d/4 (1, 2, 4, 8 for J = 4)."""
    n = head_dim // 4
    if ladder == "linear" or n == 1:
        return torch.arange(1, n + 1, dtype=torch.float64)
    return torch.round(GEOMETRIC_TOP ** (torch.arange(n, dtype=torch.float64) / (n - 1)))


def rotary_phase(coords: torch.Tensor, head_dim: int, ladder: str = "linear") -> torch.Tensor:
    """(n, 2) coordinates -> (n, 2, head_dim / 4) complex phases exp(i pi k x_axis) for the
    frequencies k of ``rotary_frequencies``. Integer k makes the encoding periodic on [-1, 1)."""
    k = rotary_frequencies(head_dim, ladder).to(device=coords.device, dtype=coords.dtype) * math.pi
    return torch.polar(torch.ones(()).to(coords), coords[:, :, None] * k)


def rotate(t: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
    """Periodic 2-D rotary position encoding of (B, h, n, d), d % 4 == 0, by (n, 2, d/4) phases.

    Channel pairs (2j, 2j+1) of the first d/2 channels rotate by pi k_j x, those of the last d/2
    by pi k_j y; so <R(x) q, R(y) k> depends on x - y only."""
    z = torch.view_as_complex(t.unflatten(-1, (2, -1, 2)).contiguous())  # (B, h, n, 2, d/4)
    return torch.view_as_real(z * phase).flatten(-3)


class GalerkinAttention(nn.Module):
    """Softmax-free attention with layer-normalised keys and values (Cao 2021).

    (B, n_q, D) queries, (B, n, D) keys/values -> (B, n_q, D); per head h with d = D / heads:
    out_h = R Q_h (R LN(K_h))^T LN(V_h) / n, R the rotary encoding at each point's coordinates."""

    def __init__(self, width: int, n_heads: int, qkv_init: str = "default", kv_norm: str = "layer"):
        super().__init__()
        self.kv_norm = kv_norm
        self.n_heads = n_heads
        self.head_dim = width // n_heads
        self.q = nn.Linear(width, width, bias=False)
        self.k = nn.Linear(width, width, bias=False)
        self.v = nn.Linear(width, width, bias=False)
        # Per-head affine parameters of the key/value layer norms: (heads, 1, d).
        shape = (n_heads, 1, self.head_dim)
        self.k_gain = nn.Parameter(torch.ones(shape))
        self.k_bias = nn.Parameter(torch.zeros(shape))
        self.v_gain = nn.Parameter(torch.ones(shape))
        self.v_bias = nn.Parameter(torch.zeros(shape))
        self.out = nn.Linear(width, width)
        if qkv_init == "galerkin":
            self.galerkin_init()

    @torch.no_grad()
    def galerkin_init(self) -> None:
        """Each head's (d, d) diagonal block of Q, K, V: Xavier-uniform with gain 1/d plus I/d;
        the blocks off the diagonal: Xavier-uniform with gain 1/d."""
        d = self.head_dim
        for lin in (self.q, self.k, self.v):
            for h in range(self.n_heads):
                rows = slice(h * d, (h + 1) * d)
                nn.init.xavier_uniform_(lin.weight[rows], gain=1.0 / d)
                lin.weight[rows, rows] += torch.eye(d) / d

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.reshape(b, n, self.n_heads, self.head_dim).transpose(1, 2)  # (B, h, n, d)

    def forward(self, queries: torch.Tensor, context: torch.Tensor,
                q_phase: torch.Tensor, k_phase: torch.Tensor) -> torch.Tensor:
        """Phases from :func:`rotary_phase` at the query and the key/value points."""
        d = (self.head_dim,)
        q = rotate(self._heads(self.q(queries)), q_phase)
        norm = (lambda t: F.layer_norm(t, d)) if self.kv_norm == "layer" else instance_norm
        k = norm(self._heads(self.k(context))) * self.k_gain + self.k_bias
        v = norm(self._heads(self.v(context))) * self.v_gain + self.v_bias
        kv = rotate(k, k_phase).transpose(-1, -2) @ v / context.shape[1]  # (B, h, d, d)
        out = (q @ kv).transpose(1, 2).reshape(queries.shape[0], queries.shape[1], -1)
        return self.out(out)


class FeedForward(nn.Module):
    """Pre-norm point-wise MLP D -> mult*D -> D (added as a residual by the caller)."""

    def __init__(self, width: int, mult: int):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.net = mlp([width, mult * width, width])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.norm(x))


@MODELS.register("oformer2d")
class OFormer2D(Backbone):
    """Galerkin-attention encoder + cross-attention point-wise decoder. Size kwargs: ``width``
    (32), ``n_heads`` (2), ``n_layers`` encoder layers (2), ``ffn_mult`` (2),
    ``query_frequencies`` periodic features per axis for the decoder queries (8); options
    ``rotary`` ("linear"), ``qkv_init`` ("default"), ``output_mlp`` (False), ``kv_norm`` ("layer"), see the module
    docstring. An option at its default is left out of ``config``, so old checkpoints load."""

    name = "oformer2d"

    def __init__(
        self,
        in_frames: int = 8,
        coeff_dim: int = 5,
        condition_on_coeffs: bool = False,
        coeff_scale=None,
        width: int = 32,
        n_heads: int = 2,
        n_layers: int = 2,
        ffn_mult: int = 2,
        query_frequencies: int = 8,
        rotary: str = "linear",
        qkv_init: str = "default",
        output_mlp: bool = False,
        kv_norm: str = "layer",
    ):
        sizes = dict(width=width, n_heads=n_heads, n_layers=n_layers, ffn_mult=ffn_mult,
                     query_frequencies=query_frequencies)
        sizes = {k: checked_int(self.name, k, v) for k, v in sizes.items()}
        for key, value, valid in (("rotary", rotary, ROTARY_LADDERS), ("qkv_init", qkv_init, QKV_INITS),
                                  ("kv_norm", kv_norm, KV_NORMS)):
            if value not in valid:
                raise ConfigError(f"model 'oformer2d': {key} must be one of {', '.join(valid)}, got {value!r}")
        if not isinstance(output_mlp, bool):
            raise ConfigError(f"model 'oformer2d': output_mlp must be true or false, got {output_mlp!r}")
        options = dict(rotary=rotary, qkv_init=qkv_init, output_mlp=output_mlp, kv_norm=kv_norm)
        defaults = dict(rotary="linear", qkv_init="default", output_mlp=False, kv_norm="layer")
        sizes.update({k: v for k, v in options.items() if v != defaults[k]})
        if width % (4 * n_heads):
            raise ConfigError(
                f"model 'oformer2d': width={width} must be divisible by 4 * n_heads={4 * n_heads} "
                "(head size a multiple of 4 for the 2-D rotary encoding)"
            )
        super().__init__(in_frames, coeff_dim, condition_on_coeffs, coeff_scale, **sizes)
        self.feature_channels = width
        self.query_frequencies = query_frequencies
        self.n_heads = n_heads
        self.rotary = rotary
        self.lift = mlp([self.in_channels, width, width])
        self.enc_attn = nn.ModuleList(GalerkinAttention(width, n_heads, qkv_init, kv_norm) for _ in range(n_layers))
        self.enc_ffn = nn.ModuleList(FeedForward(width, ffn_mult) for _ in range(n_layers))
        self.query = mlp([4 * query_frequencies, width, width])
        self.cross_attn = GalerkinAttention(width, n_heads, qkv_init, kv_norm)
        self.dec_ffn = FeedForward(width, ffn_mult)
        self.project = (mlp([width, width, 1], layer=functools.partial(nn.Conv2d, kernel_size=1)) if output_mlp
                        else nn.Conv2d(width, 1, 1))  # on (B, C, N, N)

    def encode(self, frames, grid, coeffs=None):
        a = self.assemble_input(frames, grid, coeffs)  # (B, C, N, N)
        b, _, n, _ = a.shape
        g = self.check_grid(frames, grid)
        phase = rotary_phase(g.flatten(1).T, self.feature_channels // self.n_heads, self.rotary)  # (N*N, 2, d/4)
        z = self.lift(a.flatten(2).transpose(1, 2))  # (B, N*N, D)
        for attn, ffn in zip(self.enc_attn, self.enc_ffn):
            z = z + attn(z, z, phase, phase)
            z = z + ffn(z)
        phi = periodic_features(g, self.query_frequencies)
        q = self.query(phi.flatten(1).T).unsqueeze(0).expand(b, -1, -1)  # (B, N*N, D)
        q = q + self.cross_attn(q, z, phase, phase)
        h = q + self.dec_ffn(q)
        return h.transpose(1, 2).reshape(b, -1, n, n)

    def decode(self, h):
        return self.project(h)
