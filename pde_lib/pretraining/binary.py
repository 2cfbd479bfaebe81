"""``binary``: odd-one-out. With probability 1/2 a random run of k consecutive frames of the window
is shuffled in time (a random cyclic order, so every frame of the run moves); the head says whether
the window was shuffled (label 1) or not (label 0).

Difficulty rises with ``progress`` = epoch / total epochs, whatever the run's length: k falls
linearly from the whole window (every frame out of place, moved up to W - 1 frames) at the start to
2 (one swapped pair of neighbouring frames) at the end."""

from __future__ import annotations

import torch

from pde_lib.errors import ConfigError
from pde_lib.pretraining.registry import STRATEGIES
from pde_lib.pretraining.base import ClassificationStrategy, permute_blocks


def difficulty(progress: float, window: int) -> int:
    """Frames shuffled at ``progress`` in [0, 1]: W at the start (easy) down to 2 at the end."""
    p = min(max(float(progress), 0.0), 1.0)
    return int(round(window - (window - 2) * p))


def shuffle_permutation(batch: int, window: int, k: int, generator: torch.Generator,
                        device) -> torch.Tensor:
    """(B, W) frame permutations, each moving every frame of a random run of k consecutive frames:
    the run's positions are put in a random order and cycled by one (a derangement of the run)."""
    start = torch.randint(window - k + 1, (batch, 1), generator=generator, device=device)
    scores = torch.rand(batch, k, generator=generator, device=device)
    chosen = scores.argsort(dim=1) + start  # (B, k) the run's positions in random order
    perm = torch.arange(window, device=device).expand(batch, window).clone()
    return perm.scatter(1, chosen, chosen.roll(1, dims=1))


@STRATEGIES.register("binary")
class Binary(ClassificationStrategy):
    name = "binary"
    n_classes = 2

    def check_model(self, model, resolution):
        super().check_model(model, resolution)
        if self.window < 2:
            raise ConfigError(f"strategy 'binary' shuffles frames; it needs a window of >= 2, got {self.window}")

    def make_batch(self, u, coeffs, pde_index, grid, generator, progress=0.0):
        x = self.window_frames(u, generator)
        b, w = x.shape[:2]
        perm = shuffle_permutation(b, w, difficulty(progress, w), generator, x.device)
        label = torch.randint(2, (b,), generator=generator, device=x.device)
        identity = torch.arange(w, device=x.device).expand(b, w)
        perm = torch.where(label[:, None].bool(), perm, identity)
        return self.inputs(permute_blocks(x, perm), grid, coeffs), label
