"""Backbone options added for issue 28 (DeepONet2D's 2-D Fourier trunk; OFormer2D's geometric
rotary ladder, Galerkin Q/K/V initialisation and output MLP; FNO2D's gated channel MLP): shapes, gradients reach every
parameter, a tiny batch is overfitted, and the defaults keep the old architecture and config."""

from __future__ import annotations

import math

import pytest
import torch

from pde_lib.errors import ConfigError
from pde_lib.models import build_model
from pde_lib.models.deeponet2d import fourier2d_features, wave_vectors
from pde_lib.models.oformer2d import rotary_frequencies
from test_models import OVERFIT, TINY, batch, grid, n_params, rel_l2, smooth_fields  # noqa: E402

torch.set_num_threads(1)

#: variant label -> (backbone, options)
VARIANTS = {
    "fno2d-channel-mlp": ("fno2d", dict(channel_mlp=True)),
    "deeponet2d-fourier2d": ("deeponet2d", dict(trunk_features="fourier2d")),
    "oformer2d-geometric": ("oformer2d", dict(rotary="geometric")),
    "oformer2d-galerkin-init": ("oformer2d", dict(qkv_init="galerkin")),
    "oformer2d-instance-norm": ("oformer2d", dict(kv_norm="instance")),
    "oformer2d-all": ("oformer2d", dict(rotary="geometric", qkv_init="galerkin", output_mlp=True, kv_norm="instance")),
}


def _build(label, sizes=None, **kw):
    name, options = VARIANTS[label]
    return build_model(name, **(TINY[name] if sizes is None else sizes), **options, **kw)


@pytest.mark.parametrize("n", [32, 64])
@pytest.mark.parametrize("label", VARIANTS)
def test_option_shapes(label, n):
    model = _build(label)
    frames, g, _ = batch(n, b=3)
    h = model.encode(frames, g)
    assert h.shape == (3, model.feature_channels, n, n)
    y = model(frames, g)
    assert y.shape == (3, 1, n, n) and torch.isfinite(y).all()
    assert torch.allclose(y, model.decode(h))


@pytest.mark.parametrize("condition", [False, True])
@pytest.mark.parametrize("label", VARIANTS)
def test_option_every_parameter_gets_a_gradient(label, condition):
    torch.manual_seed(0)
    model = _build(label, condition_on_coeffs=condition)
    frames, g, coeffs = batch(32, b=2)
    model(frames, g, coeffs if condition else None).square().mean().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), f"{label}.{pname}"
        assert p.grad.abs().sum() > 0, f"{label}.{pname} has an all-zero gradient"


@pytest.mark.slow
@pytest.mark.learning
@pytest.mark.parametrize("label", VARIANTS)
def test_option_overfits_a_fixed_batch(label, learning_seed, learned):
    name = VARIANTS[label][0]
    size, lr, steps = OVERFIT[name]
    torch.manual_seed(learning_seed)
    model = _build(label, sizes=size)
    frames = smooth_fields((8, 8), 32, seed=3, max_mode=2)
    target = (0.5 * frames[:, -1] + torch.tanh(frames[:, 0])).unsqueeze(1)
    g = grid(32)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr / 10)
    for _ in range(steps):
        opt.zero_grad()
        rel_l2(model(frames, g), target).backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        learned(float(rel_l2(model(frames, g), target)), below=0.05)


@pytest.mark.parametrize("label", VARIANTS)
def test_option_config_round_trip(label):
    model = _build(label, condition_on_coeffs=True)
    for key, value in VARIANTS[label][1].items():
        assert model.config[key] == value
    again = build_model(model.name, **model.config)
    again.load_state_dict(model.state_dict(), strict=True)
    frames, g, coeffs = batch(32)
    with torch.no_grad():
        assert torch.allclose(again(frames, g, coeffs), model(frames, g, coeffs))


@pytest.mark.parametrize("name, defaults", [("fno2d", dict(channel_mlp=False)),
                                            ("deeponet2d", dict(trunk_features="axis")),
                                            ("oformer2d", dict(rotary="linear", qkv_init="default", output_mlp=False,
                                                               kv_norm="layer"))])
def test_defaults_keep_the_old_config_and_weights(name, defaults):
    """An option at its default is not recorded and changes nothing, so a checkpoint made before
    it existed (same config keys, same parameters drawn alike) still loads strictly."""
    old_keys = {"in_frames", "coeff_dim", "condition_on_coeffs", "coeff_scale", *TINY[name]}
    torch.manual_seed(0)
    implicit = build_model(name, **TINY[name])
    torch.manual_seed(0)
    explicit = build_model(name, **TINY[name], **defaults)
    assert set(implicit.config) == old_keys and explicit.config == implicit.config
    a, b = implicit.state_dict(), explicit.state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("name, kwargs", [("fno2d", dict(channel_mlp=1)),
                                          ("deeponet2d", dict(trunk_features="radial")),
                                          ("oformer2d", dict(rotary="log")),
                                          ("oformer2d", dict(qkv_init="zeros")),
                                          ("oformer2d", dict(output_mlp="yes")),
                                          ("oformer2d", dict(kv_norm="batch"))])
def test_bad_options_are_config_errors(name, kwargs):
    key = next(iter(kwargs))
    with pytest.raises(ConfigError, match=f"{name}.*{key}"):
        build_model(name, **TINY[name], **kwargs)


def test_fourier2d_trunk_features_hold_the_oblique_waves():
    vectors = wave_vectors(2)
    assert len(vectors) == 2 * 2 ** 2 + 2 * 2
    pairs = {tuple(v) for v in vectors.tolist()}
    assert (1, 1) in pairs and (-1, 1) in pairs and (1, 0) in pairs and (0, 1) in pairs
    assert not any((-m, -n) in pairs for m, n in pairs)  # one of each +- pair
    g = grid(16)
    phi = fourier2d_features(g, 2)
    i = vectors.tolist().index([1, 1])
    assert torch.allclose(phi[i], torch.sin(math.pi * (g[0] + g[1])), atol=1e-6)
    assert torch.allclose(phi[len(vectors) + i], torch.cos(math.pi * (g[0] + g[1])), atol=1e-6)


def test_rotary_ladders_and_galerkin_init():
    assert rotary_frequencies(16).tolist() == [1, 2, 3, 4]
    assert rotary_frequencies(16, "geometric").tolist() == [1, 2, 4, 8]
    torch.manual_seed(0)
    m = build_model("oformer2d", width=16, n_heads=2, n_layers=1, qkv_init="galerkin")
    w = m.enc_attn[0].q.weight.detach()  # head size 8: diagonal blocks near I / 8
    block = w[:8, :8]
    assert (block.diagonal() - 1 / 8).abs().max() < 0.1 and w.abs().max() < 0.3
    assert n_params(m) == n_params(build_model("oformer2d", width=16, n_heads=2, n_layers=1))


def test_instance_norm_normalises_each_channel_over_the_points():
    from pde_lib.models.oformer2d import instance_norm

    t = torch.randn(2, 3, 50, 4) * 5 + 2
    out = instance_norm(t)
    assert torch.allclose(out.mean(dim=2), torch.zeros(2, 3, 4), atol=1e-5)
    assert torch.allclose(out.var(dim=2, unbiased=False), torch.ones(2, 3, 4), atol=1e-3)


def test_fno2d_channel_mlp_adds_a_gated_mlp_per_block():
    """width w, L blocks: each adds w -> w/2 -> w (with biases) and a gate of w ones; at the
    initial gate the block is u -> M(gelu(u)) + v, so zeroing M's last layer leaves sigma(v) per block."""
    sizes = dict(width=8, modes=2, n_layers=2, projection_width=8)
    plain, extra = build_model("fno2d", **sizes), build_model("fno2d", **sizes, channel_mlp=True)
    w, hid, L = 8, 4, 2
    assert n_params(extra) - n_params(plain) == L * (w * hid + hid + hid * w + w + w)
    assert torch.equal(extra.channel_gate.detach(), torch.ones(L, w))
    with torch.no_grad():
        for m in extra.channel_mlp:
            m[-1].weight.zero_()
            m[-1].bias.zero_()
    frames, g, _ = batch(16, b=2)
    from pde_lib.models.layers import to_grid_major
    with torch.no_grad():
        v = extra.lift(to_grid_major(extra.assemble_input(frames, g)))
        expect = torch.nn.functional.gelu(v)  # block 1: gelu(0 + v); block 2 (last): 0 + v
        assert torch.allclose(extra.features(frames, g), expect, atol=1e-6)
