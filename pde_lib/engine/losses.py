"""The study's metric (docs/protocol.md section 3): relative L2 error per sample."""

from __future__ import annotations

import torch


def relative_l2(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """(B, ...), (B, ...) -> (B,): ||pred_b - y_b||_2 / ||y_b||_2 over all non-batch dimensions.

    Never divided by the batch size: the loss (and the reported metric) is the mean of this
    vector. ``eps`` only guards an all-zero target against division by zero."""
    if pred.shape != target.shape:
        raise ValueError(f"relative_l2: pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
    diff = (pred - target).flatten(1)
    ref = target.flatten(1)
    return torch.linalg.vector_norm(diff, dim=1) / torch.linalg.vector_norm(ref, dim=1).clamp_min(eps)
