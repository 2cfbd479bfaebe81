"""``Dataset``: a batch of trajectories with their coefficients, PDE labels and seeds, as tensors."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from pde_lib.data.layout import COEFFICIENT_KEYS, PDE_NAMES


@dataclass
class Dataset:
    """Trajectories ``u`` (B, T, N, N) float32, grid ``x`` (2, N, N), times ``t`` (T,),
    coefficients ``coeffs`` (B, 5) in ``COEFFICIENT_KEYS`` order, ``extra`` (visc / amp, (B,)),
    ``pde_index`` (B,) into ``PDE_NAMES``, ``seed`` (B,) (-1 where unknown) and ``rows`` (B,) the
    file row each sample was read from (None where not read from a file)."""

    u: torch.Tensor
    x: torch.Tensor
    t: torch.Tensor
    coeffs: torch.Tensor
    pde_index: torch.Tensor
    seed: torch.Tensor
    extra: dict[str, torch.Tensor] = field(default_factory=dict)
    path: str = ""
    group: str = ""
    sha256: str = ""
    rows: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.u.shape[0]

    @property
    def pde(self) -> list[str]:
        return [PDE_NAMES[i] for i in self.pde_index.tolist()]

    @property
    def device(self) -> torch.device:
        return self.u.device

    def select(self, index: torch.Tensor) -> "Dataset":
        """Samples at ``index`` (a (K,) index or boolean mask tensor)."""
        index = index.to(self.u.device)
        return replace(self, u=self.u[index], coeffs=self.coeffs[index],
                       pde_index=self.pde_index[index], seed=self.seed[index],
                       extra={k: v[index] for k, v in self.extra.items()},
                       rows=None if self.rows is None else self.rows[index.to(self.rows.device)])

    def take(self, n: int) -> "Dataset":
        """The first ``n`` samples (subsets are nested prefixes)."""
        return self.select(torch.arange(min(n, len(self)), device=self.u.device))

    def to(self, device) -> "Dataset":
        return replace(self, u=self.u.to(device), x=self.x.to(device), t=self.t.to(device),
                       coeffs=self.coeffs.to(device), pde_index=self.pde_index.to(device),
                       seed=self.seed.to(device), extra={k: v.to(device) for k, v in self.extra.items()},
                       rows=None if self.rows is None else self.rows.to(device))

    def coefficient_dict(self) -> dict[str, torch.Tensor]:
        """Coefficients as a dict of (B,) tensors, as the PDE solvers and residuals take them."""
        out = {k: self.coeffs[:, i] for i, k in enumerate(COEFFICIENT_KEYS)}
        out.update(self.extra)
        return out
