"""``masked``: masked autoencoding. The window (W, N, N) is tiled by space-time tubes of 2 frames x
4 x 4 points; 75% of each sample's tubes (chosen at random) are replaced by a learned mask token (one
value per position in a tube, a parameter of the head, so it is discarded with it); a dense head
reconstructs the whole window and the loss is the L1 error over the masked tubes only."""

from __future__ import annotations

import torch
from torch import nn

from pde_lib.errors import ConfigError
from pde_lib.pretraining.registry import STRATEGIES
from pde_lib.pretraining.base import Strategy
from pde_lib.pretraining.heads import DenseHead

TUBE = (2, 4, 4)
MASK_RATIO = 0.75


def tube_mask(batch: int, window: int, n: int, generator: torch.Generator, device,
              ratio: float = MASK_RATIO) -> torch.Tensor:
    """(B, W/2, N/4, N/4) bool: exactly round(ratio * tubes) tubes of each sample set, at random."""
    shape = (window // TUBE[0], n // TUBE[1], n // TUBE[2])
    n_tubes = shape[0] * shape[1] * shape[2]
    n_mask = int(round(ratio * n_tubes))
    scores = torch.rand(batch, n_tubes, generator=generator, device=device)
    idx = scores.topk(n_mask, dim=1).indices
    mask = torch.zeros(batch, n_tubes, dtype=torch.bool, device=device).scatter(1, idx, True)
    return mask.reshape(batch, *shape)


def expand_mask(mask: torch.Tensor) -> torch.Tensor:
    """(B, W/2, N/4, N/4) tube mask -> (B, W, N, N) point mask."""
    b, t, nx, ny = mask.shape
    full = mask[:, :, None, :, None, :, None].expand(b, t, TUBE[0], nx, TUBE[1], ny, TUBE[2])
    return full.reshape(b, t * TUBE[0], nx * TUBE[1], ny * TUBE[2])


def masked_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean |pred - target| over the points where ``mask`` (B, W, N, N) is set; nothing else counts."""
    m = mask.to(pred.dtype)
    return ((pred - target).abs() * m).sum() / m.sum().clamp_min(1.0)


class MaskedHead(nn.Module):
    """The learned mask token (2, 4, 4) and the dense reconstruction head."""

    def __init__(self, in_channels: int, window: int):
        super().__init__()
        self.token = nn.Parameter(0.02 * torch.randn(*TUBE))
        self.decoder = DenseHead(in_channels, window)

    def mask_input(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Replace the masked points of (B, W, N, N) by the token, tiled over every tube."""
        w, n = x.shape[1], x.shape[-1]
        token = self.token.to(x.dtype).repeat(w // TUBE[0], n // TUBE[1], n // TUBE[2])
        return torch.where(mask, token, x)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder(h)


@STRATEGIES.register("masked")
class Masked(Strategy):
    name = "masked"

    def check_model(self, model, resolution):
        super().check_model(model, resolution)
        if self.window % TUBE[0] or resolution % TUBE[1]:
            raise ConfigError(f"strategy 'masked' tiles the window with {TUBE[0]}x{TUBE[1]}x{TUBE[2]} "
                              f"tubes; window={self.window} must be divisible by {TUBE[0]} and "
                              f"N={resolution} by {TUBE[1]}")

    def _build_head(self, model, in_channels):
        return MaskedHead(in_channels, self.window)

    def make_batch(self, u, coeffs, pde_index, grid, generator, progress=0.0):
        x = self.window_frames(u, generator)
        mask = expand_mask(tube_mask(x.shape[0], x.shape[1], x.shape[-1], generator, x.device))
        return self.inputs(x, grid, coeffs, mask=mask), x

    def loss(self, model, head, batch):
        inputs, target = batch
        mask = inputs["mask"]
        x_in = head.mask_input(inputs["frames"], mask)
        pred = head(self.represent(model, x_in, inputs["grid"], inputs["coeffs"]))
        return masked_l1(pred, target, mask), {}

    trivial = "zero at the masked points"

    def trivial_loss(self, batch):
        inputs, target = batch
        return masked_l1(torch.zeros_like(target), target, inputs["mask"])
