"""Bad and hostile input (issue 15, files half): each case feeds one bad input to a command and
asserts the exit code, a one-line message naming the problem, and that no output file changed or
appeared. Cases: a crafted pickle checkpoint (train --init, train --resume, a sweep cell reusing a
finished pretraining), NaN in nu, Inf in a frame of u, zeroed bytes inside u (checksum), wrong
shape, wrong dtype, wrong layout version, and a loss that goes non-finite mid-training (single
runs, stacked runs, pretraining)."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

torch.set_num_threads(1)

from pde_lib.cli import main as cli_main  # noqa: E402
from pde_lib.data import load_dataset  # noqa: E402
from pde_lib.generation import GenerationParams, generate_dataset
from pde_lib.errors import DataError, TrainingError  # noqa: E402
from pde_lib.engine import checkpoint  # noqa: E402

TINY = {"width": 4, "modes": 2, "n_layers": 1, "projection_width": 4}


# ---------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Heat train (4), valid (2) and test (2) files, written by the generator (with checksums)."""
    d = tmp_path_factory.mktemp("bad_input_data")
    files = {}
    for split, n in (("train", 4), ("valid", 2), ("test", 2)):
        files[split] = d / f"{split}.h5"
        generate_dataset(GenerationParams(pdes=["heat"], split=split, distribution="id", samples_per_pde=n),
                         files[split], progress=False)
    return files


def train_args(data, out, **over) -> list[str]:
    args = {"model": "fno2d", "model-kwargs": json.dumps(TINY), "train": data["train"], "valid": data["valid"],
            "test": data["test"], "epochs": 1, "batch-size": 2, "out": out, **over}
    return ["train", "--no-progress"] + [a for k, v in args.items() for a in (f"--{k}", str(v))]


def pretrain_args(file, out, **over) -> list[str]:
    args = {"strategy": "coefficient", "model": "fno2d", "model-kwargs": json.dumps(TINY), "data": file,
            "epochs": 1, "batch-size": 2, "holdout": 0, "out": out, **over}
    return ["pretrain", "--no-progress"] + [a for k, v in args.items() for a in (f"--{k}", str(v))]


def run_cli(args, capsys) -> tuple[int, str]:
    """Run ``python -m pde_lib ARGS`` in-process; return (exit code, stderr). Asserts stdout is
    empty and stderr is exactly one line."""
    capsys.readouterr()
    code = cli_main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    return code, err.strip()


def snapshot(folder: Path) -> dict[str, str]:
    """relative path -> SHA-256 of every file under ``folder``."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


class Payload:
    """Unpickling this creates ``marker`` (a stand-in for any shell command)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def crafted_checkpoint(path: Path, marker: Path) -> None:
    """A torch.save file that looks like a backbone / training checkpoint and runs a command on
    an unsafe load."""
    torch.save({"format": checkpoint.TRAINING_STATE_FORMAT, "model": "fno2d", "config": {},
                "state_dict": {}, "payload": Payload(marker)}, path)


def test_crafted_payload_runs_under_an_unsafe_load(tmp_path):
    """The payload is live: plain unpickling runs it (so the tests below can fail)."""
    marker = tmp_path / "marker"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


# ---------------------------------------------------------------- crafted checkpoints
def test_crafted_checkpoint_as_train_init_runs_nothing(data, tmp_path, capsys):
    marker, evil = tmp_path / "marker", tmp_path / "pretrained.pt"
    crafted_checkpoint(evil, marker)
    before = snapshot(tmp_path)
    code, err = run_cli(train_args(data, tmp_path / "out", init=evil), capsys)
    assert code == 2
    assert err.startswith(f"error: backbone checkpoint {evil} holds Python objects that a safe load refuses")
    assert "posix.system" in err
    assert not marker.exists()
    assert snapshot(tmp_path) == before  # no out folder, nothing written


def test_crafted_checkpoint_in_a_separate_process(data, tmp_path):
    """The same through ``python -m pde_lib`` as a user runs it: exit code 2, one line."""
    marker, evil = tmp_path / "marker", tmp_path / "pretrained.pt"
    crafted_checkpoint(evil, marker)
    before = snapshot(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "pde_lib", *train_args(data, tmp_path / "out", init=evil)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "holds Python objects that a safe load refuses (posix.system)" in proc.stderr
    assert not marker.exists() and snapshot(tmp_path) == before


def test_crafted_checkpoint_as_train_resume_runs_nothing(data, tmp_path, capsys):
    marker, out = tmp_path / "marker", tmp_path / "out"
    out.mkdir()
    crafted_checkpoint(out / "checkpoint.pt", marker)
    before = snapshot(tmp_path)
    code, err = run_cli(train_args(data, out) + ["--resume"], capsys)
    assert code == 2
    assert err.startswith(f"error: training checkpoint {out / 'checkpoint.pt'} holds Python objects")
    assert not marker.exists()
    assert snapshot(tmp_path) == before  # checkpoint untouched, no metrics.json / model.pt


def test_crafted_backbone_of_a_finished_pretraining_runs_nothing(tmp_path):
    """A sweep cell resuming after its pretraining (PRETRAINED.json present) fine-tunes from
    pretrain/backbone.pt: a crafted file there is refused before anything runs."""
    from pde_lib.params import validate_machine, validate_params
    from pde_lib.sweep import DONE, find_cell, run_cell

    params = validate_params({
        "name": "micro",
        "data": {"seed": 0, "pretrain_samples": 2, "samples": {"train": 2, "valid": 1, "test": 1},
                 "distributions": ["id"], "solver": {"burgers": {"refine": 1}},
                 "navier_stokes": {"enabled": False}},
        "pretrain": {"epochs": 1, "batch_size": 4},
        "finetune": {"epochs": 1, "batch_size": 2, "samples": [1], "pdes": ["heat"], "distributions": ["id"],
                     "navier_stokes": False},
        "grid": {"models": {"fno2d": TINY}, "strategies": ["transfer"], "augmentations": [[]], "seeds": [0]},
    }, "micro")
    cell = find_cell(params, "fno2d__transfer__none__s0")
    cell_dir, marker = tmp_path / "cell", tmp_path / "marker"
    (cell_dir / "pretrain").mkdir(parents=True)
    crafted_checkpoint(cell_dir / "pretrain" / "backbone.pt", marker)
    (cell_dir / "pretrain" / "PRETRAINED.json").write_text("{}")
    with pytest.raises(DataError) as info:
        run_cell(cell, params, validate_machine({"data_dir": str(tmp_path / "data")}), cell_dir, progress=False)
    assert len(str(info.value).splitlines()) == 1
    assert "holds Python objects that a safe load refuses (posix.system)" in str(info.value)
    assert not marker.exists()
    assert not (cell_dir / DONE).exists()
    assert not list(cell_dir.rglob("metrics.json")) and not list(cell_dir.rglob("model.pt"))


# ---------------------------------------------------------------- data files
def corrupt_copy(src: Path, dst: Path, edit) -> Path:
    """Copy ``src`` to ``dst`` and apply ``edit(dst)`` (checksums left as they were)."""
    shutil.copyfile(src, dst)
    edit(dst)
    return dst


def set_value(key, index, value):
    def edit(path):
        with h5py.File(path, "r+") as fh:
            fh["train"][key][index] = value
    return edit


def replace_dataset(key, values):
    def edit(path):
        with h5py.File(path, "r+") as fh:
            old = fh["train"][key]
            new, attrs = values(old[()]), dict(old.attrs)
            del fh["train"][key]
            fh["train"][key] = new
            fh["train"][key].attrs.update(attrs)
    return edit


def zero_bytes_inside_u(path):
    """Zero 1 KiB in the middle of sample 1's frames, in the file's raw bytes (as a disk or a
    transfer might), leaving every value finite."""
    with h5py.File(path, "r") as fh:
        info = fh["train"]["u"].id.get_chunk_info_by_coord((1, 0, 0, 0))
    with open(path, "r+b") as raw:
        raw.seek(info.byte_offset + info.size // 2)
        raw.write(b"\0" * 1024)


def set_version(path):
    with h5py.File(path, "r+") as fh:
        fh.attrs["generator_version"] = "pde_lib-data-99"


BAD_FILES = {
    # case: (edit, expected message after "error: <file>: ")
    "nan_in_nu": (set_value("nu", 1, np.nan), "train/nu of sample 1 is nan; expected a finite number"),
    "inf_in_a_frame_of_u": (set_value("u", (2, 5), np.inf),
                            "u of sample 2 contains NaN or infinite values (first in frame 5)"),
    "zeroed_bytes_in_u": (zero_bytes_inside_u, "dataset train/u does not match its stored SHA-256 checksum"),
    "wrong_shape": (replace_dataset("nu", lambda nu: np.ones(len(nu) + 1, np.float32)),
                    "train/nu has shape (5,); expected (4,) (one value per sample of u)"),
    "wrong_dtype": (replace_dataset("u", lambda u: u.astype(np.float64)),
                    "train/u has dtype float64; the layout stores float32"),
    "wrong_layout_version": (set_version, "layout version 'pde_lib-data-99' is not one this pde_lib reads"),
}


@pytest.mark.parametrize("command", ["train", "pretrain"])
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_data_file_is_refused_in_one_line(data, tmp_path, capsys, case, command):
    edit, expected = BAD_FILES[case]
    bad = corrupt_copy(data["train"], tmp_path / "bad.h5", edit)
    before = snapshot(tmp_path)
    out = tmp_path / "out"
    args = train_args({**data, "train": bad}, out) if command == "train" else pretrain_args(bad, out)
    code, err = run_cli(args, capsys)
    assert code == 2
    assert err.startswith(f"error: {bad}: {expected}")
    assert snapshot(tmp_path) == before and not out.exists()


def test_zeroed_bytes_are_invisible_without_the_checksum(data, tmp_path):
    """What the checksum adds: the zeroed file passes every other check."""
    bad = corrupt_copy(data["train"], tmp_path / "bad.h5", zero_bytes_inside_u)
    ds = load_dataset(bad, verify_checksums=False)
    assert torch.equal(ds.u[0], load_dataset(data["train"]).u[0])
    assert not torch.equal(ds.u[1], load_dataset(data["train"]).u[1])
    with pytest.raises(DataError, match="train/u does not match its stored SHA-256"):
        load_dataset(bad, n=1)  # even when only an intact sample is read


# ---------------------------------------------------------------- non-finite loss
def nan_after(fn, calls: int, on_first=None):
    """``fn`` whose result is NaN from call ``calls`` + 1 on (``on_first()`` runs once then)."""
    count = [0]

    def wrapped(*args, **kwargs):
        out = fn(*args, **kwargs)
        count[0] += 1
        if count[0] > calls:
            if count[0] == calls + 1 and on_first is not None:
                on_first()
            return out * float("nan")
        return out
    return wrapped


def test_nonfinite_loss_mid_training_keeps_the_last_good_checkpoint(data, tmp_path, capsys, monkeypatch):
    import pde_lib.training.trainer as trainer

    out = tmp_path / "out"
    seen = {}
    # 4 samples, batch 2: two steps per epoch; the loss is NaN from epoch 2 on
    monkeypatch.setattr(trainer, "relative_l2", nan_after(trainer.relative_l2, 2,
                                                          on_first=lambda: seen.update(snapshot(tmp_path))))
    code, err = run_cli(train_args(data, out, epochs=3), capsys)
    assert code == 2
    assert err == (f"error: training fno2d/fixed_future into {out}: training diverged in epoch 2 (the training "
                   f"loss is nan); stopped without writing results; the last good checkpoint "
                   f"{out / 'checkpoint.pt'} (epoch 1) is kept. Lower the learning rate or check the data")
    assert set(seen) == {"out/checkpoint.pt"}
    assert snapshot(tmp_path) == seen  # epoch 1's checkpoint unchanged; no model.pt, metrics.json
    assert torch.load(out / "checkpoint.pt", weights_only=True)["epoch"] == 1


def test_nonfinite_loss_stops_stacked_runs(data, tmp_path, monkeypatch):
    import pde_lib.training.stacked_data as stacked_data
    from pde_lib.training.group import run_training_group

    def second_run_nan(pred, target):  # (K * B,) errors; run 1 (second half) NaN from epoch 2 on
        err = real(pred, target)
        calls[0] += 1
        if calls[0] > 2:
            err = torch.cat([err[:len(err) // 2], err[len(err) // 2:] * float("nan")])
        return err

    real, calls = stacked_data.relative_l2, [0]
    monkeypatch.setattr(stacked_data, "relative_l2", second_run_nan)
    outs = [tmp_path / "a", tmp_path / "b"]
    configs = [dict(model="fno2d", model_kwargs=TINY, train=str(data["train"]), valid=str(data["valid"]),
                    test=str(data["test"]), epochs=3, batch_size=2, seed=s, out=str(o), progress=False)
               for s, o in enumerate(outs)]
    with pytest.raises(TrainingError) as info:
        run_training_group(configs)
    message = str(info.value)
    assert len(message.splitlines()) == 1
    assert message.startswith(f"training fno2d/fixed_future into {outs[1]}: training diverged in epoch 2")
    assert sorted(snapshot(tmp_path)) == ["a/checkpoint.pt", "b/checkpoint.pt"]
    for o in outs:
        assert torch.load(o / "checkpoint.pt", weights_only=True)["epoch"] == 1


def test_nonfinite_pretext_loss_stops_pretraining(data, tmp_path, capsys, monkeypatch):
    from pde_lib.pretraining import STRATEGIES

    cls = STRATEGIES.get("coefficient")
    real = cls.loss

    def loss(self, *args, **kwargs):
        value, stats = real(self, *args, **kwargs)
        calls[0] += 1
        return (value * float("nan") if calls[0] > 2 else value), stats

    calls = [0]
    monkeypatch.setattr(cls, "loss", loss)
    out = tmp_path / "out"
    code, err = run_cli(pretrain_args(data["train"], out, epochs=3), capsys)
    assert code == 2
    assert err == ("error: pretraining fno2d/coefficient: training diverged in epoch 2 (the training loss is "
                   "nan); stopped without writing results; pretraining keeps no checkpoint, so nothing was "
                   "written. Lower the learning rate or check the data")
    assert snapshot(tmp_path) == {}


def test_a_diverging_learning_rate_stops_training(data, tmp_path, capsys):
    """A real divergence (no stand-in): lr 1e10 sends the loss to NaN in the first epoch."""
    out = tmp_path / "out"
    code, err = run_cli(train_args(data, out, epochs=3, lr=1e10), capsys)
    assert code == 2
    assert err.startswith(f"error: training fno2d/fixed_future into {out}: training diverged in epoch 1")
    assert err.endswith("no checkpoint had been written yet. Lower the learning rate or check the data")
    assert snapshot(tmp_path) == {}


def test_nonfinite_weights_with_a_finite_loss_are_caught():
    from pde_lib.utils.divergence import check_epoch, finite_weights

    weights = [torch.ones(3, 4), torch.ones(3)]
    weights[0][1, 2] = float("inf")
    assert finite_weights(weights, runs=3) == [True, False, True]  # stacked: one flag per run
    assert finite_weights(weights) == [False]
    check_epoch(0.5, True, what="run", epoch=4, kept="kept")
    with pytest.raises(TrainingError, match=r"^run: training diverged in epoch 4 \(the weights became NaN"):
        check_epoch(0.5, False, what="run", epoch=4, kept="kept")
