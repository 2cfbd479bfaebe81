"""Per-dataset checksums of an HDF5 file: the SHA-256 of each dataset's values, stored as the
dataset's ``sha256`` attribute when the file is written and verified when it is read.

The digest covers the values, not the file's bytes (which also hold attributes, chunk indexes and
padding): numbers as little-endian bytes in C order, read in slabs along the first axis (memory
stays bounded); strings as UTF-8, each followed by a zero byte. So a file copied with h5py, or
rewritten with other chunking, keeps its checksums."""

from __future__ import annotations

import hashlib

import h5py
import numpy as np

#: the dataset attribute holding the hex digest
CHECKSUM_ATTR = "sha256"
#: elements hashed per slab when a dataset is streamed from the file (64 MiB of float32)
_SLAB_ELEMENTS = 1 << 24


def _update(digest, values: np.ndarray) -> None:
    if values.dtype.kind in "OSU":  # strings: variable-length (bytes / str objects) or fixed
        for item in values.reshape(-1).tolist():
            digest.update((item if isinstance(item, bytes) else str(item).encode()) + b"\0")
        return
    little = values.dtype.newbyteorder("<")
    digest.update(np.ascontiguousarray(values, dtype=little).tobytes())


def array_checksum(values: np.ndarray) -> str:
    """SHA-256 hex digest of ``values`` (the whole array, as a dataset holding it is hashed)."""
    digest = hashlib.sha256()
    _update(digest, np.asarray(values))
    return digest.hexdigest()


def dataset_checksum(ds: h5py.Dataset) -> str:
    """SHA-256 hex digest of an HDF5 dataset's values, streamed in slabs of the first axis."""
    digest = hashlib.sha256()
    if ds.ndim == 0 or ds.shape[0] == 0:
        _update(digest, ds[()])
        return digest.hexdigest()
    per_row = max(1, int(np.prod(ds.shape[1:])))
    step = max(1, _SLAB_ELEMENTS // per_row)
    for lo in range(0, ds.shape[0], step):
        _update(digest, ds[lo:lo + step])
    return digest.hexdigest()


def write_checksums(group: h5py.Group) -> None:
    """Store every dataset's checksum in ``group`` (call once the group is complete)."""
    for ds in group.values():
        if isinstance(ds, h5py.Dataset):
            ds.attrs[CHECKSUM_ATTR] = dataset_checksum(ds)


def stored_checksum(ds: h5py.Dataset) -> str | None:
    """The checksum stored with ``ds``, or None (files of the original study, or written before
    checksums were stored)."""
    value = ds.attrs.get(CHECKSUM_ATTR)
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def file_values_checksum(path) -> str:
    """SHA-256 of a whole HDF5 file's values: one line ``name sha256`` per dataset, in name order,
    from the stored checksums (computed where a dataset has none). Unlike the file's own SHA-256 it
    does not change when the same values are written again (the file also holds its creation time)."""
    lines = []
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                lines.append(f"{name} {stored_checksum(obj) or dataset_checksum(obj)}\n")
        f.visititems(visit)
    return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()
