"""Why OOD Burgers uses the diagonal lattice: how many grid points the steep frames need on it.

Solves random OOD samples on a fixed square 512^2 grid (square lattice, no schedule) to frame
``--frames`` and, for each frame, finds the smallest box of mode numbers that holds all but
``--tol`` (relative L2) of the field: a square box |m|_inf < K on the square lattice, and a box
|m'_1| < K1, m'_2 < K2 on the diagonal lattice (m'_1 = m_x - m_y, m'_2 = m_y), K's in steps of 8
(a grid of 4 K points per axis keeps K / 2 modes above the box, as the schedule's criterion
asks). Prints per frame the two grids and the ratio of their point counts.

Usage: python benchmarks/burgers_lattice_box.py [--samples 8] [--frames 5] [--tol 7e-3]"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace

import torch

from pde_lib.pdes import get_pde
from pde_lib.pdes.lattice import get_lattice
from pde_lib.pdes.simulate import draw_batch

N = 512
STEP = 8


def smallest_square(power: torch.Tensor, mx, my, tol: float) -> int:
    top, total = torch.maximum(mx.abs(), my.abs()), power.sum()
    for k in range(STEP, N // 2 + 1, STEP):
        if float((power[top >= k].sum() / total).sqrt()) <= tol:
            return 4 * k
    return 2 * N


def smallest_box(power: torch.Tensor, a1, a2, tol: float) -> tuple[int, int]:
    total, best = power.sum(), None
    for k1 in range(STEP, N + 1, STEP):
        inside1 = a1 < k1
        for k2 in range(STEP, N // 2 + 1, STEP):
            if float((power[~(inside1 & (a2 < k2))].sum() / total).sqrt()) <= tol:
                if best is None or k1 * k2 < best[0] * best[1]:
                    best = (k1, k2)
                break
    return (4 * best[0], 4 * best[1]) if best else (4 * N, 2 * N)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--frames", type=int, default=5)
    ap.add_argument("--tol", type=float, default=7e-3)
    args = ap.parse_args()
    pde = get_pde("burgers")
    settings = replace(pde.solver_settings("ood"), tail_tol=None, refine=1, lattice="square")
    batch = draw_batch(pde, range(10_000, 10_000 + args.samples), "ood")
    u0 = pde.initial_condition(batch.ic, N, "cpu", torch.float32)
    frames = pde.solve(u0, batch.coeffs, pde.times()[:args.frames + 1], settings).double()
    m = torch.fft.fftfreq(N, d=1.0 / N, dtype=torch.float64)
    mx, my = torch.meshgrid(m, m, indexing="ij")
    (a, b), _ = get_lattice("diagonal").matrix  # m = T m': m'_2 = m_y, m'_1 = (m_x - b m_y) / a
    a1, a2 = ((mx - b * my) / a).abs(), my.abs()
    ratios = []
    print("| sample | frame | square grid | diagonal lattice grid (n1 x n2) | points ratio |")
    print("|---:|---:|---:|---:|---:|")
    for i in range(args.samples):
        for k in range(1, args.frames + 1):
            power = torch.fft.fft2(frames[i, k]).abs() ** 2
            n = smallest_square(power, mx, my, args.tol)
            n1, n2 = smallest_box(power, a1, a2, args.tol)
            ratios.append(n1 * n2 / n**2)
            print(f"| {i} | {k} | {n}^2 | {n1} x {n2} | {ratios[-1]:.2f} |", flush=True)
    print(f"points ratio: median {statistics.median(ratios):.2f}, range {min(ratios):.2f}-{max(ratios):.2f} "
          f"over {len(ratios)} frames")


if __name__ == "__main__":
    main()
