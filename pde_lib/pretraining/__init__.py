"""Pretraining: one module per strategy, registered by name in ``STRATEGIES``, shared heads, and
the loop ``run_pretraining(config) -> metrics dict``.

Add a strategy by writing one module with a ``Strategy`` subclass decorated
``@STRATEGIES.register("name")`` and importing it below."""

from pde_lib.registry import Registry

STRATEGIES: Registry = Registry("strategy")

from pde_lib.pretraining import (  # noqa: E402,F401  (registration)
    binary, coefficient, derivative, jigsaw, masked, none, picl, space_sort, time_sort, transfer,
)
from pde_lib.pretraining.base import Strategy  # noqa: E402
from pde_lib.pretraining.config import PretrainConfig  # noqa: E402
from pde_lib.pretraining.loop import (PretrainRun, build_strategy, prepare_pretraining,  # noqa: E402
                                    run_pretraining)

__all__ = ["STRATEGIES", "Strategy", "PretrainConfig", "PretrainRun", "build_strategy", "prepare_pretraining",
           "run_pretraining"]
