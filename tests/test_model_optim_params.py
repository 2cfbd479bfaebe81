"""Per-backbone optimiser settings and step budgets (``optim.models``, ``optim.warmup_steps``,
``optim.clip_grad_norm``): old files keep their meaning and frozen form; overrides reach both the
pretraining and the fine-tuning configs of a cell; bad values fail naming the key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
import yaml

from pde_lib.errors import ConfigError
from pde_lib.params import load_params, validate_params
from pde_lib.params.study import read_yaml
from pde_lib.sweep import cell as cell_mod
from pde_lib.sweep.cost import cell_cost
from pde_lib.sweep.datasets import dataset_paths
from pde_lib.sweep.grid import expand_grid, finetunes

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
STUDY_FILES = sorted((ROOT / "parameters").glob("*.yaml"))
PUBLISHED = sorted((ROOT / "outputs" / "published").glob("*/params.yaml"))


def laptop_raw() -> dict:
    return read_yaml(ROOT / "parameters" / "laptop.yaml")


def with_models_optim(**models) -> dict:
    raw = laptop_raw()
    raw["optim"]["models"] = models
    return raw


OLD_FILES = [f for f in STUDY_FILES if set((read_yaml(f).get("optim") or {})) <= {"lr", "weight_decay", "lr_min"}]


def test_only_the_pilot_files_have_model_settings():
    """The files written before per-backbone settings keep the old optim keys; the new ones are the
    issue-28 pilots (laptop_backbones_learn, laptop_pretext_*, next_study_*) and the pre-registered
    study v2 (study)."""
    new = {f.stem for f in STUDY_FILES} - {f.stem for f in OLD_FILES}
    assert "laptop_backbones_learn" in new and "laptop" not in new
    assert all(n in ("laptop_backbones_learn", "study") or n.startswith(("next_study_", "laptop_pretext_"))
               for n in new), sorted(new)


@pytest.mark.parametrize("path", OLD_FILES, ids=lambda p: p.stem)
def test_old_files_mean_what_they_meant(path):
    p = load_params(path)
    assert set(p.to_plain()["optim"]) == {"lr", "weight_decay", "lr_min"}  # the frozen form is unchanged
    for label in p.grid.models:
        for stage in ("pretrain", "finetune"):
            s = p.run_settings(label, stage)
            assert s == {"epochs": p[stage].epochs, "batch_size": p[stage].batch_size, "lr": p.optim.lr,
                         "weight_decay": p.optim.weight_decay, "lr_min": p.optim.lr_min, "warmup_steps": 0,
                         "clip_grad_norm": None}


@pytest.mark.parametrize("path", PUBLISHED, ids=lambda p: p.parent.name)
def test_published_frozen_params_freeze_to_the_same_text(path):
    """A published sweep's params.yaml reloads to the same dict (so it still resumes and joins)."""
    assert load_params(path).to_plain() == yaml.safe_load(path.read_text())


def test_model_settings_override_key_by_key_per_stage():
    raw = with_models_optim(unet=dict(lr=5e-4, warmup_steps=20, clip_grad_norm=1.0, finetune_epochs=500,
                                      finetune_batch_size=8, pretrain_epochs=30))
    p = validate_params(raw)
    ft, pre, other = p.run_settings("unet", "finetune"), p.run_settings("unet", "pretrain"), p.run_settings("fno2d", "finetune")
    assert ft == dict(epochs=500, batch_size=8, lr=5e-4, weight_decay=1e-6, lr_min=1e-5, warmup_steps=20, clip_grad_norm=1.0)
    assert pre == dict(epochs=30, batch_size=16, lr=5e-4, weight_decay=1e-6, lr_min=1e-5, warmup_steps=20, clip_grad_norm=1.0)
    assert other == dict(epochs=60, batch_size=16, lr=1e-3, weight_decay=1e-6, lr_min=1e-5, warmup_steps=0, clip_grad_norm=None)
    plain = p.to_plain()
    assert plain["optim"]["models"] == {"unet": dict(lr=5e-4, warmup_steps=20, clip_grad_norm=1.0, pretrain_epochs=30,
                                                     finetune_epochs=500, finetune_batch_size=8)}
    assert validate_params(copy.deepcopy(plain)).to_plain() == plain  # the frozen form reloads to itself


def test_cells_train_with_their_backbones_settings(tmp_path):
    raw = with_models_optim(unet=dict(lr=5e-4, warmup_steps=20, clip_grad_norm=1.0, finetune_epochs=500,
                                      finetune_batch_size=8, pretrain_epochs=30))
    raw["optim"]["warmup_steps"] = 3
    p = validate_params(raw)
    paths = dataset_paths(p, tmp_path)
    cells = {(c.model, c.strategy): c for c in expand_grid(p) if c.seed == 0 and not c.augmentation}
    for (label, strategy), expected in ((("unet", "none"), (500, 8, 5e-4, 20, 1.0)),
                                        (("fno2d", "none"), (60, 16, 1e-3, 3, None))):
        c = cells[(label, strategy)]
        ft = finetunes(p, c)[0]
        cfg = cell_mod._finetune_config(c, ft, p, "cpu", paths, None, tmp_path / "ft", False)
        assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.warmup_steps, cfg.clip_grad_norm) == expected
    seen = {}
    cell = cells[("unet", "transfer")]
    (tmp_path / "data").mkdir()
    cell_mod._pretrain(cell, p, "cpu", paths, tmp_path / "cell", False, lambda cfg: seen.setdefault("cfg", cfg) and {})
    cfg = seen["cfg"]
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.warmup_steps, cfg.clip_grad_norm) == (30, 16, 5e-4, 20, 1.0)
    assert cell_cost(p, cells[("unet", "none")]) > cell_cost(p, cells[("fno2d", "none")])  # 500 vs 60 epochs


@pytest.mark.parametrize("models, fragments", [
    (dict(unett=dict(lr=1e-3)), ["optim.models.unett", "unknown model label 'unett'", "did you mean 'unet'"]),
    (dict(unet=dict(lr_min=1e-2)), ["optim.models.unet.lr_min", "must not exceed lr=0.001"]),
    (dict(unet=dict(warmup_steps=120)), ["optim.models.unet.warmup_steps", "smaller than the 120 optimiser steps",
                                         "60 epochs x 2 batches of 16 from 32 samples"]),
    (dict(fno2d=dict(warmup_steps=60)), ["optim.models.fno2d.warmup_steps", "from 10 samples"]),
    (dict(unet=dict(clip_grad_norm=0)), ["optim.models.unet.clip_grad_norm", "expected a number"]),
    (dict(unet=dict(momentum=0.9)), ["optim.models.unet.momentum", "unknown key"]),
])
def test_bad_model_settings_name_the_key(models, fragments):
    with pytest.raises(ConfigError) as info:
        validate_params(with_models_optim(**models), "test.yaml")
    for frag in fragments:
        assert frag in str(info.value), str(info.value)


def test_a_pde_may_have_its_own_target_frame(tmp_path):
    raw = laptop_raw()
    raw["finetune"]["target_frames"] = {"advection": 8}
    p = validate_params(raw)
    assert p.to_plain()["finetune"]["target_frames"] == {"advection": 8}
    assert "target_frames" not in load_params(ROOT / "parameters" / "laptop.yaml").to_plain()["finetune"]
    paths = dataset_paths(p, tmp_path)
    cell = next(c for c in expand_grid(p) if c.model == "fno2d" and c.strategy == "none")
    frames = {ft.pde: cell_mod._finetune_config(cell, ft, p, "cpu", paths, None, tmp_path / ft.id, False).target_frame
              for ft in finetunes(p, cell) if ft.distribution == "id" and ft.samples == 32}
    assert frames == {"heat": 31, "advection": 8, "burgers": 31, "navier_stokes": 31}
    raw["finetune"]["target_frames"] = {"advection": 5}
    with pytest.raises(ConfigError, match="finetune.target_frames.advection: target frame 5 must be >= window=8"):
        validate_params(raw)
    raw["finetune"]["target_frames"] = {"advektion": 9}
    with pytest.raises(ConfigError, match="unknown PDE 'advektion'"):
        validate_params(raw)


def test_finetunes_may_validate_every_k_epochs(tmp_path):
    """``finetune.eval_every`` reaches every fine-tune's config; at its default 1 it is left out of
    the frozen parameters (old sweep folders still resume); 0 is refused with the key named."""
    raw = laptop_raw()
    assert "eval_every" not in validate_params(copy.deepcopy(raw)).to_plain()["finetune"]
    raw["finetune"]["eval_every"] = 5
    p = validate_params(raw)
    assert p.to_plain()["finetune"]["eval_every"] == 5
    paths = dataset_paths(p, tmp_path)
    cell = next(c for c in expand_grid(p) if c.model == "unet" and c.strategy == "transfer")
    assert {cell_mod._finetune_config(cell, ft, p, "cpu", paths, None, tmp_path / ft.id, False).eval_every
            for ft in finetunes(p, cell)} == {5}
    raw["finetune"]["eval_every"] = 0
    with pytest.raises(ConfigError, match="finetune.eval_every"):
        validate_params(raw)
