"""One training epoch of K stacked runs: per step, gather the (K, B) batch on the device, add the
input noise, take the mean per-sample relative L2 of each run, backpropagate their sum, take one
AdamW step and one cosine lr step. The step (gather included) is a :class:`GraphedStep`, so on a
GPU with ``cuda_graphs`` it replays as one CUDA graph."""

from __future__ import annotations

from typing import Sequence

import torch

from pde_lib.training.cuda_graph import GraphedStep
from pde_lib.training.losses import relative_l2
from pde_lib.training.stacked import StackedModel
from pde_lib.training.stacked_data import StackedBatches


class StackedEpoch:
    """Callable ``(data_generators, noise_generators) -> (K,) mean training loss of the epoch``.

    ``loss_sum`` (K,) accumulates sum_b rel_l2 on the device (read once per epoch)."""

    def __init__(self, model: StackedModel, batches: StackedBatches, optimizer: torch.optim.Optimizer,
                 scheduler, cuda_graphs: bool = False):
        self.model, self.batches, self.optimizer, self.scheduler = model, batches, optimizer, scheduler
        self.loss_sum = torch.zeros(batches.k, device=batches.device)
        self.step = GraphedStep(self._step, enabled=cuda_graphs and batches.device.type == "cuda")

    def _step(self, idx: torch.Tensor, starts: torch.Tensor | None, z: torch.Tensor | None):
        b = self.batches
        x, y, coeffs = b.gather(idx, starts, z)
        self.optimizer.zero_grad(set_to_none=True)
        pred = self.model(x, b.grid, coeffs)  # (K, B, 1, N, N)
        per_run = relative_l2(pred.flatten(0, 1), y.flatten(0, 1)).view(b.k, -1).mean(1)  # (K,)
        per_run.sum().backward()
        self.optimizer.step()
        self.loss_sum.add_(per_run.detach() * idx.shape[1])
        return per_run

    def __call__(self, data_generators: Sequence[torch.Generator],
                 noise_generators: Sequence[torch.Generator]) -> list[float]:
        b = self.batches
        perm, starts = b.epoch_order(data_generators)
        self.loss_sum.zero_()
        for s in b.batch_slices():
            idx = perm[:, s]
            st = None if starts is None else starts[:, s]
            z = b.draw_noise(idx.shape[1], noise_generators)
            self.step(idx, st, z)
            self.scheduler.step()
        return (self.loss_sum / b.n).tolist()
