"""Dataset generation, the HDF5 layout, seeds and the reader (including the original layout)."""

import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
import torch

from pde_lib.cli import main as cli_main
from pde_lib.data import PDE_NAMES, load_dataset
from pde_lib.generation import GenerationParams, generate_dataset, sample_seeds
from pde_lib.data.layout import SPLITS
from pde_lib.errors import ConfigError, DataError, PDELibError, SolverError
from pde_lib.data import DISTRIBUTIONS
from pde_lib.pdes import get_pde

torch.set_num_threads(1)


def small(split="train", distribution="id", pdes=("heat", "advection", "burgers"), n=4, **kw):
    return GenerationParams(pdes=list(pdes), split=split, distribution=distribution,
                            samples_per_pde=n, **kw)


@pytest.fixture(scope="module")
def train_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "train.h5"
    generate_dataset(small(chunk_size=3), path, progress=False)
    return path


def test_layout_matches_spec(train_file):
    with h5py.File(train_file) as fh:
        assert list(fh.keys()) == ["train"]
        g = fh["train"]
        assert g["u"].shape == (12, 32, 32, 32) and g["u"].dtype == np.float32
        assert g["x"].shape == (2, 32, 32) and g["t"].shape == (32,)
        for key in ("nu", "ax", "ay", "cx", "cy"):
            assert g[key].shape == (12,) and g[key].dtype == np.float32
        assert g["seed"].dtype == np.int64
        assert [s.decode() for s in g["pde"][[0, 4, 8]]] == ["heat", "advection", "burgers"]
        np.testing.assert_allclose(g["t"][:3], [0, 0.0625, 0.125])
        np.testing.assert_allclose(g["x"][0, :3, 0], [-1, -1 + 2 / 32, -1 + 4 / 32], rtol=1e-6)
        np.testing.assert_allclose(g["x"][1, 0, :2], [-1, -1 + 2 / 32], rtol=1e-6)  # ij indexing
        for attr in ("generator_version", "generation_params", "created", "distribution"):
            assert attr in fh.attrs
        assert fh.attrs["distribution"] == "id"
        # coefficients are zero where a PDE has none
        heat = g["pde"][:].astype(str) == "heat"
        assert np.all(g["ax"][heat] == 0) and np.all(g["nu"][heat] > 0)
    assert not list(train_file.parent.glob("*.tmp"))


def test_chunked_generation_equals_one_chunk(train_file, tmp_path):
    whole = tmp_path / "whole.h5"
    generate_dataset(small(chunk_size=64), whole, progress=False)
    a, b = load_dataset(train_file), load_dataset(whole)
    assert torch.equal(a.u, b.u) and torch.equal(a.seed, b.seed)


def test_file_records_the_worst_estimated_frame_error(train_file, tmp_path):
    """Burgers is solved with a resolution schedule: the file says which criterion bounded its
    frames, its tolerance and the largest value it took; a fixed grid records none."""
    import json
    with h5py.File(train_file) as fh:
        est = json.loads(fh.attrs["frame_error_estimate"])
    tol = get_pde("burgers").solver_settings("id").tail_tol
    assert set(est) == {"burgers"} and est["burgers"]["tolerance"] == tol
    assert 0 < est["burgers"]["worst"] <= tol and est["burgers"]["lattice"] == "square"
    ood = tmp_path / "ood.h5"
    generate_dataset(small(pdes=("burgers",), n=2, distribution="ood"), ood, progress=False)
    with h5py.File(ood) as fh:
        est = json.loads(fh.attrs["frame_error_estimate"])["burgers"]
        assert est["lattice"] == "diagonal" and 0 < est["worst"] <= tol
        assert json.loads(fh.attrs["solver_settings"])["burgers"]["lattice"] == "diagonal"
    fixed = tmp_path / "fixed.h5"
    generate_dataset(small(pdes=("burgers",), n=2, refine=1), fixed, progress=False)
    with h5py.File(fixed) as fh:
        assert json.loads(fh.attrs["frame_error_estimate"]) == {}
        assert json.loads(fh.attrs["solver_settings"])["burgers"]["tail_tol"] is None


def test_same_seed_same_bytes_different_seed_differs(train_file, tmp_path):
    again = tmp_path / "again.h5"
    generate_dataset(small(chunk_size=3), again, progress=False)
    with h5py.File(train_file) as f1, h5py.File(again) as f2:
        for key in f1["train"]:
            a, b = f1["train"][key][()], f2["train"][key][()]
            if a.dtype == object:  # variable-length strings: compare the values
                assert a.tolist() == b.tolist(), key
            else:
                assert a.tobytes() == b.tobytes(), key
    other = tmp_path / "other.h5"
    generate_dataset(small(seed=1), other, progress=False)
    assert not torch.equal(load_dataset(other).u, load_dataset(train_file).u)


def test_splits_distributions_and_pdes_share_no_seeds():
    seen = {}
    for split in SPLITS:
        for dist in DISTRIBUTIONS:
            for pde in PDE_NAMES:
                for s in sample_seeds(0, split, dist, pde, 3072).tolist()[::511]:
                    assert s not in seen, (split, dist, pde, seen.get(s))
                    seen[s] = (split, dist, pde)
    # ranges are contiguous blocks: first and last seeds bound disjoint intervals
    blocks = sorted((int(sample_seeds(0, sp, d, p, 1)[0]), int(sample_seeds(0, sp, d, p, 3072)[-1]))
                    for sp in SPLITS for d in DISTRIBUTIONS for p in PDE_NAMES)
    assert all(hi < next_lo for (_, hi), (next_lo, _) in zip(blocks, blocks[1:]))


def test_files_of_different_splits_share_no_seed(tmp_path):
    seeds = []
    for split in ("train", "valid", "test"):
        path = tmp_path / f"{split}.h5"
        generate_dataset(small(split=split, pdes=("heat",), n=3), path, progress=False)
        seeds.append(set(load_dataset(path).seed.tolist()))
    assert not (seeds[0] & seeds[1]) and not (seeds[0] & seeds[2]) and not (seeds[1] & seeds[2])


def test_ood_coefficients_lie_in_ood_ranges(tmp_path):
    path = tmp_path / "ood.h5"
    generate_dataset(small(distribution="ood", pdes=("advection", "heat"), n=6), path, progress=False)
    ds = load_dataset(path)
    adv = ds.select(ds.pde_index == PDE_NAMES.index("advection"))
    assert float(adv.coeffs[:, 1].min()) >= 2.5 and float(adv.coeffs[:, 1].max()) <= 4.0


def test_reader_selects_by_pde_and_prefix(train_file):
    ds = load_dataset(train_file, pde="burgers", n=2)
    assert ds.pde == ["burgers", "burgers"] and ds.u.shape == (2, 32, 32, 32)
    full = load_dataset(train_file, pde="burgers")
    assert torch.equal(ds.u, full.u[:2])
    both = load_dataset(train_file, pde=["heat", "burgers"])
    assert len(both) == 8
    assert len(ds.sha256) == 64 and ds.group == "train"
    with pytest.raises(DataError, match="holds 4 burgers samples; asked for 5"):
        load_dataset(train_file, pde="burgers", n=5)
    with pytest.raises(DataError, match="unknown PDE 'burger'"):
        load_dataset(train_file, pde="burger")


def test_reader_reads_original_layout_and_infers_pde(train_file, tmp_path):
    src = load_dataset(train_file)
    path = tmp_path / "original.h5"
    with h5py.File(path, "w") as fh:
        g = fh.create_group("valid")  # the original code stored validation data under any name
        g["u"] = src.u.numpy()
        g["x"] = src.x.numpy()
        g["t"] = src.t.numpy()
        for i, key in enumerate(("nu", "ax", "ay", "cx", "cy")):
            g[key] = src.coeffs[:, i].numpy()
    ds = load_dataset(path)
    assert ds.pde == src.pde
    assert bool((ds.seed == -1).all())
    assert torch.equal(load_dataset(path, pde="advection").u, src.u[4:8])


def test_reader_needs_a_group_name_when_several(train_file, tmp_path):
    path = tmp_path / "two.h5"
    with h5py.File(train_file) as src, h5py.File(path, "w") as dst:
        src.copy("train", dst, "train")
        src.copy("train", dst, "valid")
    with pytest.raises(DataError, match="name the one to read"):
        load_dataset(path)
    assert len(load_dataset(path, group="valid")) == 12


def test_reader_errors_name_the_problem(train_file, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "missing.h5")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(train_file.read_bytes()[:5000])
    with pytest.raises(DataError, match="truncated"):
        load_dataset(truncated)
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"not an hdf5 file" * 100)
    with pytest.raises(DataError, match="not a readable HDF5"):
        load_dataset(garbage)
    missing = tmp_path / "missing_key.h5"
    with h5py.File(train_file) as src, h5py.File(missing, "w") as dst:
        src.copy("train", dst, "train")
        del dst["train"]["cx"]
    with pytest.raises(DataError, match="missing key train/cx"):
        load_dataset(missing)
    bad_shape = tmp_path / "bad_shape.h5"
    with h5py.File(bad_shape, "w") as fh:
        fh["train/u"] = np.zeros((2, 4, 8, 9), np.float32)
    with pytest.raises(DataError, match=r"expected \(n_samples, n_t, N, N\)"):
        load_dataset(bad_shape)
    nan = tmp_path / "nan.h5"
    with h5py.File(train_file) as src, h5py.File(nan, "w") as dst:
        src.copy("train", dst, "train")
        dst["train"]["u"][5, 3, 2, 1] = np.nan
    with pytest.raises(DataError, match="sample 5 contains NaN"):
        load_dataset(nan)


def test_reader_returns_tensors_on_requested_device(train_file):
    ds = load_dataset(train_file, n=2, device="cpu")
    assert ds.u.device.type == "cpu" and ds.coeffs.shape == (2, 5)
    if torch.cuda.is_available():
        assert load_dataset(train_file, n=2, device="cuda").u.is_cuda


def test_generation_errors_leave_no_file(tmp_path, monkeypatch):
    out = tmp_path / "x.h5"
    with pytest.raises(ConfigError, match="unknown PDE 'burger'.*valid PDE names"):
        generate_dataset(small(pdes=("burger",)), out, progress=False)
    with pytest.raises(ConfigError, match="cfl"):
        generate_dataset(small(pdes=("burgers",), cfl=3.0), out, progress=False)
    # a solver failure in the second chunk: nothing half-written is left behind
    import pde_lib.generation.generate as gen

    real = gen.simulate
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SolverError("burgers solve went non-finite (test)")
        return real(*args, **kwargs)

    monkeypatch.setattr(gen, "simulate", flaky)
    with pytest.raises(SolverError):
        generate_dataset(small(pdes=("heat",), n=4, chunk_size=2), out, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_is_a_clear_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores permissions: use a path under a file instead
            target = tmp_path / "file"
            target.write_text("x")
            out = target / "sub" / "x.h5"
        else:
            out = ro / "x.h5"
        with pytest.raises(PDELibError, match="cannot write"):
            generate_dataset(small(pdes=("heat",), n=1), out, progress=False)
    finally:
        ro.chmod(0o700)


def test_cli_generate_prints_summary(tmp_path, capsys):
    out = tmp_path / "cli.h5"
    code = cli_main(["generate", "--pdes", "heat,advection", "--split", "test", "--distribution", "ood",
                     "--samples-per-pde", "2", "--resolution", "32", "--seed", "0", "--device", "cpu",
                     "--out", str(out), "--no-progress"])
    text = capsys.readouterr().out
    assert code == 0 and out.exists()
    assert "heat: 2 samples; nu in [" in text and "advection: 2 samples; ax in [" in text
    assert "u min" in text and "s per sample" in text


def test_cli_unknown_pde_is_one_clear_line(tmp_path):
    out = tmp_path / "bad.h5"
    proc = subprocess.run([sys.executable, "-m", "pde_lib", "generate", "--pdes", "heat,burger",
                           "--split", "test", "--samples-per-pde", "1", "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "error: unknown PDE 'burger'; valid PDE names: advection, burgers, heat, navier_stokes" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


def test_navier_stokes_file(tmp_path):
    path = tmp_path / "ns.h5"
    generate_dataset(small(pdes=("navier_stokes",), n=2), path, progress=False)
    ds = load_dataset(path)
    assert ds.u.shape == (2, 32, 64, 64) and ds.pde == ["navier_stokes"] * 2
    np.testing.assert_allclose(ds.t[:3].numpy(), [0, 0.5, 1.0])
    assert set(ds.extra) == {"visc", "amp"}
    assert torch.equal(ds.extra["visc"], ds.coeffs[:, 0])


def test_every_dataset_carries_its_checksum(train_file, tmp_path):
    from pde_lib.data.checksum import CHECKSUM_ATTR, array_checksum, dataset_checksum

    with h5py.File(train_file) as fh:
        assert fh.attrs["generator_version"] == "pde_lib-data-2"
        for key, ds in fh["train"].items():
            assert ds.attrs[CHECKSUM_ATTR] == array_checksum(ds[()]) == dataset_checksum(ds), key
    whole = tmp_path / "whole.h5"  # values, not chunking or timestamps, decide a checksum
    generate_dataset(small(chunk_size=64), whole, progress=False)
    with h5py.File(train_file) as f1, h5py.File(whole) as f2:
        assert {k: d.attrs["sha256"] for k, d in f1["train"].items()} == \
            {k: d.attrs["sha256"] for k, d in f2["train"].items()}


def test_a_files_values_checksum_survives_regeneration_and_sees_one_changed_value(train_file, tmp_path):
    """Generated again (another creation time, other chunking) a file's bytes differ but its values
    digest does not; one changed value changes it."""
    import shutil

    from pde_lib.data.checksum import dataset_checksum, file_values_checksum
    from pde_lib.utils.provenance import sha256_file

    again = tmp_path / "again.h5"
    generate_dataset(small(chunk_size=64), again, progress=False)
    assert sha256_file(again) != sha256_file(train_file)
    assert file_values_checksum(again) == file_values_checksum(train_file)
    changed = tmp_path / "changed.h5"
    shutil.copy(again, changed)
    with h5py.File(changed, "r+") as fh:
        fh["train/u"][0, 0, 0, 0] += 1e-6
        fh["train/u"].attrs["sha256"] = dataset_checksum(fh["train/u"])
    assert file_values_checksum(changed) != file_values_checksum(again)


def test_files_without_checksums_still_load(train_file, tmp_path):
    """Files written before checksums (layout version 1) and the original study's load; a
    version-2 file that lost a checksum does not."""
    old = tmp_path / "version1.h5"
    old.write_bytes(train_file.read_bytes())
    with h5py.File(old, "r+") as fh:
        fh.attrs["generator_version"] = "pde_lib-data-1"
        for ds in fh["train"].values():
            del ds.attrs["sha256"]
    assert torch.equal(load_dataset(old).u, load_dataset(train_file).u)
    stripped = tmp_path / "stripped.h5"
    stripped.write_bytes(train_file.read_bytes())
    with h5py.File(stripped, "r+") as fh:
        del fh["train"]["nu"].attrs["sha256"]
    with pytest.raises(DataError, match="train/nu has no stored checksum, which layout pde_lib-data-2 requires"):
        load_dataset(stripped)


def test_original_layout_may_hold_float64_but_not_strings(train_file, tmp_path):
    src = load_dataset(train_file)
    path = tmp_path / "original64.h5"
    with h5py.File(path, "w") as fh:
        g = fh.create_group("train")
        g["u"], g["x"], g["t"] = src.u.double().numpy(), src.x.double().numpy(), src.t.double().numpy()
        for i, key in enumerate(("nu", "ax", "ay", "cx", "cy")):
            g[key] = src.coeffs[:, i].double().numpy()
    assert torch.equal(load_dataset(path).u, src.u)
    with h5py.File(path, "r+") as fh:
        del fh["train"]["t"]
        fh["train"]["t"] = np.array([str(v) for v in src.t.tolist()], dtype="S")
    with pytest.raises(DataError, match="train/t has dtype .S.*; the layout stores floating-point values"):
        load_dataset(path)
