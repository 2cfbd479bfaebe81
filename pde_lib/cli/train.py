"""``python -m pde_lib train``: train (or fine-tune) one backbone on one task; every
``TrainConfig`` field has a flag. Writes OUT/metrics.json, OUT/model.pt and OUT/checkpoint.pt."""

from __future__ import annotations

import os

from pde_lib.cli import checks, options
from pde_lib.cli.options import add_augmentation_arguments, add_optim_arguments
from pde_lib.data.subset import SUBSET_DRAWS
from pde_lib.errors import ConfigError
from pde_lib.engine.windowing import TASKS
from pde_lib.training.config import TrainConfig


def _default(name):
    return options.dataclass_default(TrainConfig, name)


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
    d.add_argument("--samples", type=int, default=None,
                   help="N training samples (default: all), drawn as --subset-draw says")
    d.add_argument("--subset-draw", default=_default("subset_draw"), choices=SUBSET_DRAWS,
                   help="prefix: the first N samples of the file (the same for every seed); per_seed: the "
                        "first N of a permutation seeded from --subset-seed and the PDE (default: prefix)")
    d.add_argument("--subset-seed", type=int, default=None,
                   help="seed of the per_seed draw (default: --seed)")
    add_optim_arguments(p, TrainConfig)
    p.add_argument("--eval-every", type=int, default=_default("eval_every"), help="validate every K epochs")
    add_augmentation_arguments(p, TrainConfig)
    r = p.add_argument_group("run")
    r.add_argument("--device", default=_default("device"))
    r.add_argument("--cuda-graphs", action="store_true",
                   help="replay each training step as one CUDA graph (CUDA devices only; same steps)")
    r.add_argument("--out", required=True, help="output folder")
    r.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt if present")
    r.add_argument("--overwrite", action="store_true",
                   help="replace the run in OUT (metrics.json, model.pt, checkpoint.pt; default: refuse)")
    r.add_argument("--no-progress", action="store_true")


def check_arguments(config: TrainConfig, overwrite: bool) -> list:
    """Every argument before any data is read: ranges, names, device, input files, and the output
    folder (never one of the inputs; an existing run only with --resume or --overwrite). Returns
    the old result files --overwrite replaces."""
    from pde_lib.models import MODELS
    from pde_lib.training.data import check_pde_name
    from pde_lib.training.run_setup import BACKBONE_NAME, CHECKPOINT_NAME, METRICS_NAME

    config.validate()
    MODELS.get(config.model)
    check_pde_name(config.pde)
    checks.check_device(config.device)
    inputs = [(f"--{k}", getattr(config, k)) for k in ("train", "valid", "test", "init")]
    for flag, path in inputs:
        if path is not None and not os.path.isfile(path):
            raise ConfigError(f"{flag} {path} does not exist (or is not a file)")
    return checks.check_output_folder(config.out, (METRICS_NAME, BACKBONE_NAME, CHECKPOINT_NAME), inputs,
                                      overwrite=overwrite, resume=config.resume, can_resume=True)


def run(args) -> int:
    from pde_lib.training import run_training
    from pde_lib.utils.formatting import sig

    config = options.config_from_args(TrainConfig, args)
    stale = check_arguments(config, args.overwrite)
    checks.remove(stale)
    m = run_training(config)
    drawn = config.subset()
    lines = [f"{m['model']} / {m['task']}: {m['n_train']} training samples"
             + (f" (drawn with seed {drawn.seed})" if drawn is not None else "")
             + (f" (+{m['n_train_augmented'] - m['n_train']} augmented)" if m["n_train_augmented"] > m["n_train"] else "")
             + f", {m['n_params']:,} parameters, {len(m['train_loss'])} epochs in {m['wall_time_s']:.1f} s",
             f"  best epoch {m['best_epoch']}: valid rel L2 {sig(m['valid_rel_l2'])}",
             f"  test rel L2 {sig(m['test_rel_l2'])}  (copy-last-frame baseline {sig(m['test_copy_last_rel_l2'])})"]
    if m["task"] == "next_step":
        lines.append(f"  test one-step rel L2 {sig(m['test_one_step_rel_l2'])}; rollout error at frame "
                     f"{m['rollout_frames'][-1]}: {sig(m['test_rollout_per_step'][-1])}")
    lines.append(f"  written to {config.out}/metrics.json")
    print("\n".join(lines))
    return 0
