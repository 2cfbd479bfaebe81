"""Parameter files: every shipped file loads; unknown keys, wrong types, out-of-range values and
unknown registry names fail with the YAML path and what was expected."""

from pathlib import Path

import pytest
import torch
import yaml

from pde_lib.errors import ConfigError
from pde_lib.params import load_machine, load_params, validate_params
from pde_lib.params.study import read_yaml

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
STUDY_FILES = sorted((ROOT / "parameters").glob("*.yaml")) + sorted((ROOT / "parameters" / "families").glob("*.yaml"))
MACHINE_FILES = sorted((ROOT / "parameters" / "machines").glob("*.yaml"))


def smoke_raw() -> dict:
    return read_yaml(ROOT / "parameters" / "smoke.yaml")


def check_error(raw: dict, *fragments: str) -> str:
    with pytest.raises(ConfigError) as info:
        validate_params(raw, "test.yaml")
    msg = str(info.value)
    assert msg.startswith("test.yaml: ")
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in {msg!r}"
    return msg


@pytest.mark.parametrize("path", STUDY_FILES, ids=lambda p: p.stem)
def test_shipped_study_files_load(path):
    p = load_params(path)
    assert p.grid.models and p.grid.strategies and p.grid.seeds


@pytest.mark.parametrize("path", MACHINE_FILES, ids=lambda p: p.stem)
def test_shipped_machine_files_load(path):
    m = load_machine(path)
    assert m.n_workers >= 1 and m.device


def test_pipeline_test_flag_defaults_off_and_smoke_sets_it():
    assert load_params(ROOT / "parameters" / "smoke.yaml").pipeline_test is True
    assert load_params(ROOT / "parameters" / "paper.yaml").pipeline_test is False


def test_paper_profile_matches_spec():
    p = load_params(ROOT / "parameters" / "paper.yaml")
    assert (p.data.pretrain_samples, p.data.samples.train, p.data.samples.valid, p.data.samples.test) == (3072, 1024, 256, 256)
    assert p.pretrain.epochs == p.finetune.epochs == 200 and p.finetune.batch_size == 32
    assert sorted(p.grid.models) == ["deeponet2d", "fno2d", "oformer2d", "unet"]
    assert len(p.grid.strategies) == 10 and p.grid.seeds == [0, 1, 2]
    assert p.finetune.samples == [100, 250, 500, 1000]
    assert (p.optim.lr, p.optim.weight_decay, p.optim.lr_min) == (1e-3, 1e-6, 1e-5)


def test_extends_merges_and_removes_models():
    p = load_params(ROOT / "parameters" / "families" / "scaling.yaml")
    assert sorted(p.grid.models) == ["fno2d_w24", "fno2d_w48", "fno2d_w96"]
    assert p.grid.models["fno2d_w24"]["model"] == "fno2d"
    assert [str(f) for f in p.pretrain.fractions] == ["1/9", "1/3", "1"]
    assert p.finetune.epochs == 200  # inherited from paper.yaml


def test_extends_null_removes_a_models_optimiser_settings_too(tmp_path):
    """A study extending one with per-backbone settings can drop backbones from both sections."""
    (tmp_path / "child.yaml").write_text(
        f"extends: {ROOT / 'parameters' / 'study.yaml'}\n"
        "grid:\n  models: {fno2d: null, unet: null, oformer2d: null, fno2d_w8: null, fno2d_w32: null}\n"
        "  subgrids: [{name: only, models: [deeponet2d], strategies: [none]}]\n"
        "optim:\n  models: {fno2d: null, unet: null, oformer2d: null, fno2d_w8: null, fno2d_w32: null}\n")
    p = load_params(tmp_path / "child.yaml")
    assert list(p.grid.models) == ["deeponet2d"] and list(p.optim.models) == ["deeponet2d"]
    assert p.optim.models["deeponet2d"]["pretrain_epochs"] == 40  # kept from the parent


def test_unknown_key_names_valid_keys_and_suggestion():
    raw = smoke_raw()
    raw["grid"]["seedz"] = [0]
    msg = check_error(raw, "grid.seedz", "did you mean 'seeds'", "valid keys:", "strategies")
    raw = smoke_raw()
    raw["finetnue"] = {}
    check_error(raw, "finetnue", "did you mean 'finetune'")


def test_wrong_type_names_path_and_expected_type():
    raw = smoke_raw()
    raw["finetune"]["epochs"] = "three"
    check_error(raw, "finetune.epochs", "expected an integer >= 1", "'three'")
    raw = smoke_raw()
    raw["grid"]["seeds"] = [0, 1.5]
    check_error(raw, "grid.seeds[1]", "expected an integer")
    raw = smoke_raw()
    raw["finetune"]["navier_stokes"] = "yes"
    check_error(raw, "finetune.navier_stokes", "true or false")


def test_out_of_range_values():
    raw = smoke_raw()
    raw["optim"]["lr"] = 0
    check_error(raw, "optim.lr", "> 0")
    raw = smoke_raw()
    raw["finetune"]["augmentation_ratio"] = 1.5
    check_error(raw, "finetune.augmentation_ratio", "in [0, 1]")
    raw = smoke_raw()
    raw["pretrain"]["fractions"] = ["1/9", 2]
    check_error(raw, "pretrain.fractions[1]", "(0, 1]")
    raw = smoke_raw()
    raw["finetune"]["samples"] = [2, 1000]
    check_error(raw, "finetune.samples", "exceeds data.samples.train")


def test_unknown_registry_names_list_valid_names():
    raw = smoke_raw()
    raw["grid"]["strategies"] = ["none", "transfer", "trasnfer"]
    check_error(raw, "grid.strategies[2]", "unknown strategy 'trasnfer'", "did you mean 'transfer'", "picl")
    raw = smoke_raw()
    raw["grid"]["models"] = {"fno3d": {}}
    check_error(raw, "grid.models.fno3d", "unknown model 'fno3d'", "fno2d", "unet")
    raw = smoke_raw()
    raw["grid"]["augmentations"] = [[], ["shift", "roation"]]
    check_error(raw, "grid.augmentations[1][1]", "unknown augmentation", "galilean")
    raw = smoke_raw()
    raw["data"]["solver"] = {"burger": {"refine": 2}}
    check_error(raw, "data.solver.burger", "unknown PDE", "did you mean 'burgers'")


def test_unknown_model_argument():
    raw = smoke_raw()
    raw["grid"]["models"]["fno2d"]["widht"] = 8
    check_error(raw, "grid.models.fno2d.widht", "did you mean 'width'", "modes")


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("grid: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(bad)


def test_extends_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_params(tmp_path / "a.yaml")


def test_machine_profile_validation(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text(yaml.safe_dump({"n_workers": 0}))
    with pytest.raises(ConfigError, match=r"n_workers: expected an integer >= 1"):
        load_machine(f)
    f.write_text(yaml.safe_dump({"n_worker": 2}))
    with pytest.raises(ConfigError, match="did you mean 'n_workers'"):
        load_machine(f)
    assert load_machine(None).device == "cpu"


def test_machine_settings_are_not_study_keys():
    raw = smoke_raw()
    raw["device"] = "cuda"
    check_error(raw, "unknown key 'device'")
