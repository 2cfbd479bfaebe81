"""The sweep's results tables, built from the files its fine-tunes wrote:

- ``results.csv``: one row per finished fine-tune (``cells/*/finetune/*/metrics.json``) with every
  grid coordinate, its errors and the copy-last-frame baseline's (columns
  ``pde_lib.report.aggregate.COLUMNS``), sorted by every coordinate, then the ids;
- ``per_sample.csv``: one row per (fine-tune, test sample) from each fine-tune's
  ``test_per_sample.json`` (columns ``pde_lib.report.per_sample.PER_SAMPLE_COLUMNS``);
- ``curves.csv``: one row per (fine-tune, evaluated epoch) with the valid error, from each
  ``metrics.json``'s ``valid_curve`` (columns ``pde_lib.report.fairness.CURVE_COLUMNS``);
- ``pretext.csv``: one row per finished pretraining (``cells/*/pretrain/PRETRAINED.json``) with
  the cell's coordinates and its held-out pretext figure against its reference (columns
  ``PRETEXT_COLUMNS``): the manipulation check of each strategy, next to the fine-tunes it feeds.

Both are written atomically with full float precision, so the same runs give the same bytes.
``pde_lib.report`` computes statistics, tables and plots over them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from pde_lib.report.aggregate import COLUMNS, COORDS, METRICS
from pde_lib.report.fairness import CURVE_COLUMNS
from pde_lib.report.per_sample import PER_SAMPLE_COLUMNS
from pde_lib.sweep.grid import Cell, FineTune
from pde_lib.training.run_setup import PER_SAMPLE_NAME
from pde_lib.utils.atomic import write_text

RESULTS_FILE = "results.csv"
PER_SAMPLE_FILE = "per_sample.csv"
CURVES_FILE = "curves.csv"
PRETEXT_FILE = "pretext.csv"
#: the held-out pretext figures of a pretraining run (``pretraining.loop.holdout_figure``)
PRETEXT_METRICS = ["holdout_metric", "holdout_value", "holdout_reference", "holdout_reference_is", "holdout_skill"]
PRETEXT_COLUMNS = ["model", "backbone", "strategy", "augmentation", "pretrain_fraction", "seed"] + PRETEXT_METRICS + ["cell_id"]


def finetune_row(cell: Cell, ft: FineTune, metrics: dict) -> dict:
    """One tidy results row: the grid coordinates, the fine-tune's and its metrics."""
    row = {**cell.coordinates(), "task": ft.task, "distribution": ft.distribution, "pde": ft.pde,
           "samples": ft.samples}
    row.update({k: metrics.get(k) for k in METRICS})
    if row.get("epoch_budget") is None:  # the budget is recorded in the run's config
        row["epoch_budget"] = (metrics.get("params") or {}).get("epochs")
    row["cell_id"] = cell.id
    row["finetune_id"] = ft.id
    return row


def collect_results(sweep_dir: str | Path) -> pd.DataFrame:
    """Every finished fine-tune under ``sweep_dir/cells/*/finetune/*/metrics.json`` as a sorted
    tidy table (cells without ``cell.json`` are ignored)."""
    rows = []
    for cell_json in sorted(Path(sweep_dir).glob("cells/*/cell.json")):
        cell = Cell.from_dict(json.loads(cell_json.read_text()))
        for metrics_path in sorted(cell_json.parent.glob("finetune/*/metrics.json")):
            ft = FineTune.from_id(metrics_path.parent.name)
            rows.append(finetune_row(cell, ft, json.loads(metrics_path.read_text())))
    return sort_results(pd.DataFrame(rows, columns=COLUMNS))


def sort_results(df: pd.DataFrame) -> pd.DataFrame:
    """Deterministic order: by every coordinate, then ids; index reset."""
    df = df.copy()
    df["seed"] = df["seed"].astype("int64")
    df["samples"] = df["samples"].astype("int64")
    df["pretrain_fraction"] = df["pretrain_fraction"].astype(str)
    return df.sort_values(COORDS + ["cell_id", "finetune_id"], kind="mergesort").reset_index(drop=True)[COLUMNS]


def write_results(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``results.csv`` atomically (floats with full precision: reproducible bytes)."""
    write_text(path, sort_results(df).to_csv(index=False, float_format="%.17g"))
    return Path(path)


def collect_per_sample(sweep_dir: str | Path) -> pd.DataFrame:
    """One row per (fine-tune, test sample) for every fine-tune under ``sweep_dir/cells`` that
    stored its per-sample errors, sorted by cell, fine-tune and sample index."""
    frames = []
    for path in sorted(Path(sweep_dir).glob(f"cells/*/finetune/*/{PER_SAMPLE_NAME}")):
        d = json.loads(path.read_text())
        n = len(d["rel_l2"])
        frames.append(pd.DataFrame({
            "cell_id": path.parent.parent.parent.name, "finetune_id": path.parent.name,
            "sample": np.arange(n), "sample_seed": d.get("sample_seed", [-1] * n),
            "test_rel_l2": d["rel_l2"], "copy_last_rel_l2": d.get("copy_last_rel_l2", [np.nan] * n)}))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PER_SAMPLE_COLUMNS)
    return df.sort_values(["cell_id", "finetune_id", "sample"], kind="mergesort").reset_index(drop=True)[PER_SAMPLE_COLUMNS]


def write_per_sample(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``per_sample.csv`` atomically (full float precision: reproducible bytes)."""
    write_text(path, df.to_csv(index=False, float_format="%.17g"))
    return Path(path)


def collect_curves(sweep_dir: str | Path) -> pd.DataFrame:
    """One row per (finished fine-tune, evaluated epoch): ``cell_id``, ``finetune_id``, ``epoch``
    (from 1) and ``valid_rel_l2``, from every ``cells/*/finetune/*/metrics.json``'s
    ``valid_curve`` (epochs without an evaluation are left out); sorted by cell, fine-tune, epoch."""
    rows = []
    for path in sorted(Path(sweep_dir).glob("cells/*/finetune/*/metrics.json")):
        curve = json.loads(path.read_text()).get("valid_curve") or []
        cell_id, ft_id = path.parent.parent.parent.name, path.parent.name
        rows += [(cell_id, ft_id, epoch, v) for epoch, v in enumerate(curve, 1) if v is not None]
    df = pd.DataFrame(rows, columns=CURVE_COLUMNS)
    df["epoch"] = df["epoch"].astype("int64")
    return df.sort_values(["cell_id", "finetune_id", "epoch"], kind="mergesort").reset_index(drop=True)


def collect_pretext(sweep_dir: str | Path) -> pd.DataFrame:
    """One row per finished pretraining run of the sweep (``PRETEXT_COLUMNS``): the coordinates of
    its cell (from the cell's ``DONE.json``, or, for a cell still running, its id) and the held-out
    figures its ``PRETRAINED.json`` recorded (empty where a run predates them); sorted by cell."""
    rows = []
    for path in sorted(Path(sweep_dir).glob("cells/*/pretrain/PRETRAINED.json")):
        record = json.loads(path.read_text())
        final = record.get("final") or {}
        done = path.parent.parent / "DONE.json"
        coords = Cell.from_dict(json.loads(done.read_text())["cell"]).coordinates() if done.exists() else {}
        rows.append({**coords, **{k: final.get(k) for k in PRETEXT_METRICS}, "cell_id": path.parent.parent.name})
    return pd.DataFrame(rows, columns=PRETEXT_COLUMNS).sort_values("cell_id", kind="mergesort").reset_index(drop=True)


def refresh_results(sweep_dir: str | Path) -> Path:
    """(Re)write ``sweep_dir/results.csv``, ``per_sample.csv``, ``curves.csv`` and ``pretext.csv``
    from every finished fine-tune and pretraining on disk; returns the results.csv path."""
    sweep_dir = Path(sweep_dir)
    write_text(sweep_dir / PRETEXT_FILE, collect_pretext(sweep_dir).to_csv(index=False, float_format="%.17g"))
    write_per_sample(collect_per_sample(sweep_dir), sweep_dir / PER_SAMPLE_FILE)
    write_text(sweep_dir / CURVES_FILE, collect_curves(sweep_dir).to_csv(index=False, float_format="%.17g"))
    return write_results(collect_results(sweep_dir), sweep_dir / RESULTS_FILE)
