"""Each pretraining run's held-out pretext figure next to what it must beat: accuracy against
chance (classification), loss against the strategy's input-blind predictor (regression)."""

from __future__ import annotations

import math

import pytest
import torch

torch.set_num_threads(1)

from pde_lib.engine.losses import relative_l2  # noqa: E402
from pde_lib.generation import GenerationParams, generate_dataset  # noqa: E402
from pde_lib.pretraining import STRATEGIES, run_pretraining  # noqa: E402
from pde_lib.pretraining.loop import holdout_figure  # noqa: E402
from pde_lib.pretraining.masked import masked_l1  # noqa: E402

N = 16
FNO = dict(width=8, modes=4, n_layers=2, projection_width=16)
REGRESSION_WITH_TRIVIAL = ["coefficient", "derivative", "masked", "transfer"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("pretext_figures") / "small.h5"
    generate_dataset(GenerationParams(pdes=["heat", "advection", "burgers"], split="pretrain", distribution="id",
                                      samples_per_pde=6, resolution=N, seed=0), path, progress=False)
    return str(path)


def _run(data, strategy, epochs=2, **kw):
    cfg = dict(strategy=strategy, model="fno2d", data=data, epochs=epochs, batch_size=6, lr=2e-3, lr_min=1e-4,
               seed=0, holdout=0.25, progress=False, model_kwargs=FNO)
    cfg.update(kw)
    return run_pretraining(cfg)


def test_every_regression_strategy_but_picl_names_a_trivial_predictor():
    for name in STRATEGIES.names():
        s = STRATEGIES.get(name)
        if name in REGRESSION_WITH_TRIVIAL:
            assert isinstance(s.trivial, str) and s.trivial
        elif s.classification or name in ("picl", "none"):
            assert s.trivial is None


def test_trivial_losses_are_the_input_blind_predictors_losses():
    gen = torch.Generator().manual_seed(0)
    target = torch.randn(4, 3, 5, 5, generator=gen) + torch.tensor([1.0, -2.0, 0.5])[None, :, None, None]
    const = STRATEGIES.get("coefficient").constant_mse(target)
    per_channel_mean = target.mean(dim=(0, 2, 3), keepdim=True)
    assert const.item() == pytest.approx(torch.nn.functional.mse_loss(per_channel_mean.expand_as(target), target).item())
    shifted = per_channel_mean + 0.1  # any other constant does worse
    assert torch.nn.functional.mse_loss(shifted.expand_as(target), target) > const
    y = torch.randn(3, 1, 5, 5, generator=gen)
    transfer = STRATEGIES.get("transfer")()
    assert transfer.trivial_loss(({}, y)).item() == pytest.approx(1.0)
    assert transfer.trivial_loss(({}, y)).item() == pytest.approx(relative_l2(torch.zeros_like(y), y).mean().item())
    mask = torch.rand(3, 8, 5, 5, generator=gen) < 0.5
    frames = torch.randn(3, 8, 5, 5, generator=gen)
    masked = STRATEGIES.get("masked")()
    assert masked.trivial_loss(({"mask": mask}, frames)).item() == pytest.approx(
        (frames.abs() * mask).sum().item() / mask.sum().item())
    assert masked_l1(torch.zeros_like(frames), frames, mask).item() == pytest.approx(
        masked.trivial_loss(({"mask": mask}, frames)).item())


@pytest.mark.parametrize("strategy", ["coefficient", "transfer"])
def test_regression_run_records_its_loss_against_the_trivial_predictor(data, strategy):
    m = _run(data, strategy)
    assert len(m["holdout_trivial_loss"]) == m["epochs"] == 2
    assert m["holdout_metric"] == "loss" and m["holdout_reference_is"] == STRATEGIES.get(strategy).trivial
    assert m["holdout_value"] == m["holdout_loss"][-1] and m["holdout_reference"] == m["holdout_trivial_loss"][-1]
    assert m["holdout_skill"] == pytest.approx(1 - m["holdout_value"] / m["holdout_reference"])
    if strategy == "transfer":
        assert m["holdout_reference"] == pytest.approx(1.0)
    assert math.isfinite(m["holdout_skill"]) and m["holdout_skill"] <= 1


def test_classification_run_records_its_accuracy_against_chance(data):
    m = _run(data, "binary")
    assert m["holdout_metric"] == "accuracy" and m["holdout_reference"] == 0.5
    assert m["holdout_value"] == m["holdout_accuracy"][-1]
    assert m["holdout_skill"] == pytest.approx((m["holdout_value"] - 0.5) / (m["max_accuracy"] - 0.5))
    assert "holdout_trivial_loss" not in m


def test_no_held_out_samples_means_no_figure(data):
    m = _run(data, "coefficient", holdout=0.0, epochs=1)
    assert m["holdout_value"] is None and m["holdout_skill"] is None


def test_holdout_figure_skill_is_zero_at_the_reference():
    binary = STRATEGIES.get("binary")()
    assert holdout_figure(binary, {"holdout_accuracy": [0.9, 0.5]})["holdout_skill"] == 0.0
    coefficient = STRATEGIES.get("coefficient")()
    fig = holdout_figure(coefficient, {"holdout_loss": [0.25], "holdout_trivial_loss": [1.0]})
    assert fig["holdout_skill"] == 0.75 and fig["holdout_metric"] == "loss"
    assert holdout_figure(STRATEGIES.get("picl")(), {"holdout_loss": [0.3]})["holdout_skill"] is None
