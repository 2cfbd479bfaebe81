"""The dependence question (``pde_lib.report.dependence``) on synthetic results with known
interactions: a strategy x backbone and a strategy x PDE interaction that must be found, flat
strategies that must read "no 10% effect", the Holm family sizes, the answer of
``dependence_verdict``, NaN and too-few-seed handling, and the figures' font sizes."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from pde_lib.report.aggregate import COLUMNS
from pde_lib.report.dependence import (DEPENDS, NO_DEPENDENCE, UNDECIDED, backbone_interactions, dependence_rows,
                                       dependence_verdict, improvement_cells, pde_interactions)
from pde_lib.report.forest import small_fonts
from pde_lib.report.question_figures import improvement_grid, interaction_forest

MODELS = ("fno2d", "unet", "deeponet2d")
PDES = ("heat", "burgers")
#: err / err_none per (strategy, model, pde); missing keys: 1.0
PLANTED = {
    ("transfer", "fno2d"): 0.6, ("transfer", "unet"): 0.9, ("transfer", "deeponet2d"): 0.9,  # backbone x
    ("picl", "heat"): 0.7, ("picl", "burgers"): 1.0,  # PDE x, the same on every backbone
}


def _row(model, strategy, seed, pde, err, samples=32, fraction="1", distribution="id"):
    row = dict.fromkeys(COLUMNS)
    row.update(model=model, backbone=model, strategy=strategy, augmentation="none", pretrain_fraction=fraction,
               seed=seed, task="fixed_future", distribution=distribution, pde=pde, samples=samples,
               test_rel_l2=err, valid_rel_l2=err, best_epoch=1, test_copy_last_rel_l2=2.0,
               cell_id=f"{model}__{strategy}__none__s{seed}",
               finetune_id=f"fixed_future__{distribution}__{pde}__n{samples}")
    return row


def _ratio(strategy, model, pde):
    return PLANTED.get((strategy, model), PLANTED.get((strategy, pde), 1.0))


def _study(seeds=range(6), strategies=("transfer", "picl", "binary"), noise=0.02, rng_seed=0):
    """Per seed, backbone and PDE a random ``none`` error; each strategy's error is it times the
    planted ratio times exp(+-z), z ~ N(0, noise): seeds 2k and 2k + 1 take +z and -z (antithetic),
    so over an even number of seeds every log ratio averages to exactly the planted one and a
    null interaction has mean 0 (no chance false positive), while its interval still has width."""
    rng = np.random.default_rng(rng_seed)
    z = {(k, m, p, s): rng.normal(0, noise) for k in range(len(seeds)) for m in MODELS for p in PDES
         for s in strategies}
    rows = []
    for seed in seeds:
        sign = 1.0 if seed % 2 == 0 else -1.0
        for model in MODELS:
            for pde in PDES:
                base = 0.4 * np.exp(rng.normal(0, 0.3))
                rows.append(_row(model, "none", seed, pde, base))
                for s in strategies:
                    jitter = np.exp(sign * z[(seed // 2, model, pde, s)])
                    rows.append(_row(model, s, seed, pde, base * _ratio(s, model, pde) * jitter))
    return pd.DataFrame(rows, columns=COLUMNS)


def test_the_planted_backbone_interaction_is_found_and_the_flat_ones_read_no_effect():
    t = backbone_interactions(dependence_rows(_study())).set_index(["strategy", "a", "b"])
    # 3 strategies x 3 backbone pairs, one family
    assert len(t) == 9 and t.attrs["family"] == 9
    row = t.loc[("transfer", "deeponet2d", "fno2d")]  # reading order of labels: by name
    # a = deeponet2d (ratio 0.9), b = fno2d (0.6): gain on a beyond b = 1 - 0.9 / 0.6 = -50%
    assert row["effect"] == "hurts" and row["mean"] == pytest.approx(100 * (1 - 0.9 / 0.6), abs=3)
    assert t.loc[("transfer", "fno2d", "unet"), "effect"] == "helps"
    assert t.loc[("transfer", "fno2d", "unet"), "mean"] == pytest.approx(100 * (1 - 0.6 / 0.9), abs=3)
    assert t.loc[("transfer", "deeponet2d", "unet"), "effect"] == "no 10% effect"
    for pair in [("deeponet2d", "fno2d"), ("deeponet2d", "unet"), ("fno2d", "unet")]:
        assert t.loc[("binary", *pair), "effect"] == "no 10% effect"
        # picl's PDE effect is the same on every backbone: no backbone interaction
        assert t.loc[("picl", *pair), "effect"] == "no 10% effect"
    assert (t["pdes"] == "burgers+heat").all()
    assert t.attrs["survivors"] == 2


def test_the_planted_pde_interaction_is_found_on_every_backbone():
    t = pde_interactions(dependence_rows(_study())).set_index(["model", "strategy"])
    assert len(t) == 9 and t.attrs["family"] == 9  # 3 backbones x 3 strategies x 1 PDE pair
    assert set(zip(t["a"], t["b"])) == {("burgers", "heat")}
    for m in MODELS:
        # a = burgers (ratio 1.0), b = heat (0.7): gain on burgers beyond heat = 1 - 1/0.7 < 0
        assert t.loc[(m, "picl"), "effect"] == "hurts"
        assert t.loc[(m, "picl"), "mean"] == pytest.approx(100 * (1 - 1.0 / 0.7), abs=3)
        assert t.loc[(m, "transfer"), "effect"] == "no 10% effect"
        assert t.loc[(m, "binary"), "effect"] == "no 10% effect"


def test_dependence_verdict_answers_from_both_families():
    rows = dependence_rows(_study())
    answer, counts = dependence_verdict(backbone_interactions(rows), pde_interactions(rows))
    assert answer == DEPENDS and "of 18" in counts and "1 helps" in counts and "4 hurts" in counts
    flat = dependence_rows(_study(strategies=("binary",)))
    answer, counts = dependence_verdict(backbone_interactions(flat), pde_interactions(flat))
    assert answer == NO_DEPENDENCE and counts == "6 no 10% effect of 6"
    noisy = dependence_rows(_study(strategies=("binary",), noise=0.4, seeds=range(3)))
    answer, counts = dependence_verdict(backbone_interactions(noisy), pde_interactions(noisy))
    assert answer == UNDECIDED and "too wide to tell" in counts
    assert dependence_verdict(pd.DataFrame(columns=["effect"]))[0] == UNDECIDED


def test_seeds_pair_across_backbones_and_a_nan_or_missing_seed_is_left_out():
    df = _study()
    unet = (df["model"] == "unet") & (df["strategy"] == "transfer")
    df.loc[unet & (df["seed"] == 0), "test_rel_l2"] = np.nan  # a diverged run
    df = df[~(unet & (df["seed"] == 1))]  # a missing run
    t = backbone_interactions(dependence_rows(df)).set_index(["strategy", "a", "b"])
    assert t.loc[("transfer", "fno2d", "unet"), "n_seeds"] == 4
    assert t.loc[("transfer", "deeponet2d", "fno2d"), "n_seeds"] == 6
    assert t.loc[("transfer", "fno2d", "unet"), "effect"] == "helps"


def test_one_seed_gives_no_interval_and_stays_out_of_the_family():
    df = _study()
    df = df[~((df["model"] == "deeponet2d") & (df["seed"] > 0))]
    t = backbone_interactions(dependence_rows(df))
    one = t[(t["a"] == "deeponet2d") | (t["b"] == "deeponet2d")]
    assert len(one) == 6 and (one["n_seeds"] == 1).all()
    assert one["ci_low"].isna().all() and one["p_value"].isna().all()
    assert (one["effect"] == "too wide to tell").all()
    assert t.attrs["family"] == 3  # only the fno2d-unet pairs are tested


def test_rows_are_selected_by_sample_count_fraction_and_pde():
    df = pd.concat([_study(), _study().assign(samples=128, test_rel_l2=lambda d: d["test_rel_l2"] * 1.0),
                    _study().assign(pretrain_fraction="1of9").query("strategy != 'none'"),
                    _study().assign(pde="advection")], ignore_index=True)
    rows = dependence_rows(df, samples=32)
    assert set(rows["samples"]) == {32} and set(rows["pde"]) == {"heat", "burgers"}
    assert set(rows["pretrain_fraction"]) == {"1"}
    assert len(backbone_interactions(rows)) == 9
    assert len(backbone_interactions(dependence_rows(df, models=["fno2d", "unet"]))) == 3


def test_improvement_grid_writes_each_cell_with_its_interval_at_10_pt():
    rows = dependence_rows(_study())
    cells = improvement_cells(rows)
    assert len(cells) == 9
    fig = improvement_grid(cells, title="improvement over none")
    texts = [t.get_text() for t in fig.axes[0].texts]
    fno = cells.set_index(["strategy", "model"]).loc[("transfer", "fno2d")]
    assert fno["mean"] == pytest.approx(40, abs=3)
    assert f"{fno['mean']:+.0f}%\n[{fno['ci_low']:+.0f}, {fno['ci_high']:+.0f}]" in texts
    assert small_fonts(fig) == []
    plt.close(fig)
    by_pde = improvement_cells(rows, by=["model", "pde"])
    fig = improvement_grid(by_pde, columns=["model", "pde"])
    assert len(fig.axes[0].get_xticklabels()) == 6 and small_fonts(fig) == []
    plt.close(fig)


def test_interaction_forest_is_legible():
    rows = dependence_rows(_study())
    fig = interaction_forest(backbone_interactions(rows), "strategy x backbone")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "transfer: fno2d vs unet" in labels and len(labels) == 9
    assert small_fonts(fig) == []
    plt.close(fig)
    fig = interaction_forest(pde_interactions(rows), "strategy x PDE")
    assert "fno2d, picl: burgers vs heat" in [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert small_fonts(fig) == []
    plt.close(fig)
