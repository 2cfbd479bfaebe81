"""Seeds of a run: every random stream is derived from the run seed alone, so batch order, data
subsets, augmentation and noise are the same whatever the model or strategy.

* ``derived_seed(seed, stream)``: a 63-bit seed for one named stream ("data", "noise",
  "augmentation", "pretext", ...).
* ``build_run_model(config)``: the backbone, its weights initialised by seeding the global torch
  RNG with ``config.seed`` just before the model is built (on CPU, so the initialisation is the
  same on every device). Pretraining and fine-tuning from scratch therefore start from the same
  weights for the same seed."""

from __future__ import annotations

import hashlib

import torch


def derived_seed(seed: int, stream: str) -> int:
    """A 63-bit seed for one named random stream of a run (data order, augmentation, noise), so
    the streams are independent and each is the same whatever the model or strategy."""
    digest = hashlib.sha256(f"{seed}:{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def build_run_model(config) -> torch.nn.Module:
    """The backbone for ``config`` (an ``EngineConfig``: ``model``, ``window``,
    ``condition_on_coeffs``, ``model_kwargs``), its weights initialised from ``config.seed``.
    ConfigError listing the valid names if ``config.model`` is unknown."""
    from pde_lib.models import MODELS, build_model

    MODELS.get(config.model)  # ConfigError listing the valid names
    torch.manual_seed(config.seed)
    return build_model(config.model, in_frames=config.window, coeff_dim=5,
                       condition_on_coeffs=config.condition_on_coeffs, **config.model_kwargs)
