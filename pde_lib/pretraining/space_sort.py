"""``space_sort``: the domain is cut into 4 quadrants, permuted identically in every frame; the
head classifies which of the 24 permutations (the identity included). Quadrant q = 2 qx + qy, with
qx the half of the x axis (axis -2).

Caveat (kept as docs/protocol.md section 5 defines the task): on the periodic domain the
permutations q -> q XOR s (s = 1, 2, 3: swapping the two rows and/or columns of quadrants) are
half-domain translations, which leave translation-invariant data (random-phase sine sums) equally
likely. Each label is therefore indistinguishable from the 3 others in its coset: the best
achievable accuracy is 1/4, against a chance level of 1/24. (``jigsaw`` avoids this by choosing
its permutations modulo these translations.)"""

from __future__ import annotations

from pde_lib.errors import ConfigError
from pde_lib.pretraining.registry import STRATEGIES
from pde_lib.pretraining.permutation import PermutationStrategy, all_permutations


@STRATEGIES.register("space_sort")
class SpaceSort(PermutationStrategy):
    name = "space_sort"
    n_classes = 24
    #: best achievable accuracy: 4 translation-equivalent permutations per label (see above)
    max_accuracy = 0.25
    pool = 2  # the classifier keeps which quadrant a feature came from

    def check_model(self, model, resolution):
        super().check_model(model, resolution)
        if resolution % 2:
            raise ConfigError(f"strategy 'space_sort' needs an even grid size, got N={resolution}")

    def permutations(self):
        return all_permutations(4)

    def to_blocks(self, x):
        b, w, n, m = x.shape
        q = x.reshape(b, w, 2, n // 2, 2, m // 2).permute(0, 2, 4, 1, 3, 5)  # (B, qx, qy, W, h, h)
        return q.reshape(b, 4, w, n // 2, m // 2)

    def from_blocks(self, blocks, like):
        b, w, n, m = like.shape
        q = blocks.reshape(b, 2, 2, w, n // 2, m // 2).permute(0, 3, 1, 4, 2, 5)
        return q.reshape(b, w, n, m)
