"""``derivative``: regress u_t, u_x, u_y, u_xx, u_yy of every frame of the window.

Space derivatives are periodic spectral derivatives (``pde_lib.pdes.spectral.derivative``; x is
axis -2); u_t is a second-order finite difference in time over the window (central inside,
one-sided at its ends, ``torch.gradient`` with ``edge_order=2``) with the frame spacing dt.

Targets are (B, 5 W, N, N), ordered [derivative][frame], each derivative divided by a fixed scale:
its root-mean-square over (up to 256 samples of) the training data, measured once in ``setup``.
So every target is O(1) (u_xx is ~ (3 pi)^2 larger than u otherwise). Loss: mean squared error.

With the window at the start of each trajectory (``window_start="first"``, the default) a sample's
targets never change, so ``per_sample`` computes them once per run for every sample (in chunks;
up to ``CACHE_BYTES``) and each step indexes them: the same numbers (each field's transforms do
not depend on how many fields share the call, ``pdes.spectral.rfft2``) without the per-step FFTs.
The targets are kept channels-last in memory (``torch.channels_last``, the layout the dense head
computes in), so the loss reads the head's output where it is: the same mean squared error,
summed in another order (equal to float rounding)."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from pde_lib.pdes.spectral import derivative
from pde_lib.pretraining.registry import STRATEGIES
from pde_lib.pretraining.base import Strategy
from pde_lib.pretraining.heads import DenseHead

DERIVATIVES = ("u_t", "u_x", "u_y", "u_xx", "u_yy")
SCALE_SAMPLES = 256
#: the most memory the once-per-run targets may take; larger sets compute them at every step
CACHE_BYTES = 1 << 30
#: samples per chunk when computing them
CACHE_CHUNK = 256


def derivative_targets(x: torch.Tensor, dt: float) -> torch.Tensor:
    """(B, W, N, N) frames spaced ``dt`` -> (B, 5, W, N, N) [u_t, u_x, u_y, u_xx, u_yy]."""
    u_t = torch.gradient(x, spacing=dt, dim=1, edge_order=2)[0]
    return torch.stack([u_t, derivative(x, 1, 0), derivative(x, 0, 1),
                        derivative(x, 2, 0), derivative(x, 0, 2)], dim=1)


@STRATEGIES.register("derivative")
class Derivative(Strategy):
    name = "derivative"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scale = torch.ones(len(DERIVATIVES))

    def check_model(self, model, resolution):
        super().check_model(model, resolution)
        if self.window < 3:
            from pde_lib.errors import ConfigError

            raise ConfigError(f"strategy 'derivative' needs a window of >= 3 frames for u_t, got {self.window}")

    def setup(self, ds):
        super().setup(ds)
        x = ds.u[:SCALE_SAMPLES, : self.window]
        d = derivative_targets(x.to(torch.float32), self.dt)
        rms = d.pow(2).mean(dim=(0, 2, 3, 4)).sqrt()
        self.scale = torch.where(rms > 0, rms, torch.ones_like(rms)).to(ds.u.device)

    def _build_head(self, model, in_channels):
        return DenseHead(in_channels, len(DERIVATIVES) * self.window)

    def scaled_targets(self, x: torch.Tensor) -> torch.Tensor:
        """(B, W, N, N) window -> (B, N, N, 5 W) targets, each derivative divided by its scale,
        channels-last (contiguous; ``.permute(0, 3, 1, 2)`` is the (B, 5 W, N, N) target)."""
        target = derivative_targets(x, self.dt) / self.scale.to(x.device)[None, :, None, None, None]
        return target.flatten(1, 2).permute(0, 2, 3, 1).contiguous()

    def per_sample(self, ds):
        """{"targets": (len(ds), N, N, 5 W)} (``scaled_targets`` of every sample) when the window
        is fixed (``window_start="first"``) and they fit in ``CACHE_BYTES``; else {} (computed at
        every step)."""
        n, _, nx, ny = ds.u.shape
        size = n * len(DERIVATIVES) * self.window * nx * ny * ds.u.element_size()
        if self.window_start != "first" or size > CACHE_BYTES:
            return {}
        return {"targets": torch.cat([self.scaled_targets(ds.u[i:i + CACHE_CHUNK, : self.window])
                                      for i in range(0, n, CACHE_CHUNK)])}

    def make_batch(self, u, coeffs, pde_index, grid, generator, progress=0.0, targets=None):
        """Target (B, 5 W, N, N), channels-last in memory. ``targets``: the batch's rows of
        ``per_sample``'s, if computed (the same numbers)."""
        x = self.window_frames(u, generator)
        target = self.scaled_targets(x) if targets is None else targets
        return self.inputs(x, grid, coeffs), target.permute(0, 3, 1, 2)

    def loss(self, model, head, batch):
        inputs, target = batch
        h = self.represent(model, inputs["frames"], inputs["grid"], inputs["coeffs"])
        # the head's output and the target share the channels-last layout: the mean squared error
        # over their (B, N, N, 5 W) views reads both (and backpropagates) without a copy
        pred = head(h, channels_last=True) if isinstance(head, DenseHead) else head(h)
        return F.mse_loss(pred.permute(0, 2, 3, 1), target.permute(0, 2, 3, 1)), {}

    trivial = "the best constant per derivative channel"

    def trivial_loss(self, batch):
        return self.constant_mse(batch[1])
