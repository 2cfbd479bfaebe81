"""Load-time cost of the checks on read (finite values of every array and coefficient, and the
per-dataset SHA-256 checksums) on the smoke study's data files.

    .venv/bin/python benchmarks/data_validation.py [--params parameters/smoke.yaml]
        [--data-dir outputs/smoke/data] [--repeats 15]

Generates the study's data files into ``--data-dir`` if they are missing (as the sweep does),
then loads every file, each repeat once without the checks (the baseline: shapes, dtypes and
layout version are still checked, they cost nothing) and once with them, alternating. Two
readings: the whole file (pretraining, valid, test) and its first two samples (a small
fine-tune, which still hashes the whole of ``u``). The file's own SHA-256 recorded as provenance
(``Dataset.sha256``) is cached per process; its cache is cleared before every load, so each
load costs what a fresh process's first load of the file costs. Medians of wall time, summed
over the files; the ratio is the figure to quote (the machine may be shared)."""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from pde_lib.data import load_dataset
from pde_lib.params import load_params
from pde_lib.sweep.datasets import dataset_paths, ensure_datasets
from pde_lib.utils import provenance


def timed_load(path: Path, n: int | None, checks: bool) -> float:
    provenance._sha256_cached.cache_clear()
    start = time.perf_counter()
    load_dataset(path, n=n, check_finite=checks, verify_checksums=checks)
    return time.perf_counter() - start


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default=str(root / "parameters" / "smoke.yaml"))
    parser.add_argument("--data-dir", default=str(root / "outputs" / "smoke" / "data"))
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    params = load_params(args.params)
    ensure_datasets(params, data_dir=args.data_dir, progress=True)
    paths = sorted(set(dataset_paths(params, args.data_dir).values()))
    megabytes = sum(p.stat().st_size for p in paths) / 2**20
    print(f"{len(paths)} files, {megabytes:.1f} MiB in all ({args.data_dir}); medians of {args.repeats} repeats")
    print(f"{'reading':<22} {'no checks (ms)':>15} {'checks (ms)':>12} {'ratio':>7} {'extra ms':>9}")
    for label, n in (("whole file", None), ("first 2 samples", 2)):
        base, checked = [], []
        for path in paths:
            timed_load(path, n, True)  # warm-up: the file is in the page cache for both
            b, c = [], []
            for _ in range(args.repeats):
                b.append(timed_load(path, n, False))
                c.append(timed_load(path, n, True))
            base.append(statistics.median(b))
            checked.append(statistics.median(c))
        tb, tc = 1e3 * sum(base), 1e3 * sum(checked)
        print(f"{label:<22} {tb:>15.1f} {tc:>12.1f} {tc / tb:>6.2f}x {tc - tb:>9.1f}")


if __name__ == "__main__":
    main()
