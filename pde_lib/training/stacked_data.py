"""Training batches for K stacked runs, gathered on the device from one (K, n, T, N, N) tensor.

Each run keeps its own random streams, drawn exactly as a single run draws them
(``trainer.Batches``): per epoch a permutation of its n samples and (next step) n start times
from its ``data`` generator; per batch the input noise from its ``noise`` generator. Batch j of
run k therefore holds the same samples, windows and noise as batch j of the same run trained
alone.

The gather takes index tensors, so a CUDA graph can capture it: per step only the (K, B) sample
indices and start times change. ``objective(model)`` is the fine-tuning objective of K stacked
runs for the engine's ``StackedStepper``: gather, forward, each run's mean per-sample relative L2."""

from __future__ import annotations

from typing import Sequence

import torch

from pde_lib.data import Dataset
from pde_lib.errors import ConfigError
from pde_lib.engine.losses import relative_l2
from pde_lib.engine.windowing import check_window, random_starts


class StackedBatches:
    """K training sets of equal size, frame count and resolution, stacked on one device.

    ``u`` (K, n, T, N, N), ``grid`` (K, 2, N, N), ``coeffs`` (K, n, C), ``noise_std`` (K, n) or
    None (zeros for runs without input noise; ``noisy`` lists the runs with it)."""

    def __init__(self, datasets: Sequence[Dataset], task: str, window: int, target_frame: int, batch_size: int):
        datasets = list(datasets)
        shapes = {tuple(ds.u.shape) for ds in datasets}
        if len(shapes) != 1:
            raise ConfigError(f"stacked runs need training sets of one shape (n, T, N, N); got {sorted(shapes)}")
        self.k, self.task, self.window, self.target = len(datasets), task, window, target_frame
        self.batch_size = batch_size
        self.n, self.n_t = datasets[0].u.shape[:2]
        check_window(self.n_t, window, target_frame if task == "fixed_future" else None)

        def stack(ts):  # one run: a view, no copy
            return ts[0].unsqueeze(0) if len(ts) == 1 else torch.stack(ts)

        self.u = stack([ds.u for ds in datasets])
        self.grid = stack([ds.x for ds in datasets])
        self.coeffs = stack([ds.coeffs for ds in datasets])
        self.device = self.u.device
        noise = [ds.extra.get("input_noise") for ds in datasets]
        self.noisy = [k for k, s in enumerate(noise) if s is not None]
        self.noise_std = None
        if self.noisy:
            zeros = torch.zeros(self.n, device=self.device, dtype=self.u.dtype)
            self.noise_std = stack([zeros if s is None else s.to(self.u.dtype) for s in noise])
        self._rows = torch.arange(self.k, device=self.device)[:, None]  # (K, 1)
        self._frames = torch.arange(window + 1, device=self.device)

    def epoch_order(self, generators: Sequence[torch.Generator]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(K, n) sample order and, for next step, (K, n) start times: run k draws from
        ``generators[k]`` exactly as a single run's epoch does."""
        perms, starts = [], []
        for gen in generators:
            perms.append(torch.randperm(self.n, generator=gen).to(self.device))
            if self.task == "next_step":
                starts.append(random_starts(self.n, self.n_t, self.window, gen, self.device))
        return torch.stack(perms), (torch.stack(starts) if starts else None)

    def batch_slices(self):
        """Slices of the epoch order, one per optimiser step (the last one may be shorter)."""
        return [slice(i, min(i + self.batch_size, self.n)) for i in range(0, self.n, self.batch_size)]

    def draw_noise(self, batch: int, generators: Sequence[torch.Generator]) -> torch.Tensor | None:
        """(K, B, T_in, N, N) standard normal draws for the noisy runs (zeros elsewhere), each from
        its run's ``noise`` generator as ``add_input_noise`` draws them; None without noise."""
        if not self.noisy:
            return None
        shape = (batch, self.window, *self.u.shape[-2:])
        z = torch.zeros(self.k, *shape, device=self.device, dtype=self.u.dtype)
        for k in self.noisy:
            gen = generators[k]
            z[k] = torch.randn(shape, generator=gen, device=gen.device, dtype=self.u.dtype).to(self.device)
        return z

    def gather(self, idx: torch.Tensor, starts: torch.Tensor | None, z: torch.Tensor | None = None):
        """idx (K, B) sample indices, starts (K, B) start times (next step) and noise draws z ->
        x (K, B, T_in, N, N) (noise added), y (K, B, 1, N, N), coeffs (K, B, C)."""
        rows = self._rows
        if self.task == "fixed_future":
            x = self.u[rows, idx, :self.window]
            y = self.u[rows, idx, self.target:self.target + 1]
        else:
            frames = starts[..., None] + self._frames  # (K, B, window+1)
            sel = self.u[rows[..., None], idx[..., None], frames]  # (K, B, window+1, N, N)
            x, y = sel[:, :, :self.window], sel[:, :, self.window:]
        if z is not None:
            x = x + self.noise_std[rows, idx][..., None, None, None] * z
        return x, y, self.coeffs[rows, idx]

    def epoch(self, data_generators: Sequence[torch.Generator], noise_generators: Sequence[torch.Generator]):
        """One epoch of ``((idx, starts, z), B)``: (K, B) sample indices, (K, B) start times (next
        step; else None) and the noise draws (or None), B the samples per run in the step."""
        perm, starts = self.epoch_order(data_generators)
        for s in self.batch_slices():
            idx = perm[:, s]
            st = None if starts is None else starts[:, s]
            yield (idx, st, self.draw_noise(idx.shape[1], noise_generators)), idx.shape[1]

    def objective(self, model):
        """``(idx, starts, z) -> ((K,) mean per-sample relative L2 of each run, {})`` for the
        stacked backbone ``model`` (an ``engine.stacked.StackedModel``)."""
        def objective(idx, starts, z):
            x, y, coeffs = self.gather(idx, starts, z)
            pred = model(x, self.grid, coeffs)  # (K, B, 1, N, N)
            return relative_l2(pred.flatten(0, 1), y.flatten(0, 1)).view(self.k, -1).mean(1), {}
        return objective
