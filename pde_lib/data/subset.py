"""Which samples of a file a run trains on: the one definition of a training subset.

Two settings (``SUBSET_DRAWS``), passed to ``load_dataset`` as a ``SubsetDraw``:

* ``prefix`` (``SubsetDraw(seed=None)``, or no draw at all): the first n samples of the pool, in
  file order. Every seed trains on the same samples.
* ``per_seed`` (``SubsetDraw(seed=s)``): the pool is permuted by a CPU ``torch.Generator``
  seeded from ``stream_seed(s, pde, distribution)`` and the first n of the permutation are taken,
  in permutation order. For one seed a smaller set is therefore a prefix of a larger one (sets
  are nested), every strategy and model with that seed gets the same subset, and each
  (PDE, distribution) pool gets its own independent draw.

The pool is the samples of one PDE (``per_pde=True``: each PDE of the file is drawn separately,
n per PDE, concatenated in ``PDE_NAMES`` order) or, with ``per_pde=False``, all kept samples of
the file (its PDE filter), drawn together under the PDE key of the filter ("all" without one).
``distribution`` is the file's ``distribution`` attribute ("" where the file has none)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from pde_lib.data.layout import PDE_NAMES
from pde_lib.errors import DataError

#: how a run's training subset is drawn from its pool (see the module docstring)
SUBSET_DRAWS = ("prefix", "per_seed")


@dataclass(frozen=True)
class SubsetDraw:
    """A draw of n samples: ``seed`` None is the prefix; ``per_pde`` draws n of each PDE."""

    seed: int | None = None
    per_pde: bool = False


def stream_seed(seed: int, pde: str, distribution: str) -> int:
    """The 63-bit generator seed of the draw of ``seed`` from the (``pde``, ``distribution``)
    pool: SHA-256 of the three, so pools are drawn independently and alike on every machine."""
    digest = hashlib.sha256(f"{seed}:subset:{pde}:{distribution}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def draw_positions(pool: int, n: int, seed: int | None) -> np.ndarray:
    """(n,) int64 positions into a pool of ``pool`` samples: ``arange(n)`` for ``seed`` None,
    else the first n of ``torch.randperm(pool)`` from a generator seeded with ``seed``."""
    if not 0 <= n <= pool:
        raise ValueError(f"cannot draw {n} of {pool} samples")
    if seed is None:
        return np.arange(n, dtype=np.int64)
    perm = torch.randperm(pool, generator=torch.Generator().manual_seed(int(seed)))
    return perm[:n].numpy().astype(np.int64)


def draw_rows(rows: np.ndarray, pde_index: np.ndarray, n: int | None, draw: SubsetDraw, pde_key: str,
              distribution: str, path) -> np.ndarray:
    """File rows of the subset: ``rows`` (k,) the kept rows in file order, ``pde_index`` (k,)
    their PDE labels, ``n`` per pool (None: the whole pool). ``pde_key`` names the pool when
    ``per_pde`` is off. DataError naming ``path`` if a pool holds fewer than n samples."""
    def one(pool_rows: np.ndarray, key: str) -> np.ndarray:
        want = len(pool_rows) if n is None else n
        if want > len(pool_rows):
            raise DataError(f"{path} holds {len(pool_rows)} {key} samples; asked for {want}")
        seed = None if draw.seed is None else stream_seed(draw.seed, key, distribution)
        return pool_rows[draw_positions(len(pool_rows), want, seed)]

    if not draw.per_pde:
        return one(rows, pde_key)
    parts = [one(rows[pde_index == i], name) for i, name in enumerate(PDE_NAMES) if (pde_index == i).any()]
    return np.concatenate(parts) if parts else rows[:0]


def rows_sha256(rows) -> str:
    """SHA-256 of a subset's file rows (int64, in training order): a short provenance record."""
    return hashlib.sha256(np.asarray(rows, dtype=np.int64).tobytes()).hexdigest()
