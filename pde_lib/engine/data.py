"""Run data steps shared by pretraining and fine-tuning.

``with_augmented_copies(ds, config)``: append augmented copies of the training samples
(``pde_lib.augmentations.augment_dataset``: ``config.augmentation`` applied in order to each
copy, a sample copied with probability ``augmentation_ratio``), drawn from the run's
``augmentation`` stream (``derived_seed(config.seed, "augmentation")``), so every strategy and
model sees the same augmented set for a seed. Noise copies carry ``extra["input_noise"]`` (B,),
the standard deviation the step loop's batches add to their input windows."""

from __future__ import annotations

import torch

from pde_lib.data import Dataset
from pde_lib.engine.seeding import derived_seed


def with_augmented_copies(ds: Dataset, config) -> Dataset:
    """``ds`` with augmented copies appended (``config`` carries ``AugmentationOptions``)."""
    from pde_lib.augmentations import augment_dataset

    generator = torch.Generator().manual_seed(derived_seed(config.seed, "augmentation"))
    return augment_dataset(ds, list(config.augmentation), config.augmentation_ratio, generator,
                           strict=config.strict_augmentation, **config.augmentation_strengths())
