"""Per-backbone run settings of a study: the ``optim.models`` section (a backbone's own optimiser
settings and step budget) and ``run_settings``, which resolves them over the shared ``optim``,
``pretrain`` and ``finetune`` values for a backbone's pretraining and fine-tunes."""

from __future__ import annotations

from typing import Any

from pde_lib.params.schema import Float, Int, Optional, SchemaError, Section, did_you_mean, join

#: the run settings a backbone may set for itself in ``optim.models`` (None: the shared value):
#: optimiser keys of ``optim`` and the step budget (epochs, batch size) of each stage
MODEL_OPTIM_KEYS = ("lr", "weight_decay", "lr_min", "warmup_steps", "clip_grad_norm",
                    "pretrain_epochs", "pretrain_batch_size", "finetune_epochs", "finetune_batch_size")
#: optim keys added after the first studies: left out of a frozen params.yaml at these values
OPTIM_LATER_DEFAULTS = {"warmup_steps": 0, "clip_grad_norm": None, "models": {}}

MODEL_OPTIM = Section({
    "lr": (Optional(Float(min=0, exclusive_min=True)), None),
    "weight_decay": (Optional(Float(min=0)), None),
    "lr_min": (Optional(Float(min=0)), None),
    "warmup_steps": (Optional(Int(min=0)), None),
    "clip_grad_norm": (Optional(Float(min=0, exclusive_min=True)), None),
    "pretrain_epochs": (Optional(Int(min=1)), None),
    "pretrain_batch_size": (Optional(Int(min=1)), None),
    "finetune_epochs": (Optional(Int(min=1)), None),
    "finetune_batch_size": (Optional(Int(min=1)), None),
})


def run_settings(p, label: str, stage: str) -> dict[str, Any]:
    """The optimiser settings and step budget of backbone ``label`` (a key of ``grid.models``) in
    ``stage`` ("pretrain" or "finetune"): ``epochs``, ``batch_size``, ``lr``, ``weight_decay``,
    ``lr_min``, ``warmup_steps``, ``clip_grad_norm``; ``optim.models[label]`` overrides the shared
    ``optim`` and ``<stage>`` values key by key. Pretraining and fine-tuning share the optimiser keys."""
    if stage not in ("pretrain", "finetune"):
        raise ValueError(f"stage must be 'pretrain' or 'finetune', got {stage!r}")
    o = p["optim"]
    own = (o.get("models") or {}).get(label) or {}
    out = {"epochs": p[stage]["epochs"], "batch_size": p[stage]["batch_size"]}
    out.update({k: o.get(k, OPTIM_LATER_DEFAULTS.get(k)) for k in
                ("lr", "weight_decay", "lr_min", "warmup_steps", "clip_grad_norm")})
    for key in ("epochs", "batch_size"):
        if own.get(f"{stage}_{key}") is not None:
            out[key] = own[f"{stage}_{key}"]
    out.update({k: own[k] for k in ("lr", "weight_decay", "lr_min", "warmup_steps", "clip_grad_norm")
                if own.get(k) is not None})
    return out


def _sample_counts(p: dict, label: str) -> list[int]:
    """The fine-tuning sample counts backbone ``label`` runs (over the sub-grids naming it)."""
    subs = p["grid"]["subgrids"]
    if not subs:
        return sorted(p["finetune"]["samples"])
    return sorted({n for sub in subs if label in sub["models"] for n in sub["finetune"]["samples"]}) or [1]


def check_model_optim(p: dict) -> None:
    """``optim.models`` names backbones of ``grid.models``; each backbone's lr_min <= lr and its
    fine-tuning warm-up shorter than its smallest fine-tune's step count."""
    for label in p["optim"]["models"]:
        if label not in p["grid"]["models"]:
            raise SchemaError(join("optim.models", label),
                              f"unknown model label {label!r}{did_you_mean(label, p['grid']['models'])}; "
                              f"optim.models names models defined in grid.models: {', '.join(p['grid']['models'])}")
    for label in p["grid"]["models"]:
        where = join("optim.models", label) if label in p["optim"]["models"] else "optim"
        s = run_settings(p, label, "finetune")
        if s["lr_min"] > s["lr"]:
            raise SchemaError(join(where, "lr_min"), f"lr_min={s['lr_min']} must not exceed lr={s['lr']}")
        fewest = min(_sample_counts(p, label))
        steps = s["epochs"] * -(-fewest // s["batch_size"])
        if s["warmup_steps"] >= steps and s["warmup_steps"]:
            raise SchemaError(join(where, "warmup_steps"),
                              f"warmup_steps={s['warmup_steps']} must be smaller than the {steps} optimiser steps "
                              f"of {label}'s smallest fine-tune ({s['epochs']} epochs x {-(-fewest // s['batch_size'])} "
                              f"batches of {s['batch_size']} from {fewest} samples)")
