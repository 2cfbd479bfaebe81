"""The claims' comparison families (``pde_lib.report.findings``) on synthetic results with
known effects: each verdict (helps, hurts, no 10% effect, direction clear, too wide to tell) is produced where it should
be and only there; the scarcity trend, the augmentation family and the shift settings."""

import numpy as np
import pandas as pd
import pytest

from pde_lib.report.aggregate import COLUMNS
from pde_lib.report.findings import (augmentation_control_table, augmentation_table, effect, effect_counts, scarcity_table, scarcity_trend,
                                     setting_of, shift_table, strategies_table)

SEEDS = range(5)
PDES = ("heat", "advection", "burgers")


def _row(model, strategy, seed, pde, samples, err, augmentation="none", distribution="id"):
    row = dict.fromkeys(COLUMNS)
    row.update(model=model, backbone=model, strategy=strategy, augmentation=augmentation, pretrain_fraction="1",
               seed=seed, task="fixed_future", distribution=distribution, pde=pde, samples=samples,
               test_rel_l2=err, valid_rel_l2=err, best_epoch=1, test_copy_last_rel_l2=2.0,
               cell_id=f"{model}__{strategy}__{augmentation}__s{seed}",
               finetune_id=f"fixed_future__{distribution}__{pde}__n{samples}")
    return row


def _study(ratios: dict, samples=(32,), noise: dict | None = None, model="fno2d", rng_seed=0, **kw) -> pd.DataFrame:
    """``ratios[strategy]``: err / err_none (a number, or {samples: ratio}); ``noise[strategy]``:
    the sd of a per-seed log-ratio offset."""
    rng = np.random.default_rng(rng_seed)
    rows = []
    for seed in SEEDS:
        base = {(pde, n): 0.5 * np.exp(rng.normal(0, 0.3)) for pde in PDES for n in samples}
        for (pde, n), err in base.items():
            rows.append(_row(model, "none", seed, pde, n, err, **kw))
        for strategy, ratio in ratios.items():
            jitter = {n: rng.normal(0, (noise or {}).get(strategy, 0.01)) for n in samples}
            for (pde, n), err in base.items():
                r = ratio[n] if isinstance(ratio, dict) else ratio
                rows.append(_row(model, strategy, seed, pde, n, err * r * np.exp(jitter[n]), **kw))
    return pd.DataFrame(rows, columns=COLUMNS)


def test_effect_rule():
    assert effect(25.0, 10.0, 40.0, True) == "helps"
    assert effect(-25.0, -40.0, -10.0, True) == "hurts"
    assert effect(1.0, -5.0, 7.0, False) == "no 10% effect"
    assert effect(1.0, -15.0, 7.0, False) == "too wide to tell"
    assert effect(33.0, 18.7, 44.7, False) == "direction clear, not after Holm"
    assert effect(30.0, np.nan, np.nan, False) == "too wide to tell"  # one seed: no interval


def test_strategy_table_verdicts_match_the_planted_effects():
    df = _study({"transfer": 0.7, "binary": 1.0, "masked": 1.0, "jigsaw": 1.3}, noise={"masked": 0.4})
    t = strategies_table(df).set_index("strategy")
    assert t.loc["transfer", "effect"] == "helps"
    assert t.loc["transfer", "mean"] == pytest.approx(30.0, abs=2.0)
    assert t.loc["jigsaw", "effect"] == "hurts"
    assert t.loc["binary", "effect"] == "no 10% effect"
    assert t.loc["masked", "effect"] == "too wide to tell"
    assert t.attrs["family"] == 4
    assert sorted(effect_counts(t.reset_index()).split(", ")) == ["1 helps", "1 hurts", "1 no 10% effect",
                                                                  "1 too wide to tell"]


def test_scarcity_table_and_trend():
    df = _study({"transfer": {10: 0.5, 100: 0.9}, "coefficient": {10: 1.0, 100: 1.0}}, samples=(10, 100))
    t = scarcity_table(df).set_index(["strategy", "samples"])
    assert t.loc[("transfer", 10), "effect"] == "helps" and t.loc[("transfer", 10), "mean"] == pytest.approx(50, abs=2)
    assert t.loc[("coefficient", 100), "effect"] == "no 10% effect"
    trend = scarcity_trend(df).set_index("strategy")
    # error ratio 0.5 at n=10 vs 0.9 at n=100: 1 - 0.5/0.9 = 44% more gain when scarce
    assert trend.loc["transfer", "extra_gain"] == pytest.approx(100 * (1 - 0.5 / 0.9), abs=2)
    assert trend.loc["transfer", "ci_low"] > 0 and trend.loc["transfer", "p_value"] < 0.05
    assert trend.loc["coefficient", "ci_low"] < 0 < trend.loc["coefficient", "ci_high"]
    assert (trend["n_min"] == 10).all() and (trend["n_max"] == 100).all()


def test_a_strategy_at_one_sample_count_is_left_out_of_the_scarcity_family():
    df = pd.concat([_study({"transfer": 0.8}, samples=(10, 100)), _study({"binary": 0.8}, samples=(10,))])
    df = df.drop_duplicates(["cell_id", "finetune_id"])
    assert set(scarcity_table(df)["strategy"]) == {"transfer"}
    assert set(scarcity_trend(df)["strategy"]) == {"transfer"}


def test_augmentation_table_pairs_along_the_augmentation():
    plain = _study({"transfer": 0.8})
    noisy = _study({"transfer": 0.8}, augmentation="noise")
    noisy["test_rel_l2"] *= 0.6  # noise augmentation: 40% lower error for none and transfer alike
    t = augmentation_table(pd.concat([plain, noisy])).set_index(["strategy", "augmentation"])
    assert t.loc[("none", "noise"), "mean"] == pytest.approx(40.0, abs=1e-6)
    assert t.loc[("transfer", "noise"), "effect"] == "helps"


def test_augmentation_control_table_separates_the_transform_from_the_extra_steps():
    """Copies alone (the extra steps) cut the error 20%; noise cuts it 20% too (no effect of the
    transform itself), shift 40% (half of it the transform): only shift helps against the control."""
    plain = _study({"transfer": 0.8}, rng_seed=0)
    arms = {"copy": 0.8, "noise": 0.8, "shift": 0.6}
    parts = [plain]
    for aug, factor in arms.items():
        arm = _study({"transfer": 0.8}, augmentation=aug, rng_seed=0)
        arm["test_rel_l2"] *= factor
        parts.append(arm)
    df = pd.concat(parts)
    vs_none = augmentation_table(df).set_index(["strategy", "augmentation"])
    assert vs_none.loc[("none", "noise"), "effect"] == "helps"  # the confounded comparison
    t = augmentation_control_table(df).set_index(["strategy", "augmentation"])
    assert set(t.index.get_level_values("augmentation")) == {"noise", "shift"}
    assert t.loc[("none", "noise"), "effect"] == "no 10% effect"
    assert t.loc[("none", "shift"), "mean"] == pytest.approx(25.0, abs=1e-6)  # 1 - 0.6 / 0.8
    assert t.loc[("transfer", "shift"), "effect"] == "helps"
    assert augmentation_control_table(plain).empty  # no control run: nothing to compare


def test_shift_table_settings():
    assert [setting_of("id", "heat"), setting_of("ood", "burgers"), setting_of("id", "navier_stokes")] == \
        ["ID", "OOD", "unseen PDE"]
    ood = _study({"transfer": 0.9}, distribution="ood")
    ind = _study({"transfer": 0.5, "binary": 0.5})
    t = shift_table(pd.concat([ind, ood]))
    assert set(t["strategy"]) == {"transfer"}  # binary was never fine-tuned out of distribution
    by = t.set_index("setting")
    assert by.loc["ID", "mean"] == pytest.approx(50, abs=2) and by.loc["OOD", "mean"] == pytest.approx(10, abs=2)


def test_compare_results_reports_bitwise_agreement_and_the_largest_differences():
    from pde_lib.errors import DataError
    from pde_lib.report.compare import compare_results, comparison_summary

    ref = _study({"transfer": 0.8})
    rerun = ref[ref["cell_id"].str.endswith("__s0")].copy()
    diff = compare_results(ref, rerun)
    assert len(diff) == 6 and (diff["test_rel_l2_rel_diff"] == 0).all()
    assert comparison_summary(diff).startswith("6 fine-tunes compared: 6 with bitwise-equal test error")
    rerun.loc[rerun.index[0], "test_rel_l2"] *= 1 + 1e-6
    rerun.loc[rerun.index[1], "best_epoch"] = 7
    text = comparison_summary(compare_results(ref, rerun))
    assert "5 with bitwise-equal" in text and "test_rel_l2 1e-06" in text and "best epoch changed in 1" in text
    stranger = rerun.assign(cell_id="unet__none__none__s9")
    with pytest.raises(DataError, match="not in the reference table, e.g. unet__none__none__s9"):
        compare_results(ref, stranger)
