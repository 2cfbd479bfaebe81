"""Cost of reading a per_seed training subset (rows out of file order) against the prefix one
(the first n rows), with ``load_dataset``, from a synthetic train file of 3 PDEs x ``--per-pde``
trajectories (32 frames, 32 x 32, float32: 4 MiB per 32 samples).

    .venv/bin/python benchmarks/subset_read.py [--per-pde 1024] [--n 1000] [--repeats 7]

Reads alternate (prefix, per_seed, prefix, ...) so both see the same page cache and load;
medians of wall time after one warm-up each. A fine-tune reads its subset once, so the ratio
matters only against seconds, not against its training steps."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from pde_lib.data import load_dataset
from pde_lib.data.subset import SubsetDraw
from pde_lib.data.writer import open_for_writing


def write(path: Path, per_pde: int, n_t: int = 32, res: int = 32) -> None:
    grid = torch.linspace(0, 1, res + 1)[:-1]
    x = torch.stack(torch.meshgrid(grid, grid, indexing="ij"))
    gen = torch.Generator().manual_seed(0)
    with open_for_writing(path, "train", 3 * per_pde, n_t, res, x, torch.linspace(0, 1, n_t),
                          {"distribution": "id"}) as w:
        for k, pde in enumerate(("heat", "advection", "burgers")):
            for start in range(0, per_pde, 256):
                m = min(256, per_pde - start)
                u = torch.randn(m, n_t, res, res, generator=gen)
                w.write(k * per_pde + start, u, {"nu": torch.full((m,), 0.01)}, pde,
                        np.arange(m) + k * per_pde + start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-pde", type=int, default=1024)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.h5"
        write(path, args.per_pde)
        reads = {"prefix": lambda: load_dataset(path, pde="advection", n=args.n),
                 "per_seed": lambda: load_dataset(path, pde="advection", n=args.n, draw=SubsetDraw(seed=0))}
        times = {k: [] for k in reads}
        for k, fn in reads.items():
            fn()  # warm-up
        for _ in range(args.repeats):
            for k, fn in reads.items():
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        for k, v in med.items():
            print(f"{k:9s} median {v * 1e3:8.1f} ms over {args.repeats} reads of {args.n} of {args.per_pde} samples")
        print(f"per_seed / prefix: {med['per_seed'] / med['prefix']:.2f}")


if __name__ == "__main__":
    main()
