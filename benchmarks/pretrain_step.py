"""Step time of every pretraining strategy vs the plain supervised (fixed-future) step.

FNO2D at paper size (width 48, 4 modes, 4 layers), batch 32, 32 x 32, 32 frames per trajectory.
One step = pretext batch construction + forward + backward + AdamW step (+ cosine lr step); the
supervised step = fixed-future windowing + forward + relative L2 + backward + AdamW step. Rounds
are interleaved (every step once per round, in an order rotated each round), so load on a shared
machine hits all alike; medians over rounds. On CPU the clock is the process CPU time by default
(robust to other jobs on a shared machine; use --threads 1 for a clean per-core number), on CUDA
wall time with synchronisation. Targets: <= 2x the supervised step, PICL <= 4x.

    python benchmarks/pretrain_step.py [--device cpu,cuda] [--rounds 15] [--threads N] [--clock cpu|wall]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from pde_lib.data import PDE_NAMES, Dataset
from pde_lib.models import build_model
from pde_lib.pdes.spectral import grid_coordinates
from pde_lib.pretraining import STRATEGIES
from pde_lib.engine.losses import relative_l2
from pde_lib.engine.optim import make_optimizer, make_scheduler
from pde_lib.engine.windowing import fixed_future

PAPER_FNO = dict(width=48, modes=4, n_layers=4, projection_width=128)
TARGETS = {"picl": 4.0}


def synthetic_data(batch: int, n: int, device) -> Dataset:
    """Random trajectories with heat / advection / Burgers coefficients in their ID ranges (step
    time does not depend on the values)."""
    g = torch.Generator().manual_seed(0)
    names = ("heat", "advection", "burgers")
    which = torch.arange(batch) % 3
    c = torch.zeros(batch, 5)
    c[which == 0, 0] = 1e-2
    c[which == 1, 1:3] = 1.0
    c[which == 2, 0], c[which == 2, 3:5] = 1e-2, 0.75
    idx = torch.tensor([PDE_NAMES.index(names[i]) for i in which.tolist()])
    ds = Dataset(u=torch.randn(batch, 32, n, n, generator=g) * 0.5, x=grid_coordinates(n),
                 t=torch.arange(32) * 0.0625, coeffs=c, pde_index=idx, seed=torch.arange(batch))
    return ds.to(device)


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_steps(ds: Dataset, device) -> dict:
    """name -> a zero-argument callable running one optimisation step."""
    steps = {}
    torch.manual_seed(0)
    model = build_model("fno2d", in_frames=8, **PAPER_FNO).to(device)
    opt = make_optimizer(model.parameters(), 1e-3, 1e-6)
    sched = make_scheduler(opt, 10_000, 1e-5)

    def supervised():
        x, y = fixed_future(ds.u, 8, 31)
        loss = relative_l2(model(x, ds.x, ds.coeffs), y).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()

    steps["supervised"] = supervised
    for name in STRATEGIES.names():
        strategy = STRATEGIES.get(name)()
        if not strategy.trains:
            continue
        torch.manual_seed(0)
        m = build_model("fno2d", in_frames=8, **PAPER_FNO)
        strategy.check_model(m, ds.u.shape[-1])
        strategy.setup(ds)
        head = strategy.build_head(m)
        m.to(device)
        head.to(device)
        o = make_optimizer(list(m.parameters()) + list(head.parameters()), 1e-3, 1e-6)
        s = make_scheduler(o, 10_000, 1e-5)
        gen = torch.Generator(device=device).manual_seed(0)

        def step(strategy=strategy, m=m, head=head, o=o, s=s, gen=gen):
            batch = strategy.make_batch(ds.u, ds.coeffs, ds.pde_index, ds.x, gen, 0.5)
            loss, _ = strategy.loss(m, head, batch)
            o.zero_grad(set_to_none=True)
            loss.backward()
            o.step()
            s.step()

        steps[name] = step
    return steps


def measure(device_name: str, batch: int, n: int, rounds: int, warmup: int, clock: str | None) -> dict[str, float]:
    device = torch.device(device_name)
    clock = clock or ("cpu" if device.type == "cpu" else "wall")
    now = time.process_time if clock == "cpu" else time.perf_counter
    ds = synthetic_data(batch, n, device)
    steps = make_steps(ds, device)
    names = list(steps)
    times: dict[str, list[float]] = {k: [] for k in steps}
    for r in range(warmup + rounds):
        for i in range(len(names)):
            name = names[(i + r) % len(names)]
            _sync(device)
            t0 = now()
            steps[name]()
            _sync(device)
            if r >= warmup:
                times[name].append(now() - t0)
    return {k: statistics.median(times[k]) * 1e3 for k in names}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default=None, help="comma-separated devices (default: cpu, and cuda if present)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--clock", choices=["cpu", "wall"], default=None,
                   help="cpu: process CPU time (default on CPU); wall: elapsed time (default on CUDA)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.device.split(",") if args.device else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    results = {d: measure(d, args.batch, args.n, args.rounds, args.warmup, args.clock) for d in devices}
    clocks = {d: args.clock or ("cpu" if d.startswith("cpu") else "wall") for d in devices}
    print(f"FNO2D {PAPER_FNO}, batch {args.batch}, {args.n}x{args.n}, median of {args.rounds} steps, "
          f"clock {clocks} "
          f"(torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
          + (f", {torch.cuda.get_device_name()}" if "cuda" in devices else "") + ")\n")
    head = "| strategy | " + " | ".join(f"{d} ms | {d} ratio" for d in devices) + " | target |"
    print(head)
    print("|" + "---|" * (2 * len(devices) + 2))
    for name in results[devices[0]]:
        cells = []
        for d in devices:
            ms, base = results[d][name], results[d]["supervised"]
            cells.append(f"{ms:.2f} | {ms / base:.2f}x")
        target = "1x" if name == "supervised" else f"<= {TARGETS.get(name, 2.0):g}x"
        print(f"| {name} | " + " | ".join(cells) + f" | {target} |")


if __name__ == "__main__":
    main()
