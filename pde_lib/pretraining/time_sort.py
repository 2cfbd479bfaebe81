"""``time_sort``: the window of W frames is cut into 4 chunks of W/4 consecutive frames, which are
permuted; the head classifies which of the 24 permutations (the identity included)."""

from __future__ import annotations

from pde_lib.errors import ConfigError
from pde_lib.pretraining.registry import STRATEGIES
from pde_lib.pretraining.permutation import PermutationStrategy, all_permutations

N_CHUNKS = 4


@STRATEGIES.register("time_sort")
class TimeSort(PermutationStrategy):
    name = "time_sort"
    n_classes = 24

    def check_model(self, model, resolution):
        super().check_model(model, resolution)
        if self.window % N_CHUNKS:
            raise ConfigError(f"strategy 'time_sort' cuts the window into {N_CHUNKS} chunks; "
                              f"window={self.window} is not divisible by {N_CHUNKS}")

    def permutations(self):
        return all_permutations(N_CHUNKS)

    def to_blocks(self, x):
        b, w, n, m = x.shape
        return x.reshape(b, N_CHUNKS, w // N_CHUNKS, n, m)

    def from_blocks(self, blocks, like):
        return blocks.reshape(like.shape)
