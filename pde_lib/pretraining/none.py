"""``none``: no pretraining. The backbone keeps its fresh (seeded) initialisation; this is the
baseline every other strategy is compared against."""

from __future__ import annotations

from pde_lib.pretraining.registry import STRATEGIES
from pde_lib.pretraining.base import Strategy
from pde_lib.pretraining.heads import NoHead


@STRATEGIES.register("none")
class NoPretraining(Strategy):
    name = "none"
    trains = False

    def check_model(self, model, resolution):  # applies to every backbone
        return None

    def _build_head(self, model, in_channels):
        return NoHead()

    def head_input_channels(self, model):
        return 0

    def make_batch(self, u, coeffs, pde_index, grid, generator, progress=0.0):
        raise RuntimeError("strategy 'none' has no pretext task")

    def loss(self, model, head, batch):
        raise RuntimeError("strategy 'none' has no pretext task")
