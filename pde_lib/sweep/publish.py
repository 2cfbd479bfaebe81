"""Publishing a finished sweep into a tracked folder (``outputs/published/<name>/``).

What is published: the results tables (``results.csv``, ``per_sample.csv``, and ``curves.csv``
gzipped as ``curves.csv.gz``: one row per fine-tune and epoch, megabytes for a long run),
the frozen parameters and machine profile (``params.yaml``, ``machine.yaml``, ``sweep.json``),
the datasets' checksums (``datasets.json``), the sweep's run log (``runs.json``), the rendered
HTML reports (``reports/*.html``) and, written last, ``run.json``: the one git commit every
fine-tune ran on, the machine, the wall time and the counts. The report notebooks read a
published folder as they read a sweep folder. Only a complete sweep from one clean commit is
published: partial or mixed results would be cited as the study's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pde_lib.errors import ConfigError
from pde_lib.params import load_machine, load_params
from pde_lib.report.header import params_file
from pde_lib.sweep.cell import is_done
from pde_lib.sweep.grid import expand_grid
from pde_lib.sweep.results import CURVES_FILE, PER_SAMPLE_FILE, PRETEXT_FILE, RESULTS_FILE, refresh_results
from pde_lib.sweep.runlog import RUNS_FILE, read_runs, utc_now
from pde_lib.utils.atomic import atomic_path, write_json
from pde_lib.utils.provenance import machine_info

RUN_FILE = "run.json"
PUBLISHED_FILES = (RESULTS_FILE, PER_SAMPLE_FILE, PRETEXT_FILE, "params.yaml", "machine.yaml", "sweep.json",
                   "datasets.json", RUNS_FILE)
#: published gzipped, as ``<name>.gz`` (byte-identical for the same content: no time stamp inside)
PUBLISHED_GZIPPED = (CURVES_FILE,)


def finetune_commits(sweep_dir: str | Path) -> dict[str, int]:
    """git commit -> number of fine-tunes whose ``metrics.json`` records it."""
    counts: dict[str, int] = {}
    for path in sorted(Path(sweep_dir).glob("cells/*/finetune/*/metrics.json")):
        commit = str(json.loads(path.read_text()).get("git_commit", "unknown"))
        counts[commit] = counts.get(commit, 0) + 1
    return counts


def wall_time_text(seconds: float) -> str:
    """``1 h 02 min 05 s`` / ``12 min 05 s``."""
    s = int(round(seconds))
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    return f"{h} h {m:02d} min {sec:02d} s" if h else f"{m} min {sec:02d} s"


def check_publishable(sweep: Path) -> tuple:
    """``(params, cells, commit)`` of a complete sweep from one clean commit; else a ConfigError
    saying what is missing or mixed."""
    if not (sweep / "params.yaml").exists():
        raise ConfigError(f"{sweep} is not a sweep folder (no params.yaml); pass the folder a sweep wrote")
    params = load_params(sweep / "params.yaml")
    cells = expand_grid(params)
    missing = [c.id for c in cells if not is_done(sweep / "cells" / c.id)]
    if missing:
        raise ConfigError(f"{sweep}: {len(missing)} of {len(cells)} cells are not finished (e.g. "
                          f"{', '.join(missing[:3])}); rerun the same sweep command to finish them, then publish")
    commits = finetune_commits(sweep)
    if len(commits) != 1 or any(c == "unknown" or c.endswith("-dirty") for c in commits):
        found = ", ".join(f"{c} ({n} fine-tunes)" for c, n in commits.items()) or "none"
        raise ConfigError(f"{sweep}: a published study must come from one clean git commit; its fine-tunes "
                          f"record {found}")
    return params, cells, next(iter(commits))


def wall_seconds_of(sweep: Path, runs: list[dict], given: float | None) -> float:
    """The study's wall time: ``given`` if set, else the sum over the run log's entries."""
    if given is not None:
        if given <= 0:
            raise ConfigError(f"--wall-seconds must be > 0, got {given}")
        return float(given)
    if not runs or any(r.get("seconds") is None for r in runs):
        raise ConfigError(f"{sweep / RUNS_FILE}: no complete run log (missing, or an interrupted invocation "
                          "without a finish time); pass the measured wall time with --wall-seconds")
    return float(sum(r["seconds"] for r in runs))


def publish_sweep(sweep_dir: str | Path, dest: str | Path, wall_seconds: float | None = None) -> dict:
    """Copy a finished sweep's tables, parameters, checksums, run log and HTML reports into
    ``dest`` and write ``dest/run.json`` (returned). ``wall_seconds``: the measured wall time
    when the sweep's ``runs.json`` cannot give it (a sweep started before run logs existed)."""
    sweep, dest = Path(sweep_dir).resolve(), Path(dest)
    params, cells, commit = check_publishable(sweep)
    refresh_results(sweep)
    runs = read_runs(sweep)
    wall = wall_seconds_of(sweep, runs, wall_seconds)
    n_results = sum(1 for _ in open(sweep / RESULTS_FILE)) - 1
    for name in PUBLISHED_FILES:
        if (sweep / name).exists():
            _copy(sweep / name, dest / name)
    for name in PUBLISHED_GZIPPED:
        if (sweep / name).exists():
            _gzip(sweep / name, dest / f"{name}.gz")
    for html in sorted((sweep / "reports").glob("*.html")):
        _copy(html, dest / "reports" / html.name)
    machine = dict(runs[0]["machine"]) if runs else {**machine_info(), "recorded": "when published"}
    profile = load_machine(sweep / "machine.yaml" if (sweep / "machine.yaml").exists() else None)
    run = {"study": params.name, "params_file": params_file(sweep),
           "git_commit": commit, "machine": machine,
           "workers": runs[0].get("workers") if runs else profile.get("n_workers"), "torch_threads": profile.get("torch_threads"),
           "wall_seconds": round(wall, 1), "wall_time": wall_time_text(wall),
           "started": runs[0]["started"] if runs else None, "cells": len(cells), "finetunes": n_results,
           "published": utc_now()}
    write_json(dest / RUN_FILE, run)
    return run


def _gzip(src: Path, dst: Path) -> None:
    import gzip

    with atomic_path(dst) as tmp, open(src, "rb") as fin, open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as fout:
            shutil.copyfileobj(fin, fout)


def _copy(src: Path, dst: Path) -> None:
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
