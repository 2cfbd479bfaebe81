"""Reader for the project's HDF5 files and the original study's (keys u, x, t, nu, ax, ay, cx, cy
only; the PDE of a sample is then inferred from which coefficients are non-zero)."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import torch

from pde_lib.data.dataset import Dataset
from pde_lib.data.layout import COEFFICIENT_KEYS, EXTRA_KEYS, PDE_NAMES
from pde_lib.data.subset import SubsetDraw, draw_rows
from pde_lib.data.validate import check_dtype, check_finite_values, layout_version
from pde_lib.data.validate import verify_checksums as verify
from pde_lib.errors import DataError
from pde_lib.utils.provenance import sha256_file


def infer_pde(coeffs: np.ndarray) -> np.ndarray:
    """PDE of each sample from its (n, 5) coefficients: Burgers if cx or cy is non-zero, else
    advection if ax or ay is, else heat."""
    nz = coeffs != 0
    burgers = nz[:, 3] | nz[:, 4]
    advection = ~burgers & (nz[:, 1] | nz[:, 2])
    index = np.full(len(coeffs), PDE_NAMES.index("heat"), dtype=np.int64)
    index[advection] = PDE_NAMES.index("advection")
    index[burgers] = PDE_NAMES.index("burgers")
    return index


def _open(path: Path) -> h5py.File:
    if not path.exists():
        raise DataError(f"data file {path} does not exist")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"data file {path} is not a readable HDF5 file (corrupt or truncated?): {exc}") from exc


def _pick_group(fh: h5py.File, path: Path, group: str | None) -> h5py.Group:
    groups = [k for k in fh.keys() if isinstance(fh[k], h5py.Group)]
    if group is not None:
        if group not in groups:
            raise DataError(f"{path} has no group {group!r}; its groups are {groups}")
        return fh[group]
    if len(groups) == 1:
        return fh[groups[0]]
    if not groups and "u" in fh:  # keys at the root
        return fh
    raise DataError(f"{path} holds groups {groups}; name the one to read (group=...)")


def _read(g: h5py.Group, key: str, path: Path, index=None) -> np.ndarray:
    if key not in g:
        raise DataError(f"{path}: missing key {g.name.strip('/')}/{key}; a data file needs "
                        f"{', '.join(('u', 'x', 't') + COEFFICIENT_KEYS)}")
    try:
        ds = g[key]
        return ds[()] if index is None else ds[index]
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: cannot read {g.name.strip('/')}/{key} (corrupt or truncated?): {exc}") from exc


def load_dataset(path: str | os.PathLike, group: str | None = None,
                 pde: str | list[str] | None = None, n: int | None = None,
                 device="cpu", check_finite: bool = True, verify_checksums: bool = True,
                 draw: SubsetDraw | None = None) -> Dataset:
    """Load a split group of ``path`` as a ``Dataset`` on ``device``.

    ``pde`` keeps only samples of that PDE (or list of PDEs); ``n`` then takes the first n of
    them (a DataError says how many the file holds if it has fewer). ``draw`` (``subset.py``)
    instead takes n per pool from a seeded permutation (``SubsetDraw(seed=None)``: the first n;
    ``per_pde``: n of each PDE); ``Dataset.rows`` records the file rows read, in order. The file
    is checked as it is read (``validate.py``): layout version, shapes, dtypes, finite
    coefficients, grid, times and frames (``check_finite``), then the stored per-dataset checksums
    (``verify_checksums``; the whole of ``u`` is hashed even when only some samples are read).
    Each failure is a one-line DataError naming the file and the dataset."""
    path = Path(path)
    with _open(path) as fh:
        version = layout_version(fh, path)
        g = _pick_group(fh, path, group)
        gname = g.name.strip("/")
        shape = g["u"].shape if "u" in g else None
        if shape is None or len(shape) != 4 or shape[2] != shape[3]:
            if shape is None:
                _read(g, "u", path)
            raise DataError(f"{path}: u has shape {shape}; expected (n_samples, n_t, N, N)")
        n_total, n_t, res, _ = shape
        keys = ["u", "x", "t", *COEFFICIENT_KEYS] + [k for k in EXTRA_KEYS + ("pde", "seed") if k in g]
        raw = {k: _read(g, k, path) for k in keys if k != "u"}  # small: read whole
        for key in keys:
            check_dtype(g[key], path, project_file=version is not None)
        for key in COEFFICIENT_KEYS + EXTRA_KEYS + ("pde", "seed"):
            if key in raw and raw[key].shape != (n_total,):
                raise DataError(f"{path}: {gname}/{key} has shape {raw[key].shape}; expected ({n_total},) "
                                f"(one value per sample of u)")
        if raw["x"].shape != (2, res, res):
            raise DataError(f"{path}: {gname}/x has shape {raw['x'].shape}; expected (2, {res}, {res})")
        if raw["t"].shape != (n_t,):
            raise DataError(f"{path}: {gname}/t has shape {raw['t'].shape}; expected ({n_t},) to match u")
        if check_finite:
            for key in ("x", "t") + COEFFICIENT_KEYS + EXTRA_KEYS:
                if key in raw:
                    check_finite_values(raw[key], path, f"{gname}/{key}")
        coeffs = np.stack([raw[k].astype(np.float32) for k in COEFFICIENT_KEYS], axis=1)
        if "pde" in raw:
            names = [s.decode() if isinstance(s, bytes) else str(s) for s in raw["pde"]]
            unknown = sorted(set(names) - set(PDE_NAMES))
            if unknown:
                raise DataError(f"{path}: unknown PDE names {unknown} in key pde; valid: {list(PDE_NAMES)}")
            pde_index = np.array([PDE_NAMES.index(s) for s in names], dtype=np.int64)
        else:
            pde_index = infer_pde(coeffs)
        seed = raw["seed"].astype(np.int64) if "seed" in raw else np.full(n_total, -1, np.int64)

        keep = np.arange(n_total)
        if pde is not None:
            wanted = [pde] if isinstance(pde, str) else list(pde)
            bad = [p for p in wanted if p not in PDE_NAMES]
            if bad:
                raise DataError(f"unknown PDE {bad[0]!r}; valid PDE names: {', '.join(PDE_NAMES)}")
            keep = keep[np.isin(pde_index, [PDE_NAMES.index(p) for p in wanted])]
        if draw is not None:
            key = "all" if pde is None else pde if isinstance(pde, str) else "+".join(pde)
            dist = fh.attrs.get("distribution", "")
            dist = dist.decode() if isinstance(dist, bytes) else str(dist)
            keep = draw_rows(keep, pde_index[keep], n, draw, key, dist, path)
        elif n is not None:
            if n > len(keep):
                what = f"{pde} samples" if pde is not None else "samples"
                raise DataError(f"{path} holds {len(keep)} {what}; asked for {n}")
            keep = keep[:n]
        whole = len(keep) == n_total and bool((keep == np.arange(n_total)).all())
        if whole or bool((np.diff(keep) > 0).all()):
            u = _read(g, "u", path, index=None if whole else keep)
        elif keep.max() + 1 - keep.min() <= 2 * len(keep):  # a dense draw: one contiguous read, then gather
            lo = int(keep.min())
            u = _read(g, "u", path, index=slice(lo, int(keep.max()) + 1))[keep - lo]
        else:  # HDF5 reads scattered rows in increasing order: read sorted, then put them in draw order
            order = np.argsort(keep, kind="stable")
            u_sorted = _read(g, "u", path, index=keep[order])
            u = np.empty_like(u_sorted)
            u[order] = u_sorted
        if check_finite:
            check_finite_values(u, path, "u", rows=keep)
        if verify_checksums:
            verify(g, path, version, keys, {**raw, **({"u": u} if whole else {})})
    x, t = raw["x"].astype(np.float32), raw["t"].astype(np.float32)
    extra = {k: raw[k][keep].astype(np.float32) for k in EXTRA_KEYS if k in raw}
    return Dataset(
        u=torch.from_numpy(np.ascontiguousarray(u, dtype=np.float32)).to(device),
        x=torch.from_numpy(x).to(device), t=torch.from_numpy(t).to(device),
        coeffs=torch.from_numpy(coeffs[keep]).to(device),
        pde_index=torch.from_numpy(pde_index[keep]).to(device),
        seed=torch.from_numpy(seed[keep]).to(device),
        rows=torch.from_numpy(keep.astype(np.int64)).to(device),
        extra={k: torch.from_numpy(v).to(device) for k, v in extra.items()},
        path=str(path), group=gname, sha256=sha256_file(path),
    )
