"""Measure the spread of every learning test's figure over seeds and compare it with the test's
threshold: ``python tests/learning_margins.py [--seeds 0,1,2,3,4] [--jobs 2] [pytest args]``.

Runs ``pytest -m learning`` once per seed (``PDE_LEARNING_SEED``), collects the figures the tests
record (``PDE_LEARNING_FIGURES``) and prints, per test: threshold, min / median / max over seeds,
and the margin of the worst seed (figure / threshold for "below", threshold / figure for "above":
under 1 means the worst seed still clears the bar by that factor)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_seed(seed: int, figures: Path, extra: list[str]) -> int:
    env = dict(os.environ, PDE_LEARNING_SEED=str(seed), PDE_LEARNING_FIGURES=str(figures),
               PYTHONHASHSEED="0")
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "learning", "-p", "no:cacheprovider", *extra]
    return subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL).returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--jobs", type=int, default=1)
    args, extra = ap.parse_known_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        files = {s: Path(tmp) / f"seed{s}.jsonl" for s in seeds}
        with ThreadPoolExecutor(args.jobs) as pool:
            codes = list(pool.map(lambda s: run_seed(s, files[s], extra), seeds))
        rows = [json.loads(line) for s in seeds if files[s].exists() for line in files[s].read_text().splitlines()]
    rows.sort(key=lambda r: r["seed"])
    by_test: dict[str, list[dict]] = {}
    for r in rows:
        by_test.setdefault(r["test"], []).append(r)
    print(f"{'test':<100} {'bar':>9} {'min':>9} {'median':>9} {'max':>9} {'worst margin':>12}")
    for test, rs in sorted(by_test.items()):
        v = [r["value"] for r in rs]
        bar, below = rs[0]["threshold"], rs[0]["direction"] == "below"
        worst = max(v) / bar if below else bar / min(v)
        sign = "<" if below else ">"
        print(f"{test:<100} {sign}{bar:>8.4g} {min(v):>9.4g} {statistics.median(v):>9.4g} {max(v):>9.4g} "
              f"{worst:>12.3f}  seeds: {' '.join(f'{x:.3g}' for x in v)}")
    print("pytest exit codes per seed:", dict(zip(seeds, codes)))


if __name__ == "__main__":
    main()
