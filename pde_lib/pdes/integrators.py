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
                     times: torch.Tensor, max_dt: Callable[[torch.Tensor], torch.Tensor],
                     record: Callable[[torch.Tensor], torch.Tensor], *, max_steps_per_frame: int,
                     pde: str, progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """March ``vh0`` (B, N, M) through ``times`` (T,), recording ``record(vh)`` at each.

    ``max_dt(vh)`` returns each sample's largest stable step (B,) from its current state. Each
    sample takes its own whole number of equal steps per frame interval, so its result does not
    depend on which other samples share the batch: the batch runs the largest step count, and a
    sample that has taken all of its steps is held fixed. The first time must be 0. A frame that
    would need more than ``max_steps_per_frame`` steps is an unstable setting: SolverError."""
    times = [float(t) for t in times]
    if abs(times[0]) > 1e-12:
        raise ValueError("the first output time must be 0")
    frames = [record(vh0)]
    vh = vh0
    shape = (-1,) + (1,) * (vh0.dim() - 1)
    for k in range(1, len(times)):
        interval = times[k] - times[k - 1]
        dt_cap = max_dt(vh).to(torch.float64)
        bad = ~torch.isfinite(dt_cap) | (dt_cap <= 0)
        if bool(bad.any()):
            i = int(torch.nonzero(bad)[0])
            err = SolverError(f"{pde}: the CFL step is {float(dt_cap[i])!r} before t={times[k - 1]:g}; "
                              f"the state is non-finite or unbounded at batch index {i}")
            err.sample_index = i
            raise err
        n_steps = torch.ceil(interval / dt_cap - 1e-9).clamp_min(1)
        n_max = int(n_steps.max())
        if n_max > max_steps_per_frame:
            i = int(torch.argmax(n_steps))
            err = SolverError(
                f"{pde}: the CFL condition needs {n_max} steps for the frame at t={times[k]:g} "
                f"(limit {max_steps_per_frame}) at batch index {i}; the solution is too fast for "
                "this grid and dt")
            err.sample_index = i
            raise err
        dt = (interval / n_steps).to(lin.real.dtype if lin.is_complex() else lin.dtype).reshape(shape)
        e_full = torch.exp(lin * dt)
        e_half = torch.exp(lin * (0.5 * dt))
        uniform = bool((n_steps == n_max).all())
        active_until = n_steps.to(vh.device).reshape(shape)
        for step in range(n_max):
            new = ifrk4_step(vh, dt, lin, nonlinear, e_full, e_half)
            vh = new if uniform else torch.where(step < active_until, new, vh)
        frames.append(record(vh))
        if progress is not None:
            progress(n_max)
    return torch.stack(frames, dim=1)
