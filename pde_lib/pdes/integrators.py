"""Integrating-factor RK4 for semi-linear PDEs in Fourier space: v_t = L v + N(v), L diagonal.

Each frame interval is split into a whole number of equal steps, with dt bounded by the CFL
condition computed from the current state at the start of the interval (fields decay, so dt grows
as they do). The stiff linear part (diffusion) is integrated exactly by exp(L dt)."""

from __future__ import annotations

import math
from typing import Callable

import torch

from pde_lib.errors import SolverError

Nonlinear = Callable[[torch.Tensor], torch.Tensor]


def ifrk4_step(vh: torch.Tensor, dt: torch.Tensor | float, lin: torch.Tensor, nonlinear: Nonlinear,
               e_full: torch.Tensor, e_half: torch.Tensor) -> torch.Tensor:
    """One IFRK4 step (Cox & Matthews' integrating-factor form).

    ``lin`` is L, ``e_full = exp(L dt)``, ``e_half = exp(L dt / 2)``, all broadcasting against
    ``vh`` (B, N, N//2 + 1)."""
    k1 = nonlinear(vh)
    k2 = nonlinear(e_half * (vh + 0.5 * dt * k1))
    k3 = nonlinear(e_half * vh + 0.5 * dt * k2)
    k4 = nonlinear(e_full * vh + dt * e_half * k3)
    return e_full * vh + (dt / 6.0) * (e_full * k1 + 2.0 * e_half * (k2 + k3) + k4)


def integrate_frames(vh0: torch.Tensor, lin: torch.Tensor, nonlinear: Nonlinear,
                     times: torch.Tensor, max_dt: Callable[[torch.Tensor], float],
                     record: Callable[[torch.Tensor], torch.Tensor], *, max_steps_per_frame: int,
                     pde: str, progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """March ``vh0`` through ``times`` (T,), recording ``record(vh)`` at each: (B, T, ...).

    ``max_dt(vh)`` returns the largest stable step for the whole batch from the current state.
    The first time must be 0. A frame that would need more than ``max_steps_per_frame`` steps
    is an unstable setting and raises SolverError."""
    times = [float(t) for t in times]
    if abs(times[0]) > 1e-12:
        raise ValueError("the first output time must be 0")
    frames = [record(vh0)]
    vh = vh0
    for k in range(1, len(times)):
        interval = times[k] - times[k - 1]
        dt_cap = max_dt(vh)
        if not math.isfinite(dt_cap) or dt_cap <= 0:
            raise SolverError(f"{pde}: the CFL step is {dt_cap!r} before t={times[k - 1]:g}; "
                              "the state is non-finite or unbounded")
        n_steps = max(1, math.ceil(interval / dt_cap - 1e-9))
        if n_steps > max_steps_per_frame:
            raise SolverError(
                f"{pde}: the CFL condition needs {n_steps} steps for the frame at t={times[k]:g} "
                f"(limit {max_steps_per_frame}); the solution is too fast for this grid and dt"
            )
        dt = interval / n_steps
        e_full = torch.exp(lin * dt)
        e_half = torch.exp(lin * (0.5 * dt))
        for _ in range(n_steps):
            vh = ifrk4_step(vh, dt, lin, nonlinear, e_full, e_half)
        frames.append(record(vh))
        if progress is not None:
            progress(n_steps)
    return torch.stack(frames, dim=1)
