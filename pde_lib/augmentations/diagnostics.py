"""Checks and pictures of augmented data: PDE residuals, re-solves, tables and side-by-side plots.

Used by the tests and by ``notebooks/augmentations.py`` (which holds no logic of its own).

- ``pde_residual(ds)``: (B,) relative spectral residual of each trajectory under its own PDE and
  coefficients (``PDE.residual``: 4th-order time difference, spectral space derivatives).
- ``resolve_error(ds, frame)``: (B,) relative L2 between frame ``frame`` and a fresh solve from
  frame 0 with the sample's coefficients (heat / advection: exact on the stored grid; Burgers:
  frame 0 spectrally upsampled 4x and solved there; Navier-Stokes: NaN, not re-solved).
- ``residual_table`` / ``plot_side_by_side`` / ``demo_pairs``: what the notebook shows."""

from __future__ import annotations

from dataclasses import replace

import torch

from pde_lib.augmentations.compose import augment_copies
from pde_lib.augmentations.registry import get_augmentation
from pde_lib.data import PDE_NAMES, Dataset
from pde_lib.pdes import SolverSettings, get_pde
from pde_lib.pdes.spectral import rfft2, spectral_upsample, time_derivative


def _by_pde(ds: Dataset):
    for i in torch.unique(ds.pde_index).tolist():
        mask = ds.pde_index == i
        yield PDE_NAMES[i], mask, ds.select(mask)


def _coeffs64(ds: Dataset) -> dict[str, torch.Tensor]:
    return {k: v.to(torch.float64) for k, v in ds.coefficient_dict().items()}


def pde_residual(ds: Dataset, band: float | None = None) -> torch.Tensor:
    """(B,) float64 relative residual ||u_t - F(u)|| / ||u_t|| of each sample under its PDE.

    ``band=None``: ``PDE.residual`` over all modes. ``band=f``: both norms over the Fourier modes
    |m_x|, |m_y| < f N only (f = 1/3: the modes a 2/3-dealiased solver resolves). Stored Burgers
    frames carry aliased content near the grid's Nyquist mode that no sub-grid shift can move
    correctly; the resolved band shows whether the PDE itself still holds."""
    out = torch.empty(len(ds), dtype=torch.float64, device=ds.u.device)
    dt = float(ds.t[1] - ds.t[0])
    for name, mask, sub in _by_pde(ds):
        pde, u, co = get_pde(name), sub.u.to(torch.float64), _coeffs64(sub)
        if band is None:
            out[mask] = pde.residual(u, co, dt)
            continue
        ut = time_derivative(u, dt)
        n = u.shape[-1]
        keep = ((torch.fft.fftfreq(n, 1.0 / n, device=u.device).abs()[:, None] < band * n)
                & (torch.fft.rfftfreq(n, 1.0 / n, device=u.device)[None, :] < band * n))

        def norm(z):
            zh = rfft2(z) * keep
            return zh.abs().pow(2).flatten(1).sum(dim=1).sqrt()

        out[mask] = norm(ut - pde.rhs(u[:, 2:-2], co)) / norm(ut).clamp_min(1e-300)
    return out


#: how each PDE is re-solved from a stored frame: compute-grid factor and settings
RESOLVE_SETTINGS = {
    "heat": SolverSettings(refine=1),
    "advection": SolverSettings(refine=1),
    "burgers": SolverSettings(refine=4, cfl=0.5, dtype="float64"),
}


def resolve(ds: Dataset, start: int = 0) -> torch.Tensor:
    """Trajectories re-solved from frame ``start`` with each sample's coefficients,
    (B, T - start, N, N) float64 (NaN for PDEs without a re-solve, i.e. Navier-Stokes)."""
    n_t, n = ds.u.shape[1], ds.u.shape[-1]
    out = torch.full((len(ds), n_t - start, n, n), float("nan"), dtype=torch.float64,
                     device=ds.u.device)
    times = (ds.t[start:] - ds.t[start]).to(torch.float64)
    for name, mask, sub in _by_pde(ds):
        if name not in RESOLVE_SETTINGS:
            continue
        settings = RESOLVE_SETTINGS[name]
        u0 = spectral_upsample(sub.u[:, start].to(torch.float64), n * settings.refine)
        out[mask] = get_pde(name).solve(u0, _coeffs64(sub), times, settings).to(torch.float64)
    return out


def resolve_error(ds: Dataset, frame: int = -1) -> torch.Tensor:
    """(B,) relative L2 error of stored frame ``frame`` against a re-solve from frame 0."""
    frame = frame % ds.u.shape[1]
    ref = ds.u[:, frame].to(torch.float64)
    sol = resolve(ds)[:, frame]
    return (sol - ref).flatten(1).norm(dim=1) / ref.flatten(1).norm(dim=1).clamp_min(1e-300)


def demo_pairs(ds: Dataset, names=("shift", "scale", "galilean", "noise"), seed: int = 0,
               per_pde: int = 1, **strengths) -> dict[tuple[str, str], tuple[Dataset, Dataset]]:
    """For every (augmentation, PDE) pair valid on ``ds``: (originals, augmented copies) of the
    first ``per_pde`` samples of that PDE (ratio 1, generator seeded with ``seed``)."""
    pairs = {}
    for name in names:
        aug = get_augmentation(name)
        for pde, _, sub in _by_pde(ds):
            if pde not in aug.valid_pdes:
                continue
            sub = sub.take(per_pde)
            g = torch.Generator(device=ds.u.device).manual_seed(seed)
            own = {k: v for k, v in strengths.items() if k in aug.parameters}
            copies, _ = augment_copies(sub, [name], 1.0, g, **own)
            pairs[(name, pde)] = (sub, copies)
    return pairs


def residual_table(pairs: dict[tuple[str, str], tuple[Dataset, Dataset]], resolve_check=True):
    """A pandas DataFrame, one row per (augmentation, PDE): median residual of the originals and
    of the copies, the largest per-sample ratio (over all modes, and over the resolved band
    |m| < N/3), the copies' worst last-frame re-solve error, and the largest coefficient change."""
    import pandas as pd

    rows = []
    for (name, pde), (orig, aug) in pairs.items():
        r0, r1 = pde_residual(orig), pde_residual(aug)
        row = {"augmentation": name, "pde": pde, "samples": len(orig),
               "residual_original": float(r0.median()), "residual_augmented": float(r1.median()),
               "ratio": float((r1 / r0.clamp_min(1e-300)).max()),
               "ratio_resolved_band": float((pde_residual(aug, band=1 / 3)
                                             / pde_residual(orig, band=1 / 3).clamp_min(1e-300)).max())}
        if resolve_check:
            row["resolve_error_last_frame"] = float(resolve_error(aug).max())
        row["max_coeff_change"] = float((aug.coeffs - orig.coeffs).abs().max())
        row["input_noise"] = float(aug.extra["input_noise"].max())
        rows.append(row)
    return pd.DataFrame(rows)


def invalid_examples(ds: Dataset, lam: float = 2.0, shift: float = 0.25,
                     velocity: float = 0.5) -> dict[str, tuple[Dataset, Dataset]]:
    """Transforms that are NOT symmetries, to show the residual check catches them:
    Burgers scaled without relabelling c, heat under a Galilean boost, Navier-Stokes scaled, and
    Navier-Stokes shifted along s1 = s2 (which moves its forcing). Keys name the example."""
    from pde_lib.augmentations.base import shift_fields

    out = {}
    present = {PDE_NAMES[i] for i in torch.unique(ds.pde_index).tolist()}
    sel = {p: ds.select(ds.pde_index == PDE_NAMES.index(p)) for p in present}
    if "burgers" in sel:
        b = sel["burgers"]
        out["burgers: scale without c -> c / lambda"] = (b, replace(b, u=b.u * lam))
    if "heat" in sel:
        h = sel["heat"]
        v = torch.full((len(h), 2), velocity, dtype=torch.float64)
        u, _, _ = get_augmentation("galilean").transform(
            h.u, h.coeffs, torch.full_like(h.pde_index, PDE_NAMES.index("advection")), h.t,
            {"v": v})
        out["heat: galilean boost"] = (h, replace(h, u=u))
    if "navier_stokes" in sel:
        w = sel["navier_stokes"]
        out["navier_stokes: scale"] = (w, replace(w, u=w.u * lam))
        s = torch.full((len(w),), shift, dtype=torch.float64)
        whole = torch.ones(len(w), dtype=torch.bool)
        out["navier_stokes: shift along s1 = s2"] = (w, replace(w, u=shift_fields(w.u, s, s, whole)))
    return out


def invalid_table(examples: dict[str, tuple[Dataset, Dataset]]):
    """DataFrame: residual of the originals and of each invalid transform, and their ratio."""
    import pandas as pd

    rows = []
    for label, (orig, bad) in examples.items():
        r0, r1 = pde_residual(orig), pde_residual(bad)
        rows.append({"example": label, "residual_original": float(r0.median()),
                     "residual_transformed": float(r1.median()),
                     "min_ratio": float((r1 / r0.clamp_min(1e-300)).min())})
    return pd.DataFrame(rows)


def plot_side_by_side(orig: Dataset, aug: Dataset, frames=(0, 8, 16, 31), sample: int = 0,
                      title: str = ""):
    """A figure with two rows (original, augmented) of the chosen frames of one sample."""
    import matplotlib.pyplot as plt

    frames = [f % orig.u.shape[1] for f in frames]
    fig, axes = plt.subplots(2, len(frames), figsize=(2.4 * len(frames), 5), squeeze=False)
    u0, u1 = orig.u[sample].cpu().numpy(), aug.u[sample].cpu().numpy()
    lim = float(max(abs(u0).max(), abs(u1).max()))
    for j, f in enumerate(frames):
        for i, (u, label) in enumerate(((u0, "original"), (u1, "augmented"))):
            ax = axes[i, j]
            ax.imshow(u[f].T, origin="lower", extent=(-1, 1, -1, 1), cmap="RdBu_r",
                      vmin=-lim, vmax=lim)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{label} t={float(orig.t[f]):.2f}", fontsize=10)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
