"""Option groups shared by the ``train`` and ``pretrain`` commands."""

from __future__ import annotations

import json

from pde_lib.errors import ConfigError


def dataclass_default(cls, name: str):
    f = cls.__dataclass_fields__[name]
    return f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]


def add_optim_arguments(p, cls) -> None:
    o = p.add_argument_group("optimisation")
    for flag, key, typ in (("--epochs", "epochs", int), ("--batch-size", "batch_size", int),
                           ("--lr", "lr", float), ("--weight-decay", "weight_decay", float),
                           ("--lr-min", "lr_min", float), ("--seed", "seed", int)):
        o.add_argument(flag, type=typ, default=dataclass_default(cls, key))
    o.add_argument("--warmup-steps", type=int, default=dataclass_default(cls, "warmup_steps"),
                   help="linear lr warm-up over the first K optimiser steps, then cosine (default 0: none)")
    o.add_argument("--clip-grad-norm", type=float, default=dataclass_default(cls, "clip_grad_norm"),
                   help="clip the global gradient norm to this value before each step (default: no clipping)")


def add_augmentation_arguments(p, cls) -> None:
    a = p.add_argument_group("augmentation")
    a.add_argument("--augmentation", default="", metavar="NAME[,NAME]",
                   help="augmentations applied to each added copy, in order (default none)")
    a.add_argument("--augmentation-ratio", type=float, default=dataclass_default(cls, "augmentation_ratio"),
                   help="probability that a sample gets an augmented copy")
    a.add_argument("--noise-level", type=float, default=None)
    a.add_argument("--max-shift", type=float, default=None)
    a.add_argument("--max-scale", type=float, default=None)
    a.add_argument("--max-velocity", type=float, default=None)
    a.add_argument("--subgrid", action="store_const", const=True, default=None,
                   help="shift Burgers/Navier-Stokes by sub-grid amounts too (default: whole cells)")
    a.add_argument("--burgers-refine", type=int, default=None,
                   help="galilean on Burgers: re-solve each copy on a k-times finer grid (default 8; 0 = Fourier shift)")
    a.add_argument("--strict-augmentation", action="store_true",
                   help="fail (instead of skipping) when an augmentation is not a symmetry of a sample's PDE")


def config_from_args(cls, args):
    """The config of class ``cls`` an argparse namespace describes (every field has a flag)."""
    model_kwargs = {}
    if args.model_kwargs:
        try:
            model_kwargs = json.loads(args.model_kwargs)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--model-kwargs is not valid JSON ({exc}): {args.model_kwargs!r}") from exc
        if not isinstance(model_kwargs, dict):
            raise ConfigError(f"--model-kwargs must be a JSON object, got {args.model_kwargs!r}")
    d = {k: getattr(args, k) for k in cls.field_names() if hasattr(args, k)}
    d.update(model_kwargs=model_kwargs, progress=not args.no_progress,
             augmentation=[s.strip() for s in args.augmentation.split(",") if s.strip()])
    return cls.from_dict(d)
