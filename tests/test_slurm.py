"""The Slurm path of a sweep (dask-jobqueue's SLURMCluster; docs/slurm.md).

1. Without Slurm: the SLURMCluster options and the job script a profile gives (one worker
   process per job, ``--cpus-per-task`` from ``torch_threads``, GPU resources advertised where
   cells ask for them, ``$USER`` expanded in folders).
2. (marked ``slurm``) Against a real single-node Slurm started by ``scripts/slurm_local.sh``
   (needs root and apt-get; skipped with the reason otherwise, but under CI=true a Slurm that
   does not come up is a failure): ``python -m pde_lib sweep`` with the CPU Slurm profile runs a
   micro study in Slurm jobs; one job is ``scancel``-ed while it runs a cell; the sweep still
   completes, a replacement job is submitted, and ``results.csv`` equals the local cluster's
   byte for byte."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from pde_lib.errors import ConfigError
from pde_lib.params import load_machine, validate_machine

ROOT = Path(__file__).resolve().parents[1]
SLURM_CPU = ROOT / "parameters" / "machines" / "slurm_cpu.yaml"
SLURM_GPU = ROOT / "parameters" / "machines" / "slurm.yaml"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}

#: 8 cells (2 strategies x 4 seeds) of 4 fine-tunes each, a few seconds per cell: enough work left
#: after the scancel for the cluster to drop the lost job (distributed's lost-worker timeout, 15 s)
#: and keep_jobs to replace it (with 4 cells a fast machine finished before the job was dropped)
MICRO = {
    "name": "micro_slurm",
    "data": {"seed": 0, "pretrain_samples": 2, "samples": {"train": 2, "valid": 1, "test": 1},
             "distributions": ["id"], "solver": {"burgers": {"refine": 1}}, "navier_stokes": {"enabled": False}},
    "pretrain": {"epochs": 1, "batch_size": 4},
    "finetune": {"epochs": 1, "batch_size": 2, "samples": [1, 2], "pdes": ["heat", "advection"],
                 "distributions": ["id"], "navier_stokes": False},
    "grid": {"models": {"fno2d": {"width": 4, "modes": 2, "n_layers": 1, "projection_width": 4}},
             "strategies": ["none", "transfer"], "augmentations": [[]], "seeds": [0, 1, 2, 3]},
}


# ---------------------------------------------------------------- options and job script (no Slurm)
def _job_script(machine) -> str:
    pytest.importorskip("dask_jobqueue")
    from dask_jobqueue.slurm import SLURMJob

    from pde_lib.sweep.cluster import slurm_options

    opts = slurm_options(machine)
    for key in ("security", "shared_temp_directory", "scheduler_options"):  # the cluster's, not a job's
        opts.pop(key, None)
    return SLURMJob(scheduler="tcp://10.0.0.1:8786", name="w0", **opts).job_script()


def test_gpu_profile_job_script_asks_one_gpu_and_advertises_it_to_dask(tmp_path, monkeypatch):
    monkeypatch.setenv("USER", "alice")
    monkeypatch.setenv("HOME", str(tmp_path))
    raw = yaml.safe_load(SLURM_GPU.read_text())
    raw["cluster"]["options"]["log_directory"] = str(tmp_path / "$USER" / "logs")
    script = _job_script(validate_machine(raw, str(SLURM_GPU)))
    assert "#SBATCH --gres=gpu:1" in script
    assert "#SBATCH --cpus-per-task=4" in script  # torch_threads of the one cell the job runs
    assert "--nthreads 1" in script and "--nworkers" not in script  # one worker, one cell at a time
    assert "--resources GPU=1" in script  # cells are submitted with resources={"GPU": 1}
    assert f"{tmp_path}/alice/logs/" in script and (tmp_path / "alice" / "logs").is_dir()
    assert sys.executable in script  # the job runs the sweep's own interpreter


def test_cpu_profile_job_script_and_missing_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the profile's log folder is relative: created here
    machine = load_machine(SLURM_CPU)
    script = _job_script(machine)
    assert "--gres" not in script and "--resources" not in script
    assert "#SBATCH --cpus-per-task=1" in script and "#SBATCH --mem=" in script
    assert "#SBATCH -J pde-worker" in script
    assert f"#SBATCH -o {tmp_path}/outputs/slurm_logs/" in script and (tmp_path / "outputs" / "slurm_logs").is_dir()
    raw = yaml.safe_load(SLURM_CPU.read_text())
    raw["memory_limit"] = "auto"
    del raw["cluster"]["options"]["memory"]
    from pde_lib.sweep.cluster import slurm_options

    with pytest.raises(ConfigError, match="cluster.options.memory"):
        slurm_options(validate_machine(raw, "prof.yaml"))


def test_unset_variable_in_data_dir_is_a_clear_error(tmp_path, monkeypatch):
    from pde_lib.sweep.run import resolve_sweep

    params = tmp_path / "micro.yaml"
    params.write_text(yaml.safe_dump(MICRO))
    monkeypatch.setenv("PDE_TEST_SCRATCH", str(tmp_path / "scratch"))
    machine = validate_machine({"data_dir": "$PDE_TEST_SCRATCH/data"}, "m.yaml")
    assert resolve_sweep(params, tmp_path / "out", machine)[1].data_dir == str(tmp_path / "scratch" / "data")
    monkeypatch.delenv("PDE_TEST_SCRATCH")
    with pytest.raises(ConfigError, match=r"m.yaml: data_dir: '\$PDE_TEST_SCRATCH/data' names an environment"):
        resolve_sweep(params, tmp_path / "out", machine)


# ---------------------------------------------------------------- a real Slurm
def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the Slurm test: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def slurm():
    """A running single-node Slurm (started by scripts/slurm_local.sh, stopped again if this
    fixture started it)."""
    if os.geteuid() != 0:
        _unavailable("the Slurm test starts slurmctld/slurmd: needs root")
    if not shutil.which("sinfo") and not shutil.which("apt-get"):
        _unavailable("no Slurm installed and no apt-get to install it")
    try:
        import dask_jobqueue  # noqa: F401
    except ImportError:
        _unavailable("dask-jobqueue missing (pip install -e '.[dev]')")
    was_up = shutil.which("sinfo") and subprocess.run(["sinfo", "-h"], capture_output=True).returncode == 0
    start = subprocess.run(["bash", str(ROOT / "scripts" / "slurm_local.sh"), "start"], capture_output=True, text=True)
    if start.returncode != 0:
        _unavailable(f"single-node Slurm did not start: {(start.stderr.strip().splitlines() or ['?'])[-1]}")
    print(start.stdout)
    yield
    if not was_up:
        subprocess.run(["bash", str(ROOT / "scripts" / "slurm_local.sh"), "stop"], check=False)


def _sweep(params: Path, out: Path, machine: Path, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pde_lib", "sweep", str(params), "--out", str(out), "--machine",
                             str(machine), "--no-reports", "--no-progress"], cwd=cwd, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _job_of_running_cell(out: Path):
    """(cell id, Slurm job id) of a cell whose notebook kernel runs now, or None."""
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "ipykernel_launcher" not in " ".join(proc.info["cmdline"] or []):
                continue
            cwd = Path(proc.cwd())
            if cwd.parent == out / "cells" and not (cwd / "DONE.json").exists():
                return cwd.name, proc.environ()["SLURM_JOB_ID"]
        except (psutil.Error, KeyError):
            continue
    return None


def _squeue(name: str) -> str:
    return subprocess.run(["squeue", "-n", name, "-o", "%.6i %.10j %.2t %.8M %R"], capture_output=True,
                          text=True).stdout


@pytest.mark.slurm
@pytest.mark.slow
def test_sweep_through_slurm_survives_a_cancelled_job_and_equals_the_local_run(slurm, tmp_path):
    params = tmp_path / "micro.yaml"
    params.write_text(yaml.safe_dump(MICRO))
    local = tmp_path / "local.yaml"
    local.write_text(yaml.safe_dump({"n_workers": 2, "memory_limit": "4GB"}))
    reference = _sweep(params, tmp_path / "local_run", local, tmp_path)
    assert reference.wait(timeout=300) == 0, reference.stdout.read()

    raw = yaml.safe_load(SLURM_CPU.read_text())
    raw["cluster"]["options"]["job_name"] = job_name = f"pde-test-{os.getpid()}"
    machine = tmp_path / "slurm_cpu.yaml"
    machine.write_text(yaml.safe_dump(raw))
    out = tmp_path / "slurm_run"
    proc = _sweep(params, out, machine, tmp_path)
    cancelled = None
    try:
        deadline = time.time() + 240
        while cancelled is None and time.time() < deadline and proc.poll() is None:
            cancelled = _job_of_running_cell(out)
            time.sleep(0.2)
        assert cancelled, "no cell was seen running in a Slurm job"
        queue_before = _squeue(job_name)
        sinfo = subprocess.run(["sinfo"], capture_output=True, text=True).stdout
        print(f"sinfo and squeue while cell {cancelled[0]} runs in job {cancelled[1]}:\n{sinfo}{queue_before}")
        subprocess.run(["scancel", cancelled[1]], check=True)
        assert not (out / "cells" / cancelled[0] / "DONE.json").exists(), "the cell finished before the scancel"
        log, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            subprocess.run(["scancel", "-n", job_name], check=False)
    print(log)
    assert proc.returncode == 0, log
    assert "8 cells (0 already done, 8 run, 0 failed)" in log
    assert "worker job(s) lost" in log and "submitting a replacement" in log
    # the jobs this sweep submitted: the two first, the cancelled one among them, and a replacement
    jobs = [int(j) for j in queue_before.split() if j.isdigit()]
    assert int(cancelled[1]) in jobs
    acct = subprocess.run(["scontrol", "show", "job"], capture_output=True, text=True).stdout
    states = {int(b.split("JobId=")[1].split()[0]): b.split("JobState=")[1].split()[0]
              for b in acct.split("\n\n") if f"JobName={job_name}" in b}
    print(f"the sweep's Slurm jobs: {states}")
    assert states.get(int(cancelled[1])) == "CANCELLED", acct
    assert len(states) >= 3 and max(states) > int(cancelled[1]), acct  # a replacement was submitted
    replacement = tmp_path / "outputs" / "slurm_logs" / f"{job_name}-{max(states)}.err"
    assert "Registered to:" in replacement.read_text()  # ... and its worker joined the sweep
    # nothing lost, nothing different: the local cluster's results, byte for byte
    assert (out / "results.csv").read_bytes() == (tmp_path / "local_run" / "results.csv").read_bytes()
    assert all((out / "cells" / c / "DONE.json").exists() for c in os.listdir(out / "cells"))
    deadline = time.time() + 60  # the sweep cancelled its jobs when it ended
    while _squeue(job_name).strip().count("\n") and time.time() < deadline:
        time.sleep(1)
    assert _squeue(job_name).strip().count("\n") == 0, _squeue(job_name)
