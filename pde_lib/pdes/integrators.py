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
    return IFRK4Factors(e_full, e_half, dt, vh).step(vh, nonlinear)


class IFRK4Factors:
    """IFRK4's per-step factors for fixed steps dt, built once per interval in ``vh``'s complex
    dtype: a real factor times a complex state would be promoted to complex, a full copy, on
    every product of every step. With E = exp(L dt), H = exp(L dt / 2):

        k1 = N(v), k2 = N(H (v + (dt/2) k1)), k3 = N(H v + (dt/2) k2), k4 = N(E v + (dt H) k3),
        v' = E v + (dt/6) (E k1 + (2 H) (k2 + k3) + k4),

    the same operations in the same order as the textbook form, so the same bits."""

    def __init__(self, e_full, e_half, dt, like: torch.Tensor):
        real = like.real.dtype if like.is_complex() else like.dtype
        dt = torch.as_tensor(dt, device=like.device).to(real)
        cast = (lambda t: t.to(like.dtype))  # noqa: E731
        self.e_full, self.e_half = cast(e_full), cast(e_half)
        self.half_dt, self.sixth_dt = cast(0.5 * dt), cast(dt / 6.0)
        self.dt_h, self.two_h = cast(dt * e_half), cast(2.0 * e_half)

    def step(self, vh: torch.Tensor, nonlinear: Nonlinear) -> torch.Tensor:
        k1 = nonlinear(vh)
        x = self.half_dt * k1
        x += vh
        k2 = nonlinear(self.e_half * x)
        hv = self.e_half * vh
        x = self.half_dt * k2
        x += hv
        k3 = nonlinear(x)
        ev = self.e_full * vh
        x = self.dt_h * k3
        x = ev + x
        k4 = nonlinear(x)
        k2 += k3
        acc = self.e_full * k1
        acc += self.two_h * k2
        acc += k4
        acc = self.sixth_dt * acc
        return ev + acc


def ifrk4_amplification(decay: torch.Tensor, freq: torch.Tensor) -> torch.Tensor:
    """IFRK4's growth factor per step (``ifrk4_step``) on the frozen-coefficient model mode
    v' = (-a + i w) v, the damping -a exact in the integrating factor, given a dt (``decay``) and
    w dt (``freq``): with E = exp(-a dt), H = exp(-a dt / 2), z = i w dt,

        k1 = z, k2 = z H (1 + k1 / 2), k3 = z (H + k2 / 2), k4 = z (E + H k3),
        G = E + (E k1 + 2 H (k2 + k3) + k4) / 6.

    Without damping this is RK4's polynomial, |G| <= 1 for w dt <= 2 sqrt(2)."""
    e_full, e_half = torch.exp(-decay), torch.exp(-0.5 * decay)
    z = 1j * freq
    k1 = z
    k2 = z * e_half * (1 + 0.5 * k1)
    k3 = z * (e_half + 0.5 * k2)
    k4 = z * (e_full + e_half * k3)
    return e_full + (e_full * k1 + 2 * e_half * (k2 + k3) + k4) / 6.0


#: a viscous step may be at most this many times the inviscid CFL step (accuracy, not stability)
MAX_VISCOUS_GAIN = 1.5
#: ratio between the candidate steps tried
STEP_GROWTH = 1.05


def stable_step(dt_cfl: torch.Tensor, decay: torch.Tensor, freq: torch.Tensor,
                margin: float) -> torch.Tensor:
    """Each sample's step (B,): the largest of dt_cfl * STEP_GROWTH^j (j = 0, 1, ...,
    dt <= MAX_VISCOUS_GAIN dt_cfl) for which IFRK4 is stable, |G| <= 1, on every model mode
    (B, K) of damping rate ``decay`` (a) and advective frequency ``freq`` (w) raised by ``margin``,
    and on every smaller candidate. The CFL step dt_cfl (B,) itself, stable without damping, is
    always allowed. Where the damping a = nu |k|^2 is strong against w = |c.k| max|u| (fine grids,
    viscous samples), the step grows past the CFL limit; without damping it stays dt_cfl."""
    n_cand = int(math.floor(math.log(MAX_VISCOUS_GAIN) / math.log(STEP_GROWTH) + 1e-9)) + 1
    growth = STEP_GROWTH ** torch.arange(n_cand, dtype=torch.float64, device=dt_cfl.device)
    dt = dt_cfl.to(torch.float64)[:, None] * growth  # (B, J)
    a = decay.to(torch.float64)[:, None, :] * dt[:, :, None]  # (B, J, K)
    w = margin * freq.to(torch.float64)[:, None, :] * dt[:, :, None]
    stable = (ifrk4_amplification(a, w).abs() <= 1.0 + 1e-12).all(dim=2)  # (B, J)
    stable[:, 0] = True
    leading = torch.cumprod(stable.to(torch.int64), dim=1).sum(dim=1)  # stable prefix length
    return dt.gather(1, (leading - 1)[:, None]).squeeze(1)


def step_counts(dt_cap: torch.Tensor, interval: float, t_end: float, *, max_steps_per_frame: int,
                pde: str) -> torch.Tensor:
    """Each sample's whole number of equal steps (B,) float64 for an interval, from its largest
    stable step ``dt_cap`` (B,). A non-finite or non-positive cap (a blown-up state) or a count
    above ``max_steps_per_frame`` (an unstable setting) is a SolverError naming the batch index."""
    dt_cap = dt_cap.to(torch.float64)
    bad = ~torch.isfinite(dt_cap) | (dt_cap <= 0)
    if bool(bad.any()):
        i = int(torch.nonzero(bad)[0])
        err = SolverError(f"{pde}: the CFL step is {float(dt_cap[i])!r} before t={t_end - interval:g}; "
                          f"the state is non-finite or unbounded at batch index {i}")
        err.sample_index = i
        raise err
    n_steps = torch.ceil(interval / dt_cap - 1e-9).clamp_min(1)
    n_max = int(n_steps.max())
    if n_max > max_steps_per_frame:
        i = int(torch.argmax(n_steps))
        err = SolverError(
            f"{pde}: the CFL condition needs {n_max} steps for the frame at t={t_end:g} "
            f"(limit {max_steps_per_frame}) at batch index {i}; the solution is too fast for "
            "this grid and dt")
        err.sample_index = i
        raise err
    return n_steps


def advance(vh: torch.Tensor, lin: torch.Tensor, nonlinear: Nonlinear, interval: float,
            n_steps: torch.Tensor, monitor: Callable[[torch.Tensor], torch.Tensor] | None = None
            ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Advance ``vh`` (B, N, M) by ``interval``, sample b in ``n_steps[b]`` equal steps.

    The batch runs the largest count and a sample that has taken all of its steps is held fixed,
    so a sample's result does not depend on which other samples share the batch. ``monitor(vh)``
    (B,), if given, is evaluated after every step; its running maximum over each sample's own
    steps is returned with the state (None without a monitor)."""
    shape = (-1,) + (1,) * (vh.dim() - 1)
    real = lin.real.dtype if lin.is_complex() else lin.dtype
    dt = (interval / n_steps).to(device=vh.device, dtype=real).reshape(shape)
    factors = IFRK4Factors(torch.exp(lin * dt), torch.exp(lin * (0.5 * dt)), dt, vh)
    n_max = int(n_steps.max())
    uniform = bool((n_steps == n_max).all())
    active_until = n_steps.to(vh.device).reshape(shape)
    worst = None
    for step in range(n_max):
        new = factors.step(vh, nonlinear)
        vh = new if uniform else torch.where(step < active_until, new, vh)
        if monitor is not None:
            value = monitor(vh)
            worst = value if worst is None else torch.maximum(worst, value)
    return vh, worst


def integrate_frames(vh0: torch.Tensor, lin: torch.Tensor, nonlinear: Nonlinear,
                     times: torch.Tensor, max_dt: Callable[[torch.Tensor], torch.Tensor],
                     record: Callable[[torch.Tensor], torch.Tensor], *, max_steps_per_frame: int,
                     pde: str, progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """March ``vh0`` (B, N, M) through ``times`` (T,) on one grid, recording ``record(vh)`` at each.

    ``max_dt(vh)`` returns each sample's largest stable step (B,) from its current state; each
    sample takes its own whole number of equal steps per frame interval (``advance``). The first
    time must be 0."""
    times = [float(t) for t in times]
    if abs(times[0]) > 1e-12:
        raise ValueError("the first output time must be 0")
    frames = [record(vh0)]
    vh = vh0
    for k in range(1, len(times)):
        interval = times[k] - times[k - 1]
        n_steps = step_counts(max_dt(vh), interval, times[k],
                              max_steps_per_frame=max_steps_per_frame, pde=pde)
        vh, _ = advance(vh, lin, nonlinear, interval, n_steps)
        frames.append(record(vh))
        if progress is not None:
            progress(int(n_steps.max()))
    return torch.stack(frames, dim=1)
