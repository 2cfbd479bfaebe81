"""Training-loop throughput (samples/s): windowing + forward + backward + AdamW + lr step, for every
backbone at its paper size, batch 32, 32 x 32 frames, next-step task (random start times).

The loops run on the same data in the same process, each on fresh copies of the same model:
* ``eager`` (the baseline): a straightforward loop: per-sample Python slicing to build the
  windows, plain ``torch.optim.AdamW`` (``foreach=False``, ``fused=False``), loss read with
  ``.item()`` every step;
* ``project``: the engine's step loop (``pde_lib.engine.stepper``, via
  ``pde_lib.training.trainer.make_stepper``: vectorised windowing, fused AdamW, cosine schedule,
  one device sync per epoch), what ``run_training`` uses by default;
* ``stacked`` K: K independent runs stepped as one (``pde_lib.engine.stacked.StackedStepper``,
  what ``run_training_group`` and ``stack_finetunes`` use), each run at batch ``--batch``;
* ``graphed`` K (CUDA only): the same, each step replayed as one CUDA graph (``--cuda-graphs``).
samples/s counts the samples of all K runs. Each measurement is the median over ``--repeats``
epochs of ``--steps`` optimiser steps, after one warm-up epoch (which also captures the graphs),
all loops interleaved. Prints a markdown table.

    python benchmarks/train_throughput.py --steps 4 --repeats 3 [--devices cpu,cuda] [--threads 2] [--runs 1,8]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import torch

from pde_lib.data import Dataset
from pde_lib.models import MODELS, build_model
from pde_lib.engine.losses import relative_l2
from pde_lib.engine.optim import make_optimizer, make_scheduler
from pde_lib.engine.stacked import StackedModel, StackedStepper
from pde_lib.training.config import TrainConfig
from pde_lib.training.stacked_data import StackedBatches
from pde_lib.training.trainer import Batches, make_stepper


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


def measure(fns: dict, device, repeats: int) -> dict[str, float]:
    """Median seconds of each function over ``repeats``, interleaved (a, b, c, a, b, c, ...)
    after one warm-up call each, so slow drifts of a shared machine hit all alike."""
    for fn in fns.values():
        fn()
    times: dict[str, list] = {k: [] for k in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            _sync(device)
            t0 = time.perf_counter()
            fn()
            _sync(device)
            times[key].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def stacked_loop(base, ds: Dataset, runs: int, batch: int, steps: int, repeats: int, graphs: bool):
    """``runs`` copies of ``base`` stepped as stacked runs (``pde_lib.engine.stacked``),
    optionally replayed as CUDA graphs; each run has its own data order."""
    models = [copy.deepcopy(base).to(ds.u.device) for _ in range(runs)]
    stacked = StackedModel(models)
    batches = StackedBatches([ds] * runs, "next_step", 8, 31, batch)
    capturable = graphs and ds.u.device.type == "cuda"
    opt = make_optimizer(stacked.parameters(), capturable=capturable)
    sched = make_scheduler(opt, total_steps=steps * (repeats + 1) * 4)
    gens = [torch.Generator().manual_seed(k) for k in range(runs)]
    stepper = StackedStepper(stacked, batches.objective(stacked), lambda epoch: batches.epoch(gens, gens), opt,
                             sched, cuda_graphs=graphs and ds.u.device.type == "cuda")
    return lambda: stepper.epoch(0)


def bench(name: str, device: torch.device, steps: int, repeats: int, batch: int, res: int,
          runs: list[int]) -> list[dict]:
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
    project = make_stepper(m_proj, batches, opt_p, sched, gens)
    fns = {("eager", 1): lambda: eager_epoch(m_eager, ds, opt_e, batch, 8, gen_e),
           ("project", 1): lambda: project.epoch(0)}
    for k in runs:
        fns[("stacked", k)] = stacked_loop(base, ds, k, batch, steps, repeats, graphs=False)
        if device.type == "cuda":
            fns[("graphed", k)] = stacked_loop(base, ds, k, batch, steps, repeats, graphs=True)
    times = measure(fns, device, repeats)
    return [{"model": name, "device": device.type, "params": n_params, "loop": loop, "runs": k,
             "samples_s": k * n / t, "vs_eager": (k * n / t) / (n / times[("eager", 1)])}
            for (loop, k), t in times.items()]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(MODELS.names()))
    p.add_argument("--devices", default="cpu" + (",cuda" if torch.cuda.is_available() else ""))
    p.add_argument("--steps", type=int, default=4, help="optimiser steps per timed epoch")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--resolution", type=int, default=32)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--runs", default="1,4", help="stacked-run counts to measure, e.g. 1,8,24")
    p.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    runs = [int(k) for k in args.runs.split(",") if k]
    for dev in args.devices.split(","):
        for name in args.models.split(","):
            rows += bench(name, torch.device(dev), args.steps, args.repeats, args.batch, args.resolution, runs)
    print(f"\nbatch {args.batch} per run, {args.resolution}x{args.resolution}, next-step task, paper-size models, "
          f"median of {args.repeats} x {args.steps} steps, torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads"
          + (f", {torch.cuda.get_device_name()}" if "cuda" in args.devices else "") + "\n")
    print("| model | device | params | loop | runs | samples/s (all runs) | vs eager |")
    print("|---|---|---:|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['device']} | {r['params']:,} | {r['loop']} | {r['runs']} | "
              f"{r['samples_s']:.1f} | {r['vs_eager']:.2f}x |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))

if __name__ == "__main__":
    main()
