"""``python -m pde_lib pretrain``: pretrain one backbone with one strategy; every
``PretrainConfig`` field has a flag. Writes OUT/backbone.pt (backbone weights only) and
OUT/pretrain_metrics.json. Fine-tune with ``python -m pde_lib train ... --init OUT/backbone.pt``."""

from __future__ import annotations

import os

from pde_lib.cli import checks, options
from pde_lib.cli.options import add_augmentation_arguments, add_optim_arguments
from pde_lib.data.subset import SUBSET_DRAWS
from pde_lib.errors import ConfigError
from pde_lib.pretraining.base import HEAD_INPUTS, WINDOW_STARTS
from pde_lib.engine.windowing import TASKS
from pde_lib.pretraining.config import PretrainConfig


def _default(name):
    return options.dataclass_default(PretrainConfig, name)


def add_arguments(p) -> None:
    g = p.add_argument_group("strategy and model")
    g.add_argument("--strategy", required=True,
                   help="none, transfer, picl, binary, time_sort, space_sort, jigsaw, derivative, "
                        "coefficient or masked")
    g.add_argument("--model", required=True, help="backbone name (fno2d, deeponet2d, oformer2d, unet)")
    g.add_argument("--model-kwargs", default=None, metavar="JSON",
                   help='size arguments of the backbone as JSON, e.g. \'{"width": 32}\'')
    g.add_argument("--condition-on-coeffs", action="store_true", help="give the PDE coefficients to the model")
    g.add_argument("--head-input", default=_default("head_input"), choices=HEAD_INPUTS,
                   help="what the pretext head reads: backbone features (default) or its 1-channel output")
    g.add_argument("--task", default=_default("task"), choices=TASKS, help="downstream task of 'transfer'")
    g.add_argument("--window", type=int, default=_default("window"), help="input frames (default 8)")
    g.add_argument("--window-start", default=_default("window_start"), choices=WINDOW_STARTS,
                   help="pretext window: frames 0..window-1 (first) or a random start per sample")
    d = p.add_argument_group("data")
    d.add_argument("--data", required=True, help="pretraining HDF5 file")
    d.add_argument("--group", default=None, help="group of the file (default: its only group)")
    d.add_argument("--samples", type=int, default=None, help="N samples (default: all), drawn as --subset-draw says")
    d.add_argument("--samples-per-pde", type=int, default=None,
                   help="N samples of each PDE in the file instead (not with --samples)")
    d.add_argument("--subset-draw", default=_default("subset_draw"), choices=SUBSET_DRAWS,
                   help="prefix: the first N samples (default); per_seed: the first N of a permutation seeded "
                        "from --subset-seed and the PDE")
    d.add_argument("--subset-seed", type=int, default=None, help="seed of the per_seed draw (default: --seed)")
    d.add_argument("--holdout", type=float, default=_default("holdout"),
                   help="fraction of samples held out to score the pretext task (default 0.05)")
    add_optim_arguments(p, PretrainConfig)
    add_augmentation_arguments(p, PretrainConfig)
    r = p.add_argument_group("run")
    r.add_argument("--device", default=_default("device"))
    r.add_argument("--out", required=True, help="output folder (backbone.pt, pretrain_metrics.json)")
    r.add_argument("--overwrite", action="store_true",
                   help="replace an earlier pretraining in OUT (default: refuse)")
    r.add_argument("--no-progress", action="store_true")


def check_arguments(config: PretrainConfig, overwrite: bool) -> list:
    """Every argument before any data is read: ranges, names, device, the data file, and the
    output folder (never the data file; an earlier pretraining only with --overwrite). Returns
    the old result files --overwrite replaces."""
    from pde_lib.models import MODELS
    from pde_lib.pretraining.loop import PRETRAINED_BACKBONE_NAME, PRETRAIN_METRICS_NAME, build_strategy

    config.validate()
    build_strategy(config)
    MODELS.get(config.model)
    checks.check_device(config.device)
    if not os.path.isfile(config.data):
        raise ConfigError(f"--data {config.data} does not exist (or is not a file)")
    return checks.check_output_folder(config.out, (PRETRAINED_BACKBONE_NAME, PRETRAIN_METRICS_NAME), [("--data", config.data)],
                                      overwrite=overwrite)


def run(args) -> int:
    from pde_lib.pretraining import run_pretraining
    from pde_lib.utils.formatting import sig

    config = options.config_from_args(PretrainConfig, args)
    checks.remove(check_arguments(config, args.overwrite))
    m = run_pretraining(config)
    line = (f"{m['strategy']} / {m['model']}: {m['n_train']} pretraining samples"
            + (f" (+{m['n_train_augmented'] - m['n_train']} augmented)" if m["n_train_augmented"] > m["n_train"] else "")
            + f", {m['n_holdout']} held out, {m['n_params_backbone']:,} backbone + {m['n_params_head']:,} head "
            f"parameters, {m['epochs']} epochs in {m['wall_time_s']:.1f} s")
    lines = [line]
    if m["pretext_loss"]:
        lines.append(f"  pretext loss {sig(m['pretext_loss'][0])} -> {sig(m['pretext_loss'][-1])}")
    if m["classification"] and m["pretext_accuracy"]:
        hold = m["holdout_accuracy"][-1]
        lines.append(f"  pretext accuracy {m['pretext_accuracy'][-1]:.3f} (held out "
                     f"{'-' if hold is None else f'{hold:.3f}'}; chance {m['chance_accuracy']:.3f})")
    lines.append(f"  written to {config.out}/backbone.pt and pretrain_metrics.json")
    print("\n".join(lines))
    return 0
