"""Warm-up and gradient clipping (``engine.optim``), their config fields and their use in a run."""

from __future__ import annotations

import math

import pytest
import torch

torch.set_num_threads(1)

from pde_lib.engine.optim import (clip_gradients, cosine_factor, make_optimizer, make_scheduler,  # noqa: E402
                                  warmup_cosine_factor)
from pde_lib.engine.stepper import Stepper  # noqa: E402
from pde_lib.errors import ConfigError  # noqa: E402
from pde_lib.pretraining import PretrainConfig  # noqa: E402
from pde_lib.training import TrainConfig  # noqa: E402


def _lrs(total, warmup, lr=1e-3, lr_min=1e-5):
    opt = make_optimizer([torch.nn.Parameter(torch.zeros(2))], lr=lr)
    sched = make_scheduler(opt, total, lr_min, warmup_steps=warmup)
    out = []
    for _ in range(total + 2):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_no_warmup_is_the_old_cosine_schedule():
    lrs = _lrs(10, 0)
    assert lrs == pytest.approx([1e-3 * cosine_factor(s, 10, 1e-3, 1e-5) for s in range(12)], rel=1e-12)


def test_warmup_rises_linearly_then_decays_by_cosine_to_lr_min():
    lrs = _lrs(20, 4)
    assert lrs[:4] == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3])  # the 4th step uses the full lr
    assert lrs[4] == pytest.approx(1e-3)  # the cosine starts at the full lr ...
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:]))  # ... and only decreases
    assert lrs[20] == pytest.approx(1e-5) and lrs[21] == pytest.approx(1e-5)
    assert warmup_cosine_factor(12, 20, 1e-3, 1e-5, 4) == pytest.approx(cosine_factor(8, 16, 1e-3, 1e-5))


@pytest.mark.parametrize("warmup", [10, 11, -1, 1.5, True])
def test_bad_warmup_is_refused(warmup):
    opt = make_optimizer([torch.nn.Parameter(torch.zeros(2))])
    with pytest.raises(ConfigError, match="warmup_steps"):
        make_scheduler(opt, 10, warmup_steps=warmup)


def test_clip_gradients_bounds_the_global_norm_and_none_is_a_no_op():
    a, b = torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(4))
    opt = make_optimizer([a, b])
    a.grad, b.grad = torch.full((3,), 3.0), torch.full((4,), 4.0)
    clip_gradients(opt, None)
    assert a.grad.tolist() == [3.0] * 3
    norm = math.sqrt(3 * 9 + 4 * 16)
    clip_gradients(opt, 1.0)
    assert torch.cat([a.grad, b.grad]).norm().item() == pytest.approx(1.0, rel=1e-5)
    assert a.grad[0].item() == pytest.approx(3.0 / norm, rel=1e-5)  # one scale for every parameter


def test_stepper_clips_before_the_optimiser_step():
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    before = [p.detach().clone() for p in model.parameters()]
    x, y = torch.randn(8, 4) * 100, torch.randn(8, 1) * 100

    def objective(x, y):
        return ((model(x) - y) ** 2).mean(), {}

    stepper = Stepper(objective, lambda epoch: [((x, y), 8)], opt, make_scheduler(opt, 5, 0.0),
                      modules=(model,), clip_grad_norm=0.5)
    stepper.epoch(0)
    moved = torch.cat([(p.detach() - q).flatten() for p, q in zip(model.parameters(), before)])
    assert moved.norm().item() == pytest.approx(0.5, rel=1e-4)  # SGD lr 1: the step is the clipped gradient


@pytest.mark.parametrize("cls", [TrainConfig, PretrainConfig])
def test_schedule_fields_default_to_the_old_record_and_are_checked(cls):
    assert "warmup_steps" not in cls().to_dict() and "clip_grad_norm" not in cls().to_dict()
    c = cls(warmup_steps=20, clip_grad_norm=1)
    assert c.to_dict()["warmup_steps"] == 20 and c.to_dict()["clip_grad_norm"] == 1.0
    assert cls.from_dict(c.to_dict()).to_dict() == c.to_dict()
    with pytest.raises(ConfigError, match="clip_grad_norm"):
        cls(clip_grad_norm=0)
    with pytest.raises(ConfigError, match="warmup_steps"):
        cls(warmup_steps=-3)
