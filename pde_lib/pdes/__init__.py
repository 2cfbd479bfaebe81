"""PDEs: one module per equation, registered by name in ``PDES`` (``registry.py``).

Add a PDE by writing one module with a ``PDE`` subclass decorated ``@PDES.register("name")`` and
importing it below (its name must be in ``pde_lib.data.PDE_NAMES``, the labels a file can hold)."""

from pde_lib.pdes import advection, burgers, heat, navier_stokes  # noqa: F401 (registers the PDEs)
from pde_lib.pdes.base import PDE, SolverSettings
from pde_lib.pdes.registry import PDES, get_pde

__all__ = ["PDES", "PDE", "get_pde", "SolverSettings"]
