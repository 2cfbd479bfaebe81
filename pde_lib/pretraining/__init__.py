"""Pretraining: one module per strategy, registered by name in ``STRATEGIES`` (``registry.py``),
shared heads, and ``run_pretraining(config) -> metrics dict``.

Add a strategy by writing one module with a ``Strategy`` subclass decorated
``@STRATEGIES.register("name")`` and importing it below."""

from pde_lib.pretraining import (  # noqa: F401 (registers the strategies)
    binary, coefficient, derivative, jigsaw, masked, none, picl, space_sort, time_sort, transfer,
)
from pde_lib.pretraining.base import Strategy
from pde_lib.pretraining.config import PretrainConfig
from pde_lib.pretraining.loop import PretrainRun, build_strategy, prepare_pretraining, run_pretraining
from pde_lib.pretraining.registry import STRATEGIES

__all__ = ["STRATEGIES", "Strategy", "PretrainConfig", "PretrainRun", "build_strategy", "prepare_pretraining",
           "run_pretraining"]
