"""Stacked runs (several runs stepped as one) and the CUDA-graph step: the same training as
separate runs, interchangeable checkpoints, clear errors, and the sweep's use of both."""

from __future__ import annotations

import json

import pytest
import torch

torch.set_num_threads(1)

from pde_lib.errors import ConfigError, DataError  # noqa: E402
from pde_lib.models import MODELS, build_model  # noqa: E402
from pde_lib.params import validate_machine  # noqa: E402
from pde_lib.engine.cuda_graph import GraphedStep  # noqa: E402
from pde_lib.engine.optim import make_optimizer  # noqa: E402
from pde_lib.engine.stacked import StackedModel, member_optimizer_state, stack_optimizer_states  # noqa: E402
from pde_lib.training import TrainConfig, run_training, run_training_group  # noqa: E402
from pde_lib.training.stacked_data import StackedBatches  # noqa: E402
from test_training import TINY, _strip, data  # noqa: E402,F401  (data: module fixture)

CUDA = torch.cuda.is_available()


def _grid(n):
    ax = torch.linspace(-1, 1, n + 1)[:-1]
    return torch.stack(torch.meshgrid(ax, ax, indexing="ij"))


def cfg(data, out=None, **kw) -> TrainConfig:  # noqa: F811
    base = dict(model="fno2d", train=data["train"], valid=data["valid"], test=data["test"], pde="heat",
                samples=12, epochs=3, batch_size=5, progress=False, model_kwargs=dict(TINY["fno2d"]),
                task="next_step", out=None if out is None else str(out))
    base.update(kw)
    return TrainConfig.from_dict(base)


def _same_run(a: dict, b: dict, rel=1e-5):
    assert a["best_epoch"] == b["best_epoch"]
    assert a["train_loss"] == pytest.approx(b["train_loss"], rel=rel)
    assert a["test_rel_l2"] == pytest.approx(b["test_rel_l2"], rel=rel)
    assert a["valid_curve"] == pytest.approx(b["valid_curve"], rel=rel)


# ----------------------------------------------------------------------------- the stacked model
@pytest.mark.parametrize("name", MODELS.names())
@pytest.mark.parametrize("conditioned", [False, True])
def test_stacked_model_equals_its_members(name, conditioned):
    torch.manual_seed(0)
    members = [build_model(name, condition_on_coeffs=conditioned, **TINY[name]) for _ in range(3)]
    stacked = StackedModel(members)
    x, c = torch.randn(3, 2, 8, 16, 16), torch.rand(3, 2, 5)
    grid = _grid(16).expand(3, 2, 16, 16)
    y = stacked(x, grid, c)
    ref = torch.stack([m(x[k], grid[k], c[k]) for k, m in enumerate(members)])
    assert y.shape == (3, 2, 1, 16, 16)
    torch.testing.assert_close(y, ref, rtol=1e-5, atol=1e-6)
    (y[1] ** 2).sum().backward()  # run 1's loss reaches run 1's slice of every parameter, only it
    for n, p in stacked.params.items():
        assert p.grad is not None and p.grad[1].abs().sum() > 0, n
        assert p.grad[0].abs().sum() == 0 and p.grad[2].abs().sum() == 0, n
    fresh = build_model(name, condition_on_coeffs=conditioned, **TINY[name])
    stacked.to_member(2, fresh)
    for (n, a), b in zip(fresh.state_dict().items(), members[2].state_dict().values()):
        assert torch.equal(a, b), n


def test_stacked_model_rejects_mixed_architectures():
    with pytest.raises(ConfigError, match="one architecture"):
        StackedModel([build_model("fno2d", **TINY["fno2d"]), build_model("fno2d", width=4, modes=2)])
    with pytest.raises(ConfigError, match="at least one"):
        StackedModel([])


def test_optimizer_state_splits_and_stacks_back():
    torch.manual_seed(0)
    stacked = StackedModel([build_model("unet", **TINY["unet"]) for _ in range(2)])
    opt = make_optimizer(stacked.parameters())
    y = stacked(torch.randn(2, 3, 8, 16, 16), _grid(16).expand(2, 2, 16, 16), torch.rand(2, 3, 5))
    y.square().mean().backward()
    opt.step()
    state = opt.state_dict()
    parts = [member_optimizer_state(state, k) for k in range(2)]
    single = make_optimizer(build_model("unet", **TINY["unet"]).parameters())
    assert len(parts[0]["state"]) == len(single.param_groups[0]["params"])
    assert parts[1]["state"][0]["exp_avg"].shape == stacked.parameters()[0].shape[1:]
    again = stack_optimizer_states(parts)
    for i, s in state["state"].items():
        for key, v in s.items():
            assert torch.equal(again["state"][i][key], v), (i, key)
    parts[1]["state"][0]["step"] = parts[1]["state"][0]["step"] + 1
    with pytest.raises(ConfigError, match="step"):
        stack_optimizer_states(parts)


def test_stacked_batches_match_single_run_windows():
    """Run k's batches are the same windows a single run would cut (frame values name them)."""
    n, t = 6, 12
    u = (100 * torch.arange(n)[:, None] + torch.arange(t)).float()[:, :, None, None].expand(n, t, 4, 4)
    from pde_lib.data import Dataset

    ds = [Dataset(u=u + 1000 * k, x=_grid(4), t=torch.arange(t).float(), coeffs=torch.rand(n, 5),
                  pde_index=torch.zeros(n, dtype=torch.long), seed=torch.arange(n)) for k in range(2)]
    b = StackedBatches(ds, "next_step", 3, 11, 4)
    perm, starts = b.epoch_order([torch.Generator().manual_seed(s) for s in (0, 1)])
    g = torch.Generator().manual_seed(1)  # run 1 alone draws the same order
    assert torch.equal(perm[1], torch.randperm(n, generator=g))
    x, y, _ = b.gather(perm[:, :4], starts[:, :4])
    for k in range(2):
        for j in range(4):
            i, s = perm[k, j].item(), starts[k, j].item()
            expect = 1000 * k + 100 * i + s + torch.arange(4).float()
            assert torch.equal(x[k, j, :, 0, 0], expect[:3]) and y[k, j, 0, 0, 0] == expect[3]
    assert b.batch_slices() == [slice(0, 4), slice(4, 6)]


# ----------------------------------------------------------------------------- the group runner
@pytest.mark.parametrize("task", ["next_step", "fixed_future"])
def test_group_equals_separate_runs(data, task):
    """Two plain runs (other data, other seed) and one with input-noise copies: stacked (the noisy
    run has a larger training set, so it steps in its own subgroup) = separate."""
    def configs():
        return [cfg(data, seed=0, task=task), cfg(data, seed=1, pde="all", samples=12, task=task),
                cfg(data, seed=2, task=task, augmentation=["noise"], augmentation_ratio=1.0)]

    separate = [run_training(c) for c in configs()]
    grouped = run_training_group(configs())
    for a, b in zip(separate, grouped):
        _same_run(a, b)
    assert [m["engine"]["stacked_runs"] for m in grouped] == [2, 2, 1]
    assert separate[0]["engine"] == {"stacked_runs": 1, "cuda_graphs": False}
    assert grouped[2]["n_train_augmented"] == 24


def test_group_resumes_and_checkpoints_are_interchangeable(data, tmp_path):
    full = run_training_group([cfg(data, tmp_path / "full0", seed=0), cfg(data, tmp_path / "full1", seed=1)])

    class Stop(Exception):
        pass

    def stop(epoch, histories):
        assert len(histories) == 2
        if epoch == 1:
            raise Stop

    cut = [cfg(data, tmp_path / "cut0", seed=0), cfg(data, tmp_path / "cut1", seed=1)]
    with pytest.raises(Stop):
        run_training_group(cut, on_epoch_end=stop)
    assert all((tmp_path / f"cut{k}" / "checkpoint.pt").exists() for k in range(2))
    seen = []
    resumed = run_training_group([cfg(data, tmp_path / "cut0", seed=0, resume=True),
                                  cfg(data, tmp_path / "cut1", seed=1, resume=True)],
                                 on_epoch_end=lambda e, h: seen.append(e))
    assert seen == [2, 3]
    for a, b in zip(full, resumed):
        _same_run(a, b)
    # a stacked run's checkpoint resumes as a single run, and the reverse
    with pytest.raises(Stop):
        run_training_group([cfg(data, tmp_path / "x0", seed=0), cfg(data, tmp_path / "x1", seed=1)],
                           on_epoch_end=stop)
    single = run_training(cfg(data, tmp_path / "x1", seed=1, resume=True))
    _same_run(full[1], single)
    with pytest.raises(Stop):
        run_training(cfg(data, tmp_path / "y0", seed=0), on_epoch_end=lambda e, h: (_ for _ in ()).throw(Stop()))
    mixed = run_training_group([cfg(data, tmp_path / "y0", seed=0, resume=True),
                                cfg(data, tmp_path / "y1", seed=1)])  # at epoch 1 and 0: two subgroups
    _same_run(full[0], mixed[0])
    _same_run(full[1], mixed[1])
    on_disk = json.loads((tmp_path / "y1" / "metrics.json").read_text())
    assert on_disk["test_rel_l2"] == mixed[1]["test_rel_l2"]
    # stacked runs store per-test-sample errors like single runs, averaging to the metric
    for k in range(2):
        per = json.loads((tmp_path / f"full{k}" / "test_per_sample.json").read_text())
        assert len(per["rel_l2"]) == full[k]["n_test"]
        assert sum(per["rel_l2"]) / len(per["rel_l2"]) == pytest.approx(full[k]["test_rel_l2"], rel=1e-6)


def test_group_rejects_runs_that_cannot_step_together(data, tmp_path):
    with pytest.raises(ConfigError, match="lr"):
        run_training_group([cfg(data), cfg(data, lr=2e-3)])
    with pytest.raises(ConfigError, match="model_kwargs"):
        run_training_group([cfg(data), cfg(data, model_kwargs={"width": 4, "modes": 2})])
    with pytest.raises(ConfigError, match="distinct out"):
        run_training_group([cfg(data, tmp_path / "a"), cfg(data, tmp_path / "a", seed=1)])
    with pytest.raises(ConfigError, match="at least one"):
        run_training_group([])
    with pytest.raises(DataError, match="holds 16 heat samples; asked for 10000"):  # checked before training
        run_training_group([cfg(data), cfg(data, samples=10_000)])


def test_cuda_graphs_need_a_cuda_device(data):
    with pytest.raises(ConfigError, match="cuda_graphs needs a CUDA device"):
        cfg(data, cuda_graphs=True)
    with pytest.raises(ConfigError, match="cuda_graphs"):
        validate_machine({"device": "cpu", "cuda_graphs": True})
    assert validate_machine({"stack_finetunes": 4}).stack_finetunes == 4
    with pytest.raises(ConfigError, match="stack_finetunes"):
        validate_machine({"stack_finetunes": 0})


def test_graphed_step_off_the_gpu_calls_the_step():
    calls = []
    step = GraphedStep(lambda a: calls.append(a) or a * 2, enabled=True)
    assert step.enabled is CUDA
    if not CUDA:
        assert step(torch.ones(2)).tolist() == [2.0, 2.0] and len(calls) == 1 and step.n_graphs == 0


@pytest.mark.skipif(not CUDA, reason="CUDA graphs need a GPU (run by benchmarks/gpu_check.sh)")
@pytest.mark.parametrize("name", MODELS.names())
def test_cuda_graph_training_equals_eager_on_gpu(data, tmp_path, name):
    def c(**kw):
        return cfg(data, model=name, model_kwargs=dict(TINY[name]), device="cuda", epochs=4, **kw)

    eager = run_training_group([c(seed=0), c(seed=1)])
    graphed = run_training_group([c(seed=0, cuda_graphs=True), c(seed=1, cuda_graphs=True)])
    for a, b in zip(eager, graphed):
        _same_run(a, b, rel=1e-4)
        assert b["engine"]["cuda_graphs"] and b["engine"]["cuda_graph_shapes"] == 2  # full + last batch
    single = run_training(c(seed=1, cuda_graphs=True, out=str(tmp_path / "one")))
    _same_run(eager[1], single, rel=1e-4)
