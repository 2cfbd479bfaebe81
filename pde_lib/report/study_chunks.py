"""The pre-registered study's published chunks (``outputs/published/study_v2/chunk_K/``, one per
seed block, docs/preregistration.md section 8) joined into one study: results, pretext figures
and the run record of each chunk (commit, wall time, counts).

The study is analysed only once every seed of its design is published (section 8: nothing is
decided between chunks), so ``load_study`` refuses a partial study, naming the seeds missing.
Chunks join only if they were trained alike (``aggregate.join_results``) and read the same data
(``study_data.data_consistency``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pde_lib.errors import ConfigError, DataError
from pde_lib.params import load_params
from pde_lib.report.aggregate import join_results
from pde_lib.report.study_data import DataConsistency, data_consistency, read_record

CHUNK_GLOB = "chunk_*"
#: under the published folder: written by ``study-report``; once it exists the README's findings
#: block is the study's, and ``findings-page`` (the pilot evidence) leaves the README alone
STUDY_VERDICTS = "study_v2/report/hypotheses.json"
#: under the published folder: the study's report page, which the pilot banners link
STUDY_PAGE = "study_v2/report/index.html"


def study_owns_readme(published: str | Path) -> bool:
    """Whether the study's report exists under ``published`` (see ``STUDY_VERDICTS``)."""
    return (Path(published) / STUDY_VERDICTS).is_file()


@dataclass
class StudyRun:
    """A whole study: ``results`` and ``pretext`` joined over ``chunks`` (one row per chunk:
    chunk, seeds, git_commit, cpu, wall_seconds, wall_time, cells, finetunes, started, data files:
    one letter per generation of the data files), its
    ``design`` (the parameter file), ``folder`` and how its chunks' data agree (``data``)."""
    folder: Path
    design: str
    results: pd.DataFrame
    pretext: pd.DataFrame
    chunks: pd.DataFrame
    data: DataConsistency


def chunk_folders(study_dir: str | Path) -> list[Path]:
    """The chunk folders of ``study_dir`` in chunk order (chunk_0, chunk_1, ..., chunk_10)."""
    folders = [p for p in Path(study_dir).glob(CHUNK_GLOB) if p.is_dir()]
    return sorted(folders, key=lambda p: int(p.name.split("_")[1]) if p.name.split("_")[1].isdigit() else 1 << 30)


def _read_json(path: Path) -> dict:
    return read_record(path, "a published chunk records its run in run.json (python -m pde_lib publish writes it)")


def chunk_record(folder: Path, results: pd.DataFrame) -> dict:
    """One chunk's row of ``StudyRun.chunks`` from its run.json and its results' seeds."""
    run = _read_json(folder / "run.json")
    seeds = sorted(int(s) for s in results["seed"].unique())
    return {"chunk": folder.name, "seeds": ", ".join(map(str, seeds)), "git_commit": str(run.get("git_commit", ""))[:12],
            "wall_seconds": run.get("wall_seconds"), "wall_time": run.get("wall_time"), "cells": run.get("cells"),
            "finetunes": run.get("finetunes"), "started": run.get("started")}


def load_study(study_dir: str | Path, design: str | Path) -> StudyRun:
    """Every chunk of ``study_dir`` joined, checked complete against the seeds of ``design`` (the
    study's parameter file); ConfigError naming the seeds missing when it is not."""
    study_dir, design = Path(study_dir), Path(design)
    folders = chunk_folders(study_dir)
    if not folders:
        raise ConfigError(f"{study_dir}: no published chunk ({CHUNK_GLOB}); run scripts/study/run_chunk.sh K first")
    expected = {int(s) for s in load_params(design).grid.seeds}
    data = data_consistency(folders)
    results = join_results(folders[0], folders[1:])
    found = {int(s) for s in results["seed"].unique()}
    if found != expected:
        missing, extra = sorted(expected - found), sorted(found - expected)
        raise ConfigError(f"{study_dir}: the study is not complete: seeds {missing} of {design} are not published"
                          + (f" and seeds {extra} are not in its design" if extra else "")
                          + "; the pre-registered report is rendered once every chunk is (section 8)")
    pretext = []
    for f in folders:
        if not (f / "pretext.csv").exists():
            raise DataError(f"{f / 'pretext.csv'}: missing; the manipulation check needs every chunk's "
                            "pretraining figures")
        pretext.append(pd.read_csv(f / "pretext.csv", dtype={"pretrain_fraction": str, "augmentation": str}))
    chunks = pd.DataFrame([chunk_record(f, results[results["cell_id"].isin(
        pd.read_csv(f / "results.csv", usecols=["cell_id"])["cell_id"])]) for f in folders])
    chunks.insert(3, "cpu", data.generations["cpu"].to_numpy())
    chunks["data files"] = data.generations["generation"].to_numpy()
    return StudyRun(study_dir, str(design), results, pd.concat(pretext, ignore_index=True), chunks, data)
