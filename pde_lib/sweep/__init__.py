"""The study grid: expansion (``expand_grid``), one cell (``run_cell``), datasets
(``ensure_datasets``) and Dask execution with resume (``run_sweep``)."""

from pde_lib.sweep.cell import DONE, is_done, run_cell
from pde_lib.sweep.datasets import dataset_paths, dataset_specs, ensure_datasets
from pde_lib.sweep.grid import Cell, FineTune, expand_grid, find_cell, finetunes, select_cells
from pde_lib.sweep.run import SweepResult, execute_cell_notebook, run_sweep

__all__ = ["Cell", "FineTune", "expand_grid", "finetunes", "find_cell", "select_cells", "run_cell", "is_done", "DONE",
           "ensure_datasets", "dataset_specs", "dataset_paths", "run_sweep", "SweepResult",
           "execute_cell_notebook"]
