"""The dataset files a study needs, named by the hash of their generation parameters so a data
folder can be shared by several studies and a file is reused only if it was made identically.

Files: ``pretrain_id_p<n>`` (heat + advection + Burgers, one per pretraining fraction; with
``data.subset_draw: per_seed`` one pool file of ``params.pretrain_pool`` per PDE, which every
fraction and seed draws from),
``<split>_<dist>`` (heat + advection + Burgers) and ``ns_<split>_<dist>`` (Navier-Stokes)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from pde_lib.data import FINETUNE_SPLITS
from pde_lib.data.checksum import file_values_checksum
from pde_lib.generation import GenerationParams, generate_dataset
from pde_lib.params.study import BASE_PDES
from pde_lib.utils.provenance import sha256_file

NS = "navier_stokes"


def _overrides(params) -> dict:
    return {pde: {k: v for k, v in o.items() if v is not None} for pde, o in params.data.solver.items()}


def pretrain_fractions(params) -> list:
    """Every pretraining-set fraction the study uses: ``pretrain.fractions``, then those only
    sub-grids name (``grid.subgrids[].pretrain_fractions``), first occurrence first."""
    out = list(params.pretrain.fractions)
    for sub in params.grid.get("subgrids") or []:
        out += [f for f in (sub.get("pretrain_fractions") or []) if f not in out]
    return out


def dataset_specs(params) -> dict[str, GenerationParams]:
    """Logical name -> generation parameters of every file the study needs."""
    d = params.data
    specs: dict[str, GenerationParams] = {}
    over = _overrides(params)
    for frac in pretrain_fractions(params):
        n = pretrain_file_samples(params, frac)
        specs[f"pretrain_id_p{n}"] = GenerationParams(
            pdes=list(BASE_PDES), split="pretrain", distribution="id", samples_per_pde=n,
            resolution=d.resolution, seed=d.seed, chunk_size=d.chunk_size, solver_overrides=over)
    for dist in d.distributions:
        for split in FINETUNE_SPLITS:
            specs[f"{split}_{dist}"] = GenerationParams(
                pdes=list(BASE_PDES), split=split, distribution=dist, samples_per_pde=d.samples[split],
                resolution=d.resolution, seed=d.seed, chunk_size=d.chunk_size, solver_overrides=over)
    ns = d.navier_stokes
    if ns.enabled:
        ns_over = {k: dict(v) for k, v in over.items()}
        if ns.refine is not None:
            ns_over.setdefault(NS, {})["refine"] = ns.refine
        for dist in ns.distributions:
            for split in FINETUNE_SPLITS:
                specs[f"ns_{split}_{dist}"] = GenerationParams(
                    pdes=[NS], split=split, distribution=dist, samples_per_pde=ns.samples[split],
                    resolution=ns.resolution, seed=d.seed, chunk_size=d.chunk_size,
                    solver_overrides={k: v for k, v in ns_over.items() if k == NS})
    return specs


def spec_hash(gp: GenerationParams) -> str:
    blob = json.dumps(asdict(gp), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


def dataset_paths(params, data_dir: str | Path) -> dict[str, Path]:
    """Logical name -> file path inside ``data_dir``."""
    data_dir = Path(data_dir)
    return {name: data_dir / f"{name}-{spec_hash(gp)}.h5" for name, gp in dataset_specs(params).items()}


def pretrain_file_samples(params, fraction) -> int:
    """Trajectories per PDE in the pretraining file of ``fraction``: the fraction's own count
    ("prefix", the file is what the run trains on) or the pool ("per_seed", runs draw from it)."""
    if params.data.get("subset_draw", "prefix") == "per_seed":
        return params.pretrain_pool
    return params.pretrain_samples(fraction)


def pretrain_file(params, paths: dict[str, Path], fraction) -> Path:
    return paths[f"pretrain_id_p{pretrain_file_samples(params, fraction)}"]


def finetune_files(paths: dict[str, Path], pde: str, distribution: str) -> dict[str, Path]:
    """train/valid/test files of one fine-tune."""
    prefix = "ns_" if pde == NS else ""
    return {split: paths[f"{prefix}{split}_{distribution}"] for split in FINETUNE_SPLITS}


def ensure_datasets(params, machine=None, data_dir: str | Path | None = None,
                    progress: bool = True) -> dict[str, dict]:
    """Generate every missing dataset file of the study (atomically; complete files are reused)
    and return name -> {"path", "sha256" (the file's bytes), "values_sha256" (its values alone,
    equal whenever the same values are generated again), "generated", "params"}."""
    if data_dir is None:
        if machine is None or not machine.get("data_dir"):
            raise ValueError("ensure_datasets needs data_dir or a machine profile with data_dir")
        data_dir = machine.data_dir
    device = machine.device if machine is not None else "cpu"
    records = {}
    specs = dataset_specs(params)
    for name, path in dataset_paths(params, data_dir).items():
        generated = False
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            generate_dataset(specs[name], path, device=device, progress=progress)
            generated = True
        records[name] = {"path": str(path), "sha256": sha256_file(path),
                         "values_sha256": file_values_checksum(path), "generated": generated,
                         "params": asdict(specs[name])}
    return records
