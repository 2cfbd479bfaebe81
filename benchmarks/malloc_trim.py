"""The cost of Dask's ``MALLOC_TRIM_THRESHOLD_`` in a fine-tune, and what the sweep does about it.

A Dask nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (config
``distributed.nanny.pre-spawn-environ``) so that they hand freed memory back to the OS. The
kernel a cell's notebook runs in inherits the worker's environment, and setting that variable
also switches off glibc's dynamic mmap threshold: every tensor buffer above 128 KiB is then
mmap'ed and munmap'ed each time, and its pages are faulted in and zeroed again on every step.
This script runs the same fine-tune (``python -m pde_lib train``: FNO2D of the laptop study,
heat, 32 samples) in fresh processes with and without the variable, interleaved, and reports the
median wall time of each and their ratio, with each process's minor page faults.

    python benchmarks/malloc_trim.py --data DIR --epochs 10 --repeats 3

``DIR`` holds a laptop sweep's ``train_id-*.h5``, ``valid_id-*.h5`` and ``test_id-*.h5``
(e.g. ``outputs/laptop/data``)."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(split_files: dict[str, str], epochs: int, env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and minor page faults of one fine-tune in a fresh process."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "pde_lib", "train", "--model", "fno2d", "--task", "fixed_future",
               "--train", split_files["train"], "--valid", split_files["valid"], "--test", split_files["test"],
               "--pde", "heat", "--samples", "32", "--epochs", str(epochs), "--batch-size", "16", "--seed", "0",
               "--device", "cpu", "--model-kwargs", '{"width": 16, "modes": 4, "n_layers": 2, "projection_width": 32}',
               "--out", out, "--no-progress"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
        return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt - before


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    data = Path(args.data)
    files = {s: str(next(data.glob(f"{s}_id-*.h5"))) for s in ("train", "valid", "test")}
    base = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    base.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    variants = {"glibc defaults (what the sweep's kernels get)": base,
                "MALLOC_TRIM_THRESHOLD_=65536 (a Dask worker's)": {**base, "MALLOC_TRIM_THRESHOLD_": "65536"}}
    times: dict[str, list[float]] = {k: [] for k in variants}
    faults: dict[str, list[int]] = {k: [] for k in variants}
    for _ in range(args.repeats):
        for name, env in variants.items():
            s, f = one(files, args.epochs, env)
            times[name].append(s)
            faults[name].append(f)
    ref = statistics.median(times[next(iter(variants))])
    print(f"fine-tune FNO2D heat n=32, {args.epochs} epochs, 1 thread, median of {args.repeats} (interleaved)\n")
    print("| environment | wall s | minor page faults | ratio to defaults |\n|---|---:|---:|---:|")
    for name in variants:
        m = statistics.median(times[name])
        print(f"| {name} | {m:.2f} | {statistics.median(faults[name]):,.0f} | {m / ref:.2f} |")


if __name__ == "__main__":
    main()
