"""Checks a data file passes when it is read (``reader.load_dataset``); each failure is a one-line
``DataError`` naming the file, the dataset and what was expected.

* the layout version (file attribute ``generator_version``): one this reader knows, or none
  (the original study's files);
* dtypes: as the layout says (float32 arrays, int64 seeds, string PDE names) in files this
  project wrote; any floating-point dtype for the arrays of the original study's files;
* finite values: every coefficient, the grid, the times and every frame read;
* checksums (``checksum.py``): every dataset read that carries one must match it; layout
  version 2 requires them. Checked last, so a NaN or a wrong shape gets its own message and
  the checksum catches what those checks cannot see (say zeroed bytes inside ``u``)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from pde_lib.data.checksum import array_checksum, dataset_checksum, stored_checksum
from pde_lib.data.layout import CHECKSUMMED_VERSIONS, READABLE_VERSIONS
from pde_lib.errors import DataError

#: dtype each dataset has in this project's layout
LAYOUT_DTYPES = {"u": "float32", "x": "float32", "t": "float32", "seed": "int64", "pde": "string"}
FLOAT_KEYS = ("nu", "ax", "ay", "cx", "cy", "visc", "amp")


def _name(ds: h5py.Dataset) -> str:
    return ds.name.strip("/")


def layout_version(fh: h5py.File, path: Path) -> str | None:
    """The file's layout version (None for the original study's files, which carry none);
    DataError for a version this reader does not know."""
    value = fh.attrs.get("generator_version")
    if value is None:
        return None
    version = value.decode() if isinstance(value, bytes) else str(value)
    if version not in READABLE_VERSIONS:
        raise DataError(f"{path}: layout version {version!r} is not one this pde_lib reads "
                        f"({', '.join(READABLE_VERSIONS)}); regenerate the file or update pde_lib")
    return version


def check_dtype(ds: h5py.Dataset, path: Path, project_file: bool) -> None:
    """DataError unless ``ds`` holds the dtype the layout gives its key (float32 for coefficients);
    original-study files (``project_file`` False) may hold any floating-point arrays."""
    key = ds.name.rsplit("/", 1)[-1]
    expected = LAYOUT_DTYPES.get(key, "float32" if key in FLOAT_KEYS else None)
    if expected is None:
        return
    kind = ds.dtype.kind
    if expected == "string":
        ok = kind in "OSU" or h5py.check_string_dtype(ds.dtype) is not None
    elif expected == "int64":
        ok = ds.dtype == np.int64 if project_file else kind in "iu"
    else:
        ok = ds.dtype == np.float32 if project_file else kind == "f"
    if not ok:
        what = expected if project_file or expected == "string" else (
            "integers" if expected == "int64" else "floating-point values")
        raise DataError(f"{path}: {_name(ds)} has dtype {ds.dtype}; the layout stores {what}")


def check_finite_values(values: np.ndarray, path: Path, name: str, rows: np.ndarray | None = None) -> None:
    """DataError naming the first sample (row) of ``values`` holding NaN or an infinity.
    ``rows``: the file's sample index of each row (when only some samples were read)."""
    finite = np.isfinite(values)
    if finite.all():
        return
    if values.ndim == 0:
        raise DataError(f"{path}: {name} is {values.item()}; expected a finite number")
    per_row = finite.reshape(len(values), -1).all(axis=1)
    i = int(np.argmin(per_row))
    sample = int(rows[i]) if rows is not None else i
    if values.ndim == 1:
        raise DataError(f"{path}: {name} of sample {sample} is {values[i]}; expected a finite number")
    if name.endswith("/u") or name == "u":
        frame = int(np.argmin(finite[i].reshape(finite.shape[1], -1).all(axis=1)))
        raise DataError(f"{path}: u of sample {sample} contains NaN or infinite values (first in frame {frame})")
    raise DataError(f"{path}: {name} contains NaN or infinite values (at index {i} of its first axis)")


def verify_checksums(group: h5py.Group, path: Path, version: str | None, keys, read: dict) -> None:
    """Check every dataset named in ``keys`` against its stored checksum. ``read`` maps a key to
    its whole array when the reader already holds it (else the dataset is streamed from the file).
    Layout versions in ``CHECKSUMMED_VERSIONS`` must carry a checksum on each of them."""
    for key in keys:
        ds = group[key]
        stored = stored_checksum(ds)
        if stored is None:
            if version in CHECKSUMMED_VERSIONS:
                raise DataError(f"{path}: dataset {_name(ds)} has no stored checksum, which layout "
                                f"{version} requires; regenerate the file")
            continue
        actual = array_checksum(read[key]) if key in read else dataset_checksum(ds)
        if actual != stored:
            raise DataError(f"{path}: dataset {_name(ds)} does not match its stored SHA-256 checksum "
                            "(the file is corrupt or was changed after it was written); regenerate it")
