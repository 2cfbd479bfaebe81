"""``PDES``: the PDE registry (name -> ``PDE`` subclass). A PDE module registers its class with
``@PDES.register("name")``; the name must be one of ``pde_lib.data.PDE_NAMES`` (the labels a data
file can hold)."""

from __future__ import annotations

from pde_lib.data.layout import PDE_NAMES
from pde_lib.registry import Registry

PDES: Registry = Registry("PDE", allowed=PDE_NAMES, allowed_where="pde_lib/data/layout.py PDE_NAMES")


def get_pde(name: str):
    """An instance of the registered PDE ``name`` (ConfigError listing valid names otherwise)."""
    return PDES.get(name)()
