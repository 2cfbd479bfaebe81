"""``python -m pde_lib augment``: write the augmented copies (not the originals) of a dataset file
in the same HDF5 layout, atomically, with their updated coefficients.

Example: ``python -m pde_lib augment --in train.h5 --out train_gal.h5 --augmentation galilean
--seed 0``. Each copy keeps its original's seed and PDE; ``source_index`` records which sample of
the input it came from, and the file attribute ``augmentation`` the full settings. ``noise`` is
input-only (applied at training time) and cannot be written to a file."""

from __future__ import annotations

import json
import os
import sys
import warnings

import h5py
import numpy as np
import torch

from pde_lib.augmentations import augment_copies, resolve_names
from pde_lib.cli.checks import add_overwrite_argument, check_device, check_output_file
from pde_lib.data import PDE_NAMES, load_dataset
from pde_lib.data.writer import open_for_writing
from pde_lib.errors import ConfigError
from pde_lib.data import COEFFICIENT_KEYS, EXTRA_KEYS
from pde_lib.utils.provenance import git_commit

#: command-line option -> augmentation strength keyword
STRENGTH_OPTIONS = ("max_shift", "max_scale", "max_velocity", "burgers_refine")


def add_arguments(p) -> None:
    p.add_argument("--in", dest="inp", required=True, help="input .h5 data file")
    p.add_argument("--out", required=True, help="output .h5 file (written atomically; never the input)")
    add_overwrite_argument(p)
    p.add_argument("--augmentation", required=True,
                   help="name, or comma-separated names applied in order: shift, scale, galilean")
    p.add_argument("--seed", type=int, default=0, help="seed of the torch.Generator of every draw")
    p.add_argument("--ratio", type=float, default=1.0,
                   help="probability that a sample gets a copy (default 1: every valid sample)")
    p.add_argument("--group", default=None, help="split group to read if the file holds several")
    p.add_argument("--max-shift", type=float, default=None, help="shift: max |s| per axis (domain units)")
    p.add_argument("--subgrid", action="store_true",
                   help="shift: sub-grid amounts for Burgers / Navier-Stokes too (default whole cells)")
    p.add_argument("--max-scale", type=float, default=None, help="scale: lambda = exp(U(-m, m))")
    p.add_argument("--max-velocity", type=float, default=None, help="galilean: max |velocity|")
    p.add_argument("--burgers-refine", type=int, default=None,
                   help="galilean: re-solve Burgers copies on a k-times finer grid (4: ID, 8: OOD) "
                        "instead of Fourier-shifting the stored frames (default 0)")
    p.add_argument("--strict", action="store_true",
                   help="fail if an augmentation is invalid for a PDE in the file (default: warn, skip)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--chunk-size", type=int, default=512, help="trajectories transformed at once")
    p.add_argument("--no-progress", action="store_true")


def _source_attrs(path: str) -> dict:
    """The input file's attributes (minus those the writer sets), as plain Python values."""
    out = {}
    with h5py.File(path, "r") as fh:
        for key, value in fh.attrs.items():
            if key in ("created", "generator_version"):
                continue
            if isinstance(value, bytes):
                value = value.decode()
            elif isinstance(value, np.generic):
                value = value.item()
            elif isinstance(value, np.ndarray):
                value = value.tolist()
            out[key] = value
    return out


def _check_arguments(args) -> None:
    """Ranges, device, input file and output path, before any file is read."""
    if args.chunk_size < 1:
        raise ConfigError(f"--chunk-size must be >= 1, got {args.chunk_size}")
    if not 0 < args.ratio <= 1:
        raise ConfigError(f"--ratio must be in (0, 1], got {args.ratio}")
    if args.burgers_refine is not None and args.burgers_refine < 0:
        raise ConfigError(f"--burgers-refine must be >= 0, got {args.burgers_refine}")
    check_device(args.device)
    if not os.path.isfile(args.inp):
        raise ConfigError(f"--in {args.inp} does not exist (or is not a file); expected an .h5 data file")
    check_output_file(args.out, inputs=[("--in", args.inp)], overwrite=args.overwrite)


def run(args) -> int:
    names = resolve_names(args.augmentation)
    if not names:
        raise ConfigError("--augmentation must name at least one augmentation")
    if "noise" in names:
        raise ConfigError("augmentation 'noise' is input-only: it is applied to input frames at "
                          "training time (augment_dataset / add_input_noise) and cannot be written "
                          "to a file; name shift, scale or galilean")
    _check_arguments(args)
    strengths = {k: getattr(args, k) for k in STRENGTH_OPTIONS if getattr(args, k) is not None}
    if args.subgrid:
        strengths["subgrid"] = True
    if "shift" not in names:
        strengths.pop("subgrid", None)
    if "galilean" not in names:
        strengths.pop("burgers_refine", None)
    ds = load_dataset(args.inp, group=args.group, device=args.device)
    generator = torch.Generator(device=args.device).manual_seed(args.seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        copies, source = augment_copies(ds, names, args.ratio, generator, strict=args.strict,
                                        chunk_size=args.chunk_size, progress=not args.no_progress,
                                        **strengths)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if len(copies) == 0:
        raise ConfigError(f"no augmented copies of {args.inp} (ratio {args.ratio}, augmentations "
                          f"{names} valid for none of its PDEs {sorted(set(ds.pde))}); nothing written")
    extra_keys = tuple(k for k in EXTRA_KEYS if k in ds.extra)
    attrs = _source_attrs(args.inp)
    settings = {"names": names, "ratio": args.ratio, "seed": args.seed, "strengths": strengths,
                "strict": args.strict, "source_file": str(args.inp), "source_group": ds.group,
                "source_sha256": ds.sha256, "git_commit": git_commit()}
    attrs["augmentation"] = json.dumps(settings)
    n_t, res = ds.u.shape[1], ds.u.shape[-1]
    k = len(copies)
    coeffs = {key: copies.coeffs[:, i] for i, key in enumerate(COEFFICIENT_KEYS)}
    coeffs.update({key: copies.extra[key] for key in extra_keys})
    pde_index = copies.pde_index.cpu()
    seeds = copies.seed.cpu().numpy()
    with open_for_writing(args.out, ds.group or "train", k, n_t, res, ds.x, ds.t, attrs,
                          extra_keys) as writer:
        # the writer takes one PDE name per call: write runs of consecutive same-PDE copies
        start = 0
        while start < k:
            end = start
            while end < k and pde_index[end] == pde_index[start]:
                end += 1
            sl = slice(start, end)
            writer.write(start, copies.u[sl], {key: v[sl] for key, v in coeffs.items()},
                         PDE_NAMES[int(pde_index[start])], seeds[sl])
            start = end
        writer.group.create_dataset("source_index", data=source.cpu().numpy().astype(np.int64))
    print(_summary(args.out, ds, copies, names, strengths))
    return 0


def _summary(out, ds, copies, names, strengths) -> str:
    lines = [f"wrote {out}: {len(copies)} augmented copies of {len(ds)} samples "
             f"(augmentations {', '.join(names)}; {strengths or 'default strengths'})"]
    for i in torch.unique(copies.pde_index).tolist():
        m = copies.pde_index == i
        lines.append(f"  {PDE_NAMES[i]}: {int(m.sum())} of {int((ds.pde_index == i).sum())} samples")
    skipped = sorted({PDE_NAMES[i] for i in torch.unique(ds.pde_index).tolist()}
                     - {PDE_NAMES[i] for i in torch.unique(copies.pde_index).tolist()})
    if skipped:
        lines.append(f"  no copies of: {', '.join(skipped)} (no named augmentation is valid there)")
    if len(copies):
        lines.append(f"  u min {float(copies.u.min()):.4f}, max {float(copies.u.max()):.4f}")
    return "\n".join(lines)
