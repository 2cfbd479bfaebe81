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
refinement check solves on twice each chosen grid).

On a sheared lattice (``settings.lattice``, e.g. ``diagonal`` for OOD Burgers) the grids are
(n1, n2), each axis from the ladder, the band is a box per grid axis, and the coarsest grid is
the cheapest one (``schedule_grids.LatticeGrids``); the steps above are the same."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from pde_lib.errors import SolverError
from pde_lib.pdes.base import SolverSettings, check_finite
from pde_lib.pdes.integrators import advance, step_counts
from pde_lib.pdes.lattice import get_lattice
from pde_lib.pdes.schedule_grids import LatticeGrids, SquareGrids
from pde_lib.pdes.spectral import DOMAIN_LENGTH, irfft2, point_sample, rfft2
from pde_lib.pdes.spectral_tail import kept_modes, mode_numbers, resample, resample_grid, ring_power

__all__ = ["ScheduleRecord", "solve_scheduled", "kept_modes", "mode_numbers", "resample",
           "resample_grid", "ring_power"]

#: an interval starts on a grid whose tail is at most this fraction of the tolerance
CHOICE_MARGIN = 0.25
#: from a family's ``split_steps_from`` grid size on (160 on square grids), samples of a sub-batch
#: are stepped in sub-batches by step count, binned geometrically (counts within a factor STEP_BIN
#: of each other share one: at most that fraction of masked, wasted steps); below it one call per
#: step costs less
STEP_BIN = 1.25


@dataclass
class ScheduleRecord:
    """What a scheduled solve did: ``grid`` (B, T - 1) the compute grid size of each sample's
    frame interval k -> k + 1 (on a sheared lattice (B, T - 1, 2), the grid's (n1, n2)), ``tail``
    (B, T - 1) the largest criterion value tau over that interval (start included), ``tol`` the
    tolerance it was held to."""

    grid: torch.Tensor
    tail: torch.Tensor
    tol: float

    @property
    def worst(self) -> float:
        return float(self.tail.max()) if self.tail.numel() else 0.0

    @property
    def cost(self) -> torch.Tensor:
        """(B, T - 1) each interval's cost against a 128^2 grid: points times steps,
        n1 n2 max(n1, n2) / 128^3 (n^3 / 128^3 on square grids)."""
        g = self.grid.double() / 128
        if g.dim() == 3:
            return g[..., 0] * g[..., 1] * g.amax(-1)
        return g**3


def solve_scheduled(pde, u0: torch.Tensor, coeffs: dict[str, torch.Tensor], times,
                    settings: SolverSettings, grids: torch.Tensor | None = None, progress=None
                    ) -> tuple[torch.Tensor, ScheduleRecord]:
    """Solve (B, n0, n0) initial fields (n0 = stored grid * ``settings.refine``) through ``times``
    with a per-sample grid schedule -> (B, T, n0 // refine, ...) frames and the record. The
    grids are those of ``settings.lattice`` (square n^2, or (n1, n2) on a sheared lattice)."""
    times = [float(t) for t in times]
    if abs(times[0]) > 1e-12:
        raise ValueError("the first output time must be 0")
    b, n0 = u0.shape[0], u0.shape[-1]
    n_out = n0 // settings.refine
    ladder = [n_out * r for r in settings.ladder]
    tol = float(settings.tail_tol)
    device = u0.device
    fraction = pde.kept_fraction
    lattice = get_lattice(settings.lattice)
    if lattice.is_square:
        family = SquareGrids(device, settings.torch_dtype, settings.tail_band, fraction, ladder)
    else:
        family = LatticeGrids(lattice, device, settings.torch_dtype, settings.tail_band, fraction, ladder)
    shape = (b, len(times) - 1, *family.record_dims)
    if grids is not None and tuple(grids.shape) != shape:
        raise ValueError(f"grids must be {shape} on the {lattice.name} lattice, got {tuple(grids.shape)}")
    vh0 = rfft2(u0.to(settings.torch_dtype)) * family.kept(n0)
    out = torch.empty(b, len(times), n_out, n_out, dtype=u0.dtype, device=device)
    out[:, 0] = point_sample(irfft2(vh0, s=(n0, n0)), n_out).to(u0.dtype)
    rec_grid = torch.zeros(shape, dtype=torch.int64, device=device)
    rec_tail = torch.zeros(b, len(times) - 1, dtype=torch.float64, device=device)
    key0, vh0 = family.enter(vh0, n0)
    groups = [(key0, torch.arange(b, device=device), vh0)]
    for k in range(1, len(times)):
        interval = times[k] - times[k - 1]
        pending: dict = {}
        for key, idx, vh in groups:
            if grids is not None:
                choice = grids[idx, k - 1].to(device)
            else:
                choice = family.start_choice(vh, key, CHOICE_MARGIN * tol)
            for m, rows in family.split(choice):
                pending.setdefault(m, []).append((idx[rows], family.move(vh[rows], key, m)))
        groups = []
        steps = 0
        while pending:
            m = min(pending, key=family.order)
            parts = pending.pop(m)
            idx = torch.cat([p[0] for p in parts])
            vh = torch.cat([p[1] for p in parts])
            end, worst, n_steps = _interval(pde, family, vh, idx, coeffs, u0, m, interval, times[k],
                                            settings)
            steps += n_steps
            reject = worst > tol
            if grids is not None or family.is_finest(m):  # forced, or nothing finer to go to
                reject = torch.zeros_like(reject)
            if bool(reject.any()):
                rows = torch.nonzero(reject).flatten()
                up = family.reject_choice(end[rows], m, CHOICE_MARGIN * tol)
                for m2, sel in family.split(up):
                    pending.setdefault(m2, []).append((idx[rows[sel]], family.move(vh[rows[sel]], m, m2)))
                keep = torch.nonzero(~reject).flatten()
                idx, end, worst = idx[keep], end[keep], worst[keep]
            if idx.numel() == 0:
                continue
            out[idx, k] = family.sample(end, m, n_out).to(u0.dtype)
            rec_grid[idx, k - 1] = family.record_value(m)
            rec_tail[idx, k - 1] = worst
            groups.append((m, idx, end))
        if progress is not None:
            progress(steps)
    return out, ScheduleRecord(grid=rec_grid, tail=rec_tail, tol=tol)


def _interval(pde, family: SquareGrids, vh, idx, coeffs, u0, m, interval: float, t_end: float,
              settings: SolverSettings):
    """One frame interval of the samples ``idx`` on grid m: end states, the largest tail tau_m
    over the interval (start included), and the step count taken."""
    grid = family.grid(m)
    sub = {key: value[idx.to(value.device)] for key, value in coeffs.items()}
    try:
        problem = pde.setup(vh, sub, grid, u0)
        v = grid.to_physical(vh)
        check_finite(pde.name, v, problem.bound)
        dt_cap = problem.max_dt(vh, v, DOMAIN_LENGTH / grid.n, settings)
        n_steps = step_counts(dt_cap, interval, t_end, max_steps_per_frame=settings.max_steps_per_frame,
                              pde=pde.name)
        start = family.monitor(vh, m)
        monitor = lambda s: family.monitor(s, m)  # noqa: E731
        if family.largest(m) >= family.split_steps_from:  # bin k holds counts in [STEP_BIN^k, STEP_BIN^(k+1))
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
