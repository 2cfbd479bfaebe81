"""``picl``: physics-informed contrastive learning (after Lorsung and Barati Farimani 2024).

A point-wise head maps the backbone's features to a one-channel representation field z_i (B, 1,
N, N). Each sample's field is advanced one frame by the explicit (forward-Euler) step of its own PDE,

    P_i z = z + dt F_i(z),   F_i(z) = nu Lap z                      heat
                                      - (ax z_x + ay z_y)           advection
                                      - z (cx z_x + cy z_y) + nu Lap z   Burgers

with periodic spectral derivatives (x is axis -2) and dt the frame spacing (0.0625); each sample's
coefficients enter only through the terms of its own PDE (``pde_index``). The updated fields are
normalised per sample (zero mean, unit RMS, so the loss cannot shrink them away) and compared with
the generalised contrastive loss over all pairs i != j,

    L = mean_ij [ s_ij d_ij^2 + (1 - s_ij) max(m - d_ij, 0)^2 ],
    s_ij = exp(-|c_i - c_j|^2 / (2 sigma^2)),  d_ij = |P_i z_i - P_j z_j| / sqrt(N^2),

where c are the normalised coefficients (nu / 2e-2, ax / 2.5, ay / 2.5, cx, cy): pairs are pulled
together in proportion to the similarity of their PDEs. The margin m is anchored to the data and
detached: the mean pairwise distance of the physics-updated, normalised last input frames."""

from __future__ import annotations

import math

import torch

from pde_lib.errors import DataError
from pde_lib.pdes.spectral import wavenumbers
from pde_lib.pretraining.registry import STRATEGIES
from pde_lib.pretraining.base import Strategy
from pde_lib.pretraining.coefficient import normalised_coefficients

PICL_PDES = ("heat", "advection", "burgers")
SIMILARITY_SIGMA = 0.5


def _pde_masks(pde_index: torch.Tensor, like: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-PDE indicator (B, 1, ..., 1) in ``like``'s dtype."""
    from pde_lib.data import PDE_NAMES

    shape = (-1,) + (1,) * (like.dim() - 1)
    return {name: (pde_index == PDE_NAMES.index(name)).to(like.dtype).reshape(shape) for name in PICL_PDES}


def spectral_terms(z: torch.Tensor) -> torch.Tensor:
    """(..., N, N) -> (..., 3, N, N): [z_x, z_y, Lap z], periodic spectral, one forward transform.
    The Nyquist mode is dropped from the first derivatives (its derivative is not real)."""
    n, m = z.shape[-2:]
    kx, ky = wavenumbers(n, device=z.device, dtype=z.dtype)
    keep = torch.ones(n, m // 2 + 1, device=z.device, dtype=z.dtype)
    if n % 2 == 0:
        keep[n // 2, :] = 0
        keep[:, -1] = 0
    mult = torch.stack([1j * kx * keep, 1j * ky * keep, -(kx**2 + ky**2) + 0j * keep])
    zh = torch.fft.rfft2(z).unsqueeze(-3)
    return torch.fft.irfft2(zh * mult, s=(n, m))


def physics_operator(z: torch.Tensor, coeffs: torch.Tensor, pde_index: torch.Tensor) -> torch.Tensor:
    """F(z) for (B, ..., N, N) fields, each sample with its own PDE (``pde_index``) and raw
    coefficients (B, 5) = (nu, ax, ay, cx, cy)."""
    masks = _pde_masks(pde_index, z)
    shape = (-1,) + (1,) * (z.dim() - 1)
    c = {k: coeffs[:, i].to(z.dtype).reshape(shape) for i, k in enumerate(("nu", "ax", "ay", "cx", "cy"))}
    d = spectral_terms(z)
    z_x, z_y, lap = d[..., 0, :, :], d[..., 1, :, :], d[..., 2, :, :]
    diffusion = c["nu"] * (masks["heat"] + masks["burgers"]) * lap
    advection = masks["advection"] * (c["ax"] * z_x + c["ay"] * z_y)
    burgers = masks["burgers"] * z * (c["cx"] * z_x + c["cy"] * z_y)
    return diffusion - advection - burgers


def physics_update(z: torch.Tensor, coeffs: torch.Tensor, pde_index: torch.Tensor, dt: float) -> torch.Tensor:
    """One explicit step of each sample's PDE: z + dt F(z)."""
    return z + dt * physics_operator(z, coeffs, pde_index)


def normalise_fields(z: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """(B, ...) -> (B, D): flattened, zero mean and unit RMS per sample."""
    z = z.flatten(1)
    z = z - z.mean(dim=1, keepdim=True)
    return z / (z.pow(2).mean(dim=1, keepdim=True) + eps).sqrt()


def pairwise_distance(a: torch.Tensor) -> torch.Tensor:
    """(B, D) -> (B, B) RMS distances |a_i - a_j| / sqrt(D), one matrix product (the cdist
    expansion), with a gradient that stays finite on the diagonal."""
    sq = a.pow(2).sum(dim=1)
    d2 = (sq[:, None] + sq[None, :] - 2.0 * (a @ a.T)).clamp_min(1e-12)
    return (d2 / a.shape[1]).sqrt()


def similarity(coeffs: torch.Tensor, sigma: float = SIMILARITY_SIGMA) -> torch.Tensor:
    """(B, 5) raw coefficients -> (B, B) similarity exp(-|c_i - c_j|^2 / (2 sigma^2)) of the
    normalised coefficients."""
    c = normalised_coefficients(coeffs)
    return torch.exp(-torch.cdist(c, c).pow(2) / (2.0 * sigma**2))


def contrastive_loss(d: torch.Tensor, s: torch.Tensor, margin: torch.Tensor) -> torch.Tensor:
    """Generalised contrastive loss over pairs i != j: s d^2 + (1 - s) relu(margin - d)^2."""
    off = 1.0 - torch.eye(d.shape[0], device=d.device, dtype=d.dtype)
    terms = s * d.pow(2) + (1.0 - s) * torch.relu(margin - d).pow(2)
    return (terms * off).sum() / off.sum().clamp_min(1.0)


@STRATEGIES.register("picl")
class PICL(Strategy):
    name = "picl"
    needs_coefficients = True

    def check_data(self, ds):
        super().check_data(ds)
        from pde_lib.data import PDE_NAMES

        allowed = torch.tensor([PDE_NAMES.index(p) for p in PICL_PDES], device=ds.pde_index.device)
        bad = ~torch.isin(ds.pde_index, allowed)
        if bool(bad.any()):
            names = sorted({PDE_NAMES[i] for i in ds.pde_index[bad].tolist()})
            raise DataError(f"strategy 'picl' knows the physics update of {', '.join(PICL_PDES)} only; "
                            f"{ds.path} holds {int(bad.sum())} sample(s) of {', '.join(names)}")

    def _build_head(self, model, in_channels):
        from pde_lib.pretraining.heads import PointwiseHead

        return PointwiseHead(in_channels, 1)

    def make_batch(self, u, coeffs, pde_index, grid, generator, progress=0.0):
        x = self.window_frames(u, generator)
        return self.inputs(x, grid, coeffs, pde_index=pde_index), coeffs

    def loss(self, model, head, batch):
        inputs, coeffs = batch
        x, pde_index = inputs["frames"], inputs["pde_index"]
        z = head(self.represent(model, x, inputs["grid"], inputs["coeffs"]))  # (B, 1, N, N)
        d = pairwise_distance(normalise_fields(physics_update(z, coeffs, pde_index, self.dt)))
        with torch.no_grad():
            anchor = normalise_fields(physics_update(x[:, -1:], coeffs, pde_index, self.dt))
            d_data = pairwise_distance(anchor)
            off = 1.0 - torch.eye(d.shape[0], device=d.device, dtype=d.dtype)
            margin = ((d_data * off).sum() / off.sum().clamp_min(1.0)).detach()
            s = similarity(coeffs)
        return contrastive_loss(d, s, margin), {"margin": margin}
