"""Backbones, registered by name in ``MODELS``: ``fno2d``, ``deeponet2d``, ``oformer2d``, ``unet``.

Add one by writing a module with a ``Backbone`` subclass decorated ``@MODELS.register("name")``
(and ``name = "name"``) and importing it below. Build with ``build_model(name, **kwargs)``."""

from pde_lib.models.base import MODELS, Backbone, build_model, model_kwargs

from pde_lib.models import deeponet2d, fno2d, oformer2d, unet  # noqa: E402,F401  (registration)

__all__ = ["MODELS", "Backbone", "build_model", "model_kwargs"]
