"""Cut trajectories ``u`` (B, T, N, N) into model inputs and targets (docs/protocol.md section 3).

* fixed future: inputs frames ``0 .. window-1``, target frame ``target``.
* next step: inputs frames ``s .. s+window-1``, target frame ``s+window``, for a start ``s`` per
  sample in ``0 .. T-window-1``.

Everything is gathered with tensor indexing (no Python loop over samples)."""

from __future__ import annotations

import torch

from pde_lib.errors import ConfigError

#: the supervised tasks (docs/protocol.md section 3), for fine-tuning and the transfer strategy
TASKS = ("fixed_future", "next_step")


def check_window(n_t: int, window: int, target: int | None = None, what: str = "trajectory") -> None:
    """ConfigError unless ``window`` input frames (and target frame ``target``, if given, or else
    one next frame) fit in a trajectory of ``n_t`` frames."""
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ConfigError(f"window must be an integer >= 1, got {window!r}")
    if target is None:
        if window + 1 > n_t:
            raise ConfigError(
                f"window={window} plus one target frame needs {window + 1} frames, but the {what} "
                f"has only {n_t} frames (T={n_t})")
        return
    if isinstance(target, bool) or not isinstance(target, int):
        raise ConfigError(f"target frame must be an integer, got {target!r}")
    if target < window:
        raise ConfigError(f"target frame {target} lies inside the input window 0..{window - 1}; "
                          f"it must be >= window={window}")
    if target >= n_t:
        raise ConfigError(
            f"window={window} with target frame {target} needs {target + 1} frames, but the {what} "
            f"has only {n_t} frames (T={n_t}, frames 0..{n_t - 1})")


def _check_u(u: torch.Tensor) -> None:
    if u.dim() != 4:
        raise ConfigError(f"trajectories must be (B, T, N, N), got shape {tuple(u.shape)}")


def fixed_future(u: torch.Tensor, window: int = 8, target: int = 31) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, N, N) -> x = u[:, 0:window] (B, window, N, N), y = u[:, target:target+1] (B, 1, N, N).
    Both are views of ``u`` (no copy)."""
    _check_u(u)
    check_window(u.shape[1], window, target)
    return u[:, :window], u[:, target:target + 1]


def next_step(u: torch.Tensor, starts: torch.Tensor, window: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, N, N), starts (B,) long -> x (B, window, N, N) with x[b, j] = u[b, starts[b] + j],
    y (B, 1, N, N) with y[b, 0] = u[b, starts[b] + window]."""
    _check_u(u)
    check_window(u.shape[1], window)
    if starts.shape != (u.shape[0],):
        raise ConfigError(f"starts must have shape ({u.shape[0]},), got {tuple(starts.shape)}")
    starts = starts.to(device=u.device, dtype=torch.long)
    frames = starts[:, None] + torch.arange(window + 1, device=u.device)  # (B, window+1)
    rows = torch.arange(u.shape[0], device=u.device)[:, None]
    sel = u[rows, frames]  # (B, window+1, N, N)
    return sel[:, :window], sel[:, window:]


def random_starts(batch_size: int, n_t: int, window: int, generator: torch.Generator | None = None,
                  device="cpu") -> torch.Tensor:
    """(batch_size,) long start times uniform in ``0 .. n_t-window-1`` (so the target frame
    ``start + window`` exists), drawn from ``generator`` on its own device, then moved to ``device``."""
    check_window(n_t, window)
    gen_device = generator.device if generator is not None else "cpu"
    s = torch.randint(0, n_t - window, (batch_size,), generator=generator, device=gen_device)
    return s.to(device)
