"""Dataset generation: seeds -> batched solves -> a streamed, atomic HDF5 file."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from pde_lib.data.layout import EXTRA_KEYS
from pde_lib.data.writer import open_for_writing
from pde_lib.errors import ConfigError
from pde_lib.generation.seeds import BLOCK, sample_seeds
from pde_lib.pdes import SolverSettings, get_pde
from pde_lib.pdes.simulate import draw_batch, simulate
from pde_lib.pdes.spectral import grid_coordinates
from pde_lib.utils.device import resolve_device
from pde_lib.utils.memory import retain_freed_memory

#: stored grids a file may have (models need >= 8 points per side; beyond 1024 a frame is 4 MB)
MIN_RESOLUTION, MAX_RESOLUTION = 8, 1024
#: largest compute grid (stored resolution x refine) a solve may use
MAX_COMPUTE_GRID = 4096


@dataclass
class GenerationParams:
    """Everything that determines a dataset file. ``refine`` / ``cfl`` / ``dtype`` override
    each PDE's default solver settings (None keeps the default, which meets the accuracy bar).
    An explicit ``refine`` (here or in ``solver_overrides``) fixes the compute grid, replacing a
    PDE's resolution schedule (and its lattice: a fixed grid is square) unless the overrides also
    give a ``tail_tol``."""

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
            over.setdefault("lattice", "square")  # a fixed grid is square
        settings = SolverSettings(**{**asdict(s), **over})
        settings.validate(pde.name)
        return settings

    def validate(self) -> list:
        """Check every field before any work; return the PDE objects. ConfigError names the
        field, the value and the valid range."""
        if not isinstance(self.pdes, (list, tuple)) or not self.pdes:
            raise ConfigError("pdes must name at least one PDE")
        pdes = [get_pde(name) for name in self.pdes]
        for key in ("samples_per_pde", "chunk_size"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{key} must be an integer >= 1, got {value!r}")
        if self.samples_per_pde > BLOCK:
            raise ConfigError(f"samples_per_pde must be <= {BLOCK} (one seed block per PDE), got {self.samples_per_pde}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be an integer >= 0, got {self.seed!r}")
        if self.resolution is not None and (isinstance(self.resolution, bool) or not isinstance(self.resolution, int)
                                            or not MIN_RESOLUTION <= self.resolution <= MAX_RESOLUTION):
            raise ConfigError(f"resolution must be an integer in [{MIN_RESOLUTION}, {MAX_RESOLUTION}] "
                              f"(or None for the PDE's default), got {self.resolution!r}")
        for pde in pdes:
            fine = self.stored_resolution(pde) * self.settings_for(pde).refine
            if fine > MAX_COMPUTE_GRID:
                raise ConfigError(f"{pde.name}: compute grid {fine}^2 (resolution {self.stored_resolution(pde)} x "
                                  f"refine {self.settings_for(pde).refine}) exceeds {MAX_COMPUTE_GRID}^2; "
                                  "lower the resolution or refine")
        return pdes

    def stored_resolution(self, pde) -> int:
        return pde.resolution if self.resolution is None else self.resolution

    def chunk_bytes(self, pde) -> int:
        """A rough upper estimate of the memory one chunk's solve needs: the stored frames plus
        about 16 work arrays on the compute grid (RK4 stages, complex spectra)."""
        res, s = self.stored_resolution(pde), self.settings_for(pde)
        item = 8 if s.dtype == "float64" else 4
        k = min(self.chunk_size, self.samples_per_pde)
        return k * (pde.n_frames * res * res * 4 + 16 * (res * s.refine) ** 2 * item)


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


def check_memory(params: GenerationParams, pdes) -> None:
    """ConfigError when one chunk would need more memory than this machine has available."""
    import psutil

    available = psutil.virtual_memory().available
    for pde in pdes:
        need = params.chunk_bytes(pde)
        if need > available:
            raise ConfigError(f"{pde.name}: a chunk of {min(params.chunk_size, params.samples_per_pde)} samples at "
                              f"{params.stored_resolution(pde)}^2 needs about {need / 2**30:.1f} GiB, more than the "
                              f"{available / 2**30:.1f} GiB available; lower chunk_size (--chunk-size) or the resolution")


def generate_dataset(params: GenerationParams, out: str | Path, device="cpu",
                     progress: bool = True) -> GenerationSummary:
    """Generate ``params`` into ``out`` (atomically) and return its summary. Every setting, the
    device and the memory one chunk needs are checked before any solve; the file appears only
    once every sample is written."""
    pdes = params.validate()
    resolve_device(device)
    retain_freed_memory()  # large solver buffers stay in the heap (same values, less system time)
    check_memory(params, pdes)
    frames = {(p.n_frames, p.frame_dt) for p in pdes}
    if len(frames) > 1:
        raise ConfigError(f"PDEs {params.pdes} have different time axes and cannot share a file; "
                          "generate Navier-Stokes into its own file")
    res = params.stored_resolution(pdes[0])
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
        if offset != n_total:  # never rename a partly filled file into place
            raise RuntimeError(f"internal error: {offset} of {n_total} samples written to {out}; nothing kept")
        # what the data promise: per scheduled PDE, the criterion's tolerance and the largest
        # value it took over every stored frame interval (pde_lib.pdes.resolution)
        writer.set_attr("frame_error_estimate", {
            name: {"criterion": "spectral tail tau (pde_lib.pdes.resolution)",
                   "lattice": settings[name].lattice, "tolerance": settings[name].tail_tol,
                   "worst": worst}
            for name, worst in worst_tail.items()})
    bar.close()
    seconds = time.perf_counter() - start
    return GenerationSummary(
        path=str(out), samples_per_pde={p.name: params.samples_per_pde for p in pdes},
        coefficient_ranges={p: {k: tuple(v) for k, v in r.items()} for p, r in ranges.items()},
        u_min=u_min, u_max=u_max, seconds=seconds, seconds_per_sample=seconds / n_total)
