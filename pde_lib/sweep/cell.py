"""``run_cell``: one grid cell = pretrain once (skipped for strategy ``none``), then every
fine-tune of the cell, each writing ``finetune/<id>/metrics.json``; then a loss-curve figure, a
summary table and, last and atomically, ``DONE.json``.

Resuming: a fine-tune whose ``metrics.json`` exists is skipped; a pretraining whose
``pretrain/PRETRAINED.json`` exists is reused; a half-done fine-tune continues from its
checkpoint (exactly, see ``run_training(resume=True)``). A file lock on the cell folder stops two
processes (say an orphaned run and its retry) from working on the same cell at once."""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
from pathlib import Path
from typing import Callable

from pde_lib.sweep.datasets import dataset_paths, ensure_datasets, finetune_files, pretrain_file
from pde_lib.sweep.grid import Cell, FineTune, finetunes
from pde_lib.sweep.results import finetune_row
from pde_lib.utils.atomic import write_json
from pde_lib.utils.provenance import git_commit

DONE = "DONE.json"
PRETRAINED = "PRETRAINED.json"


@contextlib.contextmanager
def cell_lock(cell_dir: Path):
    """An exclusive advisory lock on ``cell_dir/.lock`` (released when the process dies)."""
    cell_dir.mkdir(parents=True, exist_ok=True)
    with open(cell_dir / ".lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def is_done(cell_dir: str | Path) -> bool:
    return (Path(cell_dir) / DONE).exists()


def _pretrain(cell: Cell, params, device: str, paths, cell_dir: Path, progress: bool,
              pretrain_fn: Callable | None) -> str | None:
    if cell.strategy == "none":
        return None
    out = cell_dir / "pretrain"
    marker = out / PRETRAINED
    if marker.exists():
        return str(out / "backbone.pt")
    if out.exists():  # an interrupted pretraining restarts from scratch (it is deterministic)
        shutil.rmtree(out)
    if pretrain_fn is None:
        from pde_lib.pretraining import run_pretraining as pretrain_fn
    p = params.pretrain
    cfg = dict(strategy=cell.strategy, model=cell.backbone, data=str(pretrain_file(params, paths, cell.fraction)),
               **_settings(params, cell, "pretrain"), seed=cell.seed, device=device, out=str(out),
               model_kwargs=dict(cell.model_kwargs), condition_on_coeffs=params.finetune.condition_on_coeffs,
               head_input=p.head_input, task=p.task, window=params.finetune.window,
               augmentation=list(cell.augmentation) if p.augment else [],
               augmentation_ratio=params.finetune.augmentation_ratio, progress=progress)
    if params.data.get("subset_draw", "prefix") == "per_seed":  # draw the fraction's count per PDE from the pool
        cfg.update(subset_draw="per_seed", samples_per_pde=params.pretrain_samples(cell.fraction))
    metrics = pretrain_fn(_pretrain_config(cfg))
    write_json(marker, {"cell": cell.id, "final": _scalars(metrics)})
    return str(out / "backbone.pt")


def _settings(params, cell: Cell, stage: str) -> dict:
    """The cell's backbone's epochs, batch size and optimiser settings in ``stage``
    (``optim.models`` over the shared values; ``StudyParams.run_settings``)."""
    from pde_lib.params.run_settings import run_settings

    return run_settings(params, cell.model, stage)


def _pretrain_config(cfg: dict):
    from pde_lib.pretraining import PretrainConfig

    return PretrainConfig.from_dict(cfg)


def _train_config(cfg: dict):
    from pde_lib.training.config import TrainConfig

    return TrainConfig.from_dict(cfg)


def _scalars(metrics: dict) -> dict:
    return {k: v for k, v in (metrics or {}).items() if isinstance(v, (int, float, str, bool)) or v is None}


def _finetune_config(cell: Cell, ft: FineTune, params, device: str, paths, init: str | None, out: Path,
                     progress: bool, cuda_graphs: bool = False):
    f = params.finetune
    files = finetune_files(paths, ft.pde, ft.distribution)
    cfg = dict(model=cell.backbone, task=ft.task, train=str(files["train"]), valid=str(files["valid"]),
               test=str(files["test"]), pde=ft.pde, samples=ft.samples, **_settings(params, cell, "finetune"),
               seed=cell.seed, device=device, out=str(out), init=init, model_kwargs=dict(cell.model_kwargs),
               condition_on_coeffs=f.condition_on_coeffs, window=f.window,
               target_frame=(f.get("target_frames") or {}).get(ft.pde, f.target_frame),
               augmentation=list(cell.augmentation), augmentation_ratio=f.augmentation_ratio,
               resume=bool(f.resume), progress=progress, cuda_graphs=bool(cuda_graphs),
               subset_draw=params.data.get("subset_draw", "prefix"), eval_every=int(f.get("eval_every", 1)))
    return _train_config(cfg)


def _prepare_out(out: Path, params) -> None:
    """Clear a half-done fine-tune's folder unless the study resumes fine-tunes."""
    if out.exists() and not params.finetune.resume:
        shutil.rmtree(out)


def _finetune(cell: Cell, ft: FineTune, params, device: str, paths, init: str | None, cell_dir: Path,
              progress: bool, train_fn: Callable | None, cuda_graphs: bool = False) -> dict:
    out = cell_dir / "finetune" / ft.id
    metrics_path = out / "metrics.json"
    if metrics_path.exists():
        return json.loads(metrics_path.read_text())
    _prepare_out(out, params)
    if train_fn is None:
        from pde_lib.training import run_training as train_fn
    metrics = train_fn(_finetune_config(cell, ft, params, device, paths, init, out, progress, cuda_graphs))
    if not metrics_path.exists():  # run_training writes it; a stand-in may only return it
        write_json(metrics_path, metrics)
    return json.loads(metrics_path.read_text())


def stack_groups(fts: list[FineTune], size: int) -> list[list[FineTune]]:
    """Fine-tunes that can step together (same task and sample count), in chunks of ``size``,
    in grid order. (Runs whose training sets still differ in shape, such as Navier-Stokes on its
    finer grid, are split again by the group runner.)"""
    by_key: dict[tuple, list[FineTune]] = {}
    for ft in fts:
        by_key.setdefault((ft.task, ft.samples), []).append(ft)
    return [group[i:i + size] for group in by_key.values() for i in range(0, len(group), size)]


def _finetune_stacked(cell: Cell, fts: list[FineTune], params, device: str, paths, init: str | None,
                      cell_dir: Path, progress: bool, size: int, cuda_graphs: bool) -> None:
    """Run the not yet finished fine-tunes of ``fts`` as stacked runs, ``size`` at a time."""
    from pde_lib.training.group import run_training_group

    pending = [ft for ft in fts if not (cell_dir / "finetune" / ft.id / "metrics.json").exists()]
    for group in stack_groups(pending, size):
        configs = []
        for ft in group:
            out = cell_dir / "finetune" / ft.id
            _prepare_out(out, params)
            configs.append(_finetune_config(cell, ft, params, device, paths, init, out, progress, cuda_graphs))
        run_training_group(configs)


def run_cell(cell: Cell, params, machine, out_dir: str | Path, data_dir: str | Path | None = None,
             device: str | None = None, progress: bool | None = None,
             train_fn: Callable | None = None, pretrain_fn: Callable | None = None,
             on_finetune: Callable[[FineTune, dict], None] | None = None) -> dict:
    """Run (or resume) one cell into ``out_dir`` and return its ``DONE.json`` content:
    ``{"cell", "finetunes": [rows], "pretrained", "git_commit"}``. ``train_fn`` /
    ``pretrain_fn`` replace ``run_training`` / ``run_pretraining`` (for tests)."""
    out_dir = Path(out_dir)
    device = device or machine.device
    progress = machine.progress if progress is None else progress
    data_dir = Path(data_dir or machine.data_dir or out_dir / "data")
    with cell_lock(out_dir):
        done = out_dir / DONE
        if done.exists():
            return json.loads(done.read_text())
        write_json(out_dir / "cell.json", cell.to_dict())
        ensure_datasets(params, machine, data_dir, progress=progress)
        paths = dataset_paths(params, data_dir)
        init = _pretrain(cell, params, device, paths, out_dir, progress, pretrain_fn)
        rows = []
        fts = finetunes(params, cell)
        stack, graphs = machine.get("stack_finetunes", 1), machine.get("cuda_graphs", False)
        if stack > 1 and train_fn is None:
            _finetune_stacked(cell, fts, params, device, paths, init, out_dir, progress, stack, graphs)
        for ft in fts:
            metrics = _finetune(cell, ft, params, device, paths, init, out_dir, progress, train_fn, graphs)
            rows.append(finetune_row(cell, ft, metrics))
            if on_finetune is not None:
                on_finetune(ft, metrics)
        _write_artifacts(out_dir, rows)
        result = {"cell": cell.to_dict(), "finetunes": rows, "pretrained": init is not None,
                  "git_commit": git_commit()}
        write_json(done, result)
        return result


def _write_artifacts(cell_dir: Path, rows: list[dict]) -> None:
    """``summary.csv`` (one row per fine-tune) and ``loss_curves.png``."""
    from pde_lib.report.plots import cell_loss_curves
    from pde_lib.report.tables import cell_summary
    from pde_lib.utils.atomic import atomic_path, write_text

    write_text(cell_dir / "summary.csv", cell_summary(rows).to_csv(index=False))
    fig = cell_loss_curves(cell_dir)
    with atomic_path(cell_dir / "loss_curves.png") as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    import matplotlib.pyplot as plt

    plt.close(fig)
