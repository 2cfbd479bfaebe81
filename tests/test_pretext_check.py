"""The pretext manipulation check (``report.pretext_check``): held-out curves from a run's
metrics, the settled epoch, the plateau rule and the learned rule."""

import math

import numpy as np
import pytest

from pde_lib.errors import DataError
from pde_lib.report.pretext_check import (holdout_curve, last_third_gain, learned, plateaued, pretext_summary,
                                          settled_epoch)


def test_settled_epoch_relative_for_losses():
    # final 1.0; 1.06 is outside 5%, 1.04 inside: settles at epoch 4
    assert settled_epoch([2.0, 1.5, 1.06, 1.04, 1.0], "loss") == 4
    assert settled_epoch([1.0, 1.0, 1.0], "loss") == 1
    # a late excursion outside the band moves the settled epoch past it
    assert settled_epoch([1.0, 1.0, 1.2, 1.0], "loss") == 4


def test_settled_epoch_absolute_for_accuracies():
    assert settled_epoch([0.25, 0.5, 0.885, 0.89, 0.9], "accuracy") == 3
    assert settled_epoch([0.25, 0.5, 0.87, 0.9], "accuracy") == 4


def test_last_third_gain_and_plateau_for_losses():
    # 6 epochs: the last third is epochs 5-6, measured from epoch 4's value
    flat = [4.0, 2.0, 1.0, 1.0, 0.995, 0.99]
    assert last_third_gain(flat, "loss") == pytest.approx(0.01)
    assert plateaued(flat, "loss")
    falling = [4.0, 2.0, 1.5, 1.0, 0.9, 0.8]
    assert last_third_gain(falling, "loss") == pytest.approx(0.2)
    assert not plateaued(falling, "loss")
    assert plateaued([1.0, 1.0, 1.0, 1.0, 1.1, 1.2], "loss")  # got worse: no more to gain


def test_last_third_gain_negative_losses_use_the_magnitude():
    # PICL-style losses can be negative; a decrease is still an improvement
    assert last_third_gain([0.0, -1.0, -1.0, -1.5], "loss") > 0
    assert not plateaued([0.0, -1.0, -1.0, -1.5], "loss")


def test_plateau_for_accuracies_is_absolute():
    assert plateaued([0.3, 0.6, 0.80, 0.81, 0.81, 0.815], "accuracy")
    assert not plateaued([0.3, 0.6, 0.70, 0.75, 0.8, 0.85], "accuracy")


def test_single_epoch_is_no_plateau_and_bad_curves_are_refused():
    assert math.isnan(last_third_gain([1.0], "loss"))
    assert not plateaued([1.0], "loss")
    with pytest.raises(DataError, match="finite"):
        settled_epoch([1.0, float("nan")], "loss")
    with pytest.raises(DataError, match="non-empty"):
        plateaued([], "loss")
    with pytest.raises(ValueError, match="metric"):
        plateaued([1.0, 2.0], "mse")


def test_learned_rule():
    assert learned(0.3) is True
    assert learned(0.0) is False
    assert learned(-0.2) is False
    assert learned(None) is None
    assert learned(float("nan")) is None


def _classification(accs):
    return {"classification": True, "chance_accuracy": 0.25, "max_accuracy": 1.0, "holdout_accuracy": accs}


def test_holdout_curve_and_summary_classification():
    m = _classification([0.25, 0.5, 0.70, 0.70, 0.71, 0.70])
    c = holdout_curve(m)
    assert list(c["epoch"]) == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(c["skill"], (np.array(m["holdout_accuracy"]) - 0.25) / 0.75)
    s = pretext_summary(m)
    assert s["metric"] == "accuracy" and s["reference"] == 0.25 and s["epochs"] == 6
    assert s["learned"] is True and s["plateau"] is True and s["settled_epoch"] == 3
    assert s["skill"] == pytest.approx(0.45 / 0.75)


def test_summary_regression_at_reference_is_not_learned():
    m = {"classification": False, "holdout_loss": [2.0, 1.0, 1.0, 1.0], "holdout_trivial_loss": [1.0] * 4}
    s = pretext_summary(m)
    assert s["metric"] == "loss" and s["reference"] == 1.0
    assert s["skill"] == pytest.approx(0.0) and s["learned"] is False


def test_summary_without_reference_picl():
    s = pretext_summary({"classification": False, "holdout_loss": [3.0, 2.0, 1.9]})
    assert s["reference"] is None and s["skill"] is None and s["learned"] is None
    assert s["value"] == 1.9


def test_holdout_curve_refuses_runs_without_history():
    with pytest.raises(DataError, match="holdout_loss"):
        holdout_curve({"classification": False, "holdout_loss": []})
    with pytest.raises(DataError, match="holdout_accuracy"):
        holdout_curve({"classification": True, "chance_accuracy": 0.5, "max_accuracy": 1.0})


def test_above_chance_binomial():
    from pde_lib.report.pretext_check import above_chance_p

    # 15 of 29 at chance 1/2 is no evidence; 22 of 29 is
    assert above_chance_p(15 / 29, 0.5, 29) > 0.3
    assert above_chance_p(22 / 29, 0.5, 29) < 0.01
    with pytest.raises(ValueError, match="chance"):
        above_chance_p(0.5, 1.0, 29)


def test_summary_reports_above_chance_only_with_a_held_out_count():
    m = {**_classification([0.5, 0.52]), "chance_accuracy": 0.5, "n_holdout": 29}
    s = pretext_summary(m)
    assert s["learned"] is True and s["above_chance"] is False
    assert pretext_summary(_classification([0.5, 0.9]))["above_chance"] is None


def test_classification_loss_figures_against_the_uniform_guess():
    # 4 classes: the uniform guess has cross-entropy ln 4
    m = {**_classification([0.25, 0.3, 0.3]), "holdout_loss": [math.log(4), 1.3, 1.2]}
    s = pretext_summary(m)
    assert s["loss_reference"] == pytest.approx(math.log(4))
    assert s["loss_skill"] == pytest.approx(1 - 1.2 / math.log(4))
    assert s["loss_last_third_gain"] == pytest.approx(0.1 / 1.3)
    assert s["loss_plateau"] is False
    # regression: the loss figures are the figure's own
    r = pretext_summary({"classification": False, "holdout_loss": [2.0, 1.0, 0.5], "holdout_trivial_loss": [1.0] * 3})
    assert r["loss_skill"] == r["skill"] == pytest.approx(0.5) and r["loss_plateau"] == r["plateau"]
