"""From seeds to stored trajectories: draw each sample from its seed, then solve the batch."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from pde_lib.errors import SolverError
from pde_lib.data.layout import COEFFICIENT_KEYS, EXTRA_KEYS
from pde_lib.pdes.base import PDE, SolverSettings
from pde_lib.pdes.spectral import point_sample


@dataclass
class SampleBatch:
    """Per-sample draws for a batch: ``coeffs`` maps every stored coefficient key to (B,) float64
    (zeros where the PDE has none); ``ic`` maps IC parameter names to stacked (B, ...) arrays."""

    seeds: np.ndarray
    coeffs: dict[str, torch.Tensor]
    ic: dict[str, torch.Tensor]


def draw_batch(pde: PDE, seeds, distribution: str) -> SampleBatch:
    """Draw coefficients and IC parameters of each seed (host side, a few numbers per sample)."""
    seeds = np.asarray(seeds, dtype=np.int64)
    draws = [pde.draw(int(s), distribution) for s in seeds]
    keys = COEFFICIENT_KEYS + (EXTRA_KEYS if any(k in EXTRA_KEYS for k in pde.coefficient_names) else ())
    coeffs = {k: torch.tensor([c.get(k, 0.0) for c, _ in draws], dtype=torch.float64) for k in keys}
    if "visc" in coeffs:  # Navier-Stokes also stores its viscosity under the common key nu
        coeffs["nu"] = coeffs["visc"].clone()
    ic = {k: torch.from_numpy(np.stack([d[1][k] for d in draws])) for k in draws[0][1]}
    return SampleBatch(seeds=seeds, coeffs=coeffs, ic=ic)


def simulate(pde: PDE, batch: SampleBatch, resolution: int, settings: SolverSettings | None = None,
             device="cpu", times: torch.Tensor | None = None, progress=None,
             grids: torch.Tensor | None = None, return_record: bool = False):
    """Solve a drawn batch and return float32 stored frames (B, T, resolution, resolution).

    The solve runs on a grid ``settings.refine`` times finer (with a resolution schedule,
    ``settings.tail_tol``: starts there, then per sample on the grids its criterion chooses, or on
    ``grids`` (B, T - 1) if given; ``return_record`` also returns the ``ScheduleRecord``). A
    SolverError is re-raised naming the PDE, the sample's batch index, its seed and its
    coefficients."""
    settings = settings or pde.solver_settings("id")
    times = pde.times() if times is None else times
    n_fine = resolution * settings.refine
    dtype = settings.torch_dtype
    u0 = pde.initial_condition(batch.ic, n_fine, device=device, dtype=dtype)
    coeffs = {k: v.to(device) for k, v in batch.coeffs.items()}
    record = None
    try:
        if settings.tail_tol is not None:
            out, record = pde.solve(u0, coeffs, times, settings, progress=progress, grids=grids,
                                    return_record=True)
        else:
            if grids is not None or return_record:
                raise ValueError("grids / return_record need a resolution schedule (tail_tol)")
            out = pde.solve(u0, coeffs, times, settings, progress=progress)
        if out.shape[-1] != resolution:  # exact solvers return the grid they were given
            out = point_sample(out, resolution)
    except SolverError as err:
        i = getattr(err, "sample_index", None)
        if i is None:
            raise
        desc = ", ".join(f"{k}={float(v[i]):.6g}" for k, v in batch.coeffs.items()
                         if k in pde.coefficient_names)
        raise SolverError(f"{err} -- PDE {pde.name}, sample index {i}, seed {int(batch.seeds[i])}, "
                          f"coefficients {desc}") from err
    out = out.to(torch.float32)
    return (out, record) if return_record else out


def refined(settings: SolverSettings, space: int = 2, time: int = 4) -> SolverSettings:
    """Settings for the accuracy bar's reference: a grid ``space`` times finer, dt ``time`` times
    smaller. With a resolution schedule, solve the reference with ``grids=space * record.grid``
    (each frame interval on ``space`` times the grid the stored solve used)."""
    return replace(settings, refine=settings.refine * space, dt_scale=settings.dt_scale / time,
                   ladder=tuple(r * space for r in settings.ladder))
