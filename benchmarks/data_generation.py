"""Burgers data generation: the project's solver against a faithful baseline of the original
study's scheme, measured in one run.

Baseline (written here from the published description, not copied): explicit Euler in time,
5-point Laplacian, first-order upwind advection (upwind by the sign of the local velocity),
dt = 5e-5 on a 256^2 grid, subsampled to 32^2 frames, one sample at a time.

Usage: python benchmarks/data_generation.py [--device cpu] [--batch 64] [--baseline-steps 4000]
The baseline's per-sample time is measured over ``--baseline-steps`` steps and extrapolated to the
38,750 steps of a trajectory (t = 1.9375), unless --baseline-full. The project solver's accuracy is
measured against a refined solve (each frame interval on twice the grid the schedule chose, dt / 4)
in every stored frame: the last frame (the bar of docs/protocol.md section 2.5) and the worst frame over all frames and
samples (the early frames, where the fronts are steepest), on ``--accuracy-samples`` random samples
plus the sharp corner of the range (lowest viscosity, fastest advection)."""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from pde_lib.pdes import get_pde
from pde_lib.pdes.simulate import SampleBatch, draw_batch, refined, simulate
from pde_lib.pdes.spectral import grid_coordinates
from pde_lib.utils.memory import retain_freed_memory

T_FINAL = 31 * 0.0625


def baseline_burgers(u0: torch.Tensor, nu: float, cx: float, cy: float, steps: int,
                     dt: float = 5e-5, frame_every: int = 1250) -> tuple[torch.Tensor, float]:
    """Explicit Euler, 5-point Laplacian, first-order upwind; one sample (N, N) on the periodic
    grid (spacing 2/N). Returns the last field and the seconds taken."""
    n = u0.shape[-1]
    dx = 2.0 / n
    u = u0.clone()
    frames = []
    start = time.perf_counter()
    for step in range(steps):
        up_x, dn_x = torch.roll(u, -1, 0), torch.roll(u, 1, 0)
        up_y, dn_y = torch.roll(u, -1, 1), torch.roll(u, 1, 1)
        lap = (up_x + dn_x + up_y + dn_y - 4 * u) / dx**2
        vx, vy = cx * u, cy * u
        ux = torch.where(vx > 0, u - dn_x, up_x - u) / dx
        uy = torch.where(vy > 0, u - dn_y, up_y - u) / dx
        u = u + dt * (nu * lap - vx * ux - vy * uy)
        if step % frame_every == 0:
            frames.append(u[:: n // 32, :: n // 32].clone())
    return u, time.perf_counter() - start


def rel_l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).flatten(1).norm(dim=1) / b.flatten(1).norm(dim=1)


def sharp_corner(pde, batch: SampleBatch, dist: str) -> SampleBatch:
    """The batch with every coefficient at the sharp end of the range."""
    for key, r in pde.ranges[dist].items():
        batch.coeffs[key][:] = r.low if key == "nu" else r.high
    return batch


def frame_errors(pde, batch: SampleBatch, settings, dev) -> torch.Tensor:
    """Relative L2 (B, T) of every stored frame against the refined solve."""
    if settings.tail_tol is None:
        u, grids = simulate(pde, batch, 32, settings, device=dev), None
    else:
        u, record = simulate(pde, batch, 32, settings, device=dev, return_record=True)
        grids = 2 * record.grid
    ref = simulate(pde, batch, 32, refined(settings), device=dev, grids=grids)
    return (u - ref).flatten(2).norm(dim=2) / ref.flatten(2).norm(dim=2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline-steps", type=int, default=4000)
    ap.add_argument("--baseline-full", action="store_true")
    ap.add_argument("--accuracy-samples", type=int, default=2,
                    help="random samples for the accuracy columns (0: measure speed only)")
    args = ap.parse_args()
    dev = args.device
    pde = get_pde("burgers")
    retained = retain_freed_memory()  # as generate_dataset does, for the baseline too
    total_steps = round(T_FINAL / 5e-5)
    print(f"device {dev}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"glibc mallopt thresholds {'set' if retained else 'unavailable'}")

    # --- baseline, one sample at a time --------------------------------------------------------
    batch = draw_batch(pde, [0], "id")
    u0 = pde.initial_condition(batch.ic, 256, dev, torch.float32)[0]
    c = {k: float(v[0]) for k, v in batch.coeffs.items()}
    steps = total_steps if args.baseline_full else args.baseline_steps
    # Each repeat times the baseline, then ID, then OOD, back to back, so that every speed-up is a
    # ratio of times taken under the same load (the machine may be shared); medians over repeats.
    dists = ("id", "ood")
    settings = {d: pde.solver_settings(d) for d in dists}
    batches = {d: draw_batch(pde, range(args.batch), d) for d in dists}
    for d in dists:  # warm-up
        simulate(pde, draw_batch(pde, range(2), d), 32, settings[d], device=dev)
    times, per, ratios, outs = [], {d: [] for d in dists}, {d: [] for d in dists}, {}
    for _ in range(args.repeats):
        u_base, sec = baseline_burgers(u0, c["nu"], c["cx"], c["cy"], steps)
        if dev.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(sec * total_steps / steps)
        for d in dists:
            start = time.perf_counter()
            outs[d] = simulate(pde, batches[d], 32, settings[d], device=dev,
                               return_record=settings[d].tail_tol is not None)
            if dev.startswith("cuda"):
                torch.cuda.synchronize()
            per[d].append((time.perf_counter() - start) / args.batch)
            ratios[d].append(times[-1] / per[d][-1])
    base_per_sample = statistics.median(times)
    print(f"baseline: {base_per_sample:.2f} s per sample (median of {args.repeats}; "
          f"{'full' if args.baseline_full else f'{steps} of {total_steps} steps, extrapolated'})")
    for d in dists:
        print(f"{d}: s per sample {' '.join(f'{x:.4f}' for x in per[d])}, speed-up per repeat "
              f"{' '.join(f'{x:.0f}x' for x in ratios[d])}")

    # --- project solver: accuracy ---------------------------------------------------------------
    rows = []
    for dist in dists:
        ours, ratio, out = statistics.median(per[dist]), statistics.median(ratios[dist]), outs[dist]
        settings = pde.solver_settings(dist)
        if settings.tail_tol is None:
            grid = f"{settings.refine * 32}^2"
        else:
            g = out[1].grid
            size = (f"{int(g.min())}^2-{int(g.max())}^2" if g.dim() == 2 else
                    f"{settings.lattice} lattice, n1 {int(g[..., 0].min())}-{int(g[..., 0].max())} x "
                    f"n2 {int(g[..., 1].min())}-{int(g[..., 1].max())}")
            grid = (f"schedule {size}, mean cost (points x steps against 128^2) = "
                    f"{float(out[1].cost.mean()):.2f}, worst tail {out[1].worst:.1e}")
        if args.accuracy_samples == 0:  # speed only (the refined solves take much longer)
            rows.append((dist, grid, ours, ratio, float("nan"), "-", "-"))
            continue
        acc = draw_batch(pde, range(10_000, 10_000 + args.accuracy_samples), dist)
        err = frame_errors(pde, acc, settings, dev)
        corner = frame_errors(pde, sharp_corner(pde, draw_batch(pde, [3], dist), dist), settings, dev)
        worst = int(err.amax(0).argmax())
        rows.append((dist, grid, ours, ratio, float(err[:, -1].max()),
                     f"{float(err.max()):.1e} (frame {worst})",
                     f"{float(corner.max()):.1e} (frame {int(corner.amax(0).argmax())})"))

    print()
    print("| distribution | compute grid | s per sample (batch %d) | speed-up vs baseline | "
          "worst frame, rel. L2 vs refined (max over %d random) | worst frame, sharp corner | "
          "last frame (max over %d random) |" % (args.batch, args.accuracy_samples, args.accuracy_samples))
    print("|---|---|---|---|---|---|---|")
    for dist, grid, ours, ratio, err, worst, corner in rows:
        print(f"| {dist} | {grid} | {ours:.4f} | {ratio:.0f}x | {worst} | {corner} | {err:.1e} |")
    print(f"\nbaseline: {base_per_sample:.2f} s per sample (Euler/upwind, 256^2, dt 5e-5); "
          f"{args.repeats} repeats of (baseline, ID, OOD); medians shown, the speed-up is the median "
          "of the per-repeat ratios")


if __name__ == "__main__":
    main()
