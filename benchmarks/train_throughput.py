"""Training-loop throughput (samples/s): windowing + forward + backward + AdamW + lr step, for every
backbone at its paper size, batch 32, 32 x 32 frames, next-step task (random start times).

Two loops run on the same data in the same process, each on a fresh copy of the same model:
* ``eager``: a straightforward loop: per-sample Python slicing to build the windows, plain
  ``torch.optim.AdamW`` (``foreach=False``, ``fused=False``), loss read with ``.item()`` every step;
* ``project``: ``pde_lib.training.trainer.train_epoch`` (vectorised windowing, fused AdamW,
  cosine schedule, one device sync per epoch).
Each measurement is the median over ``--repeats`` epochs of ``--steps`` optimiser steps, after one
warm-up epoch, the two loops interleaved. Prints a markdown table.

    python benchmarks/train_throughput.py --steps 4 --repeats 3 [--devices cpu,cuda] [--threads 2]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch

from pde_lib.data import Dataset
from pde_lib.models import MODELS, build_model
from pde_lib.training.config import TrainConfig
from pde_lib.training.losses import relative_l2
from pde_lib.training.optim import make_optimizer, make_scheduler
from pde_lib.training.trainer import Batches, train_epoch


def synthetic_dataset(n: int, t: int, res: int, device) -> Dataset:
    g = torch.Generator().manual_seed(0)
    u = torch.randn(n, t, res, res, generator=g)
    ax = torch.linspace(-1, 1, res + 1)[:-1]
    grid = torch.stack(torch.meshgrid(ax, ax, indexing="ij"))
    return Dataset(u=u, x=grid, t=torch.arange(t) * 0.0625, coeffs=torch.rand(n, 5, generator=g),
                   pde_index=torch.zeros(n, dtype=torch.long), seed=torch.arange(n)).to(device)


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def eager_epoch(model, ds: Dataset, opt, batch: int, window: int, gen: torch.Generator) -> None:
    """The baseline: Python loops over samples to cut windows, ``.item()`` every step."""
    model.train()
    n, n_t = ds.u.shape[:2]
    perm = torch.randperm(n, generator=gen).tolist()
    for i in range(0, n, batch):
        idx = perm[i:i + batch]
        starts = torch.randint(0, n_t - window, (len(idx),), generator=gen).tolist()
        x = torch.stack([ds.u[j, s:s + window] for j, s in zip(idx, starts)])
        y = torch.stack([ds.u[j, s + window:s + window + 1] for j, s in zip(idx, starts)])
        coeffs = ds.coeffs[idx]
        loss = relative_l2(model(x, ds.x, coeffs), y).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()


def measure_pair(fn_a, fn_b, device, repeats: int) -> tuple[float, float]:
    """Median seconds of ``fn_a`` and ``fn_b`` over ``repeats``, interleaved (a, b, a, b, ...)
    after one warm-up call each, so slow drifts of a shared machine hit both alike."""
    fn_a(), fn_b()
    times: tuple[list, list] = ([], [])
    for _ in range(repeats):
        for fn, out in ((fn_a, times[0]), (fn_b, times[1])):
            _sync(device)
            t0 = time.perf_counter()
            fn()
            _sync(device)
            out.append(time.perf_counter() - t0)
    return statistics.median(times[0]), statistics.median(times[1])


def bench(name: str, device: torch.device, steps: int, repeats: int, batch: int, res: int) -> dict:
    n = steps * batch
    ds = synthetic_dataset(n, 32, res, device)
    torch.manual_seed(0)
    base = build_model(name)
    n_params = sum(p.numel() for p in base.parameters())

    m_eager = copy.deepcopy(base).to(device)
    opt_e = torch.optim.AdamW(m_eager.parameters(), lr=1e-3, weight_decay=1e-6, foreach=False, fused=False)
    gen_e = torch.Generator().manual_seed(0)

    m_proj = copy.deepcopy(base).to(device)
    cfg = TrainConfig(model=name, task="next_step", batch_size=batch)
    batches = Batches(ds, cfg, device)
    opt_p = make_optimizer(m_proj.parameters())
    sched = make_scheduler(opt_p, total_steps=steps * (repeats + 1))
    gens = {"data": torch.Generator().manual_seed(0)}
    t_eager, t_proj = measure_pair(lambda: eager_epoch(m_eager, ds, opt_e, batch, 8, gen_e),
                                   lambda: train_epoch(m_proj, batches, opt_p, sched, gens), device, repeats)
    return {"model": name, "device": device.type, "params": n_params,
            "eager": n / t_eager, "project": n / t_proj}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(MODELS.names()))
    p.add_argument("--devices", default="cpu" + (",cuda" if torch.cuda.is_available() else ""))
    p.add_argument("--steps", type=int, default=4, help="optimiser steps per timed epoch")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--resolution", type=int, default=32)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for dev in args.devices.split(","):
        for name in args.models.split(","):
            rows.append(bench(name, torch.device(dev), args.steps, args.repeats, args.batch, args.resolution))
    print(f"\nbatch {args.batch}, {args.resolution}x{args.resolution}, next-step task, paper-size models, "
          f"median of {args.repeats} x {args.steps} steps, torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads\n")
    print("| model | device | params | eager samples/s | project samples/s | project / eager |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['device']} | {r['params']:,} | {r['eager']:.1f} | {r['project']:.1f} "
              f"| {r['project'] / r['eager']:.2f}x |")


if __name__ == "__main__":
    main()
