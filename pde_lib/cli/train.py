"""``python -m pde_lib train``: train (or fine-tune) one backbone on one task; every
``TrainConfig`` field has a flag. Writes OUT/metrics.json, OUT/model.pt and OUT/checkpoint.pt."""

from __future__ import annotations

import json

from pde_lib.errors import ConfigError
from pde_lib.training.config import TASKS, TrainConfig

_D = TrainConfig.__dataclass_fields__


def _default(name):
    f = _D[name]
    return f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]


def add_arguments(p) -> None:
    g = p.add_argument_group("model and task")
    g.add_argument("--model", required=True, help="backbone name (fno2d, deeponet2d, oformer2d, unet)")
    g.add_argument("--task", default="fixed_future", choices=TASKS)
    g.add_argument("--model-kwargs", default=None, metavar="JSON",
                   help='size arguments of the backbone as JSON, e.g. \'{"width": 32}\'')
    g.add_argument("--condition-on-coeffs", action="store_true", help="give the PDE coefficients to the model")
    g.add_argument("--window", type=int, default=_default("window"), help="input frames (default 8)")
    g.add_argument("--target-frame", type=int, default=_default("target_frame"),
                   help="fixed-future target / last rollout frame (default 31)")
    g.add_argument("--init", default=None, help="backbone checkpoint to start from (loaded strictly)")
    d = p.add_argument_group("data")
    for split in ("train", "valid", "test"):
        d.add_argument(f"--{split}", required=True, help=f"{split} HDF5 file")
        d.add_argument(f"--{split}-group", default=None, help=f"group of the {split} file (default: its only group)")
    d.add_argument("--pde", default=None, help="PDE to train and evaluate on (default / 'all': every sample)")
    d.add_argument("--samples", type=int, default=None, help="first N training samples (default: all)")
    o = p.add_argument_group("optimisation")
    o.add_argument("--epochs", type=int, default=_default("epochs"))
    o.add_argument("--batch-size", type=int, default=_default("batch_size"))
    o.add_argument("--lr", type=float, default=_default("lr"))
    o.add_argument("--weight-decay", type=float, default=_default("weight_decay"))
    o.add_argument("--lr-min", type=float, default=_default("lr_min"))
    o.add_argument("--seed", type=int, default=_default("seed"))
    o.add_argument("--eval-every", type=int, default=_default("eval_every"), help="validate every K epochs")
    a = p.add_argument_group("augmentation")
    a.add_argument("--augmentation", default="", metavar="NAME[,NAME]", help="augmentations to add (default none)")
    a.add_argument("--augmentation-ratio", type=float, default=_default("augmentation_ratio"))
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
    r = p.add_argument_group("run")
    r.add_argument("--device", default=_default("device"))
    r.add_argument("--out", required=True, help="output folder")
    r.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt if present")
    r.add_argument("--no-progress", action="store_true")


def config_from_args(args) -> TrainConfig:
    """The ``TrainConfig`` an argparse namespace describes."""
    model_kwargs = {}
    if args.model_kwargs:
        try:
            model_kwargs = json.loads(args.model_kwargs)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--model-kwargs is not valid JSON ({exc}): {args.model_kwargs!r}") from exc
        if not isinstance(model_kwargs, dict):
            raise ConfigError(f"--model-kwargs must be a JSON object, got {args.model_kwargs!r}")
    d = {k: getattr(args, k) for k in TrainConfig.field_names() if hasattr(args, k)}
    d.update(model_kwargs=model_kwargs, progress=not args.no_progress,
             augmentation=[s.strip() for s in args.augmentation.split(",") if s.strip()])
    return TrainConfig.from_dict(d)


def run(args) -> int:
    from pde_lib.training import run_training

    config = config_from_args(args)
    m = run_training(config)
    lines = [f"{m['model']} / {m['task']}: {m['n_train']} training samples"
             + (f" (+{m['n_train_augmented'] - m['n_train']} augmented)" if m["n_train_augmented"] > m["n_train"] else "")
             + f", {m['n_params']:,} parameters, {len(m['train_loss'])} epochs in {m['wall_time_s']:.1f} s",
             f"  best epoch {m['best_epoch']}: valid rel L2 {m['valid_rel_l2']:.4g}",
             f"  test rel L2 {m['test_rel_l2']:.4g}  (copy-last-frame baseline {m['test_copy_last_rel_l2']:.4g})"]
    if m["task"] == "next_step":
        lines.append(f"  test one-step rel L2 {m['test_one_step_rel_l2']:.4g}; rollout error at frame "
                     f"{m['rollout_frames'][-1]}: {m['test_rollout_per_step'][-1]:.4g}")
    lines.append(f"  written to {config.out}/metrics.json")
    print("\n".join(lines))
    return 0
