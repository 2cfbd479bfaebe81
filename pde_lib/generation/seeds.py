"""Disjoint per-sample seed ranges for every (dataset seed, split, distribution, PDE).

seed = block * BLOCK + i, with block = ((dataset_seed * 4 + split) * 2 + distribution) * 8 + pde,
so no two (split, PDE, distribution) combinations share a seed while i < BLOCK."""

from __future__ import annotations

import numpy as np

from pde_lib.data.layout import DISTRIBUTIONS, SPLITS
from pde_lib.errors import ConfigError
from pde_lib.pdes.registry import PDES

BLOCK = 10_000_000
_PDE_SLOTS = 8


def sample_seeds(dataset_seed: int, split: str, distribution: str, pde: str, n: int,
                 start: int = 0) -> np.ndarray:
    """The seeds of samples start..start+n-1 of one (split, distribution, PDE) block."""
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
    if distribution not in DISTRIBUTIONS:
        raise ConfigError(f"unknown distribution {distribution!r}; valid: {', '.join(DISTRIBUTIONS)}")
    names = PDES.names()
    if pde not in names:
        raise ConfigError(f"unknown PDE {pde!r}; valid PDE names: {', '.join(names)}")
    if dataset_seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {dataset_seed}")
    if start + n > BLOCK:
        raise ConfigError(f"at most {BLOCK} samples per (split, distribution, PDE), asked {start + n}")
    block = ((dataset_seed * len(SPLITS) + SPLITS.index(split)) * len(DISTRIBUTIONS)
             + DISTRIBUTIONS.index(distribution)) * _PDE_SLOTS + PDES.get(pde).seed_slot
    return block * BLOCK + np.arange(start, start + n, dtype=np.int64)
