"""The backbone interface shared by every model, the ``MODELS`` registry and ``build_model``.

A backbone maps input frames (B, T_in, N, N), grid coordinates (2, N, N) and optionally the PDE
coefficients (B, C) to one output frame (B, 1, N, N) through a hidden feature map:

    h = encode(frames, grid, coeffs)   # (B, feature_channels, N, N)
    y = decode(h)                      # (B, 1, N, N);  forward(...) == decode(encode(...))

Every backbone sees the same input field, built by :meth:`Backbone.assemble_input`:
the frames, the two coordinate channels (x, y) and, only when ``condition_on_coeffs`` is on, the
scaled coefficients broadcast to constant channels. Conditioning therefore has no parameters of its
own: when it is off nothing about it exists; when on, the first layer simply has C more inputs.
"""

from __future__ import annotations

import inspect
from typing import Any, Sequence

import torch
from torch import nn

from pde_lib.errors import ConfigError
from pde_lib.registry import Registry

MODELS: Registry = Registry("model")

#: Default coefficient scaling for the study's (nu, ax, ay, cx, cy): the same normalisation as the
#: coefficient-regression pretext task (nu / 2e-2, ax / 2.5, ay / 2.5, cx, cy), so inputs are O(1).
STUDY_COEFF_SCALE = (1.0 / 2e-2, 1.0 / 2.5, 1.0 / 2.5, 1.0, 1.0)


def checked_int(model: str, key: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or ConfigError naming the model and key."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"model {model!r}: {key} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class Backbone(nn.Module):
    """Base class: input assembly (frames + coordinates [+ coefficients]), config recording and
    the encode/decode split. Subclasses set ``feature_channels`` and implement both halves."""

    name: str = ""
    feature_channels: int

    def __init__(
        self,
        in_frames: int = 8,
        coeff_dim: int = 5,
        condition_on_coeffs: bool = False,
        coeff_scale: Sequence[float] | None = None,
        **size_config: Any,
    ):
        super().__init__()
        model = self.name or type(self).__name__
        self.in_frames = checked_int(model, "in_frames", in_frames)
        self.coeff_dim = checked_int(model, "coeff_dim", coeff_dim)
        if not isinstance(condition_on_coeffs, bool):
            raise ConfigError(
                f"model {model!r}: condition_on_coeffs must be true or false, got {condition_on_coeffs!r}"
            )
        self.condition_on_coeffs = condition_on_coeffs
        if coeff_scale is None:
            coeff_scale = STUDY_COEFF_SCALE if coeff_dim == 5 else (1.0,) * coeff_dim
        scale = [float(s) for s in coeff_scale]
        if len(scale) != coeff_dim:
            raise ConfigError(
                f"model {model!r}: coeff_scale has {len(scale)} entries, expected coeff_dim={coeff_dim}"
            )
        if condition_on_coeffs:
            self.register_buffer("coeff_scale", torch.tensor(scale), persistent=False)
        self.config: dict[str, Any] = {
            "in_frames": self.in_frames,
            "coeff_dim": self.coeff_dim,
            "condition_on_coeffs": condition_on_coeffs,
            "coeff_scale": scale,
            **{k: list(v) if isinstance(v, tuple) else v for k, v in size_config.items()},
        }

    @property
    def in_channels(self) -> int:
        """Channels of the assembled input: frames + 2 coordinates [+ coefficients]."""
        return self.in_frames + 2 + (self.coeff_dim if self.condition_on_coeffs else 0)

    def check_grid(self, frames: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        """Validate shapes; return the grid as (2, N, N) on the frames' device and dtype."""
        if frames.dim() != 4 or frames.shape[1] != self.in_frames or frames.shape[2] != frames.shape[3]:
            raise ValueError(
                f"{self.name}: frames must be (B, {self.in_frames}, N, N), got {tuple(frames.shape)}"
            )
        n = frames.shape[-1]
        if tuple(grid.shape) != (2, n, n):
            raise ValueError(f"{self.name}: grid must be (2, {n}, {n}), got {tuple(grid.shape)}")
        return grid.to(device=frames.device, dtype=frames.dtype)

    def assemble_input(
        self, frames: torch.Tensor, grid: torch.Tensor, coeffs: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(B, T_in, N, N), (2, N, N), (B, C) -> (B, in_channels, N, N).

        Coefficients are ignored when conditioning is off (callers may always pass them)."""
        grid = self.check_grid(frames, grid)
        b, _, n, _ = frames.shape
        parts = [frames, grid.unsqueeze(0).expand(b, -1, -1, -1)]
        if self.condition_on_coeffs:
            if coeffs is None or tuple(coeffs.shape) != (b, self.coeff_dim):
                got = None if coeffs is None else tuple(coeffs.shape)
                raise ValueError(
                    f"{self.name}: condition_on_coeffs=True needs coeffs of shape ({b}, {self.coeff_dim}), got {got}"
                )
            c = coeffs.to(frames.dtype) * self.coeff_scale.to(frames.dtype)
            parts.append(c[:, :, None, None].expand(-1, -1, n, n))
        return torch.cat(parts, dim=1)

    def encode(
        self, frames: torch.Tensor, grid: torch.Tensor, coeffs: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(B, T_in, N, N), (2, N, N), (B, C) or None -> (B, feature_channels, N, N)."""
        raise NotImplementedError

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """(B, feature_channels, N, N) -> (B, 1, N, N)."""
        raise NotImplementedError

    def forward(
        self, frames: torch.Tensor, grid: torch.Tensor, coeffs: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.decode(self.encode(frames, grid, coeffs))


def model_kwargs(name: str) -> list[str]:
    """The keyword arguments the model ``name`` accepts."""
    cls = MODELS.get(name)
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    params = inspect.signature(cls.__init__).parameters.values()
    return [p.name for p in params if p.name != "self" and p.kind in kinds]


def build_model(name: str, **kwargs: Any) -> Backbone:
    """Build the registered backbone ``name``; ConfigError for an unknown name or keyword."""
    cls = MODELS.get(name)
    valid = model_kwargs(name)
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ConfigError(
            f"model {name!r} got unknown argument(s) {', '.join(unknown)}; "
            f"valid arguments: {', '.join(valid)}"
        )
    return cls(**kwargs)
