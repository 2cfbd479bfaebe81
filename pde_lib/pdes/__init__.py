"""PDEs: one module per equation, registered by name in ``PDES``.

Add a PDE by writing one module with a ``PDE`` subclass decorated ``@PDES.register("name")`` and
importing it below."""

from pde_lib.registry import Registry

PDES: Registry = Registry("PDE")

from pde_lib.pdes import advection, burgers, heat, navier_stokes  # noqa: E402,F401
from pde_lib.pdes.base import COEFFICIENT_KEYS, DISTRIBUTIONS, EXTRA_KEYS, PDE, SolverSettings  # noqa: E402


def get_pde(name: str) -> PDE:
    """An instance of the registered PDE ``name`` (ConfigError listing valid names otherwise)."""
    return PDES.get(name)()


__all__ = ["PDES", "PDE", "get_pde", "SolverSettings", "COEFFICIENT_KEYS", "EXTRA_KEYS", "DISTRIBUTIONS"]
