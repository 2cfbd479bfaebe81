"""Whole fine-tunes and pretraining runs at the laptop study's sizes, this checkout against an
older commit (default 4f2f808, before the laptop-size kernels), on one CPU thread.

Each run is a fresh process (``python -m pde_lib train`` / ``pretrain``, start-up included) with
``OMP_NUM_THREADS=MKL_NUM_THREADS=1``; the old code runs from a ``git archive`` of its commit with
its own ``PYTHONPATH`` and the same interpreter, on the same data, seed and settings. Old and new
alternate, ``--repeats`` times each; the table gives medians of wall time and of CPU time
(user + system of the child process, less disturbed by other jobs on a shared machine) and their
ratios old / new, and the fine-tunes' test errors.

Achieved GFLOP/s: the floating-point operations of the run's optimiser steps (forward + backward,
counted once with ``torch.utils.flop_counter`` on this checkout's model: matrix products and
convolutions, the truncated DFT's matrix products included; FFTs, element-wise ops and the
optimiser are not counted) plus its per-epoch validation forwards, divided by the run's median
wall time, next to this CPU's peak (the best of a few 1024^3 float32 matrix products on one
thread). The same count serves old and new (the same mathematics).

    python benchmarks/laptop_training_speed.py [--old 4f2f808] [--repeats 3] [--pretrain-repeats 2]
        [--parts finetune,pretrain] [--table-from OUT.json]
        [--models fno2d,unet] [--strategies all] [--eval-every 1] [--new-eval-every K] [--data DIR] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = {  # the laptop study's backbones (parameters/laptop.yaml)
    "fno2d": {"width": 16, "modes": 4, "n_layers": 2, "projection_width": 32},
    "unet": {"channels": [8, 16, 32]},
    "oformer2d": {"width": 32, "n_heads": 2, "n_layers": 2},
    "deeponet2d": {"basis": 32, "branch_channels": 8, "branch_hidden": 32, "trunk_width": 64},
}
STRATEGIES = ("none", "transfer", "picl", "binary", "time_sort", "space_sort", "jigsaw", "derivative",
              "coefficient", "masked")


def old_tree(commit: str, where: Path) -> Path:
    """The files of ``commit`` (``git archive``) under ``where``."""
    where.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    return where


def make_data(folder: Path, pretrain_per_pde: int) -> dict[str, str]:
    """Heat train / valid / test (32 samples each) and a heat + advection + Burgers pretraining
    file, generated with this checkout unless present."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {s: folder / f"heat_{s}.h5" for s in ("train", "valid", "test")}
    files["pretrain"] = folder / f"pretrain_{pretrain_per_pde}.h5"
    for split, path in files.items():
        if path.exists():
            continue
        pdes, n = ("heat", 32) if split != "pretrain" else ("heat,advection,burgers", pretrain_per_pde)
        subprocess.run([sys.executable, "-m", "pde_lib", "generate", "--pdes", pdes, "--split", split,
                        "--samples-per-pde", str(n), "--out", str(path), "--no-progress"],
                       check=True, cwd=ROOT, env=env_for(ROOT), stdout=subprocess.DEVNULL)
    return {k: str(v) for k, v in files.items()}


def env_for(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    return {**env, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(root)}


def timed_run(cmd: list[str], root: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of ``cmd`` as a fresh process in ``root``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env_for(root), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed in {root}:\n{proc.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def finetune_cmd(model: str, data: dict, out: Path, args, eval_every: int) -> list[str]:
    return [sys.executable, "-m", "pde_lib", "train", "--model", model, "--model-kwargs", json.dumps(MODELS[model]),
            "--train", data["train"], "--valid", data["valid"], "--test", data["test"], "--samples", "32",
            "--epochs", str(args.epochs), "--batch-size", "16", "--seed", "0", "--eval-every", str(eval_every),
            "--out", str(out), "--overwrite", "--no-progress"]


def pretrain_cmd(model: str, strategy: str, data: dict, out: Path, args) -> list[str]:
    return [sys.executable, "-m", "pde_lib", "pretrain", "--strategy", strategy, "--model", model,
            "--model-kwargs", json.dumps(MODELS[model]), "--data", data["pretrain"],
            "--epochs", str(args.pretrain_epochs), "--batch-size", "16", "--seed", "0", "--out", str(out),
            "--overwrite", "--no-progress"]


def peak_gflops() -> float:
    """The best of a few 1024^3 float32 matrix products on one thread, GFLOP/s."""
    import torch

    torch.set_num_threads(1)
    a = torch.randn(1024, 1024)
    best = 0.0
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(4):
            a @ a
        best = max(best, 4 * 2 * 1024 ** 3 / (time.perf_counter() - t) / 1e9)
    return best


def _counted(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def validations(epochs: int, eval_every: int) -> int:
    """How many validation passes a fine-tune makes (the engine's rule, ``TrainConfig.validates_after``)."""
    from pde_lib.training.config import TrainConfig

    config = TrainConfig(epochs=epochs, eval_every=eval_every)
    return sum(config.validates_after(e) for e in range(1, epochs + 1))


def finetune_flops(model: str, epochs: int, eval_every: int = 1) -> float:
    """Counted FLOPs of a fine-tune: per epoch 2 steps of 16 samples; per validation pass 2 forwards."""
    import torch

    from pde_lib.engine.losses import relative_l2
    from pde_lib.models import build_model

    m = build_model(model, **MODELS[model])
    x, y = torch.randn(16, 8, 32, 32), torch.randn(16, 1, 32, 32)
    ax = torch.linspace(-1, 1, 33)[:-1]
    grid = torch.stack(torch.meshgrid(ax, ax, indexing="ij"))
    step = _counted(lambda: relative_l2(m(x, grid), y).mean().backward())
    with torch.no_grad():
        fwd = _counted(lambda: m(x, grid))
    return float(2 * (epochs * step + validations(epochs, eval_every) * fwd))


def pretrain_flops(model: str, strategy: str, data: dict, epochs: int) -> float:
    """Counted FLOPs of a pretraining run's optimiser steps (one step counted, times the steps)."""
    from pde_lib.pretraining.config import PretrainConfig
    from pde_lib.pretraining.loop import PretrainRun

    cfg = PretrainConfig(strategy=strategy, model=model, model_kwargs=MODELS[model], data=data["pretrain"],
                         epochs=epochs, batch_size=16, progress=False)
    cfg.validate()
    run = PretrainRun(cfg)
    if run.stepper is None:
        return 0.0
    batch, _ = next(iter(run.batches(0)))

    def step():
        loss, _ = run.objective(*batch)
        loss.backward()

    return float(_counted(step) * epochs * len(run.slices))


def compare(name: str, make_cmd, roots: dict[str, Path], repeats: int, out_dir: Path, metric=None) -> dict:
    """Alternate old / new ``repeats`` times; medians of wall and CPU seconds (and ``metric``)."""
    times = {v: {"wall": [], "cpu": []} for v in roots}
    metrics = {}
    for _ in range(repeats):
        for version, root in roots.items():
            out = out_dir / f"{name.replace(' ', '_')}-{version}"
            wall, cpu = timed_run(make_cmd(out, version), root)
            times[version]["wall"].append(wall)
            times[version]["cpu"].append(cpu)
            if metric is not None:
                metrics[version] = metric(out)
    row = {"name": name, **{f"{v}_{k}": statistics.median(t[k]) for v, t in times.items() for k in t},
           "metric": metrics, "samples": times}
    print(f"  {name}: wall {row['old_wall']:.2f} s -> {row['new_wall']:.2f} s "
          f"({row['old_wall'] / row['new_wall']:.2f}x), cpu {row['old_cpu']:.2f} -> {row['new_cpu']:.2f} s", flush=True)
    return row


def test_error(out: Path) -> float:
    return json.loads((out / "metrics.json").read_text())["test_rel_l2"]


def print_table(peak: list[float], rows: list[dict], old: str, repeats: int, pretrain_repeats: int) -> None:
    """The markdown table of ``rows`` (medians, ratios old / new, GFLOP/s against the peak)."""
    print(f"\nold = {old}, new = this checkout; alternated, medians of {repeats} runs (fine-tunes) and "
          f"{pretrain_repeats} (pretraining); one thread; peak {max(peak):.0f} GFLOP/s (float32 matmul)\n")
    print("| run | old wall s | new wall s | ratio | old CPU s | new CPU s | ratio | GFLOP/s old / new (peak "
          f"{max(peak):.0f}) | test rel L2 old / new |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        gf = [r.get(f"flops_{v}", r["flops"]) / r[f"{v}_wall"] / 1e9 for v in ("old", "new")]
        err = r["metric"]
        err_s = f"{err['old']:.4g} / {err['new']:.4g}" if err else "-"
        print(f"| {r['name']} | {r['old_wall']:.1f} | {r['new_wall']:.1f} | {r['old_wall'] / r['new_wall']:.2f} | "
              f"{r['old_cpu']:.1f} | {r['new_cpu']:.1f} | {r['old_cpu'] / r['new_cpu']:.2f} | "
              f"{gf[0]:.1f} / {gf[1]:.1f} | {err_s} |")


def save(path: str | None, peak: list[float], rows: list[dict]) -> None:
    """The rows so far as JSON, written atomically after every row (an interrupted run keeps what it
    measured)."""
    if path:
        from pde_lib.utils.atomic import write_json

        write_json(Path(path), {"peak_gflops": peak, "rows": rows})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", default="4f2f808", help="commit to compare against")
    ap.add_argument("--old-tree", default=None, help="an extracted tree of that commit (default: git archive it)")
    ap.add_argument("--repeats", type=int, default=3, help="alternated runs of each fine-tune")
    ap.add_argument("--pretrain-repeats", type=int, default=2, help="alternated runs of each pretraining")
    ap.add_argument("--parts", default="finetune,pretrain")
    ap.add_argument("--models", default="fno2d,unet")
    ap.add_argument("--pretrain-models", default="fno2d,unet")
    ap.add_argument("--strategies", default="all")
    ap.add_argument("--epochs", type=int, default=240, help="fine-tune epochs")
    ap.add_argument("--eval-every", type=int, default=1,
                    help="fine-tunes validate every K epochs, old and new alike (the study validates every 5)")
    ap.add_argument("--new-eval-every", type=int, default=None,
                    help="the new code's fine-tunes validate every K epochs instead (old keeps --eval-every)")
    ap.add_argument("--pretrain-epochs", type=int, default=15, help="the laptop study's 15")
    ap.add_argument("--pretrain-samples", type=int, default=192, help="per PDE (the laptop study's 192)")
    ap.add_argument("--data", default=None, help="folder for the generated data (default: a temporary one)")
    ap.add_argument("--json", default=None, help="also write the rows as JSON here")
    ap.add_argument("--table-from", default=None, metavar="JSON", help="only print the table of an earlier --json")
    args = ap.parse_args()
    if args.table_from:
        saved = json.loads(Path(args.table_from).read_text())
        print_table(saved["peak_gflops"], saved["rows"], args.old, args.repeats, args.pretrain_repeats)
        return
    parts = args.parts.split(",")
    strategies = STRATEGIES if args.strategies == "all" else tuple(args.strategies.split(","))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        old = Path(args.old_tree) if args.old_tree else old_tree(args.old, tmp / "old")
        roots = {"old": old, "new": ROOT}
        data = make_data(Path(args.data) if args.data else tmp / "data", args.pretrain_samples)
        peak = [peak_gflops()]
        rows = []
        if "finetune" in parts:
            every = {"old": args.eval_every, "new": args.new_eval_every or args.eval_every}
            print(f"fine-tunes: {args.epochs} epochs, 32 heat samples, batch 16, validation every "
                  f"{every['old']} (old) / {every['new']} (new) epochs, 1 thread", flush=True)
            for model in args.models.split(","):
                row = compare(f"finetune {model}",
                              lambda out, v, m=model: finetune_cmd(m, data, out, args, every[v]),
                              roots, args.repeats, tmp, metric=test_error)
                row["eval_every"] = every
                for v in every:
                    row[f"flops_{v}"] = finetune_flops(model, args.epochs, every[v])
                row["flops"] = row["flops_new"]
                rows.append(row)
                save(args.json, peak, rows)
        if "pretrain" in parts:
            print(f"pretraining: {args.pretrain_epochs} epochs, {3 * args.pretrain_samples} samples, batch 16, "
                  "1 thread", flush=True)
            for model in args.pretrain_models.split(","):
                for strategy in strategies:
                    row = compare(f"pretrain {model} {strategy}",
                                  lambda out, v, m=model, s=strategy: pretrain_cmd(m, s, data, out, args),
                                  roots, args.pretrain_repeats, tmp)
                    row["flops"] = pretrain_flops(model, strategy, data, args.pretrain_epochs)
                    rows.append(row)
                    save(args.json, peak, rows)
        peak.append(peak_gflops())
    print_table(peak, rows, args.old, args.repeats, args.pretrain_repeats)
    save(args.json, peak, rows)


if __name__ == "__main__":
    main()
