"""The published laptop study (``outputs/published/laptop/``) is complete and is the study that
``parameters/laptop.yaml`` describes: every cell and fine-tune of its grid, one clean commit,
within the 90-minute budget, with per-sample errors and validation curves for every fine-tune,
the reports rendered; and the claims' tables compute from it."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pde_lib.params import load_params
from pde_lib.report.findings import (augmentation_control_table, augmentation_table, scarcity_table, shift_table,
                                     strategies_table)
from pde_lib.sweep import expand_grid, finetunes
from pde_lib.sweep.render import REPORTS

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "outputs" / "published" / "laptop"
PARAMS = ROOT / "parameters" / "laptop.yaml"
#: the power check: the strategies sub-grid for seeds 3 and 4 (docs/pilot_history.md, "Laptop study")
SEEDS_3_4 = ROOT / "outputs" / "published" / "laptop_seeds_3_4"


#: the one line the parameter file gained after publication: when out-of-distribution Burgers
#: moved to the diagonal lattice (docs/data_and_solvers.md), laptop.yaml pinned the square grids that every
#: published run used (the only ones then), so that its cells still regenerate the same data
PUBLISHED_PIN = {"burgers": {"refine": None, "cfl": None, "dtype": None, "lattice": "square"}}


def as_published(path: Path) -> dict:
    """The parameter file as the published runs froze it: without the square-lattice pin."""
    plain = load_params(path).to_plain()
    assert plain["data"]["solver"] == PUBLISHED_PIN, "the published runs' Burgers pin is gone"
    plain["data"]["solver"] = {}
    return plain


@pytest.fixture(scope="module")
def run():
    return json.loads((PUBLISHED / "run.json").read_text())


@pytest.fixture(scope="module")
def results():
    return pd.read_csv(PUBLISHED / "results.csv", dtype={"pretrain_fraction": str})


def test_published_parameters_are_the_parameter_file():
    frozen = yaml.safe_load((PUBLISHED / "params.yaml").read_text())
    assert frozen == as_published(PARAMS), \
        "parameters/laptop.yaml changed since the study was published: re-run and re-publish it"


def test_every_fine_tune_of_the_grid_is_published_once(results, run):
    params = load_params(PARAMS)
    expected = {(c.id, ft.id) for c in expand_grid(params) for ft in finetunes(params, c)}
    got = set(zip(results["cell_id"], results["finetune_id"]))
    assert got == expected and len(results) == len(expected)
    assert run["cells"] == len(expand_grid(params)) and run["finetunes"] == len(expected)
    assert results["test_rel_l2"].gt(0).all() and results["test_copy_last_rel_l2"].gt(0).all()


def test_one_clean_commit_within_the_budget(run):
    assert re.fullmatch(r"[0-9a-f]{40}", run["git_commit"]), run["git_commit"]
    assert 0 < run["wall_seconds"] <= 90 * 60
    assert run["machine"]["logical_cpus"] >= 1 and run["torch_threads"] == 1


def test_per_sample_errors_and_curves_for_every_fine_tune(results):
    params = load_params(PARAMS)
    per_sample = pd.read_csv(PUBLISHED / "per_sample.csv")
    counts = per_sample.groupby(["cell_id", "finetune_id"]).size()
    test_n = {True: params.data.navier_stokes.samples.test, False: params.data.samples.test}
    for (cell, ft), n in counts.items():
        assert n == test_n["navier_stokes" in ft], (cell, ft)
    assert len(counts) == len(results)
    curves = pd.read_csv(PUBLISHED / "curves.csv")
    lengths = curves.groupby(["cell_id", "finetune_id"])["epoch"].max()
    assert len(lengths) == len(results) and (lengths == params.finetune.epochs).all()


def test_reports_and_provenance_files_are_published():
    for name in REPORTS:
        assert (PUBLISHED / "reports" / f"{name}.html").stat().st_size > 10_000, name
    datasets = json.loads((PUBLISHED / "datasets.json").read_text())
    assert datasets and all(re.search(r"[0-9a-f]{64}", json.dumps(v)) for v in datasets.values())


def test_each_claim_has_its_comparisons_at_three_seeds(results):
    assert set(scarcity_table(results)["samples"]) == {10, 32, 100}
    assert len(strategies_table(results)) == 2 * 9  # 9 strategies vs none on each of 2 backbones
    assert set(augmentation_table(results)["augmentation"]) == {"noise", "shift", "scale", "galilean", "copy"}
    control = augmentation_control_table(results)  # claim 3 at equal steps: each against copy
    assert set(control["augmentation"]) == {"noise", "shift", "scale", "galilean"}
    assert set(control["strategy"]) == {"none", "transfer"} and (control["n_seeds"] == 3).all()
    assert set(shift_table(results)["setting"]) == {"ID", "OOD", "unseen PDE"}
    for table in (scarcity_table(results), strategies_table(results)):
        assert (table["n_seeds"] == 3).all()


def test_the_power_check_adds_seeds_3_and_4_to_the_strategy_comparison(results):
    """The published seeds 3-4 run is ``parameters/laptop_seeds_3_4.yaml`` and, joined with the
    study, gives every strategy comparison at 5 seeds (the 5-seed column of docs/pilot_history.md)."""
    frozen = yaml.safe_load((SEEDS_3_4 / "params.yaml").read_text())
    assert frozen == as_published(ROOT / "parameters" / "laptop_seeds_3_4.yaml")
    extra = pd.read_csv(SEEDS_3_4 / "results.csv", dtype={"pretrain_fraction": str})
    assert set(extra["seed"]) == {3, 4} and len(extra) == 2 * 2 * 10 * 3  # seeds x models x strategies x PDEs
    assert not set(extra["cell_id"]) & set(results["cell_id"])
    table = strategies_table(pd.concat([results, extra], ignore_index=True))
    assert len(table) == 18 and (table["n_seeds"] == 5).all()
    run = json.loads((SEEDS_3_4 / "run.json").read_text())
    assert re.fullmatch(r"[0-9a-f]{40}", run["git_commit"])


def test_seeds_needed_at_five_seeds_are_the_readmes(results):
    """The "seeds needed" figures (docs/pilot_history.md, "Laptop study") from the 5-seed strategy comparison:
    per backbone, the widest interval's estimate and conservative count."""
    from pde_lib.report.precision import precision_table

    extra = pd.read_csv(SEEDS_3_4 / "results.csv", dtype={"pretrain_fraction": str})
    p = precision_table(strategies_table(pd.concat([results, extra], ignore_index=True)))
    worst = p.loc[p.groupby("model")["half_width"].idxmax()].set_index("model")
    assert worst.loc["fno2d", ["seeds_needed", "seeds_needed_conservative"]].tolist() == [9, 18]
    assert worst.loc["unet", ["seeds_needed", "seeds_needed_conservative"]].tolist() == [52, 121]
    assert sorted(p.loc[p["narrow_enough"], "strategy"] + "/" + p.loc[p["narrow_enough"], "model"]) == [
        "jigsaw/fno2d", "picl/fno2d", "picl/unet", "space_sort/fno2d", "time_sort/fno2d"]


#: ten FNO2D seeds: the FNO2D cells without augmentation for seeds 5-9 (docs/pilot_history.md, "Laptop study")
SEEDS_5_9 = ROOT / "outputs" / "published" / "laptop_seeds_5_9"


def test_seeds_5_to_9_give_every_fno2d_comparison_a_verdict(results):
    """The published seeds 5-9 run is ``parameters/laptop_seeds_5_9.yaml``; joined with the study
    and seeds 3-4 it gives the FNO2D strategy comparison at 10 seeds and the scarcity and shift
    comparisons at 8, and every FNO2D row of claims 1, 2 and 4 is decided (docs/pilot_history.md, "Ten
    FNO2D seeds": helps, hurts or no 10% effect, none left undecided)."""
    frozen = yaml.safe_load((SEEDS_5_9 / "params.yaml").read_text())
    assert frozen == as_published(ROOT / "parameters" / "laptop_seeds_5_9.yaml")
    extra = [pd.read_csv(d / "results.csv", dtype={"pretrain_fraction": str}) for d in (SEEDS_3_4, SEEDS_5_9)]
    assert set(extra[1]["seed"]) == set(range(5, 10)) and set(extra[1]["model"]) == {"fno2d"}
    assert len(extra[1]) == 5 * (10 * 3 + 4 * 10)  # seeds x (strategies x PDEs + 4 strategies x 10 more)
    assert not set(extra[1]["cell_id"]) & (set(results["cell_id"]) | set(extra[0]["cell_id"]))
    joined = pd.concat([results, *extra], ignore_index=True)
    claims = {1: scarcity_table(joined), 2: strategies_table(joined), 4: shift_table(joined)}
    fno2d = claims[2][claims[2]["model"] == "fno2d"]
    assert (fno2d["n_seeds"] == 10).all() and len(fno2d) == 9
    assert set(claims[1].loc[claims[1]["samples"] != 32, "n_seeds"]) == {8}
    assert set(claims[4].loc[claims[4]["setting"] != "ID", "n_seeds"]) == {8}
    for table in (claims[1], fno2d, claims[4]):
        assert set(table["effect"]) <= {"helps", "hurts", "no 10% effect"}, table
    helps = sorted(fno2d.loc[fno2d["effect"] == "helps", "strategy"])
    assert helps == ["masked", "transfer"]
    run = json.loads((SEEDS_5_9 / "run.json").read_text())
    assert re.fullmatch(r"[0-9a-f]{40}", run["git_commit"]) and run["workers"] == 2


def test_findings_report_joins_the_seed_extensions(tmp_path):
    """report_findings with ``extra_dirs`` reads the study and both seed extensions as one table:
    its header names the joined folders and the FNO2D strategy comparison has 10 seeds."""
    import nbformat

    from pde_lib.sweep.notebooks import NOTEBOOK_DIR, execute

    out = execute(NOTEBOOK_DIR / "report_findings.ipynb", tmp_path / "findings.ipynb",
                  {"sweep_dir": str(PUBLISHED), "extra_dirs": [str(SEEDS_3_4), str(SEEDS_5_9)]},
                  cwd=NOTEBOOK_DIR, timeout=300)
    text = "".join(str(o.get("data", {}).get("text/html", "")) + str(o.get("text", ""))
                   for c in nbformat.read(str(out), as_version=4).cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "joined with" in text and "laptop_seeds_5_9" in text and "seeds 5, 6, 7, 8, 9" in text
    assert "seeds</b>: 10 (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)" in text
    # advection (not learned, ratio ~1 with no spread) is left out of the pooled rows, so fewer
    # intervals are narrow than when it was averaged in (10 of 18)
    assert "claim 2: 6 of 18 intervals narrow enough" in text and "NOT LEARNED" in text


LONG = ROOT / "outputs" / "published" / "laptop_long_finetune"


def test_fine_tuning_four_times_longer_shrinks_the_pretraining_gains(results):
    """The published ``parameters/laptop_long_finetune.yaml`` run (the strategies sub-grid with 240
    instead of 60 fine-tuning epochs; docs/pilot_history.md, "Fine-tuning 4x longer"): U-Net's `none` baseline
    falls to under half its 60-epoch error on heat and Burgers, transfer no longer helps U-Net
    after Holm, still helps FNO2D, and `derivative` and `masked` hurt U-Net."""
    frozen = yaml.safe_load((LONG / "params.yaml").read_text())
    assert frozen == load_params(ROOT / "parameters" / "laptop_long_finetune.yaml").to_plain()
    assert frozen["finetune"]["epochs"] == 240
    run = json.loads((LONG / "run.json").read_text())
    assert run["cells"] == 60 and run["finetunes"] == 180 and run["workers"] == 2
    assert re.fullmatch(r"[0-9a-f]{40}", run["git_commit"])
    long = pd.read_csv(LONG / "results.csv", dtype={"pretrain_fraction": str})
    assert len(long) == 180 and set(long["seed"]) == set(range(5)) and long["best_epoch"].max() <= 240
    # same cell ids as the study (other epochs): such folders must never be joined
    assert set(long["cell_id"]) & set(results["cell_id"])
    short = pd.concat([results, pd.read_csv(SEEDS_3_4 / "results.csv", dtype={"pretrain_fraction": str})])
    for pde in ("heat", "burgers"):
        pick = lambda df: df[(df.model == "unet") & (df.strategy == "none") & (df.pde == pde)  # noqa: E731
                             & (df.samples == 32) & (df.augmentation == "none") & (df.distribution == "id")]
        assert len(pick(long)) == len(pick(short)) == 5
        assert pick(long)["test_rel_l2"].mean() < 0.5 * pick(short)["test_rel_l2"].mean()
    table = strategies_table(long).set_index(["model", "strategy"])["effect"]
    # at 5 seeds U-Net transfer's interval excludes 0 but does not survive Holm
    assert table[("fno2d", "transfer")] == "helps" and table[("unet", "transfer")] == "direction clear, not after Holm"
    assert table[("unet", "derivative")] == table[("unet", "masked")] == "hurts"
    assert "helps" not in set(table.drop(("fno2d", "transfer")))


EXT = ROOT / "outputs" / "published" / "laptop_long_finetune_ext"


@pytest.fixture(scope="module")
def long_joined():
    """The 240-epoch fine-tunes: laptop_long_finetune joined with its extension."""
    from pde_lib.report.aggregate import join_results

    return join_results(EXT, [LONG])


def test_the_240_epoch_extension_is_its_parameter_file_and_joins_only_the_240_epoch_run(long_joined):
    """``parameters/laptop_long_finetune_ext.yaml`` (docs/pilot_history.md, "Fine-tuning 4x longer"): U-Net seeds
    5-14 of none and the five strategies left undecided at 5 seeds, FNO2D scarcity and shift, all
    at 240 epochs; it joins the 240-epoch run and is refused next to the 60-epoch study."""
    from pde_lib.errors import DataError
    from pde_lib.report.aggregate import join_results
    from pde_lib.report.fairness import load_curves, not_below_copy_last, plateau_table

    frozen = yaml.safe_load((EXT / "params.yaml").read_text())
    assert frozen == load_params(ROOT / "parameters" / "laptop_long_finetune_ext.yaml").to_plain()
    assert frozen["finetune"]["epochs"] == 240
    run = json.loads((EXT / "run.json").read_text())
    assert run["cells"] == 80 and run["finetunes"] == 380 and run["workers"] == 2
    assert re.fullmatch(r"[0-9a-f]{40}", run["git_commit"])
    own = pd.read_csv(EXT / "results.csv", dtype={"pretrain_fraction": str})
    params = load_params(ROOT / "parameters" / "laptop_long_finetune_ext.yaml")
    assert set(zip(own["cell_id"], own["finetune_id"])) == {
        (c.id, ft.id) for c in expand_grid(params) for ft in finetunes(params, c)}
    assert len(long_joined) == 380 + 180
    with pytest.raises(DataError, match="finetune.epochs is 240 there and 60 here"):
        join_results(PUBLISHED, [EXT])
    # fair: every baseline plateaued, every fine-tune beats copy-last-frame, in and out of distribution
    assert set(plateau_table(own, load_curves(EXT))["plateaued"]) == {"yes"}
    assert not_below_copy_last(own, None).empty and (own["test_rel_l2"] < own["test_copy_last_rel_l2"]).all()
    assert "joined with" in (EXT / "reports" / "report_findings.html").read_text()


def test_at_240_epochs_and_15_seeds_u_net_transfer_helps_and_three_pretext_strategies_hurt(long_joined):
    """Claim 2 on U-Net at 240 epochs (docs/pilot_history.md, "Fine-tuning 4x longer"): with 15 seeds transfer
    helps, coefficient and time_sort hurt, picl is ruled out beyond 10%, binary stays too
    wide to tell; with the four comparisons decided at 5 seeds, 9 of 10 are decided."""
    table = strategies_table(long_joined).set_index(["model", "strategy"])
    unet = table.loc["unet"]
    assert unet.loc[["transfer", "binary", "coefficient", "picl", "time_sort"], "n_seeds"].eq(15).all()
    assert unet.loc[["derivative", "masked", "jigsaw", "space_sort"], "n_seeds"].eq(5).all()
    assert unet.loc["transfer", "effect"] == "helps" and 12 < unet.loc["transfer", "ci_low"] < unet.loc[
        "transfer", "ci_high"] < 21
    assert unet.loc["coefficient", "effect"] == unet.loc["time_sort", "effect"] == "hurts"
    assert unet.loc["derivative", "effect"] == unet.loc["masked", "effect"] == "hurts"
    assert unet.loc["picl", "effect"] == unet.loc["jigsaw", "effect"] == unet.loc["space_sort", "effect"] \
        == "no 10% effect"
    assert unet.loc["binary", "effect"] == "too wide to tell"
    assert table.loc[("fno2d", "transfer"), "effect"] == "helps"


def test_at_240_epochs_fno2d_transfer_still_gains_most_when_data_are_scarce_and_out_of_distribution(long_joined):
    """Claims 1 and 4 on FNO2D at 240 epochs, 5 seeds: transfer helps at 10 samples, more than at
    100 (trend interval above 0); derivative and coefficient gain nothing at 10 samples; OOD
    transfer helps and derivative hurts; on Navier-Stokes no strategy moves the error by 10%."""
    from pde_lib.report.findings import scarcity_trend

    s = scarcity_table(long_joined).set_index(["strategy", "samples"])
    assert s.loc[("transfer", 10), "effect"] == s.loc[("transfer", 32), "effect"] == "helps"
    assert s.loc[("transfer", 10), "mean"] > s.loc[("transfer", 32), "mean"] > s.loc[("transfer", 100), "mean"] > 0
    assert s.loc[("derivative", 10), "effect"] == "no 10% effect" and s.loc[("coefficient", 10), "ci_low"] < 0
    trend = scarcity_trend(long_joined).set_index("strategy")
    assert trend.loc["transfer", "ci_low"] > 0 and trend.loc["derivative", "ci_low"] < 0
    shift = shift_table(long_joined).set_index(["setting", "strategy"])
    assert shift.loc[("OOD", "transfer"), "effect"] == "helps" and shift.loc[("OOD", "derivative"), "effect"] == "hurts"
    assert set(shift.loc["unseen PDE", "effect"]) == {"no 10% effect"}


AUG = ROOT / "outputs" / "published" / "laptop_long_finetune_aug"


def test_at_240_epochs_every_augmentation_still_trains_like_unchanged_copies():
    """Claim 3 at 240 epochs (``parameters/laptop_long_finetune_aug.yaml`` joined with
    laptop_long_finetune, FNO2D, seeds 0-2; docs/pilot_history.md, "Fine-tuning 4x longer"): against the
    step-matched control every comparison is decided, seven within +-10% and Galilean boosts
    hurting transfer; no augmentation helps against no augmentation after Holm."""
    from pde_lib.report.aggregate import join_results

    frozen = yaml.safe_load((AUG / "params.yaml").read_text())
    assert frozen == load_params(ROOT / "parameters" / "laptop_long_finetune_aug.yaml").to_plain()
    run = json.loads((AUG / "run.json").read_text())
    assert run["cells"] == 30 and run["finetunes"] == 84 and frozen["finetune"]["epochs"] == 240
    joined = join_results(AUG, [LONG])
    own = joined[joined["augmentation"] != "none"]
    assert len(own) == 84 and (own["test_rel_l2"] < own["test_copy_last_rel_l2"]).all()
    control = augmentation_control_table(joined).set_index(["strategy", "augmentation"])
    assert len(control) == 8 and control["n_seeds"].eq(3).all()
    assert control.loc[("transfer", "galilean"), "effect"] == "hurts"
    assert set(control.drop(("transfer", "galilean"))["effect"]) == {"no 10% effect"}
    versus_none = augmentation_table(joined).set_index(["strategy", "augmentation"])
    assert len(versus_none) == 10 and "helps" not in set(versus_none["effect"])
    assert "joined with" in (AUG / "reports" / "report_findings.html").read_text()
