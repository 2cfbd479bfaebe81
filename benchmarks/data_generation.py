"""Burgers data generation: the project's solver against a faithful baseline of the original
study's scheme, measured in one run.

Baseline (written here from the published description, not copied): explicit Euler in time,
5-point Laplacian, first-order upwind advection (upwind by the sign of the local velocity),
dt = 5e-5 on a 256^2 grid, subsampled to 32^2 frames, one sample at a time.

Usage: python benchmarks/data_generation.py [--device cpu] [--batch 64] [--baseline-steps 4000]
The baseline's per-sample time is measured over ``--baseline-steps`` steps and extrapolated to the
38,750 steps of a trajectory (t = 1.9375), unless --baseline-full. The project solver's accuracy is
measured against a refined solve (2x finer grid, dt / 4) at the last frame (the bar of
docs/protocol.md section 2.5) and at its worst frame (the early frames, where the fronts are steepest)."""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from pde_lib.pdes import get_pde
from pde_lib.pdes.simulate import draw_batch, refined, simulate
from pde_lib.pdes.spectral import grid_coordinates

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline-steps", type=int, default=4000)
    ap.add_argument("--baseline-full", action="store_true")
    ap.add_argument("--accuracy-samples", type=int, default=2)
    args = ap.parse_args()
    dev = args.device
    pde = get_pde("burgers")
    total_steps = round(T_FINAL / 5e-5)
    print(f"device {dev}, torch {torch.__version__}, threads {torch.get_num_threads()}")

    # --- baseline, one sample at a time --------------------------------------------------------
    batch = draw_batch(pde, [0], "id")
    u0 = pde.initial_condition(batch.ic, 256, dev, torch.float32)[0]
    c = {k: float(v[0]) for k, v in batch.coeffs.items()}
    steps = total_steps if args.baseline_full else args.baseline_steps
    times = []
    for _ in range(args.repeats):
        u_base, sec = baseline_burgers(u0, c["nu"], c["cx"], c["cy"], steps)
        if dev.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(sec * total_steps / steps)
    base_per_sample = statistics.median(times)
    print(f"baseline: {base_per_sample:.2f} s per sample (median of {args.repeats}; "
          f"{'full' if args.baseline_full else f'{steps} of {total_steps} steps, extrapolated'})")

    # --- project solver -----------------------------------------------------------------------
    rows = []
    for dist in ("id", "ood"):
        settings = pde.solver_settings(dist)
        b = draw_batch(pde, range(args.batch), dist)
        simulate(pde, draw_batch(pde, range(2), dist), 32, settings, device=dev)  # warm-up
        per = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            simulate(pde, b, 32, settings, device=dev)
            if dev.startswith("cuda"):
                torch.cuda.synchronize()
            per.append((time.perf_counter() - start) / args.batch)
        ours = statistics.median(per)
        acc = draw_batch(pde, range(10_000, 10_000 + args.accuracy_samples), dist)
        u_acc = simulate(pde, acc, 32, settings, device=dev)
        u_ref = simulate(pde, acc, 32, refined(settings), device=dev)
        per_frame = torch.stack([rel_l2(u_acc[:, k], u_ref[:, k]) for k in range(u_acc.shape[1])], 1).amax(0)
        worst = int(per_frame.argmax())
        rows.append((dist, settings.refine * 32, settings.dtype, ours, base_per_sample / ours,
                     float(per_frame[-1]), f"{float(per_frame[worst]):.1e} (frame {worst})"))

    print()
    print("| distribution | compute grid | dtype | s per sample (batch %d) | speed-up vs baseline | "
          "rel. L2 vs refined, last frame (max) | worst frame |" % args.batch)
    print("|---|---|---|---|---|---|---|")
    for dist, grid, dtype, ours, ratio, err, worst in rows:
        print(f"| {dist} | {grid}^2 | {dtype} | {ours:.4f} | {ratio:.0f}x | {err:.1e} | {worst} |")
    print(f"\nbaseline: {base_per_sample:.2f} s per sample (Euler/upwind, 256^2, dt 5e-5)")


if __name__ == "__main__":
    main()
