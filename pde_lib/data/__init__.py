"""Data: the HDF5 layout and its names (``layout``), the atomic writer and the checked reader.
This is the bottom of the data flow: it imports no solver (``pde_lib.generation`` writes files
with the solvers of ``pde_lib.pdes``).

``load_dataset(path, group=None, pde=None, n=None, device="cpu") -> Dataset``."""

from pde_lib.data.dataset import Dataset
from pde_lib.data.layout import (COEFFICIENT_KEYS, DISTRIBUTIONS, EXTRA_KEYS, FINETUNE_SPLITS, PDE_NAMES,
                                 SPLITS)
from pde_lib.data.reader import infer_pde, load_dataset

__all__ = ["Dataset", "PDE_NAMES", "COEFFICIENT_KEYS", "EXTRA_KEYS", "DISTRIBUTIONS", "SPLITS",
           "FINETUNE_SPLITS", "load_dataset", "infer_pde"]
