"""Augmentations (docs/protocol.md section 6): Lie point symmetries and input noise, registered by name
in ``AUGMENTATIONS`` (``registry.py``): ``noise``, ``shift``, ``scale``, ``galilean``, and the
step-matched control ``copy`` (unchanged copies).

Add one by writing a module with an ``Augmentation`` subclass decorated
``@AUGMENTATIONS.register("name")`` and importing it below.

    from pde_lib.augmentations import augment_dataset, add_input_noise
    ds_aug = augment_dataset(ds, ["shift", "noise"], ratio=0.5, generator=g, max_shift=1.0)
    x = add_input_noise(x, ds_aug.extra["input_noise"][batch_index], g)  # inputs only"""

from pde_lib.augmentations import copy_control, galilean, noise, scale, shift  # noqa: F401 (registers the augmentations)
from pde_lib.augmentations.base import Augmentation
from pde_lib.augmentations.compose import augment_copies, augment_dataset, resolve_names
from pde_lib.augmentations.noise import INPUT_NOISE_KEY, add_input_noise
from pde_lib.augmentations.registry import AUGMENTATIONS, get_augmentation

__all__ = ["AUGMENTATIONS", "Augmentation", "augment_dataset", "augment_copies",
           "get_augmentation", "resolve_names", "add_input_noise", "INPUT_NOISE_KEY"]
