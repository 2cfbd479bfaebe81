"""Backbones: shapes, gradients, overfitting a fixed batch, config round-trips and errors."""

from __future__ import annotations

import math

import pytest
import torch

from pde_lib.errors import ConfigError
from pde_lib.models import MODELS, Backbone, build_model

torch.set_num_threads(1)

NAMES = ["fno2d", "deeponet2d", "oformer2d", "unet"]

#: Tiny sizes for shape and gradient checks.
TINY = {
    "fno2d": dict(width=8, modes=4, n_layers=2, projection_width=16),
    "deeponet2d": dict(basis=16, branch_channels=4, branch_stages=2, pool=2, branch_hidden=16,
                       trunk_width=16, trunk_layers=2, trunk_frequencies=2),
    "oformer2d": dict(width=8, n_heads=2, n_layers=1, ffn_mult=2, query_frequencies=2),
    "unet": dict(channels=(4, 8, 16)),
}

#: Small sizes, Adam learning rate and steps for the overfitting check (a few seconds each).
OVERFIT = {
    "fno2d": (dict(width=16, modes=4, n_layers=2, projection_width=32), 1e-2, 200),
    "deeponet2d": (dict(basis=32, branch_channels=8, branch_stages=2, pool=2, branch_hidden=64,
                        trunk_width=64, trunk_layers=2, trunk_frequencies=4), 1e-2, 300),
    "oformer2d": (dict(width=16, n_heads=2, n_layers=1, query_frequencies=4), 1e-2, 300),
    "unet": (dict(channels=(8, 16, 32)), 1e-2, 300),
}


def grid(n: int) -> torch.Tensor:
    """(2, n, n) coordinates x_i = -1 + 2 i / n, "ij" indexing."""
    axis = -1.0 + 2.0 * torch.arange(n, dtype=torch.float32) / n
    return torch.stack(torch.meshgrid(axis, axis, indexing="ij"))


def smooth_fields(shape: tuple[int, ...], n: int, seed: int, max_mode: int = 3) -> torch.Tensor:
    """Random band-limited periodic fields (*shape, n, n): sums of modes |k| <= max_mode."""
    gen = torch.Generator().manual_seed(seed)
    x, y = grid(n)
    out = torch.zeros(*shape, n, n)
    for kx in range(-max_mode, max_mode + 1):
        for ky in range(0, max_mode + 1):
            a, b = torch.randn(2, *shape, 1, 1, generator=gen) / (1 + kx * kx + ky * ky)
            phase = math.pi * (kx * x + ky * y)
            out = out + a * torch.cos(phase) + b * torch.sin(phase)
    return out / out.flatten(-2).std(-1)[..., None, None]


def batch(n: int, b: int = 2, seed: int = 0):
    frames = smooth_fields((b, 8), n, seed)
    coeffs = torch.rand(b, 5, generator=torch.Generator().manual_seed(seed + 1)) * 0.1
    return frames, grid(n), coeffs


def rel_l2(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-sample ||pred - y|| / ||y||, averaged over samples."""
    return ((pred - y).flatten(1).norm(dim=1) / y.flatten(1).norm(dim=1)).mean()


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_registry_names():
    assert MODELS.names() == sorted(NAMES)
    for name in NAMES:
        assert MODELS.get(name).name == name
        assert issubclass(MODELS.get(name), Backbone)


@pytest.mark.parametrize("n", [32, 64])
@pytest.mark.parametrize("name", NAMES)
def test_shapes(name, n):
    model = build_model(name, **TINY[name])
    frames, g, coeffs = batch(n, b=3)
    h = model.encode(frames, g)
    assert h.shape == (3, model.feature_channels, n, n)
    y = model(frames, g, coeffs)  # coefficients are ignored when conditioning is off
    assert y.shape == (3, 1, n, n)
    assert torch.allclose(y, model.decode(h))
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("n", [32, 64])
@pytest.mark.parametrize("name", NAMES)
def test_samples_are_independent(name, n):
    """Vectorised over the batch: a sample's output does not depend on the other samples."""
    model = build_model(name, **TINY[name]).eval()
    frames, g, _ = batch(n, b=3)
    together = model(frames, g)
    alone = model(frames[1:2], g)
    assert torch.allclose(together[1:2], alone, atol=1e-5)


@pytest.mark.parametrize("condition", [False, True])
@pytest.mark.parametrize("n", [32, 64])
@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_gets_a_gradient(name, n, condition):
    torch.manual_seed(0)
    model = build_model(name, condition_on_coeffs=condition, **TINY[name])
    frames, g, coeffs = batch(n, b=2)
    loss = model(frames, g, coeffs if condition else None).square().mean()
    loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{name}.{pname} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name}.{pname} has a non-finite gradient"
        assert p.grad.abs().sum() > 0, f"{name}.{pname} has an all-zero gradient"


@pytest.mark.parametrize("name", NAMES)
def test_conditioning_adds_parameters_only_when_on(name):
    off = build_model(name, **TINY[name])
    on = build_model(name, condition_on_coeffs=True, **TINY[name])
    assert n_params(on) > n_params(off)
    frames, g, coeffs = batch(32, b=2)
    with torch.no_grad():
        y1 = on(frames, g, coeffs)
        y2 = on(frames, g, coeffs + 0.05)
    assert not torch.allclose(y1, y2), "the coefficients must change the output"
    with pytest.raises(ValueError, match="coeffs"):
        on(frames, g)


@pytest.mark.slow
@pytest.mark.learning
@pytest.mark.parametrize("name", NAMES)
def test_overfits_a_fixed_batch(name, learning_seed, learned):
    size, lr, steps = OVERFIT[name]
    torch.manual_seed(learning_seed)
    model = build_model(name, **size)
    n = 32
    frames = smooth_fields((8, 8), n, seed=3, max_mode=2)
    target = (0.5 * frames[:, -1] + torch.tanh(frames[:, 0])).unsqueeze(1)  # smooth in the input
    g = grid(n)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr / 10)
    for _ in range(steps):
        opt.zero_grad()
        loss = rel_l2(model(frames, g), target)
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        err = float(rel_l2(model(frames, g), target))
    learned(err, below=0.05)


@pytest.mark.parametrize("name", NAMES)
def test_config_rebuilds_the_same_architecture(name):
    model = build_model(name, condition_on_coeffs=True, **TINY[name])
    assert model.name == name
    again = build_model(model.name, **model.config)
    assert n_params(again) == n_params(model)
    again.load_state_dict(model.state_dict(), strict=True)
    frames, g, coeffs = batch(32)
    with torch.no_grad():
        assert torch.allclose(again(frames, g, coeffs), model(frames, g, coeffs))
    default = build_model(name)
    assert n_params(build_model(name, **default.config)) == n_params(default)


def test_unknown_name_is_a_config_error():
    with pytest.raises(ConfigError, match="fno2d") as info:
        build_model("fno3d")
    assert all(n in str(info.value) for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_kwarg_is_a_config_error(name):
    with pytest.raises(ConfigError) as info:
        build_model(name, not_a_size=3)
    msg = str(info.value)
    assert "not_a_size" in msg and "in_frames" in msg and "condition_on_coeffs" in msg


@pytest.mark.parametrize(
    "name, kwargs",
    [("fno2d", dict(width=0)), ("oformer2d", dict(width=10, n_heads=3)), ("unet", dict(channels=8)),
     ("deeponet2d", dict(basis=2.5)), ("fno2d", dict(coeff_scale=[1.0, 2.0]))],
)
def test_bad_sizes_are_config_errors(name, kwargs):
    with pytest.raises(ConfigError, match=name):
        build_model(name, **kwargs)


def test_wrong_input_shapes_are_reported():
    model = build_model("fno2d", **TINY["fno2d"])
    frames, g, _ = batch(32)
    with pytest.raises(ValueError, match="frames"):
        model(frames[:, :4], g)
    with pytest.raises(ValueError, match="grid"):
        model(frames, grid(64))
