"""Bad command-line input runs nothing, loses nothing and says so in one line (issue 15, the
command-line half). Each case feeds one bad input to ``python -m pde_lib`` (in-process, through
``pde_lib.cli.main``) and asserts the exit code 2, the one-line ``error: ...`` message and that
no file under the test folder changed, appeared or disappeared."""

import hashlib
import os
import time
from pathlib import Path

import pytest
import torch

from pde_lib.cli import main as cli_main
from pde_lib.generation import GenerationParams, generate_dataset

TINY = '{"width": 4, "modes": 2, "n_layers": 1, "projection_width": 4}'
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Tiny heat train / valid / test files."""
    root = tmp_path_factory.mktemp("data")
    files = {}
    for split in ("train", "valid", "test"):
        files[split] = str(root / f"{split}.h5")
        generate_dataset(GenerationParams(pdes=["heat"], split=split, distribution="id", samples_per_pde=4),
                         files[split], progress=False)
    return files


def snapshot(root: Path) -> dict:
    """Every file under ``root`` (symlinks as their target) -> (size, SHA-256, mtime)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_symlink():
            out[str(p.relative_to(root))] = ("->", os.readlink(p))
        elif p.is_file():
            st = p.stat()
            out[str(p.relative_to(root))] = (st.st_size, hashlib.sha256(p.read_bytes()).hexdigest(), st.st_mtime_ns)
    return out


def refused(capsys, root: Path, args: list[str], *expected: str) -> str:
    """Run the command; assert exit code 2, one line ``error: ...`` holding every ``expected``
    text, and no file under ``root`` changed. Returns the message."""
    capsys.readouterr()
    before = snapshot(root)
    assert cli_main(args) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for text in expected:
        assert text in lines[0], lines[0]
    assert snapshot(root) == before
    return lines[0]


def gen_args(out, *extra):
    return ["generate", "--pdes", "heat", "--split", "test", "--samples-per-pde", "2", "--no-progress",
            "--out", str(out), *extra]


def train_args(data, out, *extra):
    return ["train", "--model", "fno2d", "--train", data["train"], "--valid", data["valid"], "--test", data["test"],
            "--samples", "2", "--epochs", "1", "--batch-size", "2", "--model-kwargs", TINY, "--no-progress",
            "--out", str(out), *extra]


def pretrain_args(data, out, *extra):
    return ["pretrain", "--strategy", "coefficient", "--model", "fno2d", "--data", data["train"], "--epochs", "1",
            "--batch-size", "2", "--model-kwargs", TINY, "--no-progress", "--out", str(out), *extra]


def aug_args(inp, out, *extra):
    return ["augment", "--in", str(inp), "--out", str(out), "--augmentation", "shift", "--no-progress", *extra]


# ------------------------------------------------------------------------------------ generate
@pytest.mark.parametrize("value", ["0", "-4", "100000"])
def test_generate_resolution_out_of_range(capsys, tmp_path, value):
    refused(capsys, tmp_path, gen_args(tmp_path / "o.h5", "--resolution", value),
            "resolution must be an integer in [8, 1024]", f"got {value}")


@pytest.mark.parametrize("value", ["0", "-1"])
def test_generate_chunk_size_not_positive(capsys, tmp_path, value):
    # -1 used to leave a complete-looking .h5 of zeros behind
    refused(capsys, tmp_path, gen_args(tmp_path / "o.h5", "--chunk-size", value), "chunk_size must be an integer >= 1")


@pytest.mark.parametrize("value", ["0", "-3"])
def test_generate_samples_per_pde_not_positive(capsys, tmp_path, value):
    args = gen_args(tmp_path / "o.h5")
    args[args.index("--samples-per-pde") + 1] = value
    refused(capsys, tmp_path, args, "samples_per_pde must be an integer >= 1")


def test_generate_chunk_larger_than_memory(capsys, tmp_path):
    refused(capsys, tmp_path, gen_args(tmp_path / "o.h5", "--resolution", "1024", "--chunk-size", "100000",
                                       "--samples-per-pde", "100000"), "GiB available", "lower chunk_size")


def test_generate_unknown_pde(capsys, tmp_path):
    args = gen_args(tmp_path / "o.h5")
    args[args.index("--pdes") + 1] = "heat,heet"
    refused(capsys, tmp_path, args, "unknown PDE 'heet'", "valid PDE names")


@NO_CUDA
@pytest.mark.parametrize("device", ["cuda", "cuda:3"])
def test_generate_device_not_present(capsys, tmp_path, device):
    refused(capsys, tmp_path, gen_args(tmp_path / "o.h5", "--device", device), f"device '{device}'",
            "CUDA is not available")


def test_generate_existing_output_needs_overwrite(capsys, tmp_path):
    out = tmp_path / "o.h5"
    out.write_bytes(b"an existing file the user cares about")
    refused(capsys, tmp_path, gen_args(out), f"--out {out} already exists", "--overwrite")
    assert cli_main(gen_args(out, "--overwrite")) == 0
    assert out.read_bytes()[:4] == b"\x89HDF" and sorted(p.name for p in tmp_path.iterdir()) == ["o.h5"]


def test_generate_output_is_a_folder(capsys, tmp_path):
    (tmp_path / "d").mkdir()
    refused(capsys, tmp_path, gen_args(tmp_path / "d"), "is a directory")


# ------------------------------------------------------------------------------------ augment
def _input_copy(data, tmp_path) -> Path:
    inp = tmp_path / "in.h5"
    inp.write_bytes(Path(data["train"]).read_bytes())
    return inp


@pytest.mark.parametrize("spelling", ["same", "dot", "parent", "symlink", "hardlink"])
def test_augment_output_equal_to_input(capsys, data, tmp_path, spelling):
    inp = _input_copy(data, tmp_path)
    out = {"same": inp, "dot": tmp_path / "." / "in.h5", "parent": tmp_path / ".." / tmp_path.name / "in.h5",
           "symlink": tmp_path / "link.h5", "hardlink": tmp_path / "hard.h5"}[spelling]
    if spelling == "symlink":
        out.symlink_to(inp)
    if spelling == "hardlink":
        os.link(inp, out)
    refused(capsys, tmp_path, aug_args(inp, out, "--overwrite"), "is the same file as --in", "destroy the input")


def test_augment_existing_output_needs_overwrite(capsys, data, tmp_path):
    inp = _input_copy(data, tmp_path)
    out = tmp_path / "aug.h5"
    out.write_bytes(b"earlier copies")
    refused(capsys, tmp_path, aug_args(inp, out), "already exists", "--overwrite")


def test_augment_missing_input(capsys, tmp_path):
    refused(capsys, tmp_path, aug_args(tmp_path / "nope.h5", tmp_path / "aug.h5"), "--in", "does not exist")


def test_augment_chunk_size_not_positive(capsys, data, tmp_path):
    inp = _input_copy(data, tmp_path)
    refused(capsys, tmp_path, aug_args(inp, tmp_path / "aug.h5", "--chunk-size", "0"), "--chunk-size must be >= 1")


@NO_CUDA
def test_augment_device_not_present(capsys, data, tmp_path):
    inp = _input_copy(data, tmp_path)
    refused(capsys, tmp_path, aug_args(inp, tmp_path / "aug.h5", "--device", "cuda:3"), "CUDA is not available")


# ------------------------------------------------------------------------------------ train / pretrain
@pytest.fixture
def finished_run(data, tmp_path):
    out = tmp_path / "run"
    assert cli_main(train_args(data, out)) == 0
    return out


def test_train_out_holding_a_run_needs_overwrite_or_resume(capsys, data, tmp_path, finished_run):
    refused(capsys, tmp_path, train_args(data, finished_run), "already holds a run", "--overwrite", "--resume")
    ckpt = (finished_run / "checkpoint.pt").stat().st_mtime_ns
    assert cli_main(train_args(data, finished_run, "--resume")) == 0  # continuing stays possible:
    assert (finished_run / "checkpoint.pt").stat().st_mtime_ns == ckpt  # a finished run is not retrained
    before = (finished_run / "metrics.json").stat().st_mtime_ns
    assert cli_main(train_args(data, finished_run, "--overwrite", "--seed", "1")) == 0
    assert (finished_run / "metrics.json").stat().st_mtime_ns != before


def test_train_overwrite_and_resume_together(capsys, data, tmp_path, finished_run):
    refused(capsys, tmp_path, train_args(data, finished_run, "--overwrite", "--resume"), "contradict")


def test_train_init_is_an_output(capsys, data, tmp_path, finished_run):
    init = str(finished_run / ".." / "run" / "model.pt")
    refused(capsys, tmp_path, train_args(data, finished_run, "--init", init, "--overwrite"),
            "is the same file as --init")


def test_train_out_is_a_file(capsys, data, tmp_path):
    (tmp_path / "f").write_text("x")
    refused(capsys, tmp_path, train_args(data, tmp_path / "f"), "is a file; expected a folder")


@NO_CUDA
@pytest.mark.parametrize("device", ["cuda", "cuda:3"])
def test_train_device_not_present(capsys, data, tmp_path, device):
    refused(capsys, tmp_path, train_args(data, tmp_path / "run", "--device", device), "CUDA is not available")


def test_train_unknown_pde(capsys, data, tmp_path):
    refused(capsys, tmp_path, train_args(data, tmp_path / "run", "--pde", "heet"), "unknown PDE 'heet'")


def test_pretrain_unknown_strategy(capsys, data, tmp_path):
    args = pretrain_args(data, tmp_path / "pre")
    args[args.index("--strategy") + 1] = "jigsw"
    refused(capsys, tmp_path, args, "jigsw")


def test_train_missing_data_file(capsys, data, tmp_path):
    args = train_args(data, tmp_path / "run")
    args[args.index("--valid") + 1] = str(tmp_path / "nope.h5")
    refused(capsys, tmp_path, args, "--valid", "does not exist")


def test_pretrain_out_holding_a_backbone_needs_overwrite(capsys, data, tmp_path):
    out = tmp_path / "pre"
    out.mkdir()
    (out / "backbone.pt").write_bytes(b"weights someone downloaded")
    refused(capsys, tmp_path, pretrain_args(data, out), "already holds a run (backbone.pt)", "--overwrite")


@NO_CUDA
def test_pretrain_device_not_present(capsys, data, tmp_path):
    refused(capsys, tmp_path, pretrain_args(data, tmp_path / "pre", "--device", "cuda"), "CUDA is not available")


# ------------------------------------------------------------------------------------ sweep
SMOKE = str(Path(__file__).resolve().parents[1] / "parameters" / "smoke.yaml")


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:9", "nonsense", "tcp://unknown-host.invalid:8786"])
def test_sweep_unreachable_scheduler(capsys, tmp_path, address):
    t0 = time.perf_counter()
    refused(capsys, tmp_path, ["sweep", SMOKE, "--out", str(tmp_path / "sw"), "--scheduler", address],
            f"no Dask scheduler answers at '{address}' within 5 s")
    assert time.perf_counter() - t0 < 25  # not Dask's 30 s connect timeout


def test_sweep_tls_scheduler_without_security(capsys, tmp_path):
    refused(capsys, tmp_path, ["sweep", SMOKE, "--out", str(tmp_path / "sw"), "--scheduler", "tls://127.0.0.1:9"],
            "uses TLS", "security:")


@NO_CUDA
def test_sweep_machine_device_not_present(capsys, tmp_path):
    machine = tmp_path / "gpu.yaml"
    machine.write_text("device: cuda\n")
    refused(capsys, tmp_path, ["sweep", SMOKE, "--out", str(tmp_path / "sw"), "--machine", str(machine)],
            "CUDA is not available")


def test_sweep_folder_of_other_things(capsys, tmp_path):
    (tmp_path / "thesis.tex").write_text("months of work")
    refused(capsys, tmp_path, ["sweep", SMOKE, "--out", str(tmp_path)], "holds no sweep (no params.yaml)")


def test_sweep_out_is_a_file(capsys, tmp_path):
    (tmp_path / "f").write_text("x")
    refused(capsys, tmp_path, ["sweep", SMOKE, "--out", str(tmp_path / "f")], "is a file")


def test_sweep_workers_not_positive(capsys, tmp_path):
    refused(capsys, tmp_path, ["sweep", SMOKE, "--out", str(tmp_path / "sw"), "--workers", "0"], "--workers must be >= 1")
