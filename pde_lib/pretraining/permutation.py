"""Shared machinery of the permutation-classification strategies (time_sort, space_sort, jigsaw).

The window (B, W, N, N) is cut into K blocks, a label ``c`` picks one of the candidate
permutations ``perms[c]`` (K,), and block k of the output is block ``perms[c][k]`` of the input.
The head classifies which permutation was applied. Applying ``perms[c].argsort()`` undoes it."""

from __future__ import annotations

import itertools

import torch

from pde_lib.pretraining.base import ClassificationStrategy, permute_blocks


def all_permutations(k: int) -> torch.Tensor:
    """(k!, k) int64: every permutation of range(k) in lexicographic order (row 0 the identity)."""
    return torch.tensor(list(itertools.permutations(range(k))), dtype=torch.int64)


class PermutationStrategy(ClassificationStrategy):
    """Subclasses define ``permutations()`` (n_classes, K) and ``to_blocks`` / ``from_blocks``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._perms: dict[torch.device, torch.Tensor] = {}

    def permutations(self) -> torch.Tensor:
        raise NotImplementedError

    def perms_on(self, device) -> torch.Tensor:
        device = torch.device(device)
        if device not in self._perms:
            self._perms[device] = self.permutations().to(device)
        return self._perms[device]

    def to_blocks(self, x: torch.Tensor) -> torch.Tensor:
        """(B, W, N, N) -> (B, K, ...)."""
        raise NotImplementedError

    def from_blocks(self, blocks: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Inverse of ``to_blocks``."""
        raise NotImplementedError

    def apply(self, x: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
        """Permute the blocks of each window (B, W, N, N) by its own ``perm`` (B, K)."""
        return self.from_blocks(permute_blocks(self.to_blocks(x), perm), x)

    def make_batch(self, u, coeffs, pde_index, grid, generator, progress=0.0):
        x = self.window_frames(u, generator)
        label = torch.randint(self.n_classes, (x.shape[0],), generator=generator, device=x.device)
        perm = self.perms_on(x.device)[label]
        return self.inputs(self.apply(x, perm), grid, coeffs), label
