"""The laptop-size kernels compute what the old ones did: checkpoints written by the code of
commit 4f2f808 load and give the same outputs; the truncated DFT equals torch.fft on the kept
modes; the optimiser steps exactly as torch's AdamW without importing torch._dynamo;
training-state checkpoints are written when due."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from pde_lib.engine.checkpoint import load_backbone
from pde_lib.models.layers import PointwiseLinear, from_grid_major, to_grid_major
from pde_lib.models.truncated_dft import truncated_irfft2, truncated_rfft2

torch.set_num_threads(1)

OLD = Path(__file__).resolve().parent / "fixtures" / "old_backbones"
CASES = ["fno2d", "fno2d_coeffs", "unet", "oformer2d", "deeponet2d"]


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm()).item()


@pytest.mark.parametrize("case", CASES)
def test_old_checkpoint_loads_and_gives_the_old_outputs(case):
    """Backbone checkpoints written by 4f2f808 (``tests/fixtures/make_old_backbones.py``; FNO2D's
    1x1 convolutions stored as (out, in, 1, 1)) load into today's models, converted on load, and
    give that code's outputs and features to 1e-5 relative."""
    io = torch.load(OLD / "io.pt", weights_only=True)
    state = torch.load(OLD / f"{case}.pt", weights_only=True)
    assert state["git_commit"] == "4f2f808"
    if case.startswith("fno2d"):  # the old layout really is the 1x1-convolution one
        assert state["state_dict"]["lift.0.weight"].dim() == 4
    model = load_backbone(OLD / f"{case}.pt")
    if case.startswith("fno2d"):  # converted on load to the (out, in) of a linear map
        assert model.state_dict()["lift.0.weight"].shape == state["state_dict"]["lift.0.weight"].shape[:2]
    with torch.no_grad():
        out = model(io["frames"], io["grid"], io["coeffs"])
        feats = model.encode(io["frames"], io["grid"], io["coeffs"])
    assert out.shape == io["outputs"][case].shape and feats.shape == io["features"][case].shape
    assert rel(out, io["outputs"][case]) < 1e-5
    assert rel(feats, io["features"][case]) < 1e-5
    assert out.is_contiguous()


def test_old_fno_checkpoint_resaved_in_the_new_layout_loads_again(tmp_path):
    from pde_lib.engine.checkpoint import save_backbone

    model = load_backbone(OLD / "fno2d.pt")
    save_backbone(tmp_path / "new.pt", model)
    again = load_backbone(tmp_path / "new.pt")
    for (k, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), k


def test_pointwise_linear_equals_a_1x1_convolution():
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 5, 1)
    lin = PointwiseLinear(6, 5)
    lin.load_state_dict(conv.state_dict())
    x = torch.randn(3, 6, 8, 8)
    assert rel(from_grid_major(lin(to_grid_major(x))), conv(x)) < 1e-6
    with pytest.raises(RuntimeError):  # a weight of another shape is still refused
        lin.load_state_dict({"weight": torch.zeros(5, 6, 3, 3), "bias": torch.zeros(5)})


def test_grid_major_round_trip():
    x = torch.randn(2, 3, 4, 5)
    v = to_grid_major(x)
    assert v.shape == (4, 5, 2, 3) and torch.equal(v, x.permute(2, 3, 0, 1))
    assert torch.equal(from_grid_major(v), x)


@pytest.mark.parametrize("nx,ny,m", [(32, 32, 4), (16, 16, 8), (24, 20, 5), (64, 64, 4)])
def test_truncated_dft_equals_torch_fft(nx, ny, m):
    """The kept modes equal rfft2's; the inverse equals irfft2 of the zero-padded spectrum
    (imaginary part of ky = 0 dropped as irfft does)."""
    torch.manual_seed(nx + m)
    u = torch.randn(nx, ny, 6, dtype=torch.float64)
    spec = truncated_rfft2(u, m)  # (2m, 2, m, R)
    full = torch.fft.rfft2(u.permute(2, 0, 1))  # (R, Nx, Ny/2+1)
    kept = torch.cat([full[:, :m, :m], full[:, -m:, :m]], dim=1)  # (R, 2m, m)
    assert torch.allclose(spec[:, 0].permute(2, 0, 1), kept.real, atol=1e-10)
    assert torch.allclose(spec[:, 1].permute(2, 0, 1), kept.imag, atol=1e-10)
    z = torch.randn(2 * m, 2, m, 6, dtype=torch.float64)
    padded = torch.zeros(6, nx, ny // 2 + 1, dtype=torch.complex128)
    zc = torch.complex(z[:, 0], z[:, 1]).permute(2, 0, 1)
    padded[:, :m, :m], padded[:, -m:, :m] = zc[:, :m], zc[:, m:]
    expected = torch.fft.irfft2(padded, s=(nx, ny)).permute(1, 2, 0)
    assert torch.allclose(truncated_irfft2(z, nx, ny), expected, atol=1e-12)


def test_spectral_layer_gradients_match_the_fft_reference():
    """Gradients of the new spectral convolution equal those of the old rfft2 / irfft2 one."""
    from pde_lib.models.fno2d import SpectralConv2d

    torch.manual_seed(1)
    layer = SpectralConv2d(4, 3).double()
    x = torch.randn(2, 4, 16, 16, dtype=torch.float64, requires_grad=True)

    def reference(x):  # the layer of commit 4f2f808, channels first
        m, n = 3, 16
        xh = torch.fft.rfft2(x)
        blocks = torch.stack([xh[:, :, :m, :m], xh[:, :, -m:, :m]], dim=1)
        out = torch.einsum("bsixy,sioxy->bsoxy", blocks, torch.view_as_complex(layer.weight))
        gap = out.new_zeros(2, 4, n - 2 * m, m)
        return torch.fft.irfft2(torch.cat([out[:, 0], gap, out[:, 1]], dim=2), s=(n, n))

    g = torch.randn(2, 4, 16, 16, dtype=torch.float64)
    ref_x, ref_w = torch.autograd.grad(reference(x), (x, layer.weight), g)
    new_x, new_w = torch.autograd.grad(from_grid_major(layer(to_grid_major(x))), (x, layer.weight), g)
    assert torch.allclose(new_x, ref_x, atol=1e-12) and torch.allclose(new_w, ref_w, atol=1e-12)


def test_fno_works_under_vmap():
    """Stacked runs call the backbone under torch.func.vmap."""
    from torch.func import functional_call, stack_module_state, vmap

    from pde_lib.models import build_model

    torch.manual_seed(0)
    members = [build_model("fno2d", width=8, modes=2, n_layers=2, projection_width=8) for _ in range(2)]
    params, buffers = stack_module_state(members)
    template = members[0]
    x = torch.randn(2, 3, 8, 16, 16)
    axis = -1.0 + 2.0 * torch.arange(16) / 16
    g = torch.stack(torch.meshgrid(axis, axis, indexing="ij"))
    out = vmap(lambda p, b, xx: functional_call(template, (p, b), (xx, g)))(params, buffers, x)
    for k, m in enumerate(members):
        assert rel(out[k], m(x[k], g)) < 1e-6


def test_adamw_steps_exactly_as_torch_adamw():
    from pde_lib.engine.optim import make_optimizer

    torch.manual_seed(0)
    a, b = nn.Linear(5, 3), nn.Linear(5, 3)
    b.load_state_dict(a.state_dict())
    ours = make_optimizer(a.parameters(), lr=1e-2, weight_decay=1e-2)
    theirs = torch.optim.AdamW(b.parameters(), lr=1e-2, weight_decay=1e-2, fused=True)
    for _ in range(10):
        x = torch.randn(4, 5)
        for model, opt in ((a, ours), (b, theirs)):
            opt.zero_grad(set_to_none=True)
            model(x).square().sum().backward()
            opt.step()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert isinstance(ours, torch.optim.AdamW)
    assert ours.state_dict()["state"].keys() == theirs.state_dict()["state"].keys()


def test_a_training_step_does_not_import_dynamo():
    """torch's optimiser would import torch._dynamo (about 1 s) on its first use."""
    code = ("import sys, torch\n"
            "from pde_lib.engine.optim import make_optimizer\n"
            "m = torch.nn.Linear(3, 2); o = make_optimizer(m.parameters())\n"
            "o.zero_grad(); m(torch.randn(4, 3)).sum().backward(); o.step(); o.state_dict()\n"
            "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_checkpoints_after_first_and_last_epoch_when_not_due(tmp_path, monkeypatch):
    """With a long interval, a 4-epoch run writes its training state after epochs 1 and 4 only;
    an exception from on_epoch_end writes the epoch it follows, and resuming from it gives the
    uninterrupted run's result."""
    import pde_lib.engine.driver as driver
    from pde_lib.generation import GenerationParams, generate_dataset
    from pde_lib.training import run_training

    files = {}
    for split, n in (("train", 6), ("valid", 2), ("test", 2)):
        files[split] = str(tmp_path / f"{split}.h5")
        generate_dataset(GenerationParams(pdes=["heat"], split=split, distribution="id", samples_per_pde=n),
                         files[split], progress=False)
    monkeypatch.setattr(driver, "CHECKPOINT_INTERVAL_S", 1e9)
    written = []
    real = driver.save_training_state
    monkeypatch.setattr(driver, "save_training_state", lambda *a, **k: (written.append(k["epoch"]), real(*a, **k)))
    cfg = dict(model="fno2d", model_kwargs=dict(width=8, modes=2, n_layers=1, projection_width=8), epochs=4,
               batch_size=2, progress=False, **files)
    full = run_training({**cfg, "out": str(tmp_path / "full")})
    assert written == [1, 4]

    class Stop(Exception):
        pass

    def stop_at_3(epoch, history):
        if epoch == 3:
            raise Stop

    written.clear()
    with pytest.raises(Stop):
        run_training({**cfg, "out": str(tmp_path / "cut")}, on_epoch_end=stop_at_3)
    assert written == [1, 3]
    resumed = run_training({**cfg, "out": str(tmp_path / "cut"), "resume": True})
    assert resumed["test_rel_l2"] == full["test_rel_l2"] and resumed["train_loss"] == full["train_loss"]
