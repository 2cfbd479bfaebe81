"""``transfer``: the downstream task itself on the pretraining data.

``task="fixed_future"``: frames 0..window-1 -> frame 31; ``task="next_step"``: a window from a random
start -> the next frame. The "head" is the backbone's own decoder (``model(...)``), so the whole
backbone is transferred; the loss is the per-sample relative L2 error averaged over the batch."""

from __future__ import annotations

from pde_lib.engine.windowing import TASKS
from pde_lib.errors import ConfigError, DataError
from pde_lib.pretraining.registry import STRATEGIES
from pde_lib.pretraining.base import Strategy
from pde_lib.pretraining.heads import NoHead

FIXED_FUTURE_TARGET = 31


@STRATEGIES.register("transfer")
class Transfer(Strategy):
    name = "transfer"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.task not in TASKS:
            raise ConfigError(f"strategy 'transfer': task must be one of {', '.join(TASKS)}, got {self.task!r}")

    def check_model(self, model, resolution):
        if getattr(model, "in_frames", self.window) != self.window:
            raise ConfigError(f"strategy 'transfer': the backbone takes {model.in_frames} input frames "
                              f"but the window is {self.window}")

    def check_data(self, ds):
        super().check_data(ds)
        n_t = ds.u.shape[1]
        if self.task == "fixed_future" and n_t <= FIXED_FUTURE_TARGET:
            raise DataError(f"{ds.path}: task fixed_future needs frame {FIXED_FUTURE_TARGET}, but the "
                            f"trajectories have only {n_t} frames")
        if self.task == "next_step" and n_t <= self.window:
            raise DataError(f"{ds.path}: task next_step needs more than {self.window} frames, got {n_t}")

    def head_input_channels(self, model):
        return 0

    def _build_head(self, model, in_channels):
        return NoHead()

    def make_batch(self, u, coeffs, pde_index, grid, generator, progress=0.0):
        from pde_lib.engine.windowing import fixed_future, next_step, random_starts

        if self.task == "fixed_future":
            x, y = fixed_future(u, window=self.window, target=FIXED_FUTURE_TARGET)
        else:
            starts = random_starts(u.shape[0], u.shape[1], self.window, generator, u.device)
            x, y = next_step(u, starts, window=self.window)
        y = y.reshape(y.shape[0], 1, *y.shape[-2:])
        return self.inputs(x, grid, coeffs), y

    def loss(self, model, head, batch):
        from pde_lib.engine.losses import relative_l2

        inputs, y = batch
        pred = model(inputs["frames"], inputs["grid"], inputs["coeffs"])
        loss = relative_l2(pred, y).mean()
        return loss, {}

    trivial = "the zero field (relative L2 error 1)"

    def trivial_loss(self, batch):
        from pde_lib.engine.losses import relative_l2

        import torch

        y = batch[1]
        return relative_l2(torch.zeros_like(y), y).mean()
