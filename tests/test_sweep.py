"""Sweep layer: grid expansion and ids, run_cell resume logic (stand-in training), Dask execution
surviving a killed worker and a killed driver with identical results, and an end-to-end run of
a micro study through the real notebooks and reports (marked slow)."""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from pde_lib.params import load_machine, load_params, validate_machine, validate_params
from pde_lib.sweep import DONE, expand_grid, find_cell, finetunes, run_cell, run_sweep
from pde_lib.sweep.grid import Cell, FineTune
from pde_lib.utils.atomic import write_json

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent

MICRO = {
    "name": "micro",
    "data": {"seed": 0, "pretrain_samples": 2, "samples": {"train": 2, "valid": 1, "test": 1},
             "distributions": ["id"], "solver": {"burgers": {"refine": 1}},
             "navier_stokes": {"enabled": False}},
    "pretrain": {"epochs": 1, "batch_size": 4},
    "finetune": {"epochs": 1, "batch_size": 2, "samples": [1, 2], "pdes": ["heat", "advection"],
                 "distributions": ["id"], "navier_stokes": False},
    "grid": {"models": {"fno2d": {"width": 4, "modes": 2, "n_layers": 1, "projection_width": 4}},
             "strategies": ["none", "transfer"], "augmentations": [[]], "seeds": [0, 1]},
}


# ---------------------------------------------------------------- stand-ins (importable by workers)
def fake_train(cfg):
    """Deterministic stand-in for run_training: metrics from a hash of the run's coordinates."""
    time.sleep(float(os.environ.get("PDE_TEST_FAKE_SLEEP", "0")))
    key = f"{cfg.model}|{cfg.seed}|{cfg.pde}|{cfg.samples}|{cfg.init is not None}|{cfg.augmentation}"
    value = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 16**8
    metrics = {"test_rel_l2": value, "valid_rel_l2": 1.1 * value, "best_epoch": 1,
               "train_loss": [2 * value, value], "valid_curve": [1.2 * value, 1.1 * value]}
    out = Path(cfg.out)
    write_json(out / "metrics.json", metrics)
    with open(out.parents[1] / "train_calls.log", "a") as fh:
        fh.write(out.name + "\n")
    return metrics


def fake_pretrain(cfg):
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "backbone.pt").write_bytes(b"stand-in")
    return {"strategy": cfg.strategy}


def fake_runner(cell_id, sweep_dir):
    """Stand-in Dask task: run_cell with stand-in training, recording its worker pid."""
    sweep = Path(sweep_dir)
    params, machine = load_params(sweep / "params.yaml"), load_machine(sweep / "machine.yaml")
    cell_dir = sweep / "cells" / cell_id
    cell_dir.mkdir(parents=True, exist_ok=True)
    (cell_dir / "worker.pid").write_text(str(os.getpid()))
    run_cell(find_cell(params, cell_id), params, machine, cell_dir, train_fn=fake_train, pretrain_fn=fake_pretrain)
    return {"cell_id": cell_id, "status": "done"}


def failing_runner(cell_id, sweep_dir):
    """Stand-in task that fails for one cell."""
    if cell_id == "fno2d__transfer__none__s1":
        raise RuntimeError("boom in the pretext head")
    return fake_runner(cell_id, sweep_dir)


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A micro study file and a 2-worker machine profile sharing one data folder."""
    root = tmp_path_factory.mktemp("study")
    params = root / "micro.yaml"
    params.write_text(yaml.safe_dump(MICRO))
    machine = root / "machine.yaml"
    machine.write_text(yaml.safe_dump({"n_workers": 2, "data_dir": str(root / "data"), "memory_limit": "2GB"}))
    return params, machine


def _micro(**over):
    raw = json.loads(json.dumps(MICRO))
    for section, values in over.items():
        raw[section].update(values)
    return validate_params(raw, "micro")


# ---------------------------------------------------------------- grid
def test_expand_grid_counts_order_and_ids():
    p = _micro(grid={**MICRO["grid"], "augmentations": [[], ["shift", "noise"]],
                     "models": {"fno2d": {"width": 4}, "unet_small": {"model": "unet", "channels": [4, 8]}}})
    cells = expand_grid(p)
    assert len(cells) == 2 * 2 * 2 * 2
    ids = [c.id for c in cells]
    assert ids[:3] == ["fno2d__none__none__s0", "fno2d__none__none__s1", "fno2d__none__shift+noise__s0"]
    assert "unet_small__transfer__shift+noise__s1" in ids
    assert len(set(ids)) == len(ids)
    assert all(c.id.replace("+", "").replace("_", "").replace("-", "").isalnum() for c in cells)
    unet = find_cell(p, "unet_small__none__none__s0")
    assert unet.backbone == "unet" and unet.model_kwargs == {"channels": [4, 8]}
    assert expand_grid(p) == cells  # stable
    assert Cell.from_dict(json.loads(json.dumps(unet.to_dict()))) == unet


def test_pretraining_fractions_skip_strategy_none():
    p = _micro(pretrain={"fractions": ["1/9", 1]})
    ids = [c.id for c in expand_grid(p)]
    assert ids == ["fno2d__none__none__s0", "fno2d__none__none__s1", "fno2d__transfer__none__s0__pf1of9",
                   "fno2d__transfer__none__s1__pf1of9", "fno2d__transfer__none__s0", "fno2d__transfer__none__s1"]


def test_finetunes_include_navier_stokes_and_round_trip_ids():
    p = load_params(ROOT / "parameters" / "smoke.yaml")
    fts = finetunes(p)
    assert len(fts) == 2 * 3 * 2 + 1 * 2
    assert fts[-1] == FineTune("fixed_future", "id", "navier_stokes", 4)
    assert all(FineTune.from_id(ft.id) == ft for ft in fts)
    with pytest.raises(ValueError):
        FineTune.from_id("heat__n4")


def test_find_cell_unknown_id_suggests():
    with pytest.raises(Exception, match="did you mean 'fno2d__none__none__s0'"):
        find_cell(_micro(), "fno2d__none__none__s00")


# ---------------------------------------------------------------- run_cell resume
def _machine(tmp_path):
    return validate_machine({"data_dir": str(tmp_path / "data")})


def test_run_cell_resumes_only_missing_finetunes(tmp_path):
    params, machine = _micro(), _machine(tmp_path)
    cell = find_cell(params, "fno2d__transfer__none__s0")
    cell_dir = tmp_path / "cell"
    calls = []

    def dying_train(cfg):
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")  # the process dies mid-cell
        calls.append(Path(cfg.out).name)
        return fake_train(cfg)

    with pytest.raises(KeyboardInterrupt):
        run_cell(cell, params, machine, cell_dir, train_fn=dying_train, pretrain_fn=fake_pretrain)
    assert not (cell_dir / DONE).exists()
    assert (cell_dir / "pretrain" / "PRETRAINED.json").exists()

    resumed, pretrains = [], []

    def counting_train(cfg):
        resumed.append(Path(cfg.out).name)
        return fake_train(cfg)

    def counting_pretrain(cfg):
        pretrains.append(cfg)
        return fake_pretrain(cfg)

    result = run_cell(cell, params, machine, cell_dir, train_fn=counting_train, pretrain_fn=counting_pretrain)
    all_ids = [ft.id for ft in finetunes(params)]
    assert pretrains == []  # the finished pretraining is reused
    assert sorted(resumed) == sorted(set(all_ids) - set(calls))
    assert [r["finetune_id"] for r in result["finetunes"]] == all_ids
    assert (cell_dir / DONE).exists() and (cell_dir / "summary.csv").exists() and (cell_dir / "loss_curves.png").exists()

    def must_not_run(cfg):
        raise AssertionError("a DONE cell ran again")

    again = run_cell(cell, params, machine, cell_dir, train_fn=must_not_run, pretrain_fn=must_not_run)
    assert again["finetunes"] == result["finetunes"]


def test_strategy_none_skips_pretraining(tmp_path):
    params = _micro()
    seen = []

    def train(cfg):
        seen.append(cfg.init)
        return fake_train(cfg)

    run_cell(find_cell(params, "fno2d__none__none__s1"), params, _machine(tmp_path), tmp_path / "c",
             train_fn=train, pretrain_fn=lambda cfg: pytest.fail("pretrained for strategy none"))
    assert seen and all(init is None for init in seen)
    assert not (tmp_path / "c" / "pretrain").exists()


# ---------------------------------------------------------------- Dask: killed worker, killed driver
def _expected_rows(params_path):
    p = load_params(params_path)
    return len(expand_grid(p)) * len(finetunes(p))


def _check_results(out: Path, n_expected: int) -> pd.DataFrame:
    df = pd.read_csv(out / "results.csv")
    assert len(df) == n_expected
    assert not df.duplicated(["cell_id", "finetune_id"]).any()
    assert df.test_rel_l2.notna().all()
    return df


def test_dask_sweep_survives_a_killed_worker(study, tmp_path, monkeypatch):
    params_path, machine_path = study
    monkeypatch.setenv("PDE_TEST_FAKE_SLEEP", "0.25")
    out = tmp_path / "sweep"
    killed = []

    def killer():
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            for pid_file in out.glob("cells/*/worker.pid"):
                cell = pid_file.parent
                started = list(cell.glob("finetune/*/metrics.json"))
                if started and not (cell / DONE).exists():
                    os.kill(int(pid_file.read_text()), signal.SIGKILL)
                    killed.append(cell.name)
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    result = run_sweep(params_path, out, machine=machine_path, runner=fake_runner, progress=False, reports=False)
    thread.join()
    assert killed, "no worker was killed mid-cell"
    assert not result.failed
    _check_results(out, _expected_rows(params_path))
    assert all((out / "cells" / c.id / DONE).exists() for c in expand_grid(load_params(params_path)))
    # the killed cell resumed: each of its fine-tunes ran at most twice (once if finished before the kill)
    log = (out / "cells" / killed[0] / "train_calls.log").read_text().split()
    assert set(log) == {ft.id for ft in finetunes(load_params(params_path))}
    assert len(log) <= len(set(log)) + 1


def test_killed_driver_then_rerun_gives_identical_results(study, tmp_path):
    params_path, machine_path = study
    from pde_lib.sweep.results import refresh_results
    from pde_lib.sweep.run import prepare_sweep

    reference = tmp_path / "reference"  # uninterrupted, sequential, no Dask
    prepare_sweep(params_path, reference, machine_path, progress=False)
    for cell in expand_grid(load_params(params_path)):
        fake_runner(cell.id, str(reference))
    refresh_results(reference)

    out = tmp_path / "interrupted"
    script = (f"import sys; sys.path.insert(0, {str(TESTS)!r})\n"
              "from test_sweep import fake_runner\nfrom pde_lib.sweep import run_sweep\n"
              f"run_sweep({str(params_path)!r}, {str(out)!r}, machine={str(machine_path)!r}, "
              "runner=fake_runner, progress=False, reports=False)\n")
    env = {**os.environ, "PDE_TEST_FAKE_SLEEP": "0.25"}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        while time.time() < deadline and not list(out.glob("cells/*/DONE.json")):
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)  # the driver (and with it the scheduler) dies
        proc.wait()
        done_before = len(list(out.glob("cells/*/DONE.json")))
        assert done_before < len(expand_grid(load_params(params_path)))
        result = run_sweep(params_path, out, machine=machine_path, runner=fake_runner, progress=False,
                           reports=False)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # orphaned workers of the killed driver
        except ProcessLookupError:
            pass
    assert result.skipped >= done_before and not result.failed
    _check_results(out, _expected_rows(params_path))
    assert (out / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()


def test_failed_cell_is_reported_and_the_rest_goes_on(study, tmp_path):
    params_path, machine_path = study
    out = tmp_path / "failing"
    result = run_sweep(params_path, out, machine=machine_path, runner=failing_runner, progress=False, reports=False)
    assert list(result.failed) == ["fno2d__transfer__none__s1"]
    msg = result.failed["fno2d__transfer__none__s1"]
    assert "RuntimeError: boom in the pretext head" in msg
    assert str(out / "cells" / "fno2d__transfer__none__s1" / "experiment.ipynb") in msg
    assert len(result.completed) == 3 and "FAILED fno2d__transfer__none__s1" in result.format()
    df = _check_results(out, 3 * 4)
    assert "fno2d__transfer__none__s1" not in set(df.cell_id)


def test_changed_parameters_are_refused_for_an_existing_sweep(study, tmp_path):
    params_path, machine_path = study
    from pde_lib.sweep.run import prepare_sweep

    prepare_sweep(params_path, tmp_path / "s", machine_path, progress=False)
    other = tmp_path / "other.yaml"
    raw = json.loads(json.dumps(MICRO))
    raw["grid"]["seeds"] = [0, 1, 2]
    other.write_text(yaml.safe_dump(raw))
    with pytest.raises(Exception, match="different parameters"):
        prepare_sweep(other, tmp_path / "s", machine_path, progress=False)


# ---------------------------------------------------------------- end to end (real notebooks)
@pytest.mark.slow
def test_end_to_end_micro_sweep_with_notebooks_and_reports(study, tmp_path):
    params_path, machine_path = study
    raw = json.loads(json.dumps(MICRO))
    raw["grid"]["seeds"] = [0]
    raw["grid"]["augmentations"] = [[], ["shift", "noise"]]
    p = tmp_path / "micro1.yaml"
    p.write_text(yaml.safe_dump(raw))
    out = tmp_path / "e2e"
    result = run_sweep(p, out, machine=machine_path, progress=False)
    assert not result.failed, result.format()
    df = _check_results(out, 4 * 4)
    assert set(df.strategy) == {"none", "transfer"} and set(df.pde) == {"heat", "advection"}
    assert set(df.augmentation) == {"none", "shift+noise"}
    for cell in ("fno2d__none__none__s0", "fno2d__transfer__shift+noise__s0"):
        nb = out / "cells" / cell / "experiment.ipynb"
        assert nb.exists() and "4 fine-tunes done" in nb.read_text()
    for name in ("report_strategies", "report_augmentations", "report_data_scarcity", "report_distribution_shift"):
        html = out / "reports" / f"{name}.html"
        assert html.exists(), result.reports
        text = html.read_text()
        assert "Report:" in text and "16 fine-tunes from 4 cells" in text
        assert "def " not in text and "import " not in text  # code hidden from readers
        assert "<title>Report: " in text and "What this page shows" in text
        assert "baseline: copy last frame" in text
    findings = (out / "reports" / "report_findings.html").read_text()
    assert "Report: the paper&#x27;s four claims" in findings or "Report: the paper's four claims" in findings
    assert "claim 2: transfer learning and physics-based strategies do best" in findings
    per_sample = pd.read_csv(out / "per_sample.csv")  # every fine-tune's test samples, collected
    assert len(per_sample) == 16 and per_sample.groupby(["cell_id", "finetune_id"]).size().eq(1).all()
    assert "shift+noise" in (out / "reports" / "report_augmentations.html").read_text()
    # a second run does nothing new and rewrites the same results
    before = (out / "results.csv").read_bytes()
    again = run_sweep(p, out, machine=machine_path, progress=False, reports=False)
    assert again.skipped == 4 and (out / "results.csv").read_bytes() == before


@pytest.mark.slow
def test_report_join_renders_the_findings_of_two_runs_and_refuses_runs_trained_differently(study, tmp_path, capsys):
    """``pde_lib report DIR --join OTHER``: the findings report on both runs' fine-tunes, its header
    naming the joined folder; other reports cannot join; a run with other fine-tuning epochs is
    refused before a kernel starts (docs/pilot_history.md, "Laptop study")."""
    from pde_lib.cli.main import main

    params_path, machine_path = study
    runs = {}
    for name, seeds, epochs in (("a", [0], 1), ("b", [1], 1), ("c", [2], 2)):
        raw = json.loads(json.dumps(MICRO))
        raw["grid"]["seeds"], raw["finetune"]["epochs"] = seeds, epochs
        raw["finetune"]["samples"] = [2]
        p = tmp_path / f"{name}.yaml"
        p.write_text(yaml.safe_dump(raw))
        runs[name] = tmp_path / name
        result = run_sweep(p, runs[name], machine=machine_path, progress=False, reports=False)
        assert not result.failed, result.format()
    assert main(["report", str(runs["a"]), "--join", str(runs["b"])]) == 0
    html = (runs["a"] / "reports" / "report_findings.html").read_text()
    assert "joined with" in html and str(runs["b"]) in html and "8 in the sweep and the joined folders" in html
    assert not (runs["a"] / "reports" / "report_strategies.html").exists()  # --join renders the findings only
    capsys.readouterr()
    assert main(["report", str(runs["a"]), "--join", str(runs["b"]), "--only", "report_strategies"]) == 2
    assert "report_strategies cannot join" in capsys.readouterr().err
    before = html
    assert main(["report", str(runs["a"]), "--join", f"{runs['b']},{runs['c']}"]) == 2
    assert re.search(r"c cannot be joined .*finetune.epochs is 2 there and 1 here", capsys.readouterr().err)
    assert (runs["a"] / "reports" / "report_findings.html").read_text() == before  # nothing re-rendered


def test_stacked_finetunes_give_the_separate_runs_results(tmp_path):
    """A machine with stack_finetunes steps a cell's fine-tunes of one task and sample count
    together; the rows equal those of one-at-a-time fine-tuning, and a rerun resumes."""
    params = _micro(finetune={"epochs": 2})
    cell = find_cell(params, "fno2d__none__none__s0")
    rows = {}
    for stack in (1, 3):
        machine = validate_machine({"data_dir": str(tmp_path / "data"), "stack_finetunes": stack})
        rows[stack] = run_cell(cell, params, machine, tmp_path / f"cell{stack}")["finetunes"]
    assert [r["finetune_id"] for r in rows[1]] == [r["finetune_id"] for r in rows[3]]
    for a, b in zip(rows[1], rows[3]):
        assert b["best_epoch"] == a["best_epoch"]
        assert b["test_rel_l2"] == pytest.approx(a["test_rel_l2"], rel=1e-5)
    engines = {json.loads(p.read_text())["engine"]["stacked_runs"]
               for p in (tmp_path / "cell3" / "finetune").glob("*/metrics.json")}
    assert engines == {2}  # heat + advection per sample count


# ---------------------------------------------------------------- Dask: what a local cluster serves
def _listening(pids: set[int]):
    import psutil

    return [c.laddr for c in psutil.net_connections(kind="inet") if c.status == "LISTEN" and c.pid in pids]


def _http_status(port: int, path: str):
    import urllib.error
    import urllib.request

    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("dashboard", [False, True])
def test_local_cluster_listens_on_loopback_and_serves_a_dashboard_only_if_asked(dashboard):
    import psutil

    from pde_lib.sweep.cluster import connect_client

    machine = validate_machine({"n_workers": 1, "memory_limit": "2GB"})
    before = {a.port for a in _listening({os.getpid()})}
    client, cluster = connect_client(machine, None, None, dashboard=dashboard)
    try:
        workers = {p.pid for p in psutil.Process().children(recursive=True)}
        ours = [a for a in _listening({os.getpid()} | workers) if a.port not in before]
        assert ours and all(a.ip == "127.0.0.1" for a in ours), ours
        http = cluster.scheduler.http_server.port
        if dashboard:  # on 8787 unless another program holds it (Dask then picks a free port)
            assert cluster.scheduler.http_server.address == "127.0.0.1"
            assert _http_status(http, "/status") == 200
        else:
            assert 8787 not in {a.port for a in ours}
            for path in ("/status", "/health", "/metrics", "/info/main/workers.html"):
                assert _http_status(http, path) == 404, path
    finally:
        client.close()
        cluster.close()


def _worker_env(name):
    return os.environ.get(name)


def test_cell_kernels_do_not_inherit_the_dask_workers_malloc_trim_threshold(tmp_path):
    """A Dask nanny gives its workers MALLOC_TRIM_THRESHOLD_=65536, which made every training step
    fault its tensor pages in again (2.2x slower fine-tunes); the kernels the sweep starts on a
    worker must run with glibc's defaults."""
    import nbformat
    from distributed import Client, LocalCluster

    from pde_lib.sweep.notebooks import execute

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os\nprint('trim:', os.environ.get('MALLOC_TRIM_THRESHOLD_'))")]
    nb.metadata["kernelspec"] = {"name": "pde-lib", "display_name": "Python (pde_lib)", "language": "python"}
    template = tmp_path / "env.ipynb"
    nbformat.write(nb, str(template))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        assert client.submit(_worker_env, "MALLOC_TRIM_THRESHOLD_", pure=False).result() == "65536"
        out = client.submit(execute, template, tmp_path / "out.ipynb", {}, tmp_path, 120, pure=False).result()
    text = "".join(o.get("text", "") for o in nbformat.read(str(out), as_version=4).cells[-1].outputs)
    assert text.strip() == "trim: None"


def test_cell_cost_orders_the_laptop_study_longest_first():
    from pde_lib.sweep.cost import cell_cost, priorities

    params = load_params(ROOT / "parameters" / "laptop.yaml")
    cells = {c.id: c for c in expand_grid(params)}
    cost = {cid: cell_cost(params, c) for cid, c in cells.items()}
    # 13 fine-tunes (3 counts x 3 PDEs, OOD, Navier-Stokes at 4x the area) and a pretraining
    assert max(cost, key=cost.get).startswith("fno2d__transfer__none__")
    # no pretraining; 60 epochs x (train + 32 valid samples) of 9 ID, 3 OOD and 1 Navier-Stokes
    # fine-tune (4x the area, 16 valid samples)
    assert cost["fno2d__none__none__s0"] == 60 * ((10 + 32 + 100 + 3 * 32) * 3 + (32 + 32) * 3 + 4 * (32 + 16))
    # augmented pretraining (1.5x 576 trajectories) outranks a plain strategy cell, which outranks
    # an augmented cell without pretraining
    assert cost["fno2d__transfer__galilean__s0"] > cost["unet__jigsaw__none__s0"] > cost["fno2d__none__shift__s0"]
    rank = priorities(params, list(cells.values()))
    assert sorted(rank.values()) == list(range(len(cells)))
    assert rank["fno2d__transfer__galilean__s2"] > rank["unet__masked__none__s2"] > rank["fno2d__none__noise__s0"]
    assert rank["unet__binary__none__s0"] > rank["unet__binary__none__s1"]  # equal cost: grid order


def _recording_runner(cell_id, sweep_dir):
    with open(Path(sweep_dir) / "started.log", "a") as fh:
        fh.write(cell_id + "\n")
    return fake_runner(cell_id, sweep_dir)


def test_sweep_starts_its_most_expensive_cells_first(study, tmp_path):
    params_path, machine_path = study
    out = tmp_path / "ordered"
    result = run_sweep(params_path, out, machine=machine_path, runner=_recording_runner, progress=False,
                       reports=False, n_workers=1)
    assert not result.failed
    started = (out / "started.log").read_text().split()
    # transfer cells pretrain, so they cost more than the none cells of the same fine-tunes
    assert started == ["fno2d__transfer__none__s0", "fno2d__transfer__none__s1",
                       "fno2d__none__none__s0", "fno2d__none__none__s1"]
