"""Input noise: a regulariser, not a symmetry, valid for every PDE (docs/protocol.md section 6).

The trajectory is left unchanged; the copy carries ``extra["input_noise"]`` (B,) =
``noise_level * std(u_b)`` (std over the sample's whole trajectory), and the training loop adds
``add_input_noise(x, std, generator)`` to the *input* frames only, never to the target."""

from __future__ import annotations

import torch

from pde_lib.augmentations.registry import AUGMENTATIONS
from pde_lib.augmentations.base import Augmentation
from pde_lib.data import PDE_NAMES

INPUT_NOISE_KEY = "input_noise"


@AUGMENTATIONS.register("noise")
class Noise(Augmentation):
    name = "noise"
    valid_pdes = frozenset(PDE_NAMES)
    strength_name = "noise_level"
    strength_default = 1e-2
    parameters = {"noise_level": 1e-2}

    def sample(self, pde_index, generator, **strength):
        level = self.resolve(**strength)["noise_level"]
        return {"level": torch.full(pde_index.shape, float(level), dtype=torch.float64,
                                    device=pde_index.device)}

    def transform(self, u, coeffs, pde_index, t, params):
        std = u.detach().flatten(1).to(torch.float64).std(dim=1)
        noise = (params["level"].to(u.device) * std).to(torch.float32)
        return u, coeffs, {INPUT_NOISE_KEY: noise}


def add_input_noise(x: torch.Tensor, std: torch.Tensor,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """x + std[:, None, None, None] * randn for input frames x (B, T_in, N, N), std (B,).

    Draws on ``generator``'s device (then moved to x's); a zero std leaves a sample unchanged."""
    device = generator.device if generator is not None else x.device
    z = torch.randn(x.shape, generator=generator, device=device, dtype=x.dtype).to(x.device)
    return x + std.to(device=x.device, dtype=x.dtype).reshape(-1, *([1] * (x.dim() - 1))) * z
