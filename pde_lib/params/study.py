"""The study parameter file: sections ``data``, ``pretrain``, ``finetune``, ``grid``, ``optim``.

``load_params(path) -> StudyParams`` reads YAML (following ``extends:`` chains, deep-merging
mappings; lists replace), validates every key and returns nested attribute dicts. Machine
settings (device, folders, Dask) live in a separate profile: ``pde_lib.params.machine``."""

from __future__ import annotations

import copy
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from pde_lib.augmentations import AUGMENTATIONS
from pde_lib.data import DISTRIBUTIONS, FINETUNE_SPLITS
from pde_lib.data.subset import SUBSET_DRAWS
from pde_lib.errors import ConfigError
from pde_lib.models import MODELS
from pde_lib.params.attrdict import AttrDict, attr_dict, to_plain
from pde_lib.params.schema import (REQUIRED, Anything, Bool, Float, FractionSpec, Int, List, Mapping, Name,
                                   Optional, SchemaError, Section, Str,
                                   did_you_mean, join)
from pde_lib.params.run_settings import MODEL_OPTIM, OPTIM_LATER_DEFAULTS, check_model_optim, run_settings
from pde_lib.pdes import PDES
from pde_lib.pdes.lattice import LATTICES
from pde_lib.pretraining import STRATEGIES
from pde_lib.engine.windowing import TASKS

#: the PDEs of the pretraining mixture and of the ID/OOD fine-tuning files
BASE_PDES = ("heat", "advection", "burgers")

PDE_NAME = Name(PDES, "PDE")
MODEL_NAME = Name(MODELS, "model")
STRATEGY_NAME = Name(STRATEGIES, "strategy")
AUGMENTATION_NAME = Name(AUGMENTATIONS, "augmentation")


def _split_sizes(default: int) -> Section:
    return Section({s: (Int(min=1), default) for s in FINETUNE_SPLITS})


def _solver_overrides() -> Mapping:
    return Mapping(PDE_NAME, Section({
        "refine": (Optional(Int(min=1)), None),
        "cfl": (Optional(Float(min=0, max=1, exclusive_min=True)), None),
        "dtype": (Optional(Str(("float32", "float64"))), None),
        "lattice": (Optional(Str(tuple(LATTICES))), None),
    }))


def _check_data(d: dict, path: str) -> None:
    if d["navier_stokes"]["enabled"] and not d["navier_stokes"]["distributions"]:
        raise SchemaError(join(path, "navier_stokes.distributions"), "expected at least one distribution")
    pool = d["pretrain_pool"]
    if pool is not None:
        if d["subset_draw"] != "per_seed":
            raise SchemaError(join(path, "pretrain_pool"), "a pretraining pool is drawn from per seed: it needs "
                                                          "data.subset_draw: per_seed")
        if pool < d["pretrain_samples"]:
            raise SchemaError(join(path, "pretrain_pool"), f"pool of {pool} trajectories per PDE is smaller than "
                                                          f"data.pretrain_samples={d['pretrain_samples']}")


DATA = Section({
    "seed": (Int(min=0), 0),
    "resolution": (Int(min=8), 32),
    "chunk_size": (Int(min=1), 64),
    "pretrain_samples": (Int(min=1), 3072),
    # how a run's training subset is drawn (pde_lib.data.subset): "prefix", the first n samples
    # (every seed trains on the same data), or "per_seed", the first n of a permutation seeded
    # from the cell's seed and the pool's PDE and distribution
    "subset_draw": (Str(SUBSET_DRAWS), "prefix"),
    # per_seed only: pretraining trajectories generated per PDE, of which each seed draws
    # pretrain_samples (x its fraction); null: a pool of pretrain_samples (at fraction 1 every
    # seed then pretrains on all of them, in its own order)
    "pretrain_pool": (Optional(Int(min=1)), None),
    "samples": (_split_sizes(256), lambda: {"train": 1024, "valid": 256, "test": 256}),
    "distributions": (List(Str(DISTRIBUTIONS), min_len=1, unique=True), lambda: ["id", "ood"]),
    "solver": (_solver_overrides(), dict),
    "navier_stokes": (Section({
        "enabled": (Bool(), True),
        "resolution": (Int(min=8), 64),
        "samples": (_split_sizes(256), lambda: {"train": 1024, "valid": 256, "test": 256}),
        "distributions": (List(Str(DISTRIBUTIONS), unique=True), lambda: ["id"]),
        "refine": (Optional(Int(min=1)), None),
    }), dict),
}, post=_check_data)

PRETRAIN = Section({
    "epochs": (Int(min=1), 200),
    "batch_size": (Int(min=1), 32),
    "fractions": (List(FractionSpec(), min_len=1, unique=True), lambda: [1]),
    "head_input": (Str(("features", "output")), "features"),
    "task": (Str(TASKS), "fixed_future"),
    "augment": (Bool(), False),
})

FINETUNE = Section({
    "epochs": (Int(min=1), 200),
    "batch_size": (Int(min=1), 32),
    "tasks": (List(Str(TASKS), min_len=1, unique=True), lambda: ["fixed_future"]),
    "samples": (List(Int(min=1), min_len=1, unique=True), lambda: [100, 250, 500, 1000]),
    "pdes": (List(PDE_NAME, unique=True), lambda: list(BASE_PDES)),
    "distributions": (List(Str(DISTRIBUTIONS), unique=True), lambda: ["id", "ood"]),
    "navier_stokes": (Bool(), True),
    "condition_on_coeffs": (Bool(), False),
    "window": (Int(min=1), 8),
    "target_frame": (Int(min=1), 31),
    # per PDE: a fixed-future target frame other than target_frame (e.g. {advection: 8})
    "target_frames": (Mapping(PDE_NAME, Int(min=1)), dict),
    "augmentation_ratio": (Float(min=0, max=1), 0.5),
    "resume": (Bool(), True),   # continue a half-done fine-tune from its checkpoint (exact)
    # validate (and select the model) every K epochs and after the last (1: after every epoch)
    "eval_every": (Int(min=1), 1),
})


def _check_models(models: dict, path: str) -> None:
    for label, kw in models.items():
        backbone = kw.get("model", label)
        MODEL_NAME.check(backbone, join(join(path, label), "model") if "model" in kw else join(path, label))
        if not label.replace("_", "").replace("-", "").isalnum():
            raise SchemaError(join(path, label), f"model label {label!r} must use only letters, digits, '_' and '-'")
        from pde_lib.models import model_kwargs
        valid = [k for k in model_kwargs(backbone) if k not in ("in_frames", "condition_on_coeffs")]
        for key in kw:
            if key != "model" and key not in valid:
                raise SchemaError(join(join(path, label), key),
                                  f"unknown {backbone} argument {key!r}{did_you_mean(key, valid)}; "
                                  f"valid arguments: {', '.join(['model'] + valid)}")


class _Models(Mapping):
    def check(self, value, path):
        out = super().check(value, path)
        _check_models(out, path)
        return out


#: the fine-tune keys a sub-grid may restrict (unset: the ``finetune`` section's value)
SUBGRID_FINETUNE_KEYS = ("tasks", "samples", "pdes", "distributions", "navier_stokes")

SUBGRID = Section({
    "name": (Str(), REQUIRED),
    "description": (Str(), ""),
    "models": (Optional(List(Str(), min_len=1, unique=True)), None),       # labels of grid.models
    "strategies": (Optional(List(STRATEGY_NAME, min_len=1, unique=True)), None),
    "augmentations": (Optional(List(List(AUGMENTATION_NAME, unique=True), min_len=1, unique=True)), None),
    "seeds": (Optional(List(Int(min=0), min_len=1, unique=True)), None),
    # pretraining-set fractions of this sub-grid's pretrained cells (unset: pretrain.fractions)
    "pretrain_fractions": (Optional(List(FractionSpec(), min_len=1, unique=True)), None),
    "finetune": (Section({
        "tasks": (Optional(List(Str(TASKS), min_len=1, unique=True)), None),
        "samples": (Optional(List(Int(min=1), min_len=1, unique=True)), None),
        "pdes": (Optional(List(PDE_NAME, unique=True)), None),
        "distributions": (Optional(List(Str(DISTRIBUTIONS), unique=True)), None),
        "navier_stokes": (Optional(Bool()), None),
    }), dict),
})

GRID = Section({
    "models": (_Models(Str(), Mapping(Str(), Anything()),
                       min_len=1), REQUIRED),
    "strategies": (List(STRATEGY_NAME, min_len=1, unique=True), REQUIRED),
    "augmentations": (List(List(AUGMENTATION_NAME, unique=True), min_len=1, unique=True), lambda: [[]]),
    "seeds": (List(Int(min=0), min_len=1, unique=True), lambda: [0, 1, 2]),
    # None: the study is the full product above. A list: the study is the union of these
    # sub-grids (cells deduplicated by id); each key a sub-grid leaves out takes the value above.
    "subgrids": (Optional(List(SUBGRID, min_len=1)), None),
})

OPTIM = Section({
    "lr": (Float(min=0, exclusive_min=True), 1e-3),
    "weight_decay": (Float(min=0), 1e-6),
    "lr_min": (Float(min=0), 1e-5),
    "warmup_steps": (Int(min=0), 0),              # linear lr warm-up steps before the cosine decay
    "clip_grad_norm": (Optional(Float(min=0, exclusive_min=True)), None),  # global gradient norm
    # per backbone (a label of grid.models): its own optimiser settings and step budget
    "models": (Mapping(Str(), MODEL_OPTIM), dict),
})


def _check_finetunes(f: dict, d: dict, path: str) -> None:
    """A set of fine-tunes (``tasks``, ``samples``, ``pdes``, ``distributions``,
    ``navier_stokes``) against the data the study generates; ``path``: its YAML path."""
    for i, pde in enumerate(f["pdes"]):
        if pde not in BASE_PDES:
            raise SchemaError(join(path, f"pdes[{i}]"), f"{pde!r} is not one of the ID/OOD fine-tuning PDEs "
                                                        f"{', '.join(BASE_PDES)}; Navier-Stokes is switched on "
                                                        "with navier_stokes: true")
    for i, dist in enumerate(f["distributions"]):
        if dist not in d["distributions"]:
            raise SchemaError(join(path, f"distributions[{i}]"),
                              f"distribution {dist!r} has no data: add it to data.distributions {d['distributions']}")
    most = max(f["samples"])
    if most > d["samples"]["train"]:
        raise SchemaError(join(path, "samples"), f"largest sample count {most} exceeds data.samples.train="
                                                 f"{d['samples']['train']} (samples per PDE in a train file)")
    if f["navier_stokes"]:
        if not d["navier_stokes"]["enabled"]:
            raise SchemaError(join(path, "navier_stokes"), "needs data.navier_stokes.enabled: true")
        if most > d["navier_stokes"]["samples"]["train"]:
            raise SchemaError(join(path, "samples"), f"largest sample count {most} exceeds "
                                                     f"data.navier_stokes.samples.train={d['navier_stokes']['samples']['train']}")
    if f["pdes"] and not f["distributions"]:
        raise SchemaError(join(path, "distributions"), "no distributions for the PDEs: give at least one")
    if not f["pdes"] and not f["navier_stokes"]:
        raise SchemaError(join(path, "pdes"), "no fine-tunes: give at least one PDE or navier_stokes: true")


def _check_subgrids(p: dict) -> None:
    """Fill each sub-grid's unset keys from ``grid`` and ``finetune`` and check it."""
    g, f = p["grid"], p["finetune"]
    names: set[str] = set()
    for i, sub in enumerate(g["subgrids"] or []):
        path = f"grid.subgrids[{i}]"
        name = sub["name"]
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            raise SchemaError(join(path, "name"), f"sub-grid name {name!r} must be non-empty and use only "
                                                  "letters, digits, '_' and '-'")
        if name in names:
            raise SchemaError(join(path, "name"), f"duplicate sub-grid name {name!r}")
        names.add(name)
        for key in ("strategies", "augmentations", "seeds"):
            if sub[key] is None:
                sub[key] = copy.deepcopy(g[key])
        if sub["models"] is None:
            sub["models"] = list(g["models"])
        for j, label in enumerate(sub["models"]):
            if label not in g["models"]:
                raise SchemaError(join(path, f"models[{j}]"),
                                  f"unknown model label {label!r}{did_you_mean(label, g['models'])}; "
                                  f"sub-grids name models defined in grid.models: {', '.join(g['models'])}")
        for key in SUBGRID_FINETUNE_KEYS:
            if sub["finetune"][key] is None:
                sub["finetune"][key] = copy.deepcopy(f[key])
        _check_finetunes(sub["finetune"], p["data"], join(path, "finetune"))


def _check_study(p: dict, path: str) -> None:
    f = p["finetune"]
    if f["target_frame"] < f["window"]:
        raise SchemaError("finetune.target_frame",
                          f"target_frame={f['target_frame']} must be >= window={f['window']}")
    for pde, frame in f["target_frames"].items():
        if frame < f["window"]:
            raise SchemaError(join("finetune.target_frames", pde), f"target frame {frame} must be >= window={f['window']}")
    if p["optim"]["lr_min"] > p["optim"]["lr"]:
        raise SchemaError("optim.lr_min", f"lr_min={p['optim']['lr_min']} must not exceed lr={p['optim']['lr']}")
    _check_finetunes(f, p["data"], "finetune")
    _check_subgrids(p)
    check_model_optim(p)


STUDY = Section({
    "name": (Str(), "study"),
    "description": (Str(), ""),
    "pipeline_test": (Bool(), False),
    "data": (DATA, dict),
    "pretrain": (PRETRAIN, dict),
    "finetune": (FINETUNE, dict),
    "grid": (GRID, REQUIRED),
    "optim": (OPTIM, dict),
}, post=_check_study)


class StudyParams(AttrDict):
    """Validated study parameters; ``source`` is the file they came from."""

    source: str = ""

    def pretrain_samples(self, fraction: Fraction) -> int:
        """Pretraining trajectories per PDE for a scaling fraction (at least 1)."""
        return max(1, round(self.data.pretrain_samples * Fraction(fraction)))

    @property
    def pretrain_pool(self) -> int:
        """Pretraining trajectories generated per PDE (``data.pretrain_pool`` or, unset,
        ``data.pretrain_samples``)."""
        pool = self.data.get("pretrain_pool")
        return self.data.pretrain_samples if pool is None else pool

    def run_settings(self, label: str, stage: str) -> dict[str, Any]:
        """Backbone ``label``'s optimiser settings and step budget in ``stage`` (``run_settings``)."""
        return run_settings(self, label, stage)

    def to_plain(self) -> dict:
        """A YAML/JSON-safe dict (fractions become "a/b" strings). A study without sub-grids
        leaves ``grid.subgrids`` out; ``data.subset_draw: prefix`` with no pool, an empty
        ``finetune.target_frames`` and optim keys at their ``OPTIM_LATER_DEFAULTS`` are left out
        too, so its frozen ``params.yaml`` is what it was before these keys existed (and a sweep
        folder made then still resumes and joins)."""
        plain = to_plain(self)
        if plain.get("grid", {}).get("subgrids", 0) is None:
            del plain["grid"]["subgrids"]
        data = plain.get("data", {})
        for key, default in (("pretrain_pool", None), ("subset_draw", "prefix")):
            if key in data and data[key] == default:
                del data[key]
        if plain.get("finetune", {}).get("target_frames", 0) == {}:
            del plain["finetune"]["target_frames"]
        if plain.get("finetune", {}).get("eval_every", 0) == 1:
            del plain["finetune"]["eval_every"]
        for sub in plain.get("grid", {}).get("subgrids") or []:
            if sub.get("pretrain_fractions", 0) is None:
                del sub["pretrain_fractions"]
        optim = plain.get("optim", {})
        for key, default in OPTIM_LATER_DEFAULTS.items():
            if key in optim and optim[key] == default:
                del optim[key]
        for settings in optim.get("models", {}).values():
            for key in [k for k, v in settings.items() if v is None]:
                del settings[key]
        return plain


def read_yaml(path: str | Path, _seen: tuple = ()) -> dict:
    """Read a YAML mapping, following ``extends:`` (a path relative to the file)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"parameter file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    base = raw.pop("extends", None)
    if base is None:
        return raw
    if not isinstance(base, str):
        raise ConfigError(f"{path}: extends: expected a file path, got {base!r}")
    base_path = (path.parent / base).resolve()
    if base_path in _seen:
        raise ConfigError(f"{path}: extends: cycle through {base_path}")
    return deep_merge(read_yaml(base_path, _seen + (path.resolve(),)), raw)


def deep_merge(base: dict, over: dict) -> dict:
    """``over`` on top of ``base``: mappings merge key by key, anything else replaces.
    A key in ``grid.models`` or ``optim.models`` given as null removes that model (or its settings)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    for section in ("grid", "optim"):
        if isinstance(out.get(section), dict) and isinstance(out[section].get("models"), dict):
            out[section]["models"] = {k: v for k, v in out[section]["models"].items() if v is not None}
    return out


def validate_params(raw: dict, source: str = "<dict>") -> StudyParams:
    """Validate a raw dict; ConfigError messages start with ``source`` and the key's YAML path."""
    try:
        checked = STUDY.check(raw, "")
    except SchemaError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    params = StudyParams(attr_dict(checked))
    params.source = source
    return params


def load_params(path: str | Path) -> StudyParams:
    """Load and validate a study parameter file (see module docstring)."""
    return validate_params(read_yaml(path), source=str(path))
