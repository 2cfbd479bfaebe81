"""The pretext-strategy interface shared by every pretraining strategy.

A strategy turns a batch of trajectories into a pretext problem and scores a backbone on it:

    inputs, target = strategy.make_batch(u, coeffs, pde_index, grid, generator, progress)
    loss, stats = strategy.loss(model, head, (inputs, target))

``u`` is (B, T, N, N); ``coeffs`` (B, 5) in ``COEFFICIENT_KEYS`` order; ``pde_index`` (B,) into
``pde_lib.data.PDE_NAMES``; ``grid`` (2, N, N); ``generator`` a ``torch.Generator`` on u's device;
``progress`` = epoch / total epochs in [0, 1]. ``inputs`` is a dict holding at least ``frames``
(B, window, N, N), ``grid`` and ``coeffs``. Batches are built with index tensors only (no loops over
samples, no host synchronisation), so a step runs asynchronously on a GPU.

A head reads the backbone's last hidden map ``model.encode(...)`` (``head_input="features"``) or,
as in the original study, its one-channel output ``model(...)`` (``head_input="output"``). Only the
backbone is kept after pretraining; the head is discarded.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from pde_lib.errors import ConfigError, DataError

HEAD_INPUTS = ("features", "output")
WINDOW_STARTS = ("first", "random")

Batch = tuple[dict[str, Any], torch.Tensor]


class Strategy:
    """Base class; subclasses are registered in ``pde_lib.pretraining.STRATEGIES`` by ``name``.

    Class attributes: ``classification`` (the pretext target is a class label), ``n_classes`` (for
    the chance level 1 / n_classes), ``needs_coefficients`` (the pretraining file must hold
    non-zero PDE coefficients), ``trains`` (False only for ``none``)."""

    name: str = ""
    classification: bool = False
    n_classes: int = 0
    needs_coefficients: bool = False
    trains: bool = True
    #: best accuracy a perfect classifier can reach (< 1 where labels are inherently ambiguous)
    max_accuracy: float = 1.0

    def __init__(self, window: int = 8, head_input: str = "features", window_start: str = "first",
                 task: str = "fixed_future", dt: float = 0.0625, **options: Any):
        if head_input not in HEAD_INPUTS:
            raise ConfigError(f"head_input must be one of {', '.join(HEAD_INPUTS)}, got {head_input!r}")
        if window_start not in WINDOW_STARTS:
            raise ConfigError(
                f"window_start must be one of {', '.join(WINDOW_STARTS)}, got {window_start!r}")
        if options:
            raise ConfigError(f"strategy {self.name!r} got unknown option(s) {', '.join(sorted(options))}")
        self.window = int(window)
        self.head_input = head_input
        self.window_start = window_start
        self.task = task
        self.dt = float(dt)

    # ---- checks and one-off setup ---------------------------------------------------------
    @property
    def chance(self) -> float | None:
        """Accuracy of guessing, 1 / n_classes (None for regression strategies)."""
        return 1.0 / self.n_classes if self.classification else None

    def check_model(self, model: nn.Module, resolution: int) -> None:
        """Raise ConfigError if this strategy cannot apply to ``model`` at ``resolution``."""
        if getattr(model, "in_frames", self.window) != self.window:
            raise ConfigError(
                f"strategy {self.name!r}: the backbone takes {model.in_frames} input frames but the "
                f"pretext window is {self.window}")
        if self.head_input == "features" and not (
                hasattr(model, "encode") and hasattr(model, "feature_channels")):
            raise ConfigError(
                f"strategy {self.name!r} reads the backbone's features, but model "
                f"{getattr(model, 'name', type(model).__name__)!r} exposes no encode()/feature_channels; "
                f"use head_input='output'")

    def check_data(self, ds) -> None:
        """Raise DataError/ConfigError if the pretraining data cannot serve this strategy."""
        if ds.u.shape[1] < self.window:
            raise DataError(f"{ds.path}: trajectories have {ds.u.shape[1]} frames, fewer than the "
                            f"pretext window of {self.window}")
        if self.needs_coefficients:
            missing = (ds.coeffs == 0).all(dim=1)
            if bool(missing.any()):
                first = torch.nonzero(missing)[:5, 0].tolist()
                raise DataError(
                    f"strategy {self.name!r} needs the PDE coefficients (nu, ax, ay, cx, cy), but "
                    f"{int(missing.sum())} of {len(ds)} samples in {ds.path} (group {ds.group!r}) have "
                    f"all coefficients zero (first indices {first}); use a file that stores them")

    def setup(self, ds) -> None:
        """One-off statistics from the training data (e.g. target scales); host syncs allowed."""
        t = ds.t
        if t.numel() > 1:
            self.dt = float(t[1] - t[0])

    # ---- the pretext problem --------------------------------------------------------------
    def build_head(self, model: nn.Module, head_input: str | None = None) -> nn.Module:
        """The pretext head for ``model``; ``head_input`` overrides the strategy's setting."""
        if head_input is not None:
            if head_input not in HEAD_INPUTS:
                raise ConfigError(f"head_input must be one of {', '.join(HEAD_INPUTS)}, got {head_input!r}")
            self.head_input = head_input
        return self._build_head(model, self.head_input_channels(model))

    def _build_head(self, model: nn.Module, in_channels: int) -> nn.Module:
        raise NotImplementedError

    def head_input_channels(self, model: nn.Module) -> int:
        return model.feature_channels if self.head_input == "features" else 1

    def make_batch(self, u: torch.Tensor, coeffs: torch.Tensor, pde_index: torch.Tensor,
                   grid: torch.Tensor, generator: torch.Generator, progress: float = 0.0) -> Batch:
        raise NotImplementedError

    def per_sample(self, ds) -> dict[str, torch.Tensor]:
        """Tensors that ``make_batch`` would compute from fixed data at every step, computed once
        for every sample of ``ds`` (first dimension: ds's samples); the pretraining loop passes
        their rows of the batch to ``make_batch`` as keyword arguments. {}: none (the default)."""
        return {}

    def loss(self, model: nn.Module, head: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict]:
        """(scalar loss, stats) where stats values are 0-dim tensors (e.g. ``accuracy``)."""
        raise NotImplementedError

    #: what ``trivial_loss`` predicts, in words (None: no trivial predictor; classification
    #: strategies compare their accuracy with chance instead)
    trivial: str | None = None

    def trivial_loss(self, batch: Batch) -> torch.Tensor | None:
        """The pretext loss of a predictor that ignores the input (``trivial``), on ``batch``, as
        a 0-dim tensor; the held-out figure a regression strategy must beat. None: none defined."""
        return None

    @staticmethod
    def constant_mse(target: torch.Tensor) -> torch.Tensor:
        """MSE of the best constant per target channel (dim 1) over the batch and space: the
        target's per-channel variance, the lowest loss any input-blind predictor reaches."""
        dims = [0] + list(range(2, target.dim()))
        return (target - target.mean(dim=dims, keepdim=True)).square().mean()

    # ---- helpers --------------------------------------------------------------------------
    def window_frames(self, u: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(B, T, N, N) -> (B, window, N, N): frames 0..window-1, or a random start per sample."""
        if u.shape[1] < self.window:
            raise DataError(f"trajectories have {u.shape[1]} frames, fewer than the window {self.window}")
        if self.window_start == "first":
            return u[:, : self.window]
        from pde_lib.engine.windowing import next_step, random_starts

        starts = random_starts(u.shape[0], u.shape[1], self.window, generator, u.device)
        return next_step(u, starts, self.window)[0]

    def represent(self, model: nn.Module, frames: torch.Tensor, grid: torch.Tensor,
                  coeffs: torch.Tensor | None) -> torch.Tensor:
        """What the head reads: ``model.encode`` features (B, C, N, N) or the output (B, 1, N, N)."""
        if self.head_input == "output":
            return model(frames, grid, coeffs)
        return model.encode(frames, grid, coeffs)

    @staticmethod
    def inputs(frames, grid, coeffs, **extra) -> dict[str, Any]:
        return {"frames": frames, "grid": grid, "coeffs": coeffs, **extra}


class ClassificationStrategy(Strategy):
    """A pretext task with ``n_classes`` labels: cross-entropy on the head's logits."""

    classification = True
    #: adaptive pooling of the classifier head (1 = global pooling)
    pool: int = 1

    def _build_head(self, model, in_channels):
        from pde_lib.pretraining.heads import ClassifierHead

        return ClassifierHead(in_channels, self.n_classes, pool=self.pool)

    def loss(self, model, head, batch):
        inputs, label = batch
        logits = head(self.represent(model, inputs["frames"], inputs["grid"], inputs["coeffs"]))
        loss = F.cross_entropy(logits, label)
        accuracy = (logits.argmax(dim=1) == label).float().mean()
        return loss, {"accuracy": accuracy.detach()}


def permute_blocks(blocks: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Reorder blocks per sample: out[b, k] = blocks[b, perm[b, k]].

    ``blocks`` is (B, K, ...), ``perm`` (B, K) int64. The inverse is ``permute_blocks(out,
    perm.argsort(dim=1))``."""
    shape = perm.shape + (1,) * (blocks.dim() - 2)
    return blocks.gather(1, perm.reshape(shape).expand_as(blocks))
