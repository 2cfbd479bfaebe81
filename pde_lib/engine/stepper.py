"""The one step loop shared by pretraining and fine-tuning, parameterised by an objective.

    stepper = Stepper(objective, batches, optimizer, scheduler, modules=(model, head))
    scores = stepper.epoch(epoch)  # [{"loss": mean, **stats}] per run

Per epoch: the ``modules`` go to training mode, then for every ``(batch, size)`` that
``batches(epoch)`` yields: zero the gradients, ``loss, stats = objective(*batch)``,
backpropagate, one optimiser step (AdamW), one scheduler step (cosine, per optimiser step). The
epoch's score of each key is the per-sample mean ``sum(value * size) / sum(size)``, summed on the
device and read once per epoch (one host sync; the steps never sync).

* ``objective(*batch) -> (loss, stats)``: a strategy's pretext loss (pretraining) or the mean
  per-sample relative L2 (fine-tuning). ``loss`` is 0-dim for one run, or (K,) for K stacked
  runs (each entry depends only on its run's slice of the weights; their sum is backpropagated);
  ``stats`` maps names to tensors shaped like ``loss`` (e.g. a classifier's accuracy).
* ``batches(epoch)`` yields ``(batch, size)``: ``batch`` a tuple of arguments of the objective,
  ``size`` the number of samples in it. Its random draws (order, windows, noise) come from the
  run's own generators.

The whole step (zero_grad, objective, backward, optimiser step) is a ``GraphedStep``: with
``cuda_graphs`` on a CUDA device it is captured once per batch shape and replayed (the batch must
then be a tuple of tensors, and the objective must not sync or draw random numbers). Stacked
runs use ``engine.stacked.StackedStepper``, which adds the per-run views the driver needs."""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import torch

from pde_lib.engine.cuda_graph import GraphedStep
from pde_lib.engine.optim import clip_gradients
from pde_lib.utils.divergence import finite_weights

Objective = Callable[..., tuple[torch.Tensor, dict[str, torch.Tensor]]]
BatchSource = Callable[[int], Iterable[tuple[tuple, int]]]


class Stepper:
    """The step loop of one run (``runs == 1``): see the module docstring. ``modules`` are the
    trained modules (put in training mode each epoch, and checked for finite weights);
    ``clip_grad_norm`` (None: off) clips the global gradient norm before each optimiser step."""

    runs = 1

    def __init__(self, objective: Objective, batches: BatchSource, optimizer: torch.optim.Optimizer, scheduler,
                 modules: Sequence[torch.nn.Module] = (), cuda_graphs: bool = False,
                 clip_grad_norm: float | None = None):
        self.objective, self.batches, self.optimizer, self.scheduler = objective, batches, optimizer, scheduler
        self.clip_grad_norm = clip_grad_norm
        self.modules = list(modules)
        self.step = GraphedStep(self._step, enabled=cuda_graphs)

    def _step(self, *batch):
        self.optimizer.zero_grad(set_to_none=True)
        loss, stats = self.objective(*batch)
        (loss if loss.dim() == 0 else loss.sum()).backward()
        clip_gradients(self.optimizer, self.clip_grad_norm)
        self.optimizer.step()
        return loss.detach(), {k: v.detach() for k, v in stats.items()}

    def epoch(self, epoch: int) -> list[dict[str, float]]:
        """One pass over ``batches(epoch)``; per run, the per-sample mean loss and stats."""
        for module in self.modules:
            module.train()
        sums: dict[str, torch.Tensor] = {}
        count = 0
        for batch, size in self.batches(epoch):
            loss, stats = self.step(*batch)
            self.scheduler.step()
            for k, v in {"loss": loss, **stats}.items():
                sums[k] = sums.get(k, 0.0) + v * size
            count += size
        scores: list[dict[str, float]] = [{} for _ in range(self.runs)]
        for k, v in sums.items():  # one run: a float64 division on the host; K runs: on the device
            values = [float(v) / count] if v.dim() == 0 else (v / count).tolist()
            for score, value in zip(scores, values):
                score[k] = value
        return scores

    def finite_weights(self) -> list[bool]:
        """Per run: whether every trained weight is finite."""
        return finite_weights([p for m in self.modules for p in m.parameters()])

    def export(self, k: int, module: torch.nn.Module) -> None:
        """Make ``module`` hold run k's current weights (one run: it already does)."""

    def optimizer_state(self, k: int):
        """Run k's optimiser (or its state dict) for its training-state checkpoint."""
        return self.optimizer
