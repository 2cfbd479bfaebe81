"""Augmentations (docs/protocol.md section 6): Lie point symmetries and input noise, registered by name
in ``AUGMENTATIONS``: ``noise``, ``shift``, ``scale``, ``galilean``.

Add one by writing a module with an ``Augmentation`` subclass decorated
``@AUGMENTATIONS.register("name")`` and importing it below.

    from pde_lib.augmentations import augment_dataset, add_input_noise
    ds_aug = augment_dataset(ds, ["shift", "noise"], ratio=0.5, generator=g, max_shift=1.0)
    x = add_input_noise(x, ds_aug.extra["input_noise"][batch_index], g)  # inputs only"""

from pde_lib.registry import Registry

AUGMENTATIONS: Registry = Registry("augmentation")

from pde_lib.augmentations import galilean, noise, scale, shift  # noqa: E402,F401  (registration)
from pde_lib.augmentations.base import Augmentation  # noqa: E402
from pde_lib.augmentations.compose import (augment_copies, augment_dataset,  # noqa: E402
                                           get_augmentation, resolve_names)
from pde_lib.augmentations.noise import INPUT_NOISE_KEY, add_input_noise  # noqa: E402

__all__ = ["AUGMENTATIONS", "Augmentation", "augment_dataset", "augment_copies",
           "get_augmentation", "resolve_names", "add_input_noise", "INPUT_NOISE_KEY"]
