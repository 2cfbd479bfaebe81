"""``run_sweep``: data -> grid -> one Dask task per unfinished cell (each runs the experiment
notebook with papermill) -> ``results.csv`` -> report notebooks and HTML.

Fault tolerance comes from Dask (a task whose worker dies is rescheduled) plus the on-disk state
of each cell (``DONE.json``, finished fine-tunes, a per-cell file lock): a sweep killed at any
moment and rerun finishes with the same ``results.csv``."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from pde_lib.errors import ConfigError
from pde_lib.params import MachineProfile, load_machine, load_params, validate_machine
from pde_lib.params.study import _plain
from pde_lib.sweep.cell import is_done
from pde_lib.sweep.grid import expand_grid

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    out_dir: str
    n_cells: int
    skipped: int
    completed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    results_csv: str = ""
    n_results: int = 0
    reports: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def format(self) -> str:
        lines = [f"sweep {self.out_dir}: {self.n_cells} cells ({self.skipped} already done, "
                 f"{len(self.completed)} run, {len(self.failed)} failed) in {self.seconds:.1f} s",
                 f"  results: {self.results_csv} ({self.n_results} fine-tunes)"]
        lines += [f"  FAILED {cid}: {err}" for cid, err in self.failed.items()]
        lines += [f"  report {n}: {p}" for n, p in self.reports.items()]
        return "\n".join(lines)


def _freeze(path: Path, obj: dict, what: str, strict: bool) -> None:
    """Write ``obj`` as YAML to ``path``; if ``strict`` and a different one is there, refuse."""
    from pde_lib.utils.atomic import write_text

    if strict and path.exists():
        old = yaml.safe_load(path.read_text())
        if old != obj:
            raise ConfigError(f"{path.parent} was started with different {what} ({path}); "
                              "use a new --out folder or restore the original parameters")
    write_text(path, yaml.safe_dump(obj, sort_keys=False))


def prepare_sweep(params_path, out_dir, machine=None, progress: bool = True):
    """Load parameters and machine, freeze them into ``out_dir`` (params.yaml, machine.yaml),
    generate the datasets (``datasets.json``) and the experiment notebook template."""
    from pde_lib.sweep.datasets import ensure_datasets
    from pde_lib.sweep.notebooks import ensure_kernel, materialise
    from pde_lib.utils.atomic import write_json

    params = load_params(params_path)
    if not isinstance(machine, MachineProfile):
        machine = load_machine(machine)
    out = Path(out_dir or machine.out_dir or "outputs/sweeps").resolve() / ("" if out_dir else params.name)
    out.mkdir(parents=True, exist_ok=True)
    m = _plain(machine)
    m["data_dir"] = str(Path(machine.data_dir).expanduser().resolve()) if machine.data_dir else str(out / "data")
    machine = validate_machine(m, machine.source)
    _freeze(out / "params.yaml", params.to_plain(), "parameters", strict=True)
    _freeze(out / "machine.yaml", _plain(machine), "machine settings", strict=False)
    write_json(out / "sweep.json", {"params_file": str(params_path)})  # named on every report
    if machine.device == "cpu":  # oversubscribed OpenMP threads slow CPU solves down many times
        import torch

        torch.set_num_threads(machine.torch_threads)
    records = ensure_datasets(params, machine, machine.data_dir, progress=progress)
    write_json(out / "datasets.json", records)
    ensure_kernel()
    materialise("experiment", out / "templates" / "experiment.ipynb")
    return load_params(out / "params.yaml"), machine, out


def worker_device(machine) -> str:
    """``cuda`` with GPUs per worker: worker i uses cuda:(i mod device_count)."""
    if machine.device != "cuda" or not machine.gpus_per_worker:
        return machine.device
    import torch

    try:
        from distributed import get_worker

        name = str(get_worker().name)
        index = int(name.rsplit("-", 1)[-1]) if name.rsplit("-", 1)[-1].isdigit() else 0
    except (ImportError, ValueError):
        index = 0
    return f"cuda:{index % max(1, torch.cuda.device_count())}"


def execute_cell_notebook(cell_id: str, sweep_dir: str) -> dict:
    """Dask task: run the experiment notebook for one cell into ``cells/<id>/experiment.ipynb``."""
    from pde_lib.sweep.notebooks import execute

    sweep = Path(sweep_dir)
    cell_dir = sweep / "cells" / cell_id
    if is_done(cell_dir):
        return {"cell_id": cell_id, "status": "skipped"}
    machine = load_machine(sweep / "machine.yaml")
    execute(sweep / "templates" / "experiment.ipynb", cell_dir / "experiment.ipynb",
            {"params_path": str(sweep / "params.yaml"), "machine_path": str(sweep / "machine.yaml"),
             "cell_id": cell_id, "cell_dir": str(cell_dir), "data_dir": machine.data_dir,
             "device": worker_device(machine), "torch_threads": machine.torch_threads},
            cwd=cell_dir, timeout=machine.cell_timeout_s)
    return {"cell_id": cell_id, "status": "done"}


def _client(machine, scheduler: str | None, n_workers: int | None):
    """A Dask client: an existing scheduler, a SLURM cluster, or a LocalCluster of processes."""
    from distributed import Client, LocalCluster

    scheduler = scheduler or machine.scheduler
    if scheduler:
        return Client(scheduler), None
    if machine.cluster.kind == "slurm":
        try:
            from dask_jobqueue import SLURMCluster
        except ImportError:
            raise ConfigError(f"{machine.source}: cluster.kind slurm needs dask-jobqueue "
                              "(pip install 'pde-pretrain[slurm]')") from None
        cluster = SLURMCluster(**machine.cluster.options)
        cluster.scale(jobs=machine.cluster.jobs)
        return Client(cluster), cluster
    resources = {"GPU": machine.gpus_per_worker} if machine.gpus_per_worker else None
    cluster = LocalCluster(n_workers=n_workers or machine.n_workers, threads_per_worker=machine.threads_per_worker,
                           processes=True, dashboard_address=None, memory_limit=machine.memory_limit,
                           silence_logs=logging.ERROR, resources=resources)
    return Client(cluster), cluster


def run_sweep(params_path, out_dir=None, machine=None, scheduler: str | None = None,
              n_workers: int | None = None, progress: bool = True, reports: bool = True,
              runner: Callable[[str, str], dict] | None = None) -> SweepResult:
    """Run (or resume) the whole study of ``params_path`` into ``out_dir``; see the module doc.
    ``machine``: a profile path or object (None: local CPU). ``runner(cell_id, sweep_dir)`` is
    the per-cell Dask task (default: ``execute_cell_notebook``; tests pass stand-ins)."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    from pde_lib.report.render import refresh_results, render_reports

    t0 = time.perf_counter()
    params, machine, out = prepare_sweep(params_path, out_dir, machine, progress=progress)
    cells = expand_grid(params)
    pending = [c for c in cells if not is_done(out / "cells" / c.id)]
    result = SweepResult(out_dir=str(out), n_cells=len(cells), skipped=len(cells) - len(pending))
    runner = runner or execute_cell_notebook
    client, cluster = _client(machine, scheduler, n_workers)
    try:
        extra = {"resources": {"GPU": 1}} if machine.gpus_per_worker else {}
        futures = {client.submit(runner, c.id, str(out), key=f"cell-{c.id}", pure=False, **extra): c.id
                   for c in pending}
        bar = tqdm(total=len(cells), initial=result.skipped, desc="cells", unit="cell", disable=not progress)
        for fut in as_completed(list(futures)):
            cid = futures[fut]
            if fut.status == "error":
                exc = fut.exception()
                msg = f"{type(exc).__name__}: {_short(exc)}; notebook: {out / 'cells' / cid / 'experiment.ipynb'}"
                result.failed[cid] = msg
                bar.write(f"cell {cid} FAILED: {msg}")
            else:
                result.completed.append(cid)
            bar.update(1)
        bar.close()
        csv = refresh_results(out)
        result.results_csv = str(csv)
        result.n_results = max(0, sum(1 for _ in open(csv)) - 1)
        if reports:
            result.reports = render_reports(out, client=client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    result.seconds = time.perf_counter() - t0
    return result


def _short(exc: BaseException, limit: int = 400) -> str:
    text = str(exc).strip().splitlines()
    # papermill errors carry the whole traceback; keep the exception line(s)
    tail = [line for line in text if line and not line.startswith(("---", " "))][-2:] or text[-1:]
    msg = " | ".join(tail)
    return msg if len(msg) <= limit else msg[:limit] + "..."
