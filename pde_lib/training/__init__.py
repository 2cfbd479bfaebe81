"""Supervised training and evaluation: windowing, the relative L2 metric, AdamW + cosine,
checkpoints, and ``run_training(TrainConfig) -> metrics``."""

from pde_lib.training.checkpoint import (load_backbone, load_training_state, save_backbone,
                                         save_training_state)
from pde_lib.training.config import TASKS, TrainConfig
from pde_lib.training.evaluate import copy_last_baseline, evaluate, rollout
from pde_lib.training.losses import relative_l2
from pde_lib.training.optim import make_optimizer, make_scheduler
from pde_lib.training.trainer import run_training
from pde_lib.training.windowing import fixed_future, next_step, random_starts

__all__ = ["TrainConfig", "TASKS", "run_training", "fixed_future", "next_step", "random_starts",
           "relative_l2", "make_optimizer", "make_scheduler", "save_backbone", "load_backbone",
           "save_training_state", "load_training_state", "evaluate", "rollout", "copy_last_baseline"]
