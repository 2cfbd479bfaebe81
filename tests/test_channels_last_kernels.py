"""The channels-last kernels of U-Net and of the pretext heads compute what the NCHW layers did:
periodic padding and its gradient, each head against the ``nn.Conv2d`` network of the earlier
code (same state dict, outputs and gradients to 1e-5 relative), U-Net's gradients and U-Net under
``torch.func.vmap``. U-Net's outputs against the code of commit 4f2f808 are checked by
``tests/test_model_kernels.py`` (old checkpoints)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pde_lib.models.layers import periodic_conv_channels_last, periodic_pad_channels_last
from pde_lib.pretraining.heads import ClassifierHead, DenseHead, PointwiseHead

torch.set_num_threads(1)


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm()).item()


def circular3x3(c_in, c_out, stride=1):
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, padding_mode="circular")


def test_periodic_pad_and_its_gradient_equal_circular_padding():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 7, 3, dtype=torch.float64, requires_grad=True)
    ref = nn.functional.pad(x.permute(0, 3, 1, 2), (1, 1, 1, 1), mode="circular").permute(0, 2, 3, 1)
    out = periodic_pad_channels_last(x)
    assert out.shape == (2, 7, 9, 3) and out.is_contiguous() and torch.equal(out, ref)
    g = torch.randn_like(out)
    (gx_ref,) = torch.autograd.grad(ref, x, g)
    (gx,) = torch.autograd.grad(out, x, g)
    assert torch.allclose(gx, gx_ref, atol=1e-12)
    assert torch.autograd.gradcheck(periodic_pad_channels_last, (x[:1, :3, :4],))


@pytest.mark.parametrize("shape", [(2, 5, 7, 3), (16, 32, 32, 8), (4, 16, 12, 32)])
def test_both_paths_of_the_periodic_pad_give_the_same_bits(shape, monkeypatch):
    """One buffer (large maps) or two concatenations (small ones): equal outputs and gradients."""
    from pde_lib.models import layers

    torch.manual_seed(0)
    x = torch.randn(*shape, requires_grad=True)
    g = torch.randn(shape[0], shape[1] + 2, shape[2] + 2, shape[3])
    results = []
    for threshold in (0, 1 << 40):  # every map large / every map small
        monkeypatch.setattr(layers, "PAD_ONE_BUFFER_FROM", threshold)
        out = periodic_pad_channels_last(x)
        results.append((out, *torch.autograd.grad(out, x, g)))
    (a, ga), (b, gb) = [(r[0], r[1]) for r in results]
    assert a.is_contiguous() and b.is_contiguous()
    assert torch.equal(a, b) and torch.equal(ga, gb)
    ref = nn.functional.pad(x.permute(0, 3, 1, 2), (1, 1, 1, 1), mode="circular").permute(0, 2, 3, 1)
    assert torch.equal(a, ref)


@pytest.mark.parametrize("stride", [1, 2])
def test_periodic_conv_channels_last_equals_the_circular_conv2d(stride):
    torch.manual_seed(0)
    conv = circular3x3(6, 5, stride)
    x = torch.randn(3, 6, 16, 12, requires_grad=True)
    ref = conv(x)
    out = periodic_conv_channels_last(x.permute(0, 2, 3, 1), conv)
    assert out.is_contiguous() and out.shape == ref.permute(0, 2, 3, 1).shape
    assert rel(out.permute(0, 3, 1, 2), ref) < 1e-6
    g = torch.randn_like(ref)
    ref_grads = torch.autograd.grad(ref, (x, conv.weight, conv.bias), g)
    new_grads = torch.autograd.grad(out, (x, conv.weight, conv.bias), g.permute(0, 2, 3, 1))
    for a, b in zip(new_grads, ref_grads):
        assert rel(a, b) < 1e-5


def old_heads(c, n_out):
    """The heads' networks as the earlier code ran them: ``nn.Conv2d`` on (B, C, N, N), under the
    same parameter names."""
    dense = nn.Module()
    dense.net = nn.Sequential(nn.Conv2d(c, 32, 1), nn.GELU(), circular3x3(32, 32), nn.GELU(), nn.Conv2d(32, n_out, 1))
    point = nn.Module()
    point.net = nn.Sequential(nn.Conv2d(c, 32, 1), nn.GELU(), nn.Conv2d(32, n_out, 1))
    cls = nn.Module()
    cls.features = nn.Sequential(nn.Conv2d(c, 32, 1), nn.GELU(), circular3x3(32, 32, 2), nn.GELU())
    cls.pool = nn.AdaptiveAvgPool2d(2)
    cls.classify = nn.Sequential(nn.Linear(2 * 32 * 4, 32), nn.GELU(), nn.Linear(32, n_out))

    def cls_forward(h):
        a = cls.features(h)
        return cls.classify(torch.cat([cls.pool(a), cls.pool(a * a)], dim=1).flatten(1))

    return {"dense": (dense, dense.net), "pointwise": (point, point.net), "classifier": (cls, cls_forward)}


@pytest.mark.parametrize("kind", ["dense", "pointwise", "classifier"])
def test_heads_load_old_state_dicts_and_give_the_old_outputs_and_gradients(kind):
    torch.manual_seed(0)
    c, n_out = 8, 5
    new = {"dense": DenseHead(c, n_out), "pointwise": PointwiseHead(c, n_out),
           "classifier": ClassifierHead(c, n_out, pool=2)}[kind]
    old, old_forward = old_heads(c, n_out)[kind]
    new.load_state_dict(old.state_dict())  # strict: the same names and shapes
    h = torch.randn(4, c, 16, 16)
    h_old, h_new = h.clone().requires_grad_(), h.clone().requires_grad_()
    ref, out = old_forward(h_old), new(h_new)
    assert out.shape == ref.shape and out.is_contiguous()
    assert rel(out, ref) < 1e-5
    g = torch.randn_like(ref)
    ref.backward(g)
    out.backward(g)
    assert rel(h_new.grad, h_old.grad) < 1e-5
    for (name, p), q in zip(new.named_parameters(), old.parameters()):
        assert p.grad is not None and rel(p.grad, q.grad) < 1e-5, name


def test_heads_accept_a_channels_last_input():
    """U-Net's features are a channels-last view; the heads take them without a copy."""
    torch.manual_seed(0)
    head = DenseHead(8, 3)
    h = torch.randn(2, 8, 16, 16)
    assert rel(head(h.contiguous(memory_format=torch.channels_last)), head(h)) < 1e-6


def test_unet_gradients_match_the_nchw_network():
    """U-Net's channels-last encode against the same layers run NCHW (the earlier forward)."""
    from pde_lib.models import build_model

    torch.manual_seed(0)
    model = build_model("unet", channels=[4, 8, 8])
    frames = torch.randn(2, 8, 16, 16)
    axis = -1.0 + 2.0 * torch.arange(16) / 16
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"))

    def reference(frames):
        x = model.assemble_input(frames, grid, None)
        skips = []
        for l, block in enumerate(model.down):
            x = block(x if l == 0 else model.pool(x))
            skips.append(x)
        for l in reversed(range(model.levels - 1)):
            x = model.merge[l](torch.cat([model.up[l](x), skips[l]], dim=1))
        return model.project(x)

    params = list(model.parameters())
    ref = reference(frames)
    out = model(frames, grid)
    assert out.is_contiguous() and rel(out, ref) < 1e-5
    g = torch.randn_like(ref)
    for a, b in zip(torch.autograd.grad(out, params, g), torch.autograd.grad(ref, params, g)):
        assert rel(a, b) < 1e-5


def test_unet_works_under_vmap():
    """Stacked runs call the backbone under torch.func.vmap."""
    from torch.func import functional_call, stack_module_state, vmap

    from pde_lib.models import build_model

    torch.manual_seed(0)
    members = [build_model("unet", channels=[4, 8]) for _ in range(2)]
    params, buffers = stack_module_state(members)
    template = members[0]
    x = torch.randn(2, 3, 8, 16, 16, requires_grad=True)
    axis = -1.0 + 2.0 * torch.arange(16) / 16
    g = torch.stack(torch.meshgrid(axis, axis, indexing="ij"))
    out = vmap(lambda p, b, xx: functional_call(template, (p, b), (xx, g)))(params, buffers, x)
    for k, m in enumerate(members):
        assert rel(out[k], m(x[k], g)) < 1e-6
    out.square().sum().backward()  # the padding's backward under vmap
    assert x.grad is not None and torch.isfinite(x.grad).all()
