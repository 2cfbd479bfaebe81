"""Cost of augmenting a batch of 32 trajectories (32 frames, 32 x 32) per augmentation, against
one FNO2D training step at batch 32 (paper size: width 48, 4 modes, 4 layers), on CPU.

    .venv/bin/python benchmarks/augmentation_cost.py [--threads 1] [--repeats 15]

Each augmentation's ``apply`` runs on 32 samples of PDEs it is valid for (heat / advection /
Burgers; galilean: advection / Burgers); ``augment_dataset`` adds its bookkeeping on a mixed
batch of 32. ``noise`` also costs ``add_input_noise`` on every training batch's input frames.
Augmentation runs once per training run on the whole training set, so a ratio below 10% of a
step per 32 samples keeps it negligible. Medians of the process CPU time of ``--repeats`` runs after one warm-up."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch

from pde_lib.augmentations import add_input_noise, augment_dataset, get_augmentation
from pde_lib.data import load_dataset
from pde_lib.generation import GenerationParams, generate_dataset
from pde_lib.pdes.spectral import grid_coordinates


def median_seconds(fn, repeats: int) -> float:
    """Median CPU time of this process per call (``time.process_time``: robust to other jobs on a
    shared machine; equal to wall time for one busy thread on an idle one)."""
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


class StandIn(torch.nn.Module):
    """A small conv net with the backbone call signature, used only if FNO2D cannot be built."""

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Conv2d(10, 48, 1), torch.nn.GELU(),
                                       torch.nn.Conv2d(48, 48, 3, padding=1), torch.nn.GELU(),
                                       torch.nn.Conv2d(48, 1, 1))

    def forward(self, x, grid, coeffs=None):
        return self.net(torch.cat([x, grid.expand(x.shape[0], -1, -1, -1)], dim=1))


def training_step(batch: int, n: int, repeats: int) -> tuple[str, float]:
    """Median seconds of one forward/backward/AdamW step of FNO2D (or a stand-in)."""
    torch.manual_seed(0)
    try:
        from pde_lib.models import build_model

        model, label = build_model("fno2d", in_frames=8), "fno2d (width 48, modes 4, 4 layers)"
    except Exception as exc:  # models not available: a stand-in, and the table says so
        model, label = StandIn(), f"STAND-IN conv net (pde_lib.models unavailable: {exc})"
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-6)
    x = torch.randn(batch, 8, n, n)
    y = torch.randn(batch, 1, n, n)
    grid = grid_coordinates(n)

    def step():
        opt.zero_grad(set_to_none=True)
        pred = model(x, grid)
        loss = ((pred - y).flatten(1).norm(dim=1) / y.flatten(1).norm(dim=1)).mean()
        loss.backward()
        opt.step()

    return label, median_seconds(step, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", UserWarning)  # galilean skips the heat third of the mixed batch
    b = args.batch

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.h5"
        generate_dataset(GenerationParams(pdes=["heat", "advection", "burgers"], split="train",
                                          distribution="id", samples_per_pde=b, seed=0),
                         path, progress=False)
        ds = load_dataset(path)
    mixed = ds.select(torch.arange(len(ds)) % 3 == 0)  # heat, advection, Burgers interleaved
    mixed = mixed.take(b)

    label, step = training_step(b, ds.u.shape[-1], args.repeats)
    rows = []
    for name, kw in (("noise", {}), ("shift", {}), ("shift", {"subgrid": True}), ("scale", {}),
                     ("galilean", {}), ("galilean", {"burgers_refine": 4})):
        aug = get_augmentation(name)
        valid = ds.select(aug.valid_mask(ds.pde_index))
        batch = valid.select(torch.randperm(len(valid), generator=torch.Generator().manual_seed(0))[:b])
        g = torch.Generator().manual_seed(0)
        reps = 3 if kw.get("burgers_refine") else args.repeats
        t_apply = median_seconds(lambda: aug.apply(batch.u, batch.coeffs, batch.pde_index, batch.t,
                                                   g, **kw), reps)
        t_dataset = median_seconds(lambda: augment_dataset(mixed, [name], 1.0, g, **kw), reps)
        rows.append((name + "".join(f" {k}={v}" for k, v in kw.items()), len(batch), t_apply,
                     t_dataset))
    x = ds.u[:b, :8]
    std = torch.full((b,), 0.01)
    t_noise = median_seconds(lambda: add_input_noise(x, std, torch.Generator().manual_seed(0)),
                             args.repeats)

    print(f"threads {args.threads}, batch {b}, trajectories (32, 32, 32); median CPU time of "
          f"{args.repeats} runs (3 for burgers_refine)")
    print(f"training step: {label}: {step * 1e3:.1f} ms")
    print(f"{'augmentation':28s} {'B':>3s} {'apply ms':>9s} {'% step':>7s} "
          f"{'augment_dataset ms':>19s} {'% step':>7s}")
    for name, n_b, t_a, t_d in rows:
        print(f"{name:28s} {n_b:3d} {t_a * 1e3:9.2f} {100 * t_a / step:6.1f}% {t_d * 1e3:19.2f} "
              f"{100 * t_d / step:6.1f}%")
    print(f"{'add_input_noise (per step)':28s} {b:3d} {t_noise * 1e3:9.2f} {100 * t_noise / step:6.1f}%")


if __name__ == "__main__":
    main()
