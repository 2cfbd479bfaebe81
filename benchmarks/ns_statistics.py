"""Navier-Stokes accuracy over the whole horizon (docs/protocol.md section 2.5): stored frames
against a solve on a 2x finer grid with dt / 4. Pointwise relative L2 up to frame 8; energy and
enstrophy (whose 1% agreement the protocol asks for once the flow is chaotic) at every frame.

Usage: python benchmarks/ns_statistics.py [--distribution ood] [--seeds 0,1] [--device cpu]"""

from __future__ import annotations

import argparse
import time

import torch

from pde_lib.pdes import get_pde
from pde_lib.pdes.navier_stokes import velocity
from pde_lib.pdes.simulate import draw_batch, refined, simulate


def energy_enstrophy(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean kinetic energy 0.5 |u|^2 and enstrophy 0.5 w^2 per sample and frame, (B, T) each."""
    w = w.to(torch.float64)
    u, v = velocity(w)
    return (0.5 * (u**2 + v**2)).mean(dim=(-2, -1)), (0.5 * w**2).mean(dim=(-2, -1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--distribution", default="ood", choices=["id", "ood"])
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    pde = get_pde("navier_stokes")
    batch = draw_batch(pde, [int(s) for s in args.seeds.split(",")], args.distribution)
    settings = pde.solver_settings(args.distribution)
    start = time.perf_counter()
    stored = simulate(pde, batch, 64, settings, device=args.device)
    mid = time.perf_counter()
    ref = simulate(pde, batch, 64, refined(settings), device=args.device)
    end = time.perf_counter()
    rel = (stored - ref).flatten(2).norm(dim=2) / ref.flatten(2).norm(dim=2)
    e_s, z_s = energy_enstrophy(stored)
    e_r, z_r = energy_enstrophy(ref)
    de, dz = (e_s - e_r).abs() / e_r, (z_s - z_r).abs() / z_r
    print(f"{args.distribution}: visc {batch.coeffs['visc'].tolist()}, amp {batch.coeffs['amp'].tolist()}; "
          f"solve {mid - start:.1f} s, reference (2x grid, dt/4) {end - mid:.1f} s")
    print("| frame | t | rel. L2 (max) | energy rel. diff (max) | enstrophy rel. diff (max) |")
    print("|---:|---:|---:|---:|---:|")
    for k in (1, 4, 8, 12, 16, 20, 24, 28, 31):
        print(f"| {k} | {float(pde.times()[k]):.1f} | {float(rel[:, k].max()):.1e} | "
              f"{float(de[:, k].max()):.1e} | {float(dz[:, k].max()):.1e} |")


if __name__ == "__main__":
    main()
