"""Fine-tuning: supervised training of a backbone on one task and its evaluation, built on the
training engine (``pde_lib.engine``): ``run_training(TrainConfig) -> metrics``, stacked runs
``run_training_group([TrainConfig]) -> [metrics]``, and the test metrics (``evaluate``,
``rollout``, ``copy_last_baseline``)."""

from pde_lib.training.config import TrainConfig
from pde_lib.training.evaluate import copy_last_baseline, evaluate, rollout
from pde_lib.training.group import run_training_group
from pde_lib.training.trainer import run_training

__all__ = ["TrainConfig", "run_training", "run_training_group", "evaluate", "rollout", "copy_last_baseline"]
