"""Data: the HDF5 layout, generation, and the reader.

``load_dataset(path, group=None, pde=None, n=None, device="cpu") -> Dataset``."""

from pde_lib.data.dataset import PDE_NAMES, Dataset
from pde_lib.data.generate import GenerationParams, generate_dataset
from pde_lib.data.reader import infer_pde, load_dataset
from pde_lib.data.seeds import sample_seeds

__all__ = ["Dataset", "PDE_NAMES", "GenerationParams", "generate_dataset", "load_dataset",
           "infer_pde", "sample_seeds"]
