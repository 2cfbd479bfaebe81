"""Sub-grids (``grid.subgrids``: a study as a union of smaller products, each with its own
fine-tunes) and ``sweep --cells`` / ``--list-cells`` (run only named cells)."""

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from pde_lib.cli import main as cli_main
from pde_lib.errors import ConfigError
from pde_lib.params import load_params, validate_params
from pde_lib.sweep import expand_grid, finetunes, run_sweep, select_cells

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_bad_input_cli import refused  # noqa: E402
from test_sweep import MICRO, fake_runner  # noqa: E402

SMOKE_IDS = [f"{m}__{s}__none__s{seed}" for m in ("fno2d", "unet") for s in ("none", "transfer", "coefficient")
             for seed in (0, 1)]


def _with_subgrids(subgrids, **grid):
    raw = json.loads(json.dumps(MICRO))
    raw["data"]["distributions"] = ["id", "ood"]
    raw["data"]["samples"]["train"] = 4
    raw["grid"]["models"]["unet"] = {"channels": [4, 8]}
    raw["grid"].update(grid)
    raw["grid"]["subgrids"] = subgrids
    return raw


SUBS = [
    {"name": "main", "models": ["fno2d", "unet"]},
    {"name": "scarce", "models": ["fno2d"], "strategies": ["none"], "finetune": {"samples": [1, 4]}},
    {"name": "shift", "models": ["fno2d"], "strategies": ["none"], "augmentations": [["shift"]],
     "seeds": [0], "finetune": {"pdes": ["advection"], "distributions": ["ood"]}},
]


def test_a_study_without_subgrids_keeps_its_cells_ids_and_order():
    p = load_params(ROOT / "parameters" / "smoke.yaml")
    assert p.grid.subgrids is None
    assert [c.id for c in expand_grid(p)] == SMOKE_IDS
    fts = [ft.id for ft in finetunes(p)]
    assert all(finetunes(p, c) == finetunes(p) for c in expand_grid(p))
    assert fts[:2] == ["fixed_future__id__heat__n2", "fixed_future__id__heat__n4"] and len(fts) == 14


def test_subgrids_are_a_union_of_products_with_their_own_finetunes():
    p = validate_params(_with_subgrids(SUBS), "sub.yaml")
    ids = [c.id for c in expand_grid(p)]
    # main: 2 models x 2 strategies x 2 seeds; scarce repeats fno2d none s0/s1 (deduplicated); shift adds 1
    assert ids == ["fno2d__none__none__s0", "fno2d__none__none__s1", "fno2d__transfer__none__s0",
                   "fno2d__transfer__none__s1", "unet__none__none__s0", "unet__none__none__s1",
                   "unet__transfer__none__s0", "unet__transfer__none__s1", "fno2d__none__shift__s0"]
    cells = {c.id: c for c in expand_grid(p)}
    fid = lambda c: [ft.id for ft in finetunes(p, cells[c])]  # noqa: E731
    assert fid("fno2d__transfer__none__s0") == ["fixed_future__id__heat__n1", "fixed_future__id__heat__n2",
                                                "fixed_future__id__advection__n1", "fixed_future__id__advection__n2"]
    # the scarce sub-grid adds n4 to fno2d none (n1 is already there), in its own order
    assert fid("fno2d__none__none__s0") == fid("fno2d__transfer__none__s0") + [
        "fixed_future__id__heat__n4", "fixed_future__id__advection__n4"]
    assert fid("fno2d__none__shift__s0") == ["fixed_future__ood__advection__n1", "fixed_future__ood__advection__n2"]
    # unset keys were filled in, so the frozen params.yaml says everything
    sub = p.grid.subgrids[2]
    assert sub.strategies == ["none"] and sub.finetune.samples == [1, 2] and sub.finetune.navier_stokes is False
    again = validate_params(p.to_plain(), "frozen")
    assert [c.id for c in expand_grid(again)] == ids


@pytest.mark.parametrize("change, fragments", [
    ({"models": ["fno"]}, ["grid.subgrids[1].models[0]", "unknown model label 'fno'", "did you mean 'fno2d'",
                           "fno2d, unet"]),
    ({"name": "main"}, ["grid.subgrids[1].name", "duplicate sub-grid name 'main'"]),
    ({"name": "a b"}, ["grid.subgrids[1].name", "letters, digits"]),
    ({"finetune": {"pdes": ["navier_stokes"]}}, ["grid.subgrids[1].finetune.pdes[0]", "Navier-Stokes is switched on"]),
    ({"finetune": {"samples": [99]}}, ["grid.subgrids[1].finetune.samples", "exceeds data.samples.train=4"]),
    ({"finetune": {"distributions": ["ood"], "navier_stokes": True}},
     ["grid.subgrids[1].finetune.navier_stokes", "needs data.navier_stokes.enabled"]),
    ({"finetune": {"sample": [1]}}, ["grid.subgrids[1].finetune.sample", "did you mean 'samples'"]),
    ({"finetune": {"epochs": 3}}, ["grid.subgrids[1].finetune.epochs", "valid keys: tasks, samples"]),
    ({"strategy": ["none"]}, ["grid.subgrids[1].strategy", "did you mean 'strategies'"]),
    ({"strategies": ["transfr"]}, ["grid.subgrids[1].strategies[0]", "did you mean 'transfer'"]),
    ({"augmentations": [["shfit"]]}, ["grid.subgrids[1].augmentations[0][0]", "did you mean 'shift'"]),
    ({"seeds": []}, ["grid.subgrids[1].seeds", "at least 1"]),
])
def test_bad_subgrids_fail_with_their_yaml_path(change, fragments):
    subs = [dict(SUBS[0]), {**SUBS[1], **change}]
    with pytest.raises(ConfigError) as info:
        validate_params(_with_subgrids(subs), "bad.yaml")
    msg = str(info.value)
    assert msg.startswith("bad.yaml: ") and "\n" not in msg
    for frag in fragments:
        assert frag in msg, msg


def test_a_subgrid_needs_a_name():
    with pytest.raises(ConfigError, match=r"grid.subgrids\[0\].name: missing required key"):
        validate_params(_with_subgrids([{"models": ["fno2d"]}]), "bad.yaml")


def test_laptop_profile_covers_the_issue():
    p = load_params(ROOT / "parameters" / "laptop.yaml")
    cells = expand_grid(p)
    rows = [(c.model, c.strategy, c.augmentation_label, c.seed, ft) for c in cells for ft in finetunes(p, c)]
    all_ten = set(p.grid.strategies)
    assert len(all_ten) == 10
    for model in ("fno2d", "unet"):
        for pde in ("heat", "advection", "burgers"):
            got = {r[1] for r in rows if r[0] == model and r[2] == "none" and r[4].pde == pde
                   and r[4].distribution == "id"}
            assert got == all_ten
    assert len({c.seed for c in cells}) >= 3
    for strategy in ("none", "transfer"):
        counts = {r[4].samples for r in rows if r[1] == strategy and r[2] == "none" and r[4].distribution == "id"}
        assert len(counts) >= 3 and max(counts) >= 10 * min(counts)
    assert len({r[1] for r in rows if r[4].samples == 10}) >= 4
    valid = {"noise": {"heat", "advection", "burgers"}, "shift": {"heat", "advection", "burgers"},
             "scale": {"heat", "advection", "burgers"}, "galilean": {"advection", "burgers"}}
    for aug, pdes in valid.items():
        for strategy in ("none", "transfer"):
            assert {r[4].pde for r in rows if r[2] == aug and r[1] == strategy} == pdes
    assert p.pretrain.augment is True
    ood = {r[4].pde for r in rows if r[4].distribution == "ood"}
    assert ood == {"heat", "advection", "burgers"}
    assert any(r[4].pde == "navier_stokes" for r in rows) and p.data.navier_stokes.resolution == 64


def test_select_cells_keeps_grid_order_and_refuses_unknown_ids():
    p = load_params(ROOT / "parameters" / "smoke.yaml")
    got = select_cells(p, "unet__none__none__s1, fno2d__coefficient__none__s0")
    assert [c.id for c in got] == ["fno2d__coefficient__none__s0", "unet__none__none__s1"]
    with pytest.raises(ConfigError) as info:
        select_cells(p, ["fno2d__coefficent__none__s0"])
    msg = str(info.value)
    assert "no cell 'fno2d__coefficent__none__s0'" in msg and "did you mean 'fno2d__coefficient__none__s0'" in msg
    assert "cell_id column" in msg and "--list-cells" in msg and "\n" not in msg
    with pytest.raises(ConfigError, match="expected one or more cell ids"):
        select_cells(p, " , ")


def test_cli_list_cells(capsys):
    assert cli_main(["sweep", str(ROOT / "parameters" / "smoke.yaml"), "--list-cells"]) == 0
    assert capsys.readouterr().out.split() == SMOKE_IDS
    assert cli_main(["sweep", str(ROOT / "parameters" / "laptop.yaml"), "--list-cells",
                     "--cells", "fno2d__none__noise__s2"]) == 0
    assert capsys.readouterr().out.split() == ["fno2d__none__noise__s2"]


def test_cli_unknown_cell_is_one_line_and_writes_nothing(capsys, tmp_path):
    refused(capsys, tmp_path, ["sweep", str(ROOT / "parameters" / "smoke.yaml"), "--out", str(tmp_path / "sw"),
                               "--cells", "fno2d__none__none__s0,fno2d__coefficent__none__s0", "--no-progress"],
            "no cell 'fno2d__coefficent__none__s0'", "did you mean 'fno2d__coefficient__none__s0'", "--list-cells")


def test_sweep_cells_runs_only_those_and_reproduces_their_rows(tmp_path):
    raw = _with_subgrids(SUBS)
    params = tmp_path / "sub.yaml"
    params.write_text(yaml.safe_dump(raw))
    machine = tmp_path / "machine.yaml"
    machine.write_text(yaml.safe_dump({"n_workers": 1, "data_dir": str(tmp_path / "data"), "memory_limit": "2GB"}))
    full = run_sweep(params, tmp_path / "full", machine=machine, runner=fake_runner, progress=False, reports=False)
    assert not full.failed and full.n_cells == 9
    wanted = ["fno2d__none__shift__s0", "fno2d__none__none__s1"]
    part = run_sweep(params, tmp_path / "part", machine=machine, runner=fake_runner, progress=False, reports=False,
                     cells=",".join(wanted))
    assert part.n_cells == 2 and sorted(part.completed) == sorted(wanted)
    assert sorted(p.name for p in (tmp_path / "part" / "cells").iterdir()) == sorted(wanted)
    a = pd.read_csv(tmp_path / "full" / "results.csv")
    b = pd.read_csv(tmp_path / "part" / "results.csv")
    pd.testing.assert_frame_equal(a[a.cell_id.isin(wanted)].reset_index(drop=True), b)
    assert len(b) == 6 + 2  # fno2d none s1: (n1, n2, n4) x (heat, advection); shift: 2


def test_a_study_without_subgrids_freezes_as_before():
    """No ``subgrids`` key in the frozen params.yaml of a study without sub-grids, so a sweep
    folder started before sub-grids existed still resumes (its params.yaml compares equal)."""
    p = load_params(ROOT / "parameters" / "smoke.yaml")
    plain = p.to_plain()
    assert "subgrids" not in plain["grid"]
    assert plain == yaml.safe_load((ROOT / "notebooks" / "example_sweep" / "params.yaml").read_text())


def test_a_subgrid_may_pretrain_on_its_own_fractions(tmp_path):
    """Scaling in one study file: only the sub-grid that names ``pretrain_fractions`` pretrains at
    them; the fraction-1 cells it shares with the others are listed once; its data files exist."""
    from pde_lib.sweep.datasets import dataset_paths

    subs = [{"name": "main", "models": ["fno2d"], "strategies": ["none", "transfer"]},
            {"name": "scaling", "models": ["fno2d"], "strategies": ["none", "transfer"], "seeds": [0],
             "pretrain_fractions": ["1/3", 1]}]
    raw = _with_subgrids(subs)
    raw["data"]["pretrain_samples"] = 3
    p = validate_params(raw, "sub.yaml")
    ids = [c.id for c in expand_grid(p)]
    assert ids == ["fno2d__none__none__s0", "fno2d__none__none__s1", "fno2d__transfer__none__s0",
                   "fno2d__transfer__none__s1", "fno2d__transfer__none__s0__pf1of3"]
    assert sorted(n for n in dataset_paths(p, tmp_path) if n.startswith("pretrain")) == ["pretrain_id_p1", "pretrain_id_p3"]
    plain = p.to_plain()
    assert "pretrain_fractions" not in plain["grid"]["subgrids"][0]
    assert validate_params(json.loads(json.dumps(plain)), "frozen.yaml").to_plain() == plain
    raw["grid"]["subgrids"][1]["pretrain_fractions"] = ["2/3x"]
    with pytest.raises(ConfigError, match=r"grid.subgrids\[1\].pretrain_fractions"):
        validate_params(raw, "sub.yaml")
