"""A per-sample resolution schedule for pseudo-spectral solves (``settings.tail_tol`` set).

Burgers fronts are steepest early (t ~ 0.1-0.25) and are then smoothed by the viscosity, and how
steep they get depends on the sample's viscosity, speed and amplitude. So each sample's compute grid
is chosen per frame interval from its own spectrum, out of ``settings.ladder`` (multiples of the
stored grid), by a spectral-tail criterion. On a grid of size m (2/3 rule: kept modes
|k|_inf < m / 3, integers) the criterion is the relative L2 norm of the top of the kept band,

    tau_m(v) = || v_hat on modes with |k|_inf >= band * m / 3 || / || v_hat ||     (Parseval),

the part of the field that the grid resolves only marginally (``band = settings.tail_band``).
A frame interval of sample b:
1. starts on the coarsest ladder grid m whose tail holds at the start with room to grow
   (tau_m(v) <= ``CHOICE_MARGIN`` * tol; at most one ladder step above its previous grid); the
   state moves there by exact spectral restriction / zero-padding (a restriction drops only modes
   that tau_m already counts, so its loss is below the tolerance);
2. is solved on m, with tau_m evaluated after every RK step;
3. is accepted if the largest tau_m over the interval (start included) is <= tol. Otherwise it is
   solved again from its start on a finer ladder grid (the coarsest one the rejected end state
   suggests, at least one step finer), until accepted or on the finest ladder grid.
So a stored frame never comes from a grid on which the criterion exceeded ``tail_tol`` at any step
of the interval (except on the finest ladder grid, where the record shows it). Every decision
depends only on that sample's state, and samples are solved in sub-batches by grid (vectorised),
so a sample's frames do not depend on the batch it is in. ``grids`` forces the schedule (the
refinement check solves on twice each chosen grid)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from pde_lib.errors import SolverError
from pde_lib.pdes.base import SolverSettings, check_finite
from pde_lib.pdes.integrators import advance, step_counts
from pde_lib.pdes.spectral import DOMAIN_LENGTH, point_sample, rfft2
from pde_lib.pdes.spectral_grid import SpectralGrid

#: an interval starts on a grid whose tail is at most this fraction of the tolerance
CHOICE_MARGIN = 0.25
#: from this grid size on, samples of a sub-batch are stepped in sub-batches by step count, binned
#: geometrically (counts within a factor STEP_BIN of each other share one: at most that fraction
#: of masked, wasted steps); below it one call per step costs less
SPLIT_STEPS_FROM = 160
STEP_BIN = 1.25


@dataclass
class ScheduleRecord:
    """What a scheduled solve did: ``grid`` (B, T - 1) the compute grid size of each sample's
    frame interval k -> k + 1, ``tail`` (B, T - 1) the largest criterion value tau over that
    interval (start included), ``tol`` the tolerance it was held to."""

    grid: torch.Tensor
    tail: torch.Tensor
    tol: float

    @property
    def worst(self) -> float:
        return float(self.tail.max()) if self.tail.numel() else 0.0


def mode_numbers(n: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer |mode| of an (n, n//2 + 1) rfft2 layout: (n, 1) and (1, n//2 + 1)."""
    mx = torch.fft.fftfreq(n, d=1.0 / n, device=device, dtype=torch.float64).abs()
    my = torch.fft.rfftfreq(n, d=1.0 / n, device=device, dtype=torch.float64)
    return mx[:, None], my[None, :]


def resample(vh: torch.Tensor, n_from: int, n_to: int, fraction: float = 1.0 / 3.0) -> torch.Tensor:
    """The rfft2 (..., n_from, n_from//2 + 1) of a field on n_from^2, moved onto n_to^2 keeping
    the modes |m| < fraction * min(n_from, n_to) (``fraction`` 1/3: the 2/3 rule): zero-padding
    when finer (exact), truncation when coarser."""
    if n_from == n_to:
        return vh
    device = vh.device
    mx = torch.fft.fftfreq(n_to, d=1.0 / n_to, device=device, dtype=torch.float64)
    my = torch.fft.rfftfreq(n_to, d=1.0 / n_to, device=device, dtype=torch.float64)
    cut = min(n_from, n_to) * fraction
    keep = (mx.abs()[:, None] < cut) & (my[None, :] < cut)
    src_x = torch.where(mx.abs() < cut, mx, torch.zeros_like(mx)).long() % n_from
    src_y = torch.where(my < cut, my, torch.zeros_like(my)).long()
    out = vh.index_select(-2, src_x).index_select(-1, src_y)
    return out * (keep * (n_to / n_from) ** 2).to(vh.real.dtype)


def kept_modes(n: int, fraction: float, device=None) -> torch.Tensor:
    """(n, n//2 + 1) mask of the modes |m|_inf < fraction * n (the 2/3-rule mask for 1/3)."""
    mx, my = mode_numbers(n, device)
    return torch.maximum(mx, my) < fraction * n


def _rows_power(block: torch.Tensor, first_col: int) -> torch.Tensor:
    """Parseval-weighted sum of |v|^2 over a block (B, r, c) of rfft2 columns starting at
    ``first_col`` (column 0 counts once, the others twice: their conjugates are not stored),
    float64 (B,). Each row is reduced on its own, so the value does not depend on the batch."""
    if block.shape[-2] == 0 or block.shape[-1] == 0:
        return torch.zeros(block.shape[0], dtype=torch.float64, device=block.device)
    rows = torch.linalg.vector_norm(torch.view_as_real(block), dim=(-2, -1)).double().square()
    total = 2.0 * rows.sum(-1)
    if first_col == 0:
        total = total - block[..., 0].abs().double().square().sum(-1)
    return total


def ring_power(vh: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    """Parseval-weighted power (B,) float64 of the integer modes lo <= max(|m_x|, m_y) < hi of
    rfft2 states vh (B, n, n//2 + 1), hi <= n/2 (no Nyquist mode), summed block by block (no
    subtraction of large sums: a small ring keeps its relative accuracy)."""
    n = vh.shape[-2]
    if hi > n // 2:
        raise ValueError(f"ring up to |m| < {hi} on a {n}-point grid reaches the Nyquist mode")
    if lo >= hi:
        return torch.zeros(vh.shape[0], dtype=torch.float64, device=vh.device)
    one = max(lo, 1)
    # rows with lo <= |m_x| < hi, columns m_y < hi
    outer = (_rows_power(vh[:, lo:hi, :hi], 0)
             + _rows_power(vh[:, n - hi + 1:n - one + 1, :hi], 0))
    # rows with |m_x| < lo, columns lo <= m_y < hi
    inner = _rows_power(vh[:, :lo, lo:hi], lo) + _rows_power(vh[:, n - lo + 1:, lo:hi], lo) if lo else 0.0
    return outer + inner


class _Grids:
    """Spectral grids per grid size, built once per solve, and the tail criterion on them."""

    def __init__(self, device, dtype: torch.dtype, band: float, fraction: float):
        self.device, self.dtype, self.band, self.fraction = device, dtype, band, fraction
        self._grids: dict[int, SpectralGrid] = {}

    def grid(self, n: int) -> SpectralGrid:
        if n not in self._grids:
            self._grids[n] = SpectralGrid.build(n, self.device, self.dtype)
        return self._grids[n]

    def kept(self, n: int) -> torch.Tensor:
        return kept_modes(n, self.fraction, self.device)

    def tail(self, vh: torch.Tensor, n: int, m: int) -> torch.Tensor:
        """tau_m (B,) float64 of states vh on grid n: the ring of modes band * fraction * m <=
        |k|_inf < fraction * n over the whole kept band (``ring_power``)."""
        top = math.ceil(self.fraction * n - 1e-9)  # kept modes: |k|_inf < fraction * n
        whole = ring_power(vh, 0, top)
        part = ring_power(vh, math.ceil(self.band * self.fraction * m - 1e-9), top)
        return (part / whole.clamp_min(1e-300)).sqrt()

    def choose(self, vh: torch.Tensor, n: int, ladder: list[int], limit: float,
               lowest: int, highest: int) -> torch.Tensor:
        """Each state's coarsest ladder grid in [lowest, highest] whose tail (seen from grid n)
        is <= limit; ``highest`` where none is. (B,) int64."""
        choice = torch.full((vh.shape[0],), highest, dtype=torch.int64, device=vh.device)
        for m in reversed([m for m in ladder if lowest <= m < highest]):
            choice = torch.where(self.tail(vh, n, m) <= limit, m, choice)
        return choice


def _next(ladder: list[int], n: int) -> int:
    finer = [m for m in ladder if m > n]
    return finer[0] if finer else ladder[-1]


def solve_scheduled(pde, u0: torch.Tensor, coeffs: dict[str, torch.Tensor], times,
                    settings: SolverSettings, grids: torch.Tensor | None = None, progress=None
                    ) -> tuple[torch.Tensor, ScheduleRecord]:
    """Solve (B, n0, n0) initial fields (n0 = stored grid * ``settings.refine``) through ``times``
    with a per-sample grid schedule -> (B, T, n0 // refine, ...) frames and the record."""
    times = [float(t) for t in times]
    if abs(times[0]) > 1e-12:
        raise ValueError("the first output time must be 0")
    b, n0 = u0.shape[0], u0.shape[-1]
    n_out = n0 // settings.refine
    ladder = [n_out * r for r in settings.ladder]
    tol = float(settings.tail_tol)
    device = u0.device
    fraction = pde.kept_fraction
    cache = _Grids(device, settings.torch_dtype, settings.tail_band, fraction)
    if grids is not None and tuple(grids.shape) != (b, len(times) - 1):
        raise ValueError(f"grids must be (B, T - 1) = ({b}, {len(times) - 1}), got {tuple(grids.shape)}")
    vh0 = rfft2(u0.to(settings.torch_dtype)) * cache.kept(n0)
    out = torch.empty(b, len(times), n_out, n_out, dtype=u0.dtype, device=device)
    out[:, 0] = point_sample(cache.grid(n0).to_physical(vh0), n_out).to(u0.dtype)
    rec_grid = torch.zeros(b, len(times) - 1, dtype=torch.int64, device=device)
    rec_tail = torch.zeros(b, len(times) - 1, dtype=torch.float64, device=device)
    groups = [(n0, torch.arange(b, device=device), vh0)]
    for k in range(1, len(times)):
        interval = times[k] - times[k - 1]
        pending: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {}
        for n, idx, vh in groups:
            if grids is not None:
                choice = grids[idx, k - 1].to(device)
            else:
                choice = cache.choose(vh, n, ladder, CHOICE_MARGIN * tol, ladder[0], _next(ladder, n))
            for m in torch.unique(choice).tolist():
                rows = torch.nonzero(choice == m).flatten()
                pending.setdefault(int(m), []).append((idx[rows], resample(vh[rows], n, int(m), fraction)))
        groups = []
        steps = 0
        while pending:
            m = min(pending)
            parts = pending.pop(m)
            idx = torch.cat([p[0] for p in parts])
            vh = torch.cat([p[1] for p in parts])
            end, worst, n_steps = _interval(pde, cache, vh, idx, coeffs, u0, m, interval, times[k],
                                            settings)
            steps += n_steps
            reject = worst > tol
            if grids is not None or m >= ladder[-1]:  # forced, or nothing finer to go to
                reject = torch.zeros_like(reject)
            if bool(reject.any()):
                rows = torch.nonzero(reject).flatten()
                up = cache.choose(end[rows], m, ladder, CHOICE_MARGIN * tol, _next(ladder, m), ladder[-1])
                for m2 in torch.unique(up).tolist():
                    sel = rows[up == m2]
                    pending.setdefault(int(m2), []).append((idx[sel], resample(vh[sel], m, int(m2), fraction)))
                keep = torch.nonzero(~reject).flatten()
                idx, end, worst = idx[keep], end[keep], worst[keep]
            if idx.numel() == 0:
                continue
            out[idx, k] = point_sample(cache.grid(m).to_physical(end), n_out).to(u0.dtype)
            rec_grid[idx, k - 1] = m
            rec_tail[idx, k - 1] = worst
            groups.append((m, idx, end))
        if progress is not None:
            progress(steps)
    return out, ScheduleRecord(grid=rec_grid, tail=rec_tail, tol=tol)


def _interval(pde, cache: _Grids, vh, idx, coeffs, u0, m: int, interval: float, t_end: float,
              settings: SolverSettings):
    """One frame interval of the samples ``idx`` on grid m: end states, the largest tail tau_m
    over the interval (start included), and the step count taken."""
    grid = cache.grid(m)
    sub = {key: value[idx.to(value.device)] for key, value in coeffs.items()}
    try:
        problem = pde.setup(vh, sub, grid, u0)
        v = grid.to_physical(vh)
        check_finite(pde.name, v, problem.bound)
        dt_cap = problem.max_dt(vh, v, DOMAIN_LENGTH / m, settings)
        n_steps = step_counts(dt_cap, interval, t_end, max_steps_per_frame=settings.max_steps_per_frame,
                              pde=pde.name)
        start = cache.tail(vh, m, m)
        monitor = lambda s: cache.tail(s, m, m)  # noqa: E731
        if m >= SPLIT_STEPS_FROM:  # bin k holds counts in [STEP_BIN^k, STEP_BIN^(k+1))
            bins = torch.floor(torch.log(n_steps) / math.log(STEP_BIN) + 1e-9)
        else:
            bins = torch.zeros_like(n_steps)
        labels = torch.unique(bins)
        if len(labels) == 1:
            end, worst = advance(vh, problem.linear, problem.nonlinear, interval, n_steps, monitor)
        else:
            end, worst = torch.empty_like(vh), torch.empty_like(start)
            for label in labels.tolist():
                rows = torch.nonzero(bins == label).flatten()
                part = pde.setup(vh[rows], {key: value[rows.to(value.device)] for key, value in sub.items()},
                                 grid, u0)
                end[rows], worst[rows] = advance(vh[rows], part.linear, part.nonlinear, interval,
                                                 n_steps[rows], monitor)
        check_finite(pde.name, grid.to_physical(end), problem.bound)
    except SolverError as err:
        i = getattr(err, "sample_index", None)
        if i is None:
            raise
        j = int(idx[i])
        new = SolverError(str(err).replace(f"batch index {i}", f"batch index {j}"))
        new.sample_index = j
        raise new from err
    return end, torch.maximum(start, worst), int(n_steps.max())
