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
from pde_lib.params.attrdict import to_plain
from pde_lib.sweep.cell import is_done
from pde_lib.sweep.cost import priorities
from pde_lib.sweep.cluster import check_scheduler, connect_client, security
from pde_lib.sweep.grid import expand_grid, select_cells
from pde_lib.sweep.runlog import RunLog

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


def resolve_sweep(params_path, out_dir, machine=None):
    """Load and check the parameters, the machine profile (its device must be present: the
    datasets are generated on it here) and the sweep folder; nothing is written. Returns
    ``(params, machine, out)`` with ``machine.data_dir`` made absolute."""
    from pde_lib.utils.device import resolve_device

    params = load_params(params_path)
    if not isinstance(machine, MachineProfile):
        machine = load_machine(machine)
    resolve_device(machine.device)
    if out_dir:
        out = Path(out_dir).resolve()
    else:
        out = _expand(machine.out_dir or "outputs/sweeps", f"{machine.source}: out_dir") / params.name
    check_sweep_folder(out)
    m = to_plain(machine)
    m["data_dir"] = str(_expand(machine.data_dir, f"{machine.source}: data_dir")) if machine.data_dir else str(out / "data")
    return params, validate_machine(m, machine.source), out


def _expand(path, what: str) -> Path:
    """``path`` with ``~`` and ``$VARS`` (``/scratch/$USER/...``) expanded, made absolute; a
    variable that is not set is a ConfigError (it would become a folder named ``$USER``)."""
    import os

    text = os.path.expanduser(os.path.expandvars(str(path)))
    if "$" in text:
        raise ConfigError(f"{what}: {path!r} names an environment variable that is not set ({text!r})")
    return Path(text).resolve()


def check_sweep_folder(out: Path) -> None:
    """A sweep folder is new, empty or an earlier sweep's (it holds params.yaml): never a file
    or a folder of other things, which the sweep's files would be mixed into or overwrite."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"sweep folder {out} is a file; expected a new or existing sweep folder")
    if out.is_dir() and not (out / "params.yaml").exists() and any(out.iterdir()):
        raise ConfigError(f"{out} is not empty and holds no sweep (no params.yaml); a sweep writes params.yaml, "
                          "cells/, data/, results.csv and reports/ there: choose a new or empty folder")


def prepare_sweep(params_path, out_dir, machine=None, progress: bool = True, resolved=None):
    """Load parameters and machine, freeze them into ``out_dir`` (params.yaml, machine.yaml),
    generate the datasets (``datasets.json``) and the experiment notebook template.
    ``resolved``: ``resolve_sweep``'s result when the caller has already checked them."""
    from pde_lib.sweep.datasets import ensure_datasets
    from pde_lib.sweep.notebooks import ensure_kernel, materialise
    from pde_lib.utils.atomic import write_json

    params, machine, out = resolved or resolve_sweep(params_path, out_dir, machine)
    out.mkdir(parents=True, exist_ok=True)
    _freeze(out / "params.yaml", params.to_plain(), "parameters", strict=True)
    _freeze(out / "machine.yaml", to_plain(machine), "machine settings", strict=False)
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


#: times a cell's notebook is restarted after its kernel died (killed, out of memory); each
#: restart resumes the cell from its finished fine-tunes and the running one's last checkpoint
KERNEL_RESTARTS = 2


def execute_cell_notebook(cell_id: str, sweep_dir: str) -> dict:
    """Dask task: run the experiment notebook for one cell into ``cells/<id>/experiment.ipynb``.
    A kernel that dies (say ``kill -9`` of the process running a fine-tune) is restarted up to
    ``KERNEL_RESTARTS`` times, resuming where the cell's files on disk leave off."""
    from nbclient.exceptions import DeadKernelError

    from pde_lib.sweep.notebooks import execute

    sweep = Path(sweep_dir)
    cell_dir = sweep / "cells" / cell_id
    if is_done(cell_dir):
        return {"cell_id": cell_id, "status": "skipped"}
    machine = load_machine(sweep / "machine.yaml")
    for attempt in range(KERNEL_RESTARTS + 1):
        try:
            execute(sweep / "templates" / "experiment.ipynb", cell_dir / "experiment.ipynb",
                    {"params_path": str(sweep / "params.yaml"), "machine_path": str(sweep / "machine.yaml"),
                     "cell_id": cell_id, "cell_dir": str(cell_dir), "data_dir": machine.data_dir,
                     "device": worker_device(machine), "torch_threads": machine.torch_threads},
                    cwd=cell_dir, timeout=machine.cell_timeout_s)
            break
        except DeadKernelError:
            if attempt == KERNEL_RESTARTS:
                raise
            log.warning("cell %s: its kernel died; restarting it (resumes from the cell's files)", cell_id)
    return {"cell_id": cell_id, "status": "done", "kernel_restarts": attempt}


def run_sweep(params_path, out_dir=None, machine=None, scheduler: str | None = None,
              n_workers: int | None = None, progress: bool = True, reports: bool = True,
              runner: Callable[[str, str], dict] | None = None, dashboard: bool | None = None,
              cells=None) -> SweepResult:
    """Run (or resume) the whole study of ``params_path`` into ``out_dir``; see the module doc.
    ``machine``: a profile path or object (None: local CPU). ``runner(cell_id, sweep_dir)`` is
    the per-cell Dask task (default: ``execute_cell_notebook``; tests pass stand-ins).
    ``dashboard``: serve a LocalCluster's dashboard (None: the profile's ``dashboard``).
    ``cells``: run only these cell ids (a list, or one comma-separated string; None: every
    cell); an unknown id is a ConfigError before anything is written. Each cell's results do
    not depend on which other cells run, so a cell rerun alone gives its numbers of a full run.
    Everything is checked (parameters, device, folder, scheduler reachable) before any data
    is generated."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    from pde_lib.sweep.render import render_reports
    from pde_lib.sweep.results import refresh_results

    t0 = time.perf_counter()
    runlog = RunLog()
    resolved = resolve_sweep(params_path, out_dir, machine)
    if cells is not None:
        select_cells(resolved[0], cells)  # unknown ids fail before any file is written
    address = scheduler or resolved[1].scheduler
    if address:
        check_scheduler(address, security(resolved[1]))
    params, machine, out = prepare_sweep(params_path, out_dir, progress=progress, resolved=resolved)
    cells_selected = cells is not None
    cells = expand_grid(params) if cells is None else select_cells(params, cells)
    pending = [c for c in cells if not is_done(out / "cells" / c.id)]
    result = SweepResult(out_dir=str(out), n_cells=len(cells), skipped=len(cells) - len(pending))
    runner = runner or execute_cell_notebook
    dashboard = machine.dashboard if dashboard is None else dashboard
    runlog.start(out, len(cells), len(pending), selected=cells_selected,
                 workers=None if (scheduler or machine.scheduler) else (n_workers or machine.n_workers))
    client, cluster = connect_client(machine, scheduler, n_workers, dashboard)
    if dashboard and cluster is not None:
        print(f"Dask dashboard: {client.dashboard_link}", flush=True)
    try:
        extra = {"resources": {"GPU": 1}} if machine.gpus_per_worker else {}
        # the most expensive cells first (no lone long cell at the end): submitted in that order, as
        # an idle worker takes the first task that arrives, and prioritised for the queue
        rank = priorities(params, pending)
        futures = {client.submit(runner, c.id, str(out), key=f"cell-{c.id}", pure=False, priority=rank[c.id],
                                 **extra): c.id for c in sorted(pending, key=lambda c: -rank[c.id])}
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
        runlog.finish(len(result.completed), len(result.failed))
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
