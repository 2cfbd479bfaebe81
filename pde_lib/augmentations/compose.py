"""Augmenting a ``Dataset``: the originals are kept unchanged and augmented copies are added.

For each original sample one Bernoulli(``ratio``) draw decides whether it gets a copy; the copy
has every named augmentation applied in order, each only where it is valid for the sample's PDE
(a warning, or a ConfigError with ``strict=True``, names the skipped (augmentation, PDE) pairs;
a sample none of them applies to gets no copy). All random draws happen up front, one
augmentation after another over all copies, so the result does not depend on ``chunk_size``.

``noise`` is input-only: it does not change the trajectory and is applied at training time, so
it is moved to the end of the composition and its std is ``noise_level`` times the std of the
final copy. Every returned Dataset carries ``extra["input_noise"]`` (zeros where no noise)."""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any, Iterable

import torch
from tqdm.auto import tqdm

from pde_lib.augmentations.base import Augmentation
from pde_lib.augmentations.noise import INPUT_NOISE_KEY
from pde_lib.augmentations.registry import AUGMENTATIONS, get_augmentation
from pde_lib.data import PDE_NAMES, Dataset
from pde_lib.errors import ConfigError


def resolve_names(names: str | Iterable[str] | None) -> list[str]:
    """Normalise ``names`` ("shift", "shift,noise", a list, or None / "none" / [] for no
    augmentation) to a checked list with ``noise`` last. ConfigError on unknown or repeated names."""
    if names is None:
        return []
    if isinstance(names, str):
        names = [s.strip() for s in names.split(",") if s.strip()]
    names = [n for n in names if n != "none"]
    for n in names:
        if not isinstance(n, str) or n not in AUGMENTATIONS:
            AUGMENTATIONS.get(str(n))  # raises ConfigError listing the valid names
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"augmentation(s) {repeated} named more than once in {names}")
    return [n for n in names if n != "noise"] + [n for n in names if n == "noise"]


def split_strengths(augs: list[Augmentation], strengths: dict[str, Any]) -> list[dict[str, Any]]:
    """Each augmentation's own keywords from ``strengths``. A keyword of a registered but unnamed
    augmentation is ignored (so a config may always carry every strength); any other is an error."""
    known = {k for n in AUGMENTATIONS for k in AUGMENTATIONS.get(n).parameters}
    unknown = sorted(set(strengths) - known)
    if unknown:
        raise ConfigError(f"unknown augmentation parameter(s) {unknown}; valid: {sorted(known)}")
    out = []
    for aug in augs:
        own = {k: v for k, v in strengths.items() if k in aug.parameters}
        aug.resolve(**own)  # validate values now, before any work
        out.append(own)
    return out


def _check_ratio(ratio: Any) -> float:
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0.0 <= ratio <= 1.0:
        raise ConfigError(f"augmentation ratio must be a number in [0, 1], got {ratio!r}")
    return float(ratio)


def augment_copies(ds: Dataset, names, ratio: float, generator: torch.Generator,
                   strict: bool = False, *, chunk_size: int = 512, progress: bool = False,
                   **strengths) -> tuple[Dataset, torch.Tensor]:
    """Only the augmented copies, and the (K,) index of each copy's original in ``ds``.

    Copies keep their original's seed, PDE label, ``extra`` values (visc / amp) and order;
    coefficient updates (Burgers scale, advection Galilean) land in their ``coeffs``."""
    names = resolve_names(names)
    ratio = _check_ratio(ratio)
    augs = [get_augmentation(n) for n in names]
    own = split_strengths(augs, strengths)
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be >= 1, got {chunk_size!r}")
    device = ds.u.device
    b = len(ds)

    present = {PDE_NAMES[i] for i in torch.unique(ds.pde_index).tolist()}
    for aug in augs:
        skipped = sorted(present - aug.valid_pdes)
        if not skipped:
            continue
        msg = (f"augmentation {aug.name!r} is not a symmetry of {', '.join(skipped)} (valid for "
               f"{', '.join(sorted(aug.valid_pdes))}); copies of those samples skip it")
        if strict:
            raise ConfigError(msg + " -- strict=True forbids this")
        warnings.warn(msg, UserWarning, stacklevel=3)

    draw = torch.rand(b, generator=generator, device=generator.device, dtype=torch.float64)
    chosen = torch.nonzero((draw < ratio).to(device)).flatten()
    pde_index = ds.pde_index[chosen]
    masks = [aug.valid_mask(pde_index) for aug in augs]
    if masks:
        keep = torch.stack(masks).any(dim=0)
        chosen, pde_index = chosen[keep], pde_index[keep]
        masks = [m[keep] for m in masks]
    else:
        chosen = chosen[:0]
    k = chosen.numel()

    # every random draw up front, in a fixed order (chunk-size independent)
    params = [aug.sample(pde_index[m], generator, **kw) for aug, m, kw in zip(augs, masks, own)]
    rows = [torch.cumsum(m.long(), 0) - 1 for m in masks]  # copy position -> row of params

    u_out = torch.empty((k, *ds.u.shape[1:]), dtype=ds.u.dtype, device=device)
    c_out = ds.coeffs[chosen].clone()
    noise_out = torch.zeros(k, dtype=torch.float32, device=device)
    for lo in tqdm(range(0, k, chunk_size), desc="augment", unit="chunk", disable=not progress):
        hi = min(lo + chunk_size, k)
        u = ds.u[chosen[lo:hi]]  # advanced indexing copies
        co = c_out[lo:hi]
        pi = pde_index[lo:hi]
        for aug, m_all, r_all, p in zip(augs, masks, rows, params):
            m = m_all[lo:hi]
            if not bool(m.any()):
                continue
            sub = {key: v[r_all[lo:hi][m]] for key, v in p.items()}
            u_m, co_m, extra = aug.transform(u[m], co[m], pi[m], ds.t, sub)
            u[m], co[m] = u_m, co_m
            if INPUT_NOISE_KEY in extra:
                noise_out[lo:hi][m] = extra[INPUT_NOISE_KEY].to(torch.float32)
        u_out[lo:hi] = u
    extra = {key: v[chosen] for key, v in ds.extra.items() if key != INPUT_NOISE_KEY}
    extra[INPUT_NOISE_KEY] = noise_out
    copies = replace(ds, u=u_out, coeffs=c_out, pde_index=pde_index, seed=ds.seed[chosen],
                     extra=extra)
    return copies, chosen


def with_input_noise(ds: Dataset) -> Dataset:
    """``ds`` with ``extra["input_noise"]`` present (zeros if it had none)."""
    if INPUT_NOISE_KEY in ds.extra:
        return ds
    zeros = torch.zeros(len(ds), dtype=torch.float32, device=ds.u.device)
    return replace(ds, extra={**ds.extra, INPUT_NOISE_KEY: zeros})


def concat(a: Dataset, b: Dataset) -> Dataset:
    """Samples of ``a`` then ``b`` (same grid, times and extra keys); provenance of ``a``."""
    if a.u.shape[1:] != b.u.shape[1:]:
        raise ConfigError(f"cannot concatenate trajectories {tuple(a.u.shape[1:])} and "
                          f"{tuple(b.u.shape[1:])}")
    if set(a.extra) != set(b.extra):
        raise ConfigError(f"cannot concatenate datasets with extra keys {sorted(a.extra)} and "
                          f"{sorted(b.extra)}")
    return replace(a, u=torch.cat([a.u, b.u]), coeffs=torch.cat([a.coeffs, b.coeffs]),
                   pde_index=torch.cat([a.pde_index, b.pde_index]), seed=torch.cat([a.seed, b.seed]),
                   extra={k: torch.cat([a.extra[k], b.extra[k]]) for k in a.extra},
                   rows=None if a.rows is None or b.rows is None else torch.cat([a.rows, b.rows]))


def augment_dataset(ds: Dataset, names, ratio: float, generator: torch.Generator,
                    strict: bool = False, *, chunk_size: int = 512, progress: bool = False,
                    **strengths) -> Dataset:
    """The originals of ``ds`` (unchanged, first, in order) followed by their augmented copies.

    ``names``: augmentation names applied in order (``noise`` last); ``ratio``: probability that
    an original gets a copy; ``generator``: the seeded torch.Generator of every draw;
    ``strengths``: ``noise_level``, ``max_shift``, ``subgrid``, ``max_scale``, ``max_velocity``.
    The result has ``extra["input_noise"]`` for every sample (zero for originals)."""
    copies, _ = augment_copies(ds, names, ratio, generator, strict, chunk_size=chunk_size,
                               progress=progress, **strengths)
    return concat(with_input_noise(ds), copies)
