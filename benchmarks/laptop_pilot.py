"""The laptop study's pilot: measure the unit costs of ``parameters/laptop.yaml`` on this machine
and extrapolate the whole study's wall time; check that its epochs bring the ``none`` baseline to
a plateau and below copy-last-frame.

Stages (``--stages``, default all):

- ``data``: seconds per sample of each dataset kind (heat / advection / Burgers, ID and OOD, at
  the profile's resolution; Navier-Stokes at its resolution), from small files generated here;
- ``pretrain``: seconds per pretraining epoch of every strategy of the profile, per backbone, on
  a small pretraining file (scaled linearly to the profile's pretraining-set size);
- ``finetune``: seconds of a fine-tune at each of the profile's sample counts (2- and 8-epoch
  runs writing their files as the sweep's do separate the per-epoch and the fixed cost);
- ``overhead``: seconds to start one cell's notebook kernel (papermill, imports);
- ``plateau``: ``none`` fine-tunes at the profile's epochs, one per PDE, at the smallest and
  largest ID sample counts: the valid error's improvement over the last 20% of epochs and the
  test error against copy-last-frame;
- ``extrapolate``: the whole study's wall time from the figures above and the profile's grid.

Every figure is the CPU time of one process with 1 torch thread (the sweep's setting; ``--clock
wall`` for elapsed time), after a warm-up run, so other jobs on a shared machine slow it less
than they slow a wall clock; they still share caches and memory bandwidth, so on a shared
machine the figures are upper bounds. The notebook-kernel overhead is a wall time. Results go to
``OUT/pilot.json``; ``extrapolate`` reads them back, so stages can be run separately.

    python benchmarks/laptop_pilot.py [--params parameters/laptop.yaml] [--out outputs/pilot]
        [--stages data,pretrain,finetune,overhead,plateau,extrapolate] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from pde_lib.generation import GenerationParams, generate_dataset  # noqa: E402
from pde_lib.params import load_params  # noqa: E402
from pde_lib.sweep.datasets import dataset_specs  # noqa: E402
from pde_lib.sweep.grid import NAVIER_STOKES, expand_grid, finetunes  # noqa: E402

STAGES = ("data", "pretrain", "finetune", "overhead", "plateau", "extrapolate")
BASE = ("heat", "advection", "burgers")


#: "cpu": seconds of CPU time of this process (robust to other jobs on a shared machine: with
#: 1 torch thread it is the run's single-core time); "wall": elapsed seconds
CLOCK = {"cpu": time.process_time, "wall": time.perf_counter}
clock = CLOCK["cpu"]


def _timed(fn):
    t = clock()
    out = fn()
    return clock() - t, out


def _gen_path(out: Path, pdes, split, dist, n, resolution) -> Path:
    return out / f"{'-'.join(pdes)}_{split}_{dist}_{n}_{resolution}.h5"


def _gen(out: Path, pdes, split, dist, n, resolution, seed=123) -> Path:
    path = _gen_path(out, pdes, split, dist, n, resolution)
    if not path.exists():
        generate_dataset(GenerationParams(pdes=list(pdes), split=split, distribution=dist, samples_per_pde=n,
                                          resolution=resolution, seed=seed, chunk_size=64), path, progress=False)
    return path


def stage_data(params, out: Path, res: dict) -> None:
    """Seconds per sample of each (PDE, distribution) at the profile's resolutions."""
    d = params.data
    fig = {}
    for dist in d.distributions:
        for pde in BASE:
            n = 8 if pde == "burgers" else 16
            _gen_path(out / "data", [pde], "train", dist, n, d.resolution).unlink(missing_ok=True)
            s, _ = _timed(lambda: _gen(out / "data", [pde], "train", dist, n, d.resolution))
            fig[f"{pde}_{dist}"] = s / n
            print(f"data {pde:>9} {dist}: {s / n:.3f} s/sample ({n} samples)", flush=True)
    if d.navier_stokes.enabled:
        for dist in d.navier_stokes.distributions:
            n = 2
            _gen_path(out / "data", [NAVIER_STOKES], "train", dist, n, d.navier_stokes.resolution).unlink(missing_ok=True)
            s, _ = _timed(lambda: _gen(out / "data", [NAVIER_STOKES], "train", dist, n, d.navier_stokes.resolution))
            fig[f"navier_stokes_{dist}"] = s / n
            print(f"data navier_stokes {dist}: {s / n:.3f} s/sample ({n} samples)", flush=True)
    res["data_s_per_sample"] = fig


def _pretrain_file(params, out: Path, n: int) -> Path:
    return _gen(out / "data", list(BASE), "pretrain", "id", n, params.data.resolution)


def stage_pretrain(params, out: Path, res: dict) -> None:
    """Seconds per pretraining epoch per (model, strategy), on ``n`` trajectories per PDE, scaled
    to the profile's ``pretrain_samples``."""
    from pde_lib.pretraining import run_pretraining

    n = 32
    data = _pretrain_file(params, out, n)
    cells = {(c.model, c.strategy): c for c in expand_grid(params) if c.strategy != "none"}
    fig = {}
    for (model, strategy), c in cells.items():
        cfg = dict(strategy=strategy, model=c.backbone, data=str(data), epochs=1, batch_size=params.pretrain.batch_size,
                   seed=0, model_kwargs=dict(c.model_kwargs), head_input=params.pretrain.head_input,
                   task=params.pretrain.task, window=params.finetune.window, progress=False)
        run_pretraining(dict(cfg, epochs=1))  # warm-up: first-run costs (caches, allocator) out of the figures
        s1, _ = _timed(lambda: run_pretraining(dict(cfg, epochs=1)))
        s3, _ = _timed(lambda: run_pretraining(dict(cfg, epochs=3)))
        per_epoch = max(s3 - s1, 1e-3) / 2 * params.data.pretrain_samples / n
        fig[f"{model}/{strategy}"] = {"epoch_s": per_epoch, "fixed_s": max(s1 - (s3 - s1) / 2, 0.0)}
        print(f"pretrain {model:>8} {strategy:>11}: {per_epoch:.2f} s/epoch at {params.data.pretrain_samples}/PDE "
              f"(fixed {fig[f'{model}/{strategy}']['fixed_s']:.2f} s)", flush=True)
    res["pretrain"] = fig


def _finetune_files(params, out: Path, dist="id", pde_res=None, ns=False):
    d = params.data
    if ns:
        s = d.navier_stokes.samples
        return {k: _gen(out / "data", [NAVIER_STOKES], k, dist, s[k], d.navier_stokes.resolution)
                for k in ("train", "valid", "test")}
    return {k: _gen(out / "data", list(BASE), k, dist, d.samples[k], d.resolution) for k in ("train", "valid", "test")}


def _train_cfg(params, c, files, pde, n, epochs, out=None, seed=0):
    f = params.finetune
    return dict(model=c.backbone, task="fixed_future", train=str(files["train"]), valid=str(files["valid"]),
                test=str(files["test"]), pde=pde, samples=n, epochs=epochs, batch_size=f.batch_size,
                lr=params.optim.lr, weight_decay=params.optim.weight_decay, lr_min=params.optim.lr_min,
                seed=seed, model_kwargs=dict(c.model_kwargs), window=f.window, target_frame=f.target_frame,
                out=out, progress=False)


def _models(params):
    seen = {}
    for c in expand_grid(params):
        seen.setdefault(c.model, c)
    return seen


def _finetune_cost(params, c, files, pde, n, out: Path) -> dict:
    """Per-epoch and fixed seconds of one fine-tune, from a 2- and an 8-epoch run that write
    their files (per-epoch checkpoints, metrics) as the sweep's do."""
    import shutil

    from pde_lib.training import run_training

    runs = {}
    for epochs in (2, 8):  # the per-epoch cost from the difference
        folder = out / "runs" / f"{c.model}_{pde}_{n}_{epochs}"
        shutil.rmtree(folder, ignore_errors=True)
        runs[epochs], _ = _timed(lambda: run_training(_train_cfg(params, c, files, pde, n, epochs, out=str(folder))))
    per_epoch = max(runs[8] - runs[2], 1e-3) / 6
    return {"epoch_s": per_epoch, "fixed_s": max(runs[2] - 2 * per_epoch, 0.0)}


def stage_finetune(params, out: Path, res: dict) -> None:
    """Seconds per fine-tune epoch and fixed seconds per run, per model and sample count
    (heat ID; Navier-Stokes separately at its resolution)."""
    files = _finetune_files(params, out)
    counts = sorted({ft.samples for ft in finetunes(params)})
    fig = {}
    c0 = next(iter(_models(params).values()))
    _finetune_cost(params, c0, files, "heat", counts[0], out)  # warm-up
    for model, c in _models(params).items():
        for n in counts:
            fig[f"{model}/n{n}"] = _finetune_cost(params, c, files, "heat", n, out)
            print(f"finetune {model:>8} n={n:>4}: {fig[f'{model}/n{n}']['epoch_s']:.3f} s/epoch, "
                  f"fixed {fig[f'{model}/n{n}']['fixed_s']:.2f} s", flush=True)
    if params.data.navier_stokes.enabled:
        ns_files = _finetune_files(params, out, ns=True)
        ns_counts = sorted({ft.samples for ft in finetunes(params) if ft.pde == NAVIER_STOKES})
        for model, c in _models(params).items():
            for n in ns_counts:
                fig[f"{model}/ns/n{n}"] = _finetune_cost(params, c, ns_files, None, n, out)
                print(f"finetune {model:>8} NS n={n:>4}: {fig[f'{model}/ns/n{n}']['epoch_s']:.3f} s/epoch, "
                      f"fixed {fig[f'{model}/ns/n{n}']['fixed_s']:.2f} s", flush=True)
    res["finetune"] = fig


def stage_overhead(params, out: Path, res: dict) -> None:
    """Seconds to start a notebook kernel and import what a cell notebook imports (papermill)."""
    import nbformat
    import papermill

    from pde_lib.sweep.notebooks import ensure_kernel

    ensure_kernel()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import torch\nfrom pde_lib.sweep import find_cell, run_cell\n"
                                          "from pde_lib.report.tables import cell_summary")]
    nb.metadata["kernelspec"] = {"name": "pde-lib", "display_name": "Python (pde_lib)", "language": "python"}
    src = out / "overhead.ipynb"
    nbformat.write(nb, str(src))
    times = []
    for _ in range(2):
        t = time.perf_counter()  # wall: the work happens in the kernel's process
        papermill.execute_notebook(str(src), str(out / "overhead_out.ipynb"), kernel_name="pde-lib",
                                   progress_bar=False)
        times.append(time.perf_counter() - t)
    res["cell_overhead_s"] = min(times)
    print(f"cell notebook overhead: {min(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})", flush=True)


def plateau(curve, share=0.2) -> float:
    """Relative improvement of the best valid error over the last ``share`` of epochs:
    1 - best(last) / best(before)."""
    curve = [v for v in curve if v is not None]
    k = max(1, round(len(curve) * share))
    before, last = min(curve[:-k]), min(curve)
    return 1.0 - last / before


def stage_plateau(params, out: Path, res: dict) -> None:
    """``none`` fine-tunes at the profile's epochs, per model and PDE, at the smallest and largest
    ID sample counts that model is fine-tuned at: plateau and copy-last check."""
    from pde_lib.training import run_training

    files = _finetune_files(params, out)
    fig = {}
    for model, c in _models(params).items():
        counts = sorted({ft.samples for cell in expand_grid(params) if cell.model == model
                         for ft in finetunes(params, cell) if ft.distribution == "id" and ft.pde in BASE})
        for n in sorted({counts[0], counts[-1]}):
            for pde in BASE:
                s, m = _timed(lambda: run_training(_train_cfg(params, c, files, pde, n, params.finetune.epochs)))
                imp = plateau(m["valid_curve"])
                fig[f"{model}/{pde}/n{n}"] = {"improvement_last20": imp, "test": m["test_rel_l2"],
                                              "copy_last": m["test_copy_last_rel_l2"], "best_epoch": m["best_epoch"],
                                              "seconds": s, "valid_curve": m["valid_curve"]}
                print(f"plateau {model:>6} {pde:>9} n={n:>4}: last-20% improvement {100 * imp:5.1f}%, "
                      f"test {m['test_rel_l2']:.4f} vs copy-last {m['test_copy_last_rel_l2']:.4f}, "
                      f"best epoch {m['best_epoch']}/{params.finetune.epochs} ({s:.1f} s)", flush=True)
    res["plateau"] = fig


def stage_extrapolate(params, out: Path, res: dict, workers: int) -> None:
    """The whole study's wall time: data (one process) + cells (``workers`` in parallel, a
    greedy list schedule, longest first) + reports."""
    d = res.get("data_s_per_sample", {})
    data_s = 0.0
    for name, gp in dataset_specs(params).items():
        for pde in gp.pdes:
            key = f"{pde}_{gp.distribution}"
            data_s += d.get(key, 0.0) * gp.samples_per_pde
    ft_fig, pt_fig = res.get("finetune", {}), res.get("pretrain", {})
    over = res.get("cell_overhead_s", 6.0)
    cell_s = []
    for c in expand_grid(params):
        s = over
        if c.strategy != "none":
            p = pt_fig.get(f"{c.model}/{c.strategy}", {"epoch_s": 0, "fixed_s": 0})
            s += p["fixed_s"] + p["epoch_s"] * params.pretrain.epochs
        for ft in finetunes(params, c):
            key = f"{c.model}/ns/n{ft.samples}" if ft.pde == NAVIER_STOKES else f"{c.model}/n{ft.samples}"
            f = ft_fig.get(key, {"epoch_s": 0, "fixed_s": 0})
            s += f["fixed_s"] + f["epoch_s"] * params.finetune.epochs
        cell_s.append(s)
    loads = [0.0] * workers
    for s in sorted(cell_s, reverse=True):
        loads[loads.index(min(loads))] += s
    reports_s = res.get("reports_s", 120.0)
    total = data_s + max(loads) + reports_s
    res["extrapolation"] = {"cells": len(cell_s), "finetunes": sum(len(finetunes(params, c)) for c in expand_grid(params)),
                            "pretrainings": sum(c.strategy != "none" for c in expand_grid(params)),
                            "data_s": data_s, "cells_cpu_s": sum(cell_s), "cells_wall_s": max(loads),
                            "reports_s": reports_s, "total_s": total, "workers": workers}
    e = res["extrapolation"]
    print(f"extrapolation: {e['cells']} cells, {e['pretrainings']} pretrainings, {e['finetunes']} fine-tunes; "
          f"data {data_s / 60:.1f} min, cells {e['cells_cpu_s'] / 60:.1f} CPU-min = {e['cells_wall_s'] / 60:.1f} min "
          f"on {workers} workers, reports {reports_s / 60:.1f} min: total {total / 60:.1f} min", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="parameters/laptop.yaml")
    ap.add_argument("--out", default="outputs/pilot")
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clock", choices=sorted(CLOCK), default="cpu")
    args = ap.parse_args(argv)
    global clock
    clock = CLOCK[args.clock]
    torch.set_num_threads(1)
    params = load_params(args.params)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "pilot.json"
    res = json.loads(path.read_text()) if path.exists() else {}
    res["load_average_at_start"] = os.getloadavg()
    res["clock"] = args.clock
    for stage in args.stages.split(","):
        t = time.perf_counter()
        if stage == "extrapolate":
            stage_extrapolate(params, out, res, args.workers)
        else:
            globals()[f"stage_{stage}"](params, out, res)
        res.setdefault("stage_s", {})[stage] = time.perf_counter() - t
        path.write_text(json.dumps(res, indent=1))
    res["load_average_at_end"] = os.getloadavg()
    path.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
