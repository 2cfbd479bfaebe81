"""The sweep's run log, ``runs.json`` in the sweep folder: one entry per invocation of
``run_sweep`` (start time, commit, machine, Dask workers, cells selected / pending, then finish time, wall
seconds, cells completed / failed). A study resumed over several invocations adds up its wall
time from it; ``publish_sweep`` records it with the published results."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

from pde_lib.utils.atomic import write_json
from pde_lib.utils.provenance import git_commit, machine_info

RUNS_FILE = "runs.json"


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_runs(sweep_dir: str | Path) -> list[dict]:
    """The entries of ``sweep_dir/runs.json`` (empty if the sweep has none)."""
    path = Path(sweep_dir) / RUNS_FILE
    return json.loads(path.read_text()) if path.exists() else []


class RunLog:
    """Made when an invocation begins (its clock starts then, so data generation counts);
    ``start`` opens its entry once the sweep folder exists and ``finish`` closes it. Each writes
    ``runs.json`` atomically, so an interrupted sweep leaves its entry with ``finished: null``."""

    def __init__(self):
        self.path: Path | None = None
        self.entry: dict = {}
        self._t0, self._started = time.perf_counter(), utc_now()

    def start(self, sweep_dir: str | Path, n_cells: int, n_pending: int, selected: bool,
              workers: int | None = None) -> None:
        self.path = Path(sweep_dir) / RUNS_FILE
        self.entry = {"started": self._started, "finished": None, "seconds": None, "git_commit": git_commit(),
                      "machine": machine_info(), "workers": workers, "cells": n_cells, "pending": n_pending,
                      "cells_selected": selected, "completed": None, "failed": None}
        self._write(read_runs(self.path.parent) + [self.entry])

    def finish(self, completed: int, failed: int) -> None:
        runs = read_runs(self.path.parent)
        self.entry.update(finished=utc_now(), seconds=round(time.perf_counter() - self._t0, 1),
                          completed=completed, failed=failed)
        runs[-1] = self.entry
        self._write(runs)

    def _write(self, runs: list[dict]) -> None:
        write_json(self.path, runs)
