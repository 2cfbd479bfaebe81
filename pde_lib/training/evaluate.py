"""Evaluation of a backbone on a whole split, in batches, without gradients.

Fixed future: one prediction of frame ``target`` from frames ``0 .. window-1``.

Next step, autoregressive rollout (indices exact; the original code was off by one):
the model starts from the true frames ``0 .. window-1``. Step ``k = 1 .. K`` with
``K = target - window + 1`` predicts frame ``window + k - 1`` from the window of frames
``k - 1 .. window + k - 2`` (true frames where the index is < window, earlier predictions
otherwise). ``per_step[k - 1]`` is the error at frame ``window + k - 1``, so ``per_step[0]`` is
frame ``window`` (a pure one-step prediction) and ``per_step[-1]`` is frame ``target``.
The one-step (teacher-forced) error uses the true frames ``s .. s+window-1`` to predict frame
``s + window`` for ``s = 0 .. K-1``, i.e. the same target frames as the rollout."""

from __future__ import annotations

import torch

from pde_lib.data import Dataset
from pde_lib.engine.losses import relative_l2
from pde_lib.engine.windowing import check_window, fixed_future


def _chunks(n: int, size: int):
    for i in range(0, n, size):
        yield slice(i, min(i + size, n))


@torch.no_grad()
def fixed_future_errors(model, ds: Dataset, window: int, target: int, batch_size: int) -> torch.Tensor:
    """(B,) relative L2 error of each sample's prediction of frame ``target``."""
    was_training = model.training
    model.eval()
    x, y = fixed_future(ds.u, window, target)
    out = torch.cat([relative_l2(model(x[s], ds.x, ds.coeffs[s]), y[s]) for s in _chunks(len(ds), batch_size)])
    model.train(was_training)
    return out


@torch.no_grad()
def rollout(model, frames: torch.Tensor, grid: torch.Tensor, coeffs: torch.Tensor, steps: int) -> torch.Tensor:
    """(B, window, N, N) true initial frames -> (B, steps, N, N) predictions; prediction ``k-1``
    is the estimate of frame ``window + k - 1`` (see the module docstring)."""
    preds = []
    cur = frames
    for _ in range(steps):
        nxt = model(cur, grid, coeffs)  # (B, 1, N, N)
        preds.append(nxt)
        cur = torch.cat([cur[:, 1:], nxt], dim=1)
    return torch.cat(preds, dim=1)


@torch.no_grad()
def next_step_errors(model, ds: Dataset, window: int, target: int, batch_size: int,
                     one_step: bool = True) -> dict[str, torch.Tensor]:
    """Per-sample errors of the rollout ``rollout`` (B, K) and (if ``one_step``) of one-step
    predictions ``one_step`` (B, K), K = target - window + 1, column k-1 being frame window + k - 1."""
    check_window(ds.u.shape[1], window, target)
    steps = target - window + 1
    was_training = model.training
    model.eval()
    roll, one = [], []
    for s in _chunks(len(ds), batch_size):
        u, c = ds.u[s], ds.coeffs[s]
        truth = u[:, window:target + 1]  # (b, K, N, N)
        pred = rollout(model, u[:, :window], ds.x, c, steps)
        roll.append(relative_l2(pred.transpose(0, 1).flatten(0, 1)[:, None],
                                truth.transpose(0, 1).flatten(0, 1)[:, None]).view(steps, -1).T)
        if not one_step:
            continue
        # Teacher-forced: every start at once, (K*b, window, N, N).
        idx = torch.arange(steps, device=u.device)[:, None] + torch.arange(window, device=u.device)
        xs = u[:, idx].transpose(0, 1).flatten(0, 1)
        cs = c.repeat(steps, 1)
        ys = truth.transpose(0, 1).flatten(0, 1)[:, None]
        errs = torch.cat([relative_l2(model(xs[q], ds.x, cs[q]), ys[q]) for q in _chunks(len(xs), batch_size)])
        one.append(errs.view(steps, -1).T)
    model.train(was_training)
    out = {"rollout": torch.cat(roll)}
    if one_step:
        out["one_step"] = torch.cat(one)
    return out


def evaluate(model, ds: Dataset, task: str, window: int, target: int, batch_size: int,
             full: bool = True) -> dict:
    """Summary numbers for a split. ``rel_l2`` is the reported/selection metric: the fixed-future
    error, or for next step the rollout error averaged over samples and steps. ``full=False``
    computes only ``rel_l2`` (the per-epoch validation); ``full=True`` adds ``per_sample``, each
    sample's error (B,) in split order (next step: its rollout error averaged over steps), whose
    mean is ``rel_l2``."""
    if task == "fixed_future":
        e = fixed_future_errors(model, ds, window, target, batch_size)
        out = {"rel_l2": e.mean().item()}
        return {**out, "per_sample": e.tolist()} if full else out
    e = next_step_errors(model, ds, window, target, batch_size, one_step=full)
    if not full:
        return {"rel_l2": e["rollout"].mean().item()}
    return {"rel_l2": e["rollout"].mean().item(), "per_sample": e["rollout"].mean(1).tolist(),
            "rollout_per_step": e["rollout"].mean(0).tolist(),
            "one_step_rel_l2": e["one_step"].mean().item(),
            "one_step_per_step": e["one_step"].mean(0).tolist(),
            "rollout_frames": list(range(window, target + 1))}


def copy_last_errors(ds: Dataset, task: str, window: int, target: int) -> torch.Tensor:
    """(B,) error of predicting the last input frame (frame window-1) unchanged, per sample like
    ``evaluate(...)["per_sample"]`` (next step: averaged over the rollout's target frames)."""
    last = ds.u[:, window - 1:window]
    if task == "fixed_future":
        return relative_l2(last, ds.u[:, target:target + 1])
    truth = ds.u[:, window:target + 1]
    steps = truth.shape[1]
    errs = relative_l2(last.expand_as(truth).transpose(0, 1).flatten(0, 1)[:, None],
                       truth.transpose(0, 1).flatten(0, 1)[:, None])
    return errs.view(steps, -1).mean(0)


def copy_last_baseline(ds: Dataset, task: str, window: int, target: int) -> float:
    """The copy-last-frame error aggregated like ``evaluate(...)["rel_l2"]``: a model must beat
    this to have learned anything."""
    return copy_last_errors(ds, task, window, target).mean().item()
