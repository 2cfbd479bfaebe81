"""Stop a training loop whose loss or weights went non-finite, before it writes anything that
looks like a result. Checked once per epoch (one host sync; the steps themselves never sync): an
epoch's mean loss is finite only if every step's was, and the weights are checked as well, since
a finite loss can still produce a non-finite update."""

from __future__ import annotations

import math
from typing import Iterable

import torch

from pde_lib.errors import TrainingError


def finite_weights(params: Iterable[torch.Tensor], runs: int | None = None) -> list[bool]:
    """Whether every weight is finite: one flag, or one per run for stacked (K, ...) weights."""
    params = list(params)
    if not params:
        return [True] * (runs or 1)
    if runs is None:
        flags = torch.stack([torch.isfinite(p.detach()).all() for p in params]).all().reshape(1)
    else:
        flags = torch.stack([torch.isfinite(p.detach()).reshape(runs, -1).all(1) for p in params]).all(0)
    return [bool(f) for f in flags.tolist()]


def check_epoch(loss: float, weights_ok: bool, *, what: str, epoch: int, kept: str) -> None:
    """TrainingError (one line) if ``loss`` is NaN / infinite or ``weights_ok`` is False.
    ``what`` names the run, ``kept`` says what is left on disk."""
    if math.isfinite(loss) and weights_ok:
        return
    cause = f"the training loss is {loss}" if not math.isfinite(loss) else "the weights became NaN or infinite"
    raise TrainingError(f"{what}: training diverged in epoch {epoch} ({cause}); stopped without writing "
                        f"results; {kept}. Lower the learning rate or check the data")
