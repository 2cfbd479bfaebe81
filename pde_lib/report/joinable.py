"""Which sweep folders may be joined into one results table: only runs that train alike.

A joined table treats its rows as more seeds of one experiment, so two folders may be joined
only if every setting that changes how a fine-tune is made is equal: the pretraining, the
optimiser, the fine-tune settings (epochs, batch, window, target frame, augmentation ratio,
conditioning), the data sizes and seed, and the configuration of every backbone both ran.
Settings that only choose *which* fine-tunes run (seeds, strategies, sample counts, PDEs,
distributions, sub-grids) may differ. A folder without a frozen ``params.yaml`` (a bare CSV)
is not checked."""

from __future__ import annotations

from pathlib import Path

import yaml

from pde_lib.errors import DataError
from pde_lib.report.folders import sweep_folder

#: fine-tune keys that choose which fine-tunes run, not how one is trained
FINETUNE_SELECTION = {"samples", "pdes", "distributions", "navier_stokes", "tasks", "resume"}
#: data keys that fix the bytes a fine-tune reads (sizes and seed; which files exist may differ)
#: and which of them it trains on (``subset_draw``, ``pretrain_pool``: absent means prefix, no pool)
DATA_SETTINGS = ("seed", "resolution", "pretrain_samples", "samples", "subset_draw", "pretrain_pool")


def frozen_params(folder: str | Path) -> dict | None:
    """A sweep folder's frozen ``params.yaml`` as a plain dict (None for a CSV path or a folder
    without one)."""
    path = sweep_folder(folder) / "params.yaml"
    return yaml.safe_load(path.read_text()) if path.exists() else None


def training_settings(params: dict) -> dict[str, object]:
    """The settings of ``params`` (a frozen params.yaml) that change how a fine-tune is made,
    flattened to dotted keys; backbone configurations as ``models.NAME``."""
    out: dict[str, object] = {}
    for section in ("pretrain", "optim"):
        for k, v in (params.get(section) or {}).items():
            out[f"{section}.{k}"] = v
    for k, v in (params.get("finetune") or {}).items():
        if k not in FINETUNE_SELECTION:
            out[f"finetune.{k}"] = v
    data = params.get("data") or {}
    for k in DATA_SETTINGS:
        out[f"data.{k}"] = data.get(k)
    for name, cfg in ((params.get("grid") or {}).get("models") or {}).items():
        out[f"models.{name}"] = cfg
    return out


def check_joinable(folders) -> None:
    """DataError naming both folders and the first differing setting if two of ``folders`` were
    trained differently (``training_settings``); backbones only one of them ran are not
    compared."""
    known = [(str(f), training_settings(p)) for f in folders if (p := frozen_params(f)) is not None]
    if not known:
        return
    first, ref = known[0]
    for other, settings in known[1:]:
        for key in sorted(set(ref) | set(settings)):
            if key.startswith("models.") and (key not in ref or key not in settings):
                continue
            if ref.get(key) != settings.get(key):
                raise DataError(
                    f"{other} cannot be joined to {first}: {key} is {settings.get(key)!r} there and "
                    f"{ref.get(key)!r} here; a joined table stacks seeds of one experiment, so only "
                    "seeds, strategies, sample counts, PDEs and distributions may differ")
