"""Machine profiles: where and how a sweep runs (device, folders, Dask), kept apart from the
experiment parameters so one study file runs unchanged on a laptop, a GPU box or a cluster.

``load_machine(path=None) -> MachineProfile``; None loads ``parameters/machines/local_cpu.yaml``
(or its built-in defaults when the file is absent)."""

from __future__ import annotations

from pathlib import Path

from pde_lib.errors import ConfigError
from pde_lib.params.schema import Bool, Int, Mapping, Optional, SchemaError, Section, Str, Anything
from pde_lib.params.attrdict import AttrDict, attr_dict
from pde_lib.params.study import read_yaml

DEFAULT_MACHINE = Path(__file__).resolve().parents[2] / "parameters" / "machines" / "local_cpu.yaml"

MACHINE = Section({
    "name": (Str(), "local_cpu"),
    "device": (Str(), "cpu"),
    "data_dir": (Optional(Str()), None),
    "out_dir": (Optional(Str()), None),
    "scheduler": (Optional(Str()), None),
    "n_workers": (Int(min=1), 2),
    "threads_per_worker": (Int(min=1), 1),
    "torch_threads": (Int(min=1), 1),
    "gpus_per_worker": (Int(min=0), 0),
    "memory_limit": (Str(), "auto"),
    "progress": (Bool(), False),
    "cell_timeout_s": (Optional(Int(min=1)), None),
    "stack_finetunes": (Int(min=1), 1),
    "cuda_graphs": (Bool(), False),
    "dashboard": (Bool(), False),
    "security": (Mapping(Str(), Anything()), dict),
    "cluster": (Section({
        "kind": (Str(("local", "slurm")), "local"),
        "jobs": (Int(min=1), 1),
        "options": (Mapping(Str(), Anything()), dict),
    }), dict),
})


class MachineProfile(AttrDict):
    """Validated machine settings; ``source`` is the file they came from."""

    source: str = ""


def validate_machine(raw: dict, source: str = "<dict>") -> MachineProfile:
    try:
        checked = MACHINE.check(raw, "")
    except SchemaError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    if checked["device"].startswith("cuda") is False and checked["device"] not in ("cpu", "mps"):
        raise ConfigError(f"{source}: device: expected 'cpu', 'cuda', 'cuda:N' or 'mps', got {checked['device']!r}")
    if checked["cuda_graphs"] and not checked["device"].startswith("cuda"):
        raise ConfigError(f"{source}: cuda_graphs: true needs device 'cuda', got {checked['device']!r}")
    prof = MachineProfile(attr_dict(checked))
    prof.source = source
    return prof


def load_machine(path: str | Path | None = None) -> MachineProfile:
    """Load a machine profile (default: the local CPU profile)."""
    if path is None:
        if not DEFAULT_MACHINE.is_file():
            return validate_machine({}, "<built-in local_cpu>")
        path = DEFAULT_MACHINE
    return validate_machine(read_yaml(path), source=str(path))
