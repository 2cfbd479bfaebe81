"""Checkpoints, all written atomically with ``torch.save`` and read back with
``torch.load(weights_only=True)`` (tensors and plain values only: a checkpoint cannot run code).

* Backbone checkpoint (what pretraining hands to fine-tuning):
  ``{"model": name, "config": model.config, "state_dict": ..., **provenance}``.
* Training state (for ``--resume``, ``out/checkpoint.pt``, written by ``engine.driver`` after
  the first and the last epoch and at most every ``CHECKPOINT_INTERVAL_S`` seconds between): model, optimiser, scheduler, RNG states, epoch, best state and history, plus the
  run's config so a resume with different settings is refused; pretraining adds ``modules``
  (its head's state dict). The format is the same for a single and a stacked run, so either
  runner resumes the other's file."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

import torch

from pde_lib.errors import ConfigError, DataError
from pde_lib.utils.atomic import atomic_path
from pde_lib.utils.provenance import git_commit

BACKBONE_KEYS = ("model", "config", "state_dict")
TRAINING_STATE_FORMAT = "pde_lib-training-state-1"


def _save(path: str | os.PathLike, obj: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _load(path: str | os.PathLike, what: str) -> dict:
    """Read a checkpoint with ``torch.load(weights_only=True)``: only tensors and plain values
    (dict, list, tuple, str, int, float, bool, None) are rebuilt, so a crafted file cannot run
    code. Every checkpoint this project writes holds nothing else. A file holding other objects
    is refused with a one-line DataError naming them; nothing of it is executed."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist")
    try:
        with warnings.catch_warnings():  # torch warns about a plain pickle's protocol: one line only
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a corrupt file
        message = str(exc)
        refused = _refused_globals(path) or re.findall(r"Unsupported global: GLOBAL ([\w.]+)", message)
        if refused:
            raise DataError(f"{what} {path} holds Python objects that a safe load refuses "
                            f"({', '.join(refused[:3])}); it was not loaded, since unpickling them could run "
                            "code (pde_lib checkpoints hold only tensors and plain values)") from exc
        if "Weights only load failed" in message:
            detail = _unpickler_detail(message)
        else:
            detail = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
        raise DataError(f"{what} {path} is not a readable torch checkpoint (corrupt or truncated?): "
                        f"{detail}") from exc
    if not isinstance(obj, dict):
        raise DataError(f"{what} {path} holds a {type(obj).__name__}, expected a dict")
    return obj


def _unpickler_detail(message: str) -> str:
    """The reason torch's weights-only unpickler gives (e.g. 'Unsupported operand 149')."""
    tail = message.split("WeightsUnpickler error:", 1)[-1]
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return lines[0] if lines and len(tail) < len(message) else "not a plain torch checkpoint"


def _refused_globals(path: Path) -> list[str]:
    """The globals (functions, classes) a weights-only load would refuse in ``path``, found by
    scanning the pickle's opcodes without running them; [] if the file cannot be scanned."""
    try:
        return list(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    except Exception:  # noqa: BLE001 - not a zip checkpoint, truncated, ...
        return []


# ------------------------------------------------------------------------------ backbones
def save_backbone(path: str | os.PathLike, model: torch.nn.Module, extra: dict[str, Any] | None = None) -> None:
    """Write ``{"model", "config", "state_dict", "git_commit", **extra}`` atomically to ``path``
    (tensors moved to CPU, so the file loads anywhere)."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    obj = {"model": model.name, "config": dict(model.config), "state_dict": state,
           "git_commit": git_commit(), **(extra or {})}
    _save(path, obj)


def _describe_diff(expected: dict, found: dict) -> str:
    keys = sorted(set(expected) | set(found))
    diffs = [f"{k}: expected {expected.get(k, '<absent>')!r}, checkpoint has {found.get(k, '<absent>')!r}"
             for k in keys if expected.get(k, "<absent>") != found.get(k, "<absent>")]
    return "; ".join(diffs)


def load_backbone(path: str | os.PathLike, model: torch.nn.Module | None = None, device="cpu") -> torch.nn.Module:
    """Load a backbone checkpoint. ``model`` None: build it from the stored name and config.
    Otherwise load strictly into ``model``; a checkpoint of another backbone or size raises
    ConfigError naming expected vs found. A missing or corrupt file raises DataError."""
    obj = _load(path, "backbone checkpoint")
    missing = [k for k in BACKBONE_KEYS if k not in obj]
    if missing:
        raise DataError(f"backbone checkpoint {path} lacks key(s) {missing}; expected keys {list(BACKBONE_KEYS)}"
                        + (" (this looks like a training-state checkpoint)" if "format" in obj else ""))
    if model is None:
        from pde_lib.models import build_model

        model = build_model(obj["model"], **obj["config"])
    else:
        if obj["model"] != model.name:
            raise ConfigError(f"backbone checkpoint {path} is a {obj['model']!r} model; expected {model.name!r}")
        diff = _describe_diff(dict(model.config), dict(obj["config"]))
        if diff:
            raise ConfigError(f"backbone checkpoint {path} ({obj['model']}) has another configuration: {diff}")
    try:
        model.load_state_dict(obj["state_dict"], strict=True)
    except RuntimeError as exc:
        raise ConfigError(f"backbone checkpoint {path} does not fit model {model.name!r}: {exc}") from exc
    return model.to(device)


# ------------------------------------------------------------------------------ training state
def rng_state() -> dict[str, Any]:
    """Global RNG states (torch CPU, CUDA if initialised)."""
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_training_state(path: str | os.PathLike, *, config: dict, epoch: int, model: torch.nn.Module,
                        optimizer: torch.optim.Optimizer | dict, scheduler, generators: dict[str, torch.Generator],
                        best: dict[str, Any], history: dict[str, Any],
                        modules: dict[str, torch.nn.Module] | None = None) -> None:
    """Everything needed to continue after ``epoch`` completed epochs exactly as if uninterrupted.
    ``optimizer`` is the optimiser or its ``state_dict``.
    ``best`` holds ``epoch``, ``valid`` and the best ``state_dict``; ``modules`` (name -> module)
    are trained beside the model and stored under ``"modules"`` (absent when there are none)."""
    obj = {
        "format": TRAINING_STATE_FORMAT, "config": config, "epoch": epoch,
        "model": model.name, "model_config": dict(model.config),
        "state_dict": model.state_dict(),
        "optimizer": optimizer if isinstance(optimizer, dict) else optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "generators": {k: g.get_state() for k, g in generators.items()},
        "rng": rng_state(), "best": best, "history": history, "git_commit": git_commit(),
    }
    if modules:
        obj["modules"] = {name: module.state_dict() for name, module in modules.items()}
    _save(path, obj)


def load_training_state(path: str | os.PathLike, config: dict, ignore: tuple[str, ...] = (),
                        defaults: dict | None = None) -> dict:
    """Read a training-state checkpoint and check it belongs to the same run: every config key
    except ``ignore`` must match, else ConfigError listing the differences. ``defaults``: keys
    added to the config after a checkpoint may have been written, with the value it then held."""
    obj = _load(path, "training checkpoint")
    if obj.get("format") != TRAINING_STATE_FORMAT:
        raise DataError(f"training checkpoint {path} has format {obj.get('format')!r}; expected "
                        f"{TRAINING_STATE_FORMAT!r}")
    saved = {**(defaults or {}), **obj["config"]}
    saved = {k: v for k, v in saved.items() if k not in ignore}
    now = {k: v for k, v in config.items() if k not in ignore}
    diff = _describe_diff(now, saved)
    if diff:
        raise ConfigError(f"cannot resume from {path}: it was written by a run with other settings ({diff}); "
                          "use another out folder or drop --resume")
    return obj
