"""``jigsaw``: the window (W, N, N) is cut into 2 x 2 x 2 spatio-temporal patches (two time halves
times four quadrants; patch p = 4 t + 2 qx + qy), permuted by one of 64 maximally distant
permutations of the 8 patches; the head classifies which.

The 64 permutations are chosen greedily (Noroozi and Favaro 2016): starting from a random
admissible permutation, repeatedly add the one whose minimum Hamming distance to those already
chosen is largest (ties broken by a seeded generator). The set is deterministic (fixed seed) and
computed once per process.

The domain is periodic and the data are translation invariant, so a half-domain shift of both
space axes is a permutation of the quadrants (patch p -> p XOR s, s in 0..3) that leaves a window
equally likely: permutations P and P XOR s can never be told apart. Distances are therefore
measured to the whole translation orbit {P XOR s} of each chosen permutation, and the orbit of the
identity (no permutation, or a pure translation) is never chosen. Every class is identifiable."""

from __future__ import annotations

import functools

import numpy as np
import torch

from pde_lib.errors import ConfigError
from pde_lib.pretraining.registry import STRATEGIES
from pde_lib.pretraining.permutation import PermutationStrategy, all_permutations

N_PATCHES = 8
N_PERMUTATIONS = 64
PERMUTATION_SEED = 2406_08473
#: patch index p = 4 t + 2 qx + qy; shifting space by half the domain maps p -> p XOR s
TRANSLATIONS = (0, 1, 2, 3)


@functools.lru_cache(maxsize=None)
def _jigsaw_permutations(n_patches: int, n_perms: int, seed: int) -> np.ndarray:
    candidates = all_permutations(n_patches).numpy()  # row 0 is the identity
    rng = np.random.default_rng(seed)
    chosen: list[int] = []

    def orbit_distance(perm: np.ndarray) -> np.ndarray:
        """Hamming distance of every candidate to the nearest translate perm XOR s."""
        return np.stack([(candidates != (perm ^ s)).sum(axis=1) for s in TRANSLATIONS]).min(axis=0)

    excluded = orbit_distance(candidates[0]) == 0  # the identity and the pure translations
    min_dist = np.where(excluded, -1, n_patches + 1)
    for _ in range(n_perms):
        best = np.flatnonzero(min_dist == min_dist.max())
        pick = int(best[rng.integers(len(best))])
        chosen.append(pick)
        min_dist = np.where(excluded, -1, np.minimum(min_dist, orbit_distance(candidates[pick])))
    out = candidates[chosen]
    out.setflags(write=False)
    return out


def jigsaw_permutations(n_perms: int = N_PERMUTATIONS, seed: int = PERMUTATION_SEED) -> torch.Tensor:
    """(n_perms, 8) int64: the greedy max-min-Hamming permutation set (cached)."""
    return torch.from_numpy(_jigsaw_permutations(N_PATCHES, n_perms, seed).copy())


@STRATEGIES.register("jigsaw")
class Jigsaw(PermutationStrategy):
    name = "jigsaw"
    n_classes = N_PERMUTATIONS
    pool = 2

    def check_model(self, model, resolution):
        super().check_model(model, resolution)
        if self.window % 2 or resolution % 2:
            raise ConfigError(f"strategy 'jigsaw' halves the window and both space axes; window="
                              f"{self.window} and N={resolution} must both be even")

    def permutations(self):
        return jigsaw_permutations()

    def to_blocks(self, x):
        b, w, n, m = x.shape
        p = x.reshape(b, 2, w // 2, 2, n // 2, 2, m // 2).permute(0, 1, 3, 5, 2, 4, 6)
        return p.reshape(b, N_PATCHES, w // 2, n // 2, m // 2)

    def from_blocks(self, blocks, like):
        b, w, n, m = like.shape
        p = blocks.reshape(b, 2, 2, 2, w // 2, n // 2, m // 2).permute(0, 1, 4, 2, 5, 3, 6)
        return p.reshape(b, w, n, m)
