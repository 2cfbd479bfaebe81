"""The verdict labels (``pde_lib.report.verdicts``), the learned-PDE rule (``learned``), the
claim-1 family with its trend tests (``findings.scarcity_family``) and the optional-stopping
simulation (``stopping``)."""

import numpy as np
import pandas as pd
import pytest

from pde_lib.report.verdicts import DIRECTION_ONLY, HELPS, HURTS, LABELS, MEANINGS, NO_EFFECT, TOO_WIDE, verdict


@pytest.mark.parametrize("mean, low, high, reject, label", [
    (25.0, 10.0, 40.0, True, HELPS),
    (-25.0, -40.0, -10.0, True, HURTS),
    (5.3, 2.6, 7.9, True, HELPS),            # inside +-10% but survives Holm: helps
    (1.0, -5.0, 7.0, False, NO_EFFECT),
    (5.7, 2.1, 9.2, False, NO_EFFECT),       # excludes 0 but inside +-10%: the 10% question is answered
    (33.0, 18.7, 44.7, False, DIRECTION_ONLY),  # the example: not "too wide"
    (-11.4, -19.7, -3.7, False, DIRECTION_ONLY),
    (1.0, -15.0, 7.0, False, TOO_WIDE),
    (30.0, np.nan, np.nan, False, TOO_WIDE),  # one seed: no interval
])
def test_verdict_rule(mean, low, high, reject, label):
    assert verdict(mean, low, high, reject) == label


def test_every_label_has_a_meaning_and_too_wide_means_what_it_says():
    assert set(MEANINGS) == set(LABELS) and len(LABELS) == 5
    assert "too wide" in MEANINGS[TOO_WIDE] and "holds 0" in MEANINGS[TOO_WIDE]
    # "too wide to tell" is never given to an interval that excludes 0
    rng = np.random.default_rng(0)
    for _ in range(2000):
        lo = rng.uniform(-60, 60)
        hi = lo + rng.uniform(0, 60)
        if verdict((lo + hi) / 2, lo, hi, False) == TOO_WIDE:
            assert lo <= 0 <= hi and (lo <= -10 or hi >= 10)


def _row(model, strategy, seed, pde, samples, err, distribution="id"):
    from pde_lib.report.aggregate import COLUMNS

    row = dict.fromkeys(COLUMNS)
    row.update(model=model, backbone=model, strategy=strategy, augmentation="none", pretrain_fraction="1",
               seed=seed, task="fixed_future", distribution=distribution, pde=pde, samples=samples,
               test_rel_l2=err, valid_rel_l2=err, best_epoch=1, test_copy_last_rel_l2=2.0,
               cell_id=f"{model}__{strategy}__none__s{seed}", finetune_id=f"fixed_future__{distribution}__{pde}__n{samples}")
    return row


def _study(seeds=5, trend_noise=0.02):
    """transfer: error ratio 0.6 at n=10, 0.8 at n=100 on heat and Burgers; advection unlearned
    (every error ~1, the zero prediction's)."""
    rng = np.random.default_rng(1)
    rows = []
    for seed in range(seeds):
        for pde in ("heat", "burgers", "advection"):
            for n, ratio in ((10, 0.6), (100, 0.8)):
                base = 1.0 + 0.002 * rng.normal() if pde == "advection" else 0.4 * np.exp(0.1 * rng.normal())
                r = 1.0 if pde == "advection" else ratio * np.exp(trend_noise * rng.normal())
                rows += [_row("fno2d", "none", seed, pde, n, base), _row("fno2d", "transfer", seed, pde, n, base * r)]
    return pd.DataFrame(rows)


def test_an_unlearned_pde_is_left_out_of_pooled_verdicts():
    from pde_lib.report.findings import scarcity_table
    from pde_lib.report.learned import learned_rows, learned_table, unlearned, unlearned_note

    df = _study()
    t = learned_table(df).set_index("pde")
    assert not t.loc["advection", "learned"] and t.loc["heat", "learned"] and t.loc["burgers", "learned"]
    assert unlearned(df) == [("fno2d", "id", "advection")]
    assert "advection (fno2d, ID)" in unlearned_note(df)
    pooled_all = scarcity_table(df).set_index("samples")["mean"]
    pooled_learned = scarcity_table(learned_rows(df)).set_index("samples")["mean"]
    # advection's ratio 1 pulls the pooled effect a third of the way to 0; without it, the planted 40%
    assert pooled_learned[10] == pytest.approx(40, abs=2) and pooled_all[10] < 30


def test_the_trend_tests_are_in_claim_1s_holm_family():
    from pde_lib.report.findings import scarcity_family, scarcity_table

    df = _study()
    table, trend = scarcity_family(df)
    assert table.attrs["family"] == trend.attrs["family"] == len(table) + len(trend) == 3
    # the joint family: Holm over the count rows and the trend row together
    from pde_lib.report.multiple import holm

    _, adjusted = holm(np.r_[table["p_value"], trend["p_value"]])
    np.testing.assert_allclose(np.r_[table["p_holm"], trend["p_holm"]], adjusted)
    assert trend["p_holm"].iloc[0] >= trend["p_value"].iloc[0]
    assert trend["effect"].iloc[0] == "more when scarce"
    assert scarcity_table(df).attrs["family"] == 2  # on its own the trend was outside any family


def test_a_trend_significant_alone_can_fail_holm_in_its_family():
    """p = 0.046 alone, three trends in the family: not a survivor (the issue's 240-epoch case)."""
    from pde_lib.report.multiple import holm

    reject, adjusted = holm([0.046, 0.2, 0.5, 1e-6])
    assert not reject[0] and adjusted[0] == pytest.approx(0.138)


def test_optional_stopping_inflates_false_decisions():
    from pde_lib.report.stopping import false_decision_rate

    r = false_decision_rate(5, 15, sd=0.1, trials=40_000, seed=0)
    assert r["fixed"] == pytest.approx(0.05, abs=0.006)
    assert 0.07 < r["adaptive"] < 0.10 and r["extended"] > 0.5
    never = false_decision_rate(5, 15, sd=0.001, trials=20_000, seed=0)  # always "no 10% effect" at 5 seeds
    assert never["extended"] == 0 and never["adaptive"] == pytest.approx(never["fixed"])
    with pytest.raises(ValueError, match="n_first"):
        false_decision_rate(5, 5)
