"""Generation: parameters -> per-sample seeds -> batched solves (``pde_lib.pdes``) -> a streamed,
atomic HDF5 file (``pde_lib.data``).

``generate_dataset(GenerationParams(...), path) -> summary``; ``sample_seeds`` gives the seed
layout (disjoint ranges per dataset seed, split, distribution and PDE)."""

from pde_lib.generation.generate import GenerationParams, generate_dataset
from pde_lib.generation.seeds import sample_seeds

__all__ = ["GenerationParams", "generate_dataset", "sample_seeds"]
