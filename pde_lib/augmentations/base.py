"""The augmentation interface and the field operations the augmentations share.

An augmentation maps whole trajectories u (B, T, N, N), their coefficients (B, 5) in
``COEFFICIENT_KEYS`` order (nu, ax, ay, cx, cy), their PDE labels ``pde_index`` (B,) (into
``pde_lib.data.PDE_NAMES``) and the frame times t (T,) to transformed trajectories and
coefficients, plus ``extra`` (name -> (B,) tensors, e.g. ``input_noise``).

It is split in two so draws are separable from the (deterministic) transform:

    params = aug.sample(pde_index, generator, **strength)   # random draws, (B, ...) tensors
    u, coeffs, extra = aug.transform(u, coeffs, pde_index, t, params)
    u, coeffs, extra = aug.apply(u, coeffs, pde_index, t, generator, **strength)  # both, checked

``transform`` does not check validity (tests use it to show what an invalid pair breaks);
``apply`` raises a ConfigError if any sample's PDE is not in ``valid_pdes``."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from pde_lib.data import PDE_NAMES
from pde_lib.errors import ConfigError
from pde_lib.pdes.spectral import DOMAIN_LENGTH, fourier_shift, irfft2, nyquist_free, rfft2, wavenumbers

Params = dict[str, torch.Tensor]


class Augmentation:
    """Base class; subclasses are registered in ``pde_lib.augmentations.registry.AUGMENTATIONS``.

    ``strength_name`` / ``strength_default`` name the main strength parameter; ``parameters``
    holds every keyword ``apply`` / ``sample`` accept, with defaults."""

    name: ClassVar[str]
    #: PDE names this augmentation is a true symmetry of (noise: all, as a regulariser)
    valid_pdes: ClassVar[frozenset[str]]
    strength_name: ClassVar[str | None]  # None: no strength (the ``copy`` control)
    strength_default: ClassVar[float | None]
    #: every accepted keyword and its default (includes the strength)
    parameters: ClassVar[dict[str, Any]]

    # ---- parameters ---------------------------------------------------------------------
    def resolve(self, **strength: Any) -> dict[str, Any]:
        """Defaults overridden by ``strength``; ConfigError on unknown or negative values."""
        unknown = sorted(set(strength) - set(self.parameters))
        if unknown:
            raise ConfigError(f"augmentation {self.name!r}: unknown parameter(s) {unknown}; "
                              f"valid: {sorted(self.parameters)}")
        out = {**self.parameters, **strength}
        for key, value in out.items():
            default = self.parameters[key]
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ConfigError(f"augmentation {self.name!r}: {key} must be true or false, "
                                      f"got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ConfigError(f"augmentation {self.name!r}: {key} must be a number >= 0, "
                                  f"got {value!r}")
        return out

    def valid_mask(self, pde_index: torch.Tensor) -> torch.Tensor:
        """(B,) bool: which samples' PDEs this augmentation is valid for."""
        ok = torch.tensor([n in self.valid_pdes for n in PDE_NAMES], device=pde_index.device)
        return ok[pde_index]

    # ---- the two halves -----------------------------------------------------------------
    def sample(self, pde_index: torch.Tensor, generator: torch.Generator, **strength) -> Params:
        """Draw the random parameters of each of the B samples (on ``generator``'s device,
        then moved to ``pde_index``'s device)."""
        raise NotImplementedError

    def transform(self, u: torch.Tensor, coeffs: torch.Tensor, pde_index: torch.Tensor,
                  t: torch.Tensor, params: Params) -> tuple[torch.Tensor, torch.Tensor, Params]:
        """Apply drawn ``params`` to u (B, T, N, N) and coeffs (B, 5); no validity check."""
        raise NotImplementedError

    def apply(self, u: torch.Tensor, coeffs: torch.Tensor, pde_index: torch.Tensor,
              t: torch.Tensor, generator: torch.Generator, **strength
              ) -> tuple[torch.Tensor, torch.Tensor, Params]:
        """Draw and apply, batched on u's device. Every sample's PDE must be valid."""
        check_shapes(self.name, u, coeffs, pde_index, t)
        bad = ~self.valid_mask(pde_index.to(u.device))
        if bool(bad.any()):
            names = sorted({PDE_NAMES[i] for i in pde_index[bad.to(pde_index.device)].tolist()})
            raise ConfigError(f"augmentation {self.name!r} is not a symmetry of {names}; valid "
                              f"for {sorted(self.valid_pdes)} (augment_dataset skips such samples)")
        params = self.sample(pde_index, generator, **strength)
        return self.transform(u, coeffs, pde_index, t, params)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, valid_pdes={sorted(self.valid_pdes)})"


# ---- shared helpers ---------------------------------------------------------------------------
def check_shapes(name: str, u, coeffs, pde_index, t) -> None:
    if u.dim() != 4 or u.shape[-1] != u.shape[-2]:
        raise ConfigError(f"augmentation {name!r}: u must be (B, T, N, N), got {tuple(u.shape)}")
    b, n_t = u.shape[:2]
    if tuple(coeffs.shape) != (b, 5):
        raise ConfigError(f"augmentation {name!r}: coeffs must be ({b}, 5), got {tuple(coeffs.shape)}")
    if tuple(pde_index.shape) != (b,):
        raise ConfigError(f"augmentation {name!r}: pde_index must be ({b},), got {tuple(pde_index.shape)}")
    if tuple(t.shape) != (n_t,):
        raise ConfigError(f"augmentation {name!r}: t must be ({n_t},), got {tuple(t.shape)}")


def uniform(shape: tuple[int, ...], bound: float, generator: torch.Generator,
            device) -> torch.Tensor:
    """U(-bound, bound) float64 draws on the generator's device, moved to ``device``."""
    r = torch.rand(shape, generator=generator, device=generator.device, dtype=torch.float64)
    return ((2.0 * r - 1.0) * bound).to(device)


def pde_mask(pde_index: torch.Tensor, *names: str) -> torch.Tensor:
    """(B,) bool: samples whose PDE is one of ``names``."""
    ids = torch.tensor([PDE_NAMES.index(n) for n in names], device=pde_index.device)
    return torch.isin(pde_index, ids)


def roll_cells(u: torch.Tensor, kx: torch.Tensor, ky: torch.Tensor) -> torch.Tensor:
    """Per-sample ``torch.roll`` by whole cells: out[b, ..., i, j] = u[b, ..., i - kx[b], j - ky[b]]
    (indices mod N), i.e. u(x - kx dx, y - ky dy). ``u`` (B, ..., N, N), ``kx``/``ky`` (B,) int."""
    n = u.shape[-1]
    b = u.shape[0]
    ar = torch.arange(n, device=u.device)
    extra = (1,) * (u.dim() - 3)
    ix = (ar[None, :] - kx.to(u.device, torch.long)[:, None]) % n  # (B, N)
    iy = (ar[None, :] - ky.to(u.device, torch.long)[:, None]) % n
    out = u.gather(-2, ix.reshape(b, *extra, n, 1).expand(u.shape))
    return out.gather(-1, iy.reshape(b, *extra, 1, n).expand(u.shape))


def shift_fields(u: torch.Tensor, sx: torch.Tensor, sy: torch.Tensor,
                 whole_cells: torch.Tensor | None = None) -> torch.Tensor:
    """u(x - sx, y - sy) for u (B, T, N, N), shifts (B,) in domain units.

    Samples with ``whole_cells`` (B,) bool True are shifted by ``sx``, ``sy`` rounded to whole
    cells (2/N) with an exact index roll; the others by any amount with a Fourier phase
    (``fourier_shift``: exact for band-limited fields, Nyquist mode dropped)."""
    if whole_cells is None:
        whole_cells = torch.zeros(u.shape[0], dtype=torch.bool, device=u.device)
    whole_cells = whole_cells.to(u.device)
    if bool(whole_cells.all()):
        return roll_cells(u, *cells(sx, sy, u.shape[-1]))
    if not bool(whole_cells.any()):
        return fourier_shift(u, sx, sy)
    out = torch.empty_like(u)
    w, f = whole_cells, ~whole_cells
    out[w] = roll_cells(u[w], *cells(sx[w], sy[w], u.shape[-1]))
    out[f] = fourier_shift(u[f], sx[f], sy[f])
    return out


def cells(sx: torch.Tensor, sy: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Shifts in domain units rounded to whole cells of size 2/n, as integer cell counts."""
    dx = DOMAIN_LENGTH / n
    return torch.round(sx / dx).to(torch.long), torch.round(sy / dx).to(torch.long)


def moving_shift(u: torch.Tensor, sx: torch.Tensor, sy: torch.Tensor) -> torch.Tensor:
    """A per-frame shift u(x - sx[b, k], y - sy[b, k], t_k) by Fourier phase (sub-grid).
    ``u`` (B, T, N, N), ``sx``/``sy`` (B, T) in domain units.

    The same as ``fourier_shift`` on the (B * T) frames (float64 transform, Nyquist mode
    dropped), with the phase built as a product of per-axis factors, which is cheaper."""
    b, n_t, n, _ = u.shape
    kx, ky = wavenumbers(n, device=u.device, dtype=torch.float64)
    one = torch.ones((), dtype=torch.float64, device=u.device)
    px = torch.polar(one, -kx[None] * sx.to(u.device, torch.float64).reshape(-1, 1, 1))
    py = torch.polar(one, -ky[None] * sy.to(u.device, torch.float64).reshape(-1, 1, 1))
    uh = nyquist_free(rfft2(u.reshape(b * n_t, n, n).to(torch.float64)))
    out = irfft2(uh * px * py, s=(n, n)).to(u.dtype)
    return out.reshape(b, n_t, n, n)
