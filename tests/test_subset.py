"""Tests of the training subset's draw (``data.subset``, ``data.subset_draw``, ``--subset-draw``):
"prefix" is the first n samples, as before; "per_seed" is the first n of a permutation seeded
from the run seed and the pool's PDE and distribution."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(1)

from pde_lib.data import PDE_NAMES, load_dataset  # noqa: E402
from pde_lib.data.subset import SubsetDraw, draw_positions, rows_sha256, stream_seed  # noqa: E402
from pde_lib.data.writer import open_for_writing  # noqa: E402
from pde_lib.errors import ConfigError, DataError  # noqa: E402
from pde_lib.params import load_params, validate_params  # noqa: E402
from pde_lib.training import TrainConfig, run_training  # noqa: E402

N_T, RES = 6, 16
ROOT = Path(__file__).resolve().parents[1]


def write_file(path, pdes=("heat", "advection"), n_per=24, distribution="id", split="train"):
    """A small file of smooth random frames whose sample at row r has seed 1000 + r; samples
    are written PDE after PDE, ``n_per`` each."""
    gen = torch.Generator().manual_seed(len(str(path)))
    grid = torch.linspace(0, 1, RES + 1)[:-1]
    x = torch.stack(torch.meshgrid(grid, grid, indexing="ij"))
    t = torch.linspace(0, 1, N_T)
    n = n_per * len(pdes)
    with open_for_writing(path, split, n, N_T, RES, x, t, {"distribution": distribution}) as w:
        for k, pde in enumerate(pdes):
            kx = torch.randint(1, 3, (n_per, 1, 1, 1), generator=gen).float()
            phase = torch.rand(n_per, 1, 1, 1, generator=gen) * 6.28
            decay = torch.exp(-t)[None, :, None, None]
            u = torch.sin(6.28 * kx * x[0][None, None] + phase) * decay * torch.cos(6.28 * x[1])[None, None]
            coeffs = {"nu": torch.full((n_per,), 0.01)}
            w.write(k * n_per, u, coeffs, pde, np.arange(k * n_per, (k + 1) * n_per) + 1000)
    return str(path)


def row_of(ds):
    """The file row each loaded sample came from, read back from its frames."""
    return ds.seed.numpy() - 1000


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("subset")
    return {"id": write_file(d / "train_id.h5"), "ood": write_file(d / "train_ood.h5", distribution="ood"),
            "valid": write_file(d / "valid.h5", n_per=4, split="valid"),
            "test": write_file(d / "test.h5", n_per=4, split="test")}


def per_seed(seed, **kw):
    return SubsetDraw(seed=seed, **kw)


# ----------------------------------------------------------------------------- the draw
def test_prefix_reproduces_the_first_n_samples(files):
    old = load_dataset(files["id"], pde="advection", n=10)
    for draw in (None, SubsetDraw(seed=None)):
        new = load_dataset(files["id"], pde="advection", n=10, draw=draw)
        assert torch.equal(new.u, old.u) and torch.equal(new.seed, old.seed)
        assert new.rows.tolist() == list(range(24, 34))  # advection is written second
    assert torch.equal(old.u, load_dataset(files["id"], pde="advection").u[:10])


def test_per_seed_subsets_differ_across_seeds_and_repeat_for_a_seed(files):
    a = load_dataset(files["id"], pde="heat", n=10, draw=per_seed(0)).rows.tolist()
    b = load_dataset(files["id"], pde="heat", n=10, draw=per_seed(1)).rows.tolist()
    again = load_dataset(files["id"], pde="heat", n=10, draw=per_seed(0)).rows.tolist()
    assert a == again and a != b and set(a) != set(b)
    assert a != list(range(10)) and len(set(a)) == 10 and set(a) <= set(range(24))


@pytest.mark.parametrize("n", [3, 12, 24])
def test_per_seed_frames_belong_to_their_rows(files, n):
    """Rows read out of file order are put back in draw order: each sample's frames, seed and
    coefficients are its own row's (a dense draw is read as one block, a sparse one row by row)."""
    whole = load_dataset(files["id"])
    ds = load_dataset(files["id"], pde="advection", n=n, draw=per_seed(2))
    rows = ds.rows
    assert not bool((rows[1:] > rows[:-1]).all())  # really out of order
    assert torch.equal(ds.u, whole.u[rows]) and torch.equal(ds.seed, whole.seed[rows])
    assert torch.equal(ds.coeffs, whole.coeffs[rows]) and (row_of(ds) == rows.numpy()).all()
    sparse = int(rows.max() - rows.min()) + 1 > 2 * n
    assert sparse == (n == 3)  # both read paths are exercised


def test_per_seed_subsets_are_nested_across_sample_counts(files):
    rows = {n: load_dataset(files["id"], pde="heat", n=n, draw=per_seed(5)).rows.tolist() for n in (4, 9, 24)}
    assert rows[9][:4] == rows[4] and rows[24][:9] == rows[9] and sorted(rows[24]) == list(range(24))


def test_per_seed_draws_are_independent_across_pdes_and_distributions(files):
    heat = load_dataset(files["id"], pde="heat", n=10, draw=per_seed(0)).rows.numpy()
    adv = load_dataset(files["id"], pde="advection", n=10, draw=per_seed(0)).rows.numpy() - 24
    ood = load_dataset(files["ood"], pde="heat", n=10, draw=per_seed(0)).rows.numpy()
    assert heat.tolist() != adv.tolist() and heat.tolist() != ood.tolist()
    assert len({stream_seed(0, p, d) for p in PDE_NAMES for d in ("id", "ood", "")}) == 3 * len(PDE_NAMES)


def test_draw_is_the_same_in_another_process():
    code = ("from pde_lib.data.subset import draw_positions, stream_seed;"
            "print(draw_positions(50, 7, stream_seed(4, 'heat', 'id')).tolist())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == draw_positions(50, 7, stream_seed(4, "heat", "id")).tolist()
    # pinned: a change of generator or of the seed's derivation would change every per_seed subset
    assert stream_seed(4, "heat", "id") == 4326945507354910439
    assert draw_positions(50, 7, stream_seed(4, "heat", "id")).tolist() == [16, 13, 14, 21, 41, 30, 22]


def test_per_pde_draw_takes_n_of_each_pde(files):
    ds = load_dataset(files["id"], n=5, draw=per_seed(2, per_pde=True))
    assert ds.pde == ["advection"] * 5 + ["heat"] * 5  # PDE_NAMES order
    assert ds.rows.tolist()[:5] == load_dataset(files["id"], pde="advection", n=5, draw=per_seed(2)).rows.tolist()
    first = load_dataset(files["id"], n=5, draw=SubsetDraw(seed=None, per_pde=True)).rows.tolist()
    assert first == [24, 25, 26, 27, 28, 0, 1, 2, 3, 4]


def test_asking_for_more_than_the_pool_is_a_data_error(files):
    with pytest.raises(DataError, match="holds 24 heat samples; asked for 25"):
        load_dataset(files["id"], pde="heat", n=25, draw=per_seed(0))


# ----------------------------------------------------------------------------- fine-tuning runs
def train_cfg(files, out=None, **kw) -> TrainConfig:
    base = dict(model="fno2d", train=files["id"], valid=files["valid"], test=files["test"], pde="heat",
                samples=8, epochs=1, batch_size=4, window=2, target_frame=4, progress=False,
                model_kwargs=dict(width=4, modes=2, n_layers=1, projection_width=8),
                out=None if out is None else str(out))
    base.update(kw)
    return TrainConfig.from_dict(base)


def test_run_training_records_the_drawn_subset(files, tmp_path):
    m = run_training(train_cfg(files, tmp_path / "a", subset_draw="per_seed", seed=3))
    sub = json.loads((tmp_path / "a" / "metrics.json").read_text())["train_subset"]
    expected = load_dataset(files["id"], pde="heat", n=8, draw=per_seed(3)).rows.tolist()
    assert sub == m["train_subset"] == {"draw": "per_seed", "seed": 3, "rows": expected,
                                        "rows_sha256": rows_sha256(expected)}
    assert m["n_train"] == 8 and expected != list(range(8))
    prefix = run_training(train_cfg(files, seed=3))["train_subset"]
    assert prefix["draw"] == "prefix" and prefix["seed"] is None and prefix["rows"] == list(range(8))
    other = run_training(train_cfg(files, subset_draw="per_seed", seed=4))["train_subset"]
    assert other["rows"] != expected
    fixed = run_training(train_cfg(files, subset_draw="per_seed", seed=4, subset_seed=3))["train_subset"]
    assert fixed["rows"] == expected and fixed["seed"] == 3  # --subset-seed overrides --seed


def test_pretrained_and_scratch_fine_tunes_draw_the_same_subset(files, tmp_path):
    """The draw depends on the seed and the pool only: a fine-tune from a pretrained backbone
    (another strategy) trains on the same samples as one from scratch."""
    from pde_lib.engine.checkpoint import save_backbone
    from pde_lib.models import build_model

    scratch = train_cfg(files, subset_draw="per_seed", seed=7)
    model = build_model("fno2d", in_frames=2, coeff_dim=5, **scratch.model_kwargs)
    save_backbone(tmp_path / "pre.pt", model)
    pre = run_training(train_cfg(files, subset_draw="per_seed", seed=7, init=str(tmp_path / "pre.pt")))
    assert pre["train_subset"] == run_training(scratch)["train_subset"]


def test_checkpoint_written_before_the_option_still_resumes(files, tmp_path):
    from pde_lib.engine.run import CHECKPOINT_NAME

    out = tmp_path / "run"

    def stop(epoch, history):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_training(train_cfg(files, out, epochs=2), on_epoch_end=stop)
    path = out / CHECKPOINT_NAME
    state = torch.load(path, weights_only=True)
    for key in ("subset_draw", "subset_seed"):
        del state["config"][key]  # as a checkpoint of an older version holds it
    torch.save(state, path)
    assert run_training(train_cfg(files, out, epochs=2, resume=True))["best_epoch"] >= 1
    with pytest.raises(ConfigError, match="subset_draw"):  # a per_seed run is another run
        torch.save(state, path)
        (out / "metrics.json").unlink()
        run_training(train_cfg(files, out, epochs=2, resume=True, subset_draw="per_seed"))


def test_train_config_names_the_key_and_the_valid_values(files):
    with pytest.raises(ConfigError, match=r"subset_draw must be one of prefix, per_seed, got 'random'"):
        train_cfg(files, subset_draw="random").validate()
    with pytest.raises(ConfigError, match="subset_seed"):
        train_cfg(files, subset_seed=-1).validate()


def test_cli_train_per_seed(files, tmp_path, capsys):
    from pde_lib.cli import main as cli_main

    out = tmp_path / "cli"
    args = ["train", "--model", "fno2d", "--model-kwargs", '{"width": 4, "modes": 2, "n_layers": 1}',
            "--train", files["id"], "--valid", files["valid"], "--test", files["test"], "--pde", "heat",
            "--samples", "6", "--epochs", "1", "--batch-size", "3", "--window", "2", "--target-frame", "4",
            "--seed", "2", "--subset-draw", "per_seed", "--out", str(out), "--no-progress"]
    assert cli_main(args) == 0
    sub = json.loads((out / "metrics.json").read_text())["train_subset"]
    assert sub["seed"] == 2 and sub["rows"] == load_dataset(files["id"], pde="heat", n=6, draw=per_seed(2)).rows.tolist()
    assert "drawn with seed 2" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli_main(args[:-5] + ["--subset-draw", "shuffled", "--out", str(tmp_path / "x"), "--no-progress"])
    assert "--subset-draw: invalid choice: 'shuffled'" in capsys.readouterr().err


# ----------------------------------------------------------------------------- pretraining
def test_pretraining_draws_n_of_each_pde_from_the_pool(files):
    from pde_lib.pretraining import PretrainConfig, run_pretraining

    base = dict(strategy="none", model="fno2d", data=files["id"], window=2, progress=False, batch_size=2,
                model_kwargs=dict(width=4, modes=2, n_layers=1, projection_width=8))
    m = run_pretraining(PretrainConfig.from_dict({**base, "samples_per_pde": 6, "subset_draw": "per_seed", "seed": 1}))
    rows = m["data_subset"]["rows"]
    assert rows == load_dataset(files["id"], n=6, draw=per_seed(1, per_pde=True)).rows.tolist()
    assert len(rows) == 12 and sum(r >= 24 for r in rows) == 6  # 6 advection, 6 heat
    small = run_pretraining(PretrainConfig.from_dict({**base, "samples_per_pde": 3, "subset_draw": "per_seed",
                                                      "seed": 1}))["data_subset"]["rows"]
    assert small == rows[:3] + rows[6:9]  # a smaller fraction takes a nested prefix per PDE
    old = run_pretraining(PretrainConfig.from_dict({**base, "samples": 12}))["data_subset"]
    assert old["draw"] == "prefix" and old["rows"] == list(range(12))
    with pytest.raises(ConfigError, match="not both"):
        PretrainConfig.from_dict({**base, "samples": 4, "samples_per_pde": 2}).validate()


# ----------------------------------------------------------------------------- study parameters
def smoke_raw(**data) -> dict:
    from pde_lib.params.study import read_yaml

    raw = read_yaml(ROOT / "parameters" / "smoke.yaml")
    raw["data"].update(data)
    return raw


def test_study_default_is_prefix_and_frozen_params_stay_as_they_were():
    p = validate_params(smoke_raw(), "smoke")
    assert p.data.subset_draw == "prefix" and p.data.pretrain_pool is None and p.pretrain_pool == 8
    plain = p.to_plain()
    assert "subset_draw" not in plain["data"] and "pretrain_pool" not in plain["data"]
    q = validate_params(smoke_raw(subset_draw="per_seed", pretrain_pool=16), "smoke")
    assert q.to_plain()["data"]["subset_draw"] == "per_seed" and q.pretrain_pool == 16
    assert validate_params(q.to_plain()).to_plain() == q.to_plain()


@pytest.mark.parametrize("folder", sorted((ROOT / "outputs" / "published").glob("*/params.yaml")),
                         ids=lambda p: p.parent.name)
def test_published_frozen_params_mean_prefix_and_freeze_unchanged(folder):
    """Every published run drew no data per seed; re-freezing its parameters gives its file back,
    so its sweep folder still resumes and its cells re-run the same."""
    import yaml

    p = load_params(folder)
    assert p.data.subset_draw == "prefix" and p.data.pretrain_pool is None and p.data.seed == 0
    assert p.to_plain() == yaml.safe_load(folder.read_text())


@pytest.mark.parametrize("data, fragments", [
    ({"subset_draw": "random"}, ("data.subset_draw", "'random'", "valid values: prefix, per_seed")),
    ({"subset_draw": "perseed"}, ("data.subset_draw", "did you mean 'per_seed'")),
    ({"pretrain_pool": 16}, ("data.pretrain_pool", "data.subset_draw: per_seed")),
    ({"subset_draw": "per_seed", "pretrain_pool": 4}, ("data.pretrain_pool", "smaller than data.pretrain_samples=8")),
])
def test_study_schema_errors_name_the_key(data, fragments):
    with pytest.raises(ConfigError) as info:
        validate_params(smoke_raw(**data), "test.yaml")
    for frag in fragments:
        assert frag in str(info.value), str(info.value)


def test_sweep_passes_the_draw_to_fine_tunes_and_pretraining(tmp_path):
    from pde_lib.sweep.cell import _finetune_config, _pretrain
    from pde_lib.sweep.datasets import dataset_paths, dataset_specs
    from pde_lib.sweep.grid import expand_grid, finetunes

    raw = smoke_raw(subset_draw="per_seed", pretrain_pool=16)
    raw["pretrain"]["fractions"] = [1, "1/2"]
    p = validate_params(raw, "smoke")
    specs = dataset_specs(p)
    assert [k for k in specs if k.startswith("pretrain")] == ["pretrain_id_p16"]  # one pool, every fraction
    paths = dataset_paths(p, tmp_path)
    cells = [c for c in expand_grid(p) if c.strategy == "transfer" and c.backbone == "fno2d"]
    seen = []
    for cell in cells:
        _pretrain(cell, p, "cpu", paths, tmp_path / cell.id, False, lambda cfg: seen.append(cfg) or {})
    assert {(c.samples_per_pde, c.subset_draw, c.data) for c in seen} == {(8, "per_seed", str(paths["pretrain_id_p16"])),
                                                                          (4, "per_seed", str(paths["pretrain_id_p16"]))}
    by_strategy = {}
    for cell in expand_grid(p):
        for ft in finetunes(p, cell):
            c = _finetune_config(cell, ft, p, "cpu", paths, None, tmp_path / "o", False)
            assert c.subset_draw == "per_seed" and c.subset_seed is None and c.seed == cell.seed
            by_strategy.setdefault((cell.seed, ft.pde, ft.distribution, ft.samples), set()).add(
                (c.train, c.pde, c.samples, c.subset(False)))
    assert all(len(v) == 1 for v in by_strategy.values())  # every strategy and model: one draw
    prefix = validate_params(smoke_raw(), "smoke")
    assert sorted(k for k in dataset_specs(prefix) if k.startswith("pretrain")) == ["pretrain_id_p8"]


def test_report_join_tells_a_per_seed_study_from_a_prefix_one(tmp_path):
    """A joined table stacks seeds of one experiment: folders whose seeds drew their data
    differently are refused, prefix folders frozen before the option still join."""
    import yaml

    from pde_lib.report.joinable import check_joinable

    folders = {}
    for name, data in (("old", {}), ("prefix", {"subset_draw": "prefix"}), ("drawn", {"subset_draw": "per_seed"})):
        folders[name] = tmp_path / name
        folders[name].mkdir()
        frozen = validate_params(smoke_raw(**data)).to_plain()
        (folders[name] / "params.yaml").write_text(yaml.safe_dump(frozen))
    check_joinable([folders["old"], folders["prefix"]])
    with pytest.raises(DataError, match="data.subset_draw is 'per_seed' there and None here"):
        check_joinable([folders["old"], folders["drawn"]])
