"""Dataset generation: seeds -> batched solves -> a streamed, atomic HDF5 file."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from pde_lib.data.seeds import sample_seeds
from pde_lib.data.writer import open_for_writing
from pde_lib.errors import ConfigError
from pde_lib.pdes import EXTRA_KEYS, SolverSettings, get_pde
from pde_lib.pdes.simulate import draw_batch, simulate
from pde_lib.pdes.spectral import grid_coordinates


@dataclass
class GenerationParams:
    """Everything that determines a dataset file. ``refine`` / ``cfl`` / ``dtype`` override
    each PDE's default solver settings (None keeps the default, which meets the accuracy bar).
    An explicit ``refine`` (here or in ``solver_overrides``) fixes the compute grid, replacing a
    PDE's resolution schedule unless the overrides also give a ``tail_tol``."""

    pdes: list[str]
    split: str
    distribution: str
    samples_per_pde: int
    resolution: int | None = None
    seed: int = 0
    chunk_size: int = 64
    refine: int | None = None
    cfl: float | None = None
    dtype: str | None = None
    solver_overrides: dict = field(default_factory=dict)

    def settings_for(self, pde) -> SolverSettings:
        s = pde.solver_settings(self.distribution)
        over = {k: v for k, v in (("refine", self.refine), ("cfl", self.cfl), ("dtype", self.dtype))
                if v is not None}
        over.update(self.solver_overrides.get(pde.name, {}))
        if "refine" in over and "tail_tol" not in over:
            over["tail_tol"] = None
        settings = SolverSettings(**{**asdict(s), **over})
        settings.validate(pde.name)
        return settings


@dataclass
class GenerationSummary:
    path: str
    samples_per_pde: dict[str, int]
    coefficient_ranges: dict[str, dict[str, tuple[float, float]]]
    u_min: float
    u_max: float
    seconds: float
    seconds_per_sample: float

    def format(self) -> str:
        lines = [f"wrote {self.path}"]
        for pde, n in self.samples_per_pde.items():
            ranges = ", ".join(f"{k} in [{lo:.4g}, {hi:.4g}]" for k, (lo, hi)
                               in self.coefficient_ranges[pde].items())
            lines.append(f"  {pde}: {n} samples; {ranges}")
        lines.append(f"  u min {self.u_min:.4f}, max {self.u_max:.4f}")
        lines.append(f"  {self.seconds:.2f} s total, {self.seconds_per_sample:.4f} s per sample")
        return "\n".join(lines)


def generate_dataset(params: GenerationParams, out: str | Path, device="cpu",
                     progress: bool = True) -> GenerationSummary:
    """Generate ``params`` into ``out`` (atomically) and return its summary."""
    if not params.pdes:
        raise ConfigError("pdes must name at least one PDE")
    pdes = [get_pde(name) for name in params.pdes]
    if params.samples_per_pde < 1:
        raise ConfigError(f"samples_per_pde must be >= 1, got {params.samples_per_pde}")
    frames = {(p.n_frames, p.frame_dt) for p in pdes}
    if len(frames) > 1:
        raise ConfigError(f"PDEs {params.pdes} have different time axes and cannot share a file; "
                          "generate Navier-Stokes into its own file")
    res = params.resolution or pdes[0].resolution
    settings = {p.name: params.settings_for(p) for p in pdes}
    n_t = pdes[0].n_frames
    n_total = params.samples_per_pde * len(pdes)
    extra = EXTRA_KEYS if any(k in EXTRA_KEYS for p in pdes for k in p.coefficient_names) else ()
    attrs = {"generation_params": asdict(params), "distribution": params.distribution,
             "split": params.split, "solver_settings": {k: asdict(v) for k, v in settings.items()}}
    ranges: dict[str, dict[str, list[float]]] = {}
    worst_tail: dict[str, float] = {}
    u_min, u_max = float("inf"), float("-inf")
    start = time.perf_counter()
    bar = tqdm(total=n_total, desc=f"generate {params.split}/{params.distribution}", unit="sample",
               disable=not progress)
    with open_for_writing(out, params.split, n_total, n_t, res, grid_coordinates(res),
                          pdes[0].times(), attrs, extra) as writer:
        offset = 0
        for pde in pdes:
            for lo in range(0, params.samples_per_pde, params.chunk_size):
                k = min(params.chunk_size, params.samples_per_pde - lo)
                seeds = sample_seeds(params.seed, params.split, params.distribution, pde.name, k, lo)
                batch = draw_batch(pde, seeds, params.distribution)
                if settings[pde.name].tail_tol is None:
                    u = simulate(pde, batch, res, settings[pde.name], device=device)
                else:
                    u, record = simulate(pde, batch, res, settings[pde.name], device=device,
                                         return_record=True)
                    worst_tail[pde.name] = max(worst_tail.get(pde.name, 0.0), record.worst)
                writer.write(offset, u, batch.coeffs, pde.name, seeds)
                offset += k
                u_min, u_max = min(u_min, float(u.min())), max(u_max, float(u.max()))
                r = ranges.setdefault(pde.name, {})
                for key in pde.coefficient_names:
                    v = batch.coeffs[key]
                    old = r.get(key, [float("inf"), float("-inf")])
                    r[key] = [min(old[0], float(v.min())), max(old[1], float(v.max()))]
                bar.update(k)
        # what the data promise: per scheduled PDE, the criterion's tolerance and the largest
        # value it took over every stored frame interval (pde_lib.pdes.resolution)
        writer.set_attr("frame_error_estimate", {
            name: {"criterion": "spectral tail tau (pde_lib.pdes.resolution)",
                   "tolerance": settings[name].tail_tol, "worst": worst}
            for name, worst in worst_tail.items()})
    bar.close()
    seconds = time.perf_counter() - start
    return GenerationSummary(
        path=str(out), samples_per_pde={p.name: params.samples_per_pde for p in pdes},
        coefficient_ranges={p: {k: tuple(v) for k, v in r.items()} for p, r in ranges.items()},
        u_min=u_min, u_max=u_max, seconds=seconds, seconds_per_sample=seconds / n_total)
