"""``STRATEGIES``: the pretraining strategy registry (name -> ``Strategy`` subclass). A strategy
module registers its class with ``@STRATEGIES.register("name")``."""

from __future__ import annotations

from pde_lib.registry import Registry

STRATEGIES: Registry = Registry("strategy")
