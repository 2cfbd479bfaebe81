"""The Burgers resolution schedule's cost / accuracy trade-off: how the spectral-tail criterion's
band and tolerance (and the Courant number) move the grids chosen and the worst stored-frame error.

For each setting TOL:BAND:CFL (``SolverSettings.tail_tol`` / ``tail_band`` / ``cfl``; the rest as
``pde.solver_settings(distribution)``): the cost proxy, the mean over 32 samples and 31 frame
intervals of (grid / 128)^3 (a grid's cost per unit time: n^2 points x n steps), the seconds per
sample of that batch, and the worst relative L2 of any stored frame against the refined solve (2x
each chosen grid, dt / 4; ``data_generation.frame_errors``) over ``--samples`` random samples and
the sharp corner of the range.

Usage: python benchmarks/burgers_criterion.py --distribution ood --samples 6 \\
           0.007:0.5:1.25 0.007:0.65:1.25 0.007:0.65:0.625"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from data_generation import frame_errors, sharp_corner
from pde_lib.pdes import get_pde
from pde_lib.pdes.simulate import draw_batch, simulate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("settings", nargs="+", help="TOL:BAND:CFL")
    ap.add_argument("--distribution", default="ood", choices=["id", "ood"])
    ap.add_argument("--samples", type=int, default=6)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    pde, dist = get_pde("burgers"), args.distribution
    base = pde.solver_settings(dist)
    print(f"defaults: {base}")
    print("| tol | band | cfl | cost proxy | s per sample (batch 32) | worst frame, random | worst frame, sharp corner |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for spec in args.settings:
        tol, band, cfl = (float(v) for v in spec.split(":"))
        s = replace(base, tail_tol=tol, tail_band=band, cfl=cfl)
        start = time.perf_counter()
        _, rec = simulate(pde, draw_batch(pde, range(32), dist), 32, s, device=args.device, return_record=True)
        sec = (time.perf_counter() - start) / 32
        proxy = float(rec.cost.mean())
        err = frame_errors(pde, draw_batch(pde, range(10_000, 10_000 + args.samples), dist), s, args.device)
        corner = frame_errors(pde, sharp_corner(pde, draw_batch(pde, [3], dist), dist), s, args.device)
        print(f"| {tol:g} | {band:g} | {cfl:g} | {proxy:.2f} | {sec:.3f} | {float(err.max()):.1e} "
              f"(frame {int(err.amax(0).argmax())}) | {float(corner.max()):.1e} |", flush=True)


if __name__ == "__main__":
    main()
