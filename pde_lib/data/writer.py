"""Streaming, atomic HDF5 writer for the layout of ``pde_lib.data.layout``.

Datasets are created at full size and filled chunk by chunk, so memory stays bounded by one
chunk; the file is written under a temporary name and renamed into place only when complete.
When the group is complete every dataset gets its SHA-256 checksum (``checksum.py``), which the
reader verifies."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import h5py
import numpy as np
import torch

from pde_lib.data.checksum import write_checksums
from pde_lib.data.layout import GENERATOR_VERSION
from pde_lib.errors import DataError
from pde_lib.data.layout import COEFFICIENT_KEYS
from pde_lib.utils.atomic import atomic_path


class SplitWriter:
    """Fills one split group; ``write(offset, u, coeffs, pde_names, seeds)`` per chunk."""

    def __init__(self, group: h5py.Group, n: int, n_t: int, res: int, extra_keys: tuple[str, ...]):
        self.group = group
        chunk = (1, n_t, res, res)
        group.create_dataset("u", shape=(n, n_t, res, res), dtype="f4", chunks=chunk)
        for key in COEFFICIENT_KEYS + extra_keys:
            group.create_dataset(key, shape=(n,), dtype="f4")
        group.create_dataset("pde", shape=(n,), dtype=h5py.string_dtype())
        group.create_dataset("seed", shape=(n,), dtype="i8")

    def set_attr(self, key: str, value) -> None:
        """Set a file attribute (JSON for anything but str / int / float)."""
        attrs = self.group.file.attrs
        attrs[key] = value if isinstance(value, (str, int, float)) else json.dumps(value)

    def write(self, offset: int, u: torch.Tensor, coeffs: dict[str, torch.Tensor], pde: str,
              seeds: np.ndarray) -> None:
        k = u.shape[0]
        self.group["u"][offset:offset + k] = u.detach().cpu().numpy().astype(np.float32)
        for key, value in coeffs.items():
            if key in self.group:
                self.group[key][offset:offset + k] = value.detach().cpu().numpy().astype(np.float32)
        self.group["pde"][offset:offset + k] = [pde] * k
        self.group["seed"][offset:offset + k] = seeds


@contextlib.contextmanager
def open_for_writing(path: str | os.PathLike, split: str, n: int, n_t: int, res: int,
                     x: torch.Tensor, t: torch.Tensor, attrs: dict,
                     extra_keys: tuple[str, ...] = ()) -> Iterator[SplitWriter]:
    """Create ``path`` atomically with one split group of ``n`` samples; yield its writer. On a
    normal exit every dataset of the group (including any the caller added) gets its checksum."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"output path {path} is a directory; expected an .h5 file path")
    with atomic_path(path) as tmp:
        try:
            fh = h5py.File(tmp, "w")
        except OSError as exc:
            raise DataError(f"cannot write {path}: {exc}") from exc
        with fh:
            fh.attrs["generator_version"] = GENERATOR_VERSION
            fh.attrs["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            for key, value in attrs.items():
                fh.attrs[key] = value if isinstance(value, (str, int, float)) else json.dumps(value)
            group = fh.create_group(split)
            group.create_dataset("x", data=x.cpu().numpy().astype(np.float32))
            group.create_dataset("t", data=t.cpu().numpy().astype(np.float32))
            yield SplitWriter(group, n, n_t, res, extra_keys)
            write_checksums(group)  # only once every chunk is written (not on an error path)
