"""``AUGMENTATIONS``: the augmentation registry (name -> ``Augmentation`` subclass). An
augmentation module registers its class with ``@AUGMENTATIONS.register("name")``."""

from __future__ import annotations

from pde_lib.registry import Registry

AUGMENTATIONS: Registry = Registry("augmentation")


def get_augmentation(name: str):
    """An instance of the registered augmentation ``name`` (ConfigError listing valid names)."""
    return AUGMENTATIONS.get(name)()
