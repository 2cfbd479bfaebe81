"""``kill -9`` in the middle of a fine-tune loses nothing: the run resumes from its last
checkpoint and finishes with the metrics of an uninterrupted run (bitwise, on CPU).

1. ``python -m pde_lib train`` as a subprocess, SIGKILLed right after its first checkpoint, then
   rerun with ``--resume``.
2. (slow) A sweep cell's notebook kernel, the process running the cell's fine-tunes, SIGKILLed
   mid fine-tune: ``execute_cell_notebook`` restarts the kernel and the cell resumes."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import yaml

from pde_lib.generation import GenerationParams, generate_dataset

#: one torch thread in every process, so CPU results are bitwise comparable
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
EPOCHS = 6
#: metrics that differ between two runs of the same settings (timings, where, how)
VOLATILE = ("wall_time_s", "wall_time_total_s", "environment")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    files = {}
    for split, n in (("train", 32), ("valid", 4), ("test", 4)):
        files[split] = str(root / f"{split}.h5")
        generate_dataset(GenerationParams(pdes=["heat"], split=split, distribution="id", samples_per_pde=n),
                         files[split], progress=False)
    return files


def train_cmd(data, out, *extra):
    return [sys.executable, "-m", "pde_lib", "train", "--model", "fno2d", "--train", data["train"],
            "--valid", data["valid"], "--test", data["test"], "--epochs", str(EPOCHS), "--batch-size", "4",
            "--seed", "5", "--model-kwargs", '{"width": 8, "modes": 4, "n_layers": 2, "projection_width": 8}',
            "--out", str(out), *extra]


def comparable(metrics: dict) -> dict:
    m = {k: v for k, v in metrics.items() if k not in VOLATILE}
    m["params"] = {k: v for k, v in m["params"].items() if k not in ("out", "resume", "progress")}
    return m


def kill_after_first_checkpoint(cmd, out: Path) -> None:
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while not (out / "checkpoint.pt").exists():
            assert proc.poll() is None, "the run ended before its first checkpoint"
            assert time.time() < deadline, "no checkpoint within 300 s"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "metrics.json").exists(), "the kill came after the run had finished"


def test_train_killed_after_first_checkpoint_resumes_to_identical_metrics(data, tmp_path):
    full, cut = tmp_path / "full", tmp_path / "cut"
    subprocess.run(train_cmd(data, full, "--no-progress"), env=ENV, check=True, capture_output=True)
    kill_after_first_checkpoint(train_cmd(data, cut, "--no-progress"), cut)

    # resumed with its progress bar on: the bar starts at the checkpoint's epoch, not at 0
    res = subprocess.run(train_cmd(data, cut, "--resume"), env=ENV, check=True, capture_output=True, text=True)
    first = re.search(rf"\| *(\d+)/{EPOCHS} \[", res.stderr)
    assert first and 1 <= int(first.group(1)) < EPOCHS, res.stderr[-2000:]

    a = json.loads((full / "metrics.json").read_text())
    b = json.loads((cut / "metrics.json").read_text())
    assert len(b["train_loss"]) == EPOCHS
    assert comparable(a) == comparable(b)  # every metric, loss curve and best epoch, bit for bit


# ------------------------------------------------------------------------------------ sweep cell
CELL_STUDY = {
    "name": "killcell",
    "data": {"seed": 0, "pretrain_samples": 2, "samples": {"train": 16, "valid": 2, "test": 2},
             "distributions": ["id"], "navier_stokes": {"enabled": False}},
    "pretrain": {"epochs": 1, "batch_size": 4},
    "finetune": {"epochs": 8, "batch_size": 2, "samples": [16], "pdes": ["heat", "advection"],
                 "distributions": ["id"], "navier_stokes": False, "resume": True},
    "grid": {"models": {"fno2d": {"width": 8, "modes": 4, "n_layers": 2, "projection_width": 8}},
             "strategies": ["none"], "augmentations": [[]], "seeds": [0]},
}


def _kernels() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True)
            if "ipykernel_launcher" in " ".join(p.cmdline())]


@pytest.mark.slow
def test_killed_cell_kernel_restarts_and_resumes_to_identical_results(tmp_path):
    from pde_lib.params import load_params
    from pde_lib.sweep import expand_grid, finetunes
    from pde_lib.sweep.run import execute_cell_notebook, prepare_sweep

    params_path = tmp_path / "killcell.yaml"
    params_path.write_text(yaml.safe_dump(CELL_STUDY))
    machine = tmp_path / "machine.yaml"
    machine.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "torch_threads": 1}))
    cell = expand_grid(load_params(params_path))[0].id
    first = finetunes(load_params(params_path))[0].id

    reference = tmp_path / "reference"
    prepare_sweep(params_path, reference, machine, progress=False)
    assert execute_cell_notebook(cell, str(reference))["kernel_restarts"] == 0

    out = tmp_path / "killed"
    prepare_sweep(params_path, out, machine, progress=False)
    killed = []

    ckpt = out / "cells" / cell / "finetune" / first / "checkpoint.pt"

    def kill_kernel():  # SIGKILL the kernel as soon as the first fine-tune has a checkpoint
        deadline = time.time() + 300
        while time.time() < deadline and not ckpt.exists():
            time.sleep(0.005)
        kernels = _kernels()
        if ckpt.exists() and kernels and not (ckpt.parent / "metrics.json").exists():
            for k in kernels:
                k.send_signal(signal.SIGKILL)
            killed.append(time.time())

    thread = threading.Thread(target=kill_kernel, daemon=True)
    thread.start()
    result = execute_cell_notebook(cell, str(out))
    thread.join()
    assert killed, "the kernel was not killed mid fine-tune"
    assert result["kernel_restarts"] == 1

    done_ref = json.loads((reference / "cells" / cell / "DONE.json").read_text())
    done = json.loads((out / "cells" / cell / "DONE.json").read_text())
    assert done["finetunes"] == done_ref["finetunes"]  # every row's metrics, bit for bit
    for ft in finetunes(load_params(params_path)):
        a = json.loads((reference / "cells" / cell / "finetune" / ft.id / "metrics.json").read_text())
        b = json.loads((out / "cells" / cell / "finetune" / ft.id / "metrics.json").read_text())
        assert comparable(a) == comparable(b)
