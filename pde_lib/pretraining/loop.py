"""``run_pretraining(config) -> metrics``: pretrain a backbone with one strategy (STUDY_SPEC 5, 7).

Order of work: validate the config and the strategy / model names, load and check the data, build
the backbone (seeded exactly as a from-scratch training run builds it) and check the strategy can
apply to it, hold out a fraction of the samples, append augmented copies, build the head, then
train head + backbone with one AdamW and a cosine schedule over every optimiser step. Only the
backbone's weights are written (``out/backbone.pt``), never the head's.

Random streams, each seeded from ``config.seed`` alone (so they are the same for every strategy):
backbone initialisation (global torch RNG, seeded just before the model is built), batch order
(a CPU generator), the held-out subset, pretext draws (labels, masks, starts; a generator on the
run's device, so a step never synchronises with the host), the held-out pretext draws (reseeded
each epoch, so every epoch scores the same pretext problems), augmentation and input noise."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from pde_lib.errors import ConfigError, DataError
from pde_lib.pretraining.config import PretrainConfig
from pde_lib.utils.atomic import write_json
from pde_lib.utils.provenance import environment, git_commit

BACKBONE_NAME = "backbone.pt"
METRICS_NAME = "pretrain_metrics.json"


def build_strategy(config: PretrainConfig):
    """The strategy object for ``config`` (ConfigError listing the valid names if unknown)."""
    from pde_lib.pretraining import STRATEGIES

    cls = STRATEGIES.get(config.strategy)
    return cls(window=config.window, head_input=config.head_input, window_start=config.window_start,
               task=config.task)


def split_holdout(ds, fraction: float, seed: int):
    """(train, held-out) datasets: a seeded random ``fraction`` of ``ds`` (>= 1 sample if > 0)."""
    from pde_lib.training.data import derived_seed

    n = len(ds)
    n_hold = 0 if fraction <= 0 else max(1, int(round(fraction * n)))
    if n - n_hold < 2:
        raise DataError(f"{ds.path}: {n} samples leave {n - n_hold} for pretraining after holding out "
                        f"{n_hold} (holdout={fraction}); need at least 2")
    gen = torch.Generator().manual_seed(derived_seed(seed, "pretrain-holdout"))
    perm = torch.randperm(n, generator=gen)
    hold_idx, train_idx = perm[:n_hold].sort().values, perm[n_hold:].sort().values
    return ds.select(train_idx), (ds.select(hold_idx) if n_hold else None)


def _batch_slices(n: int, batch_size: int) -> list[slice]:
    """Batches of ``batch_size``; a trailing batch of one sample is dropped (no pairs for PICL)."""
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size) if min(i + batch_size, n) - i >= 2]


def _augment(ds, config: PretrainConfig):
    try:
        from pde_lib.augmentations import augment_dataset
    except ImportError as exc:
        raise ConfigError(f"augmentation {config.augmentation} requested but "
                          f"pde_lib.augmentations.augment_dataset is not available ({exc})") from exc
    from pde_lib.training.data import derived_seed

    gen = torch.Generator().manual_seed(derived_seed(config.seed, "augmentation"))
    return augment_dataset(ds, list(config.augmentation), config.augmentation_ratio, gen,
                           strict=config.strict_augmentation, **config.augmentation_strengths())


def _step_inputs(strategy, ds, idx, gen, noise_gen, progress):
    batch = strategy.make_batch(ds.u[idx], ds.coeffs[idx], ds.pde_index[idx], ds.x, gen, progress)
    noise = ds.extra.get("input_noise")
    if noise is not None:  # noise augmentation: model inputs only, targets stay clean
        from pde_lib.augmentations import add_input_noise

        inputs, target = batch
        inputs = {**inputs, "frames": add_input_noise(inputs["frames"], noise[idx], noise_gen)}
        batch = (inputs, target)
    return batch


def evaluate_pretext(strategy, model, head, ds, batch_size: int, seed: int, progress: float) -> dict:
    """Mean pretext loss (and stats, e.g. accuracy) over fixed held-out pretext batches: ``ds`` in
    order, pretext draws from a generator reseeded with ``seed``."""
    device = ds.u.device
    gen = torch.Generator(device=device).manual_seed(seed)
    was_training = model.training
    model.eval()
    head.eval()
    sums: dict[str, torch.Tensor] = {}
    count = 0
    with torch.no_grad():
        for sl in _batch_slices(len(ds), batch_size):
            idx = torch.arange(sl.start, sl.stop, device=device)
            batch = strategy.make_batch(ds.u[idx], ds.coeffs[idx], ds.pde_index[idx], ds.x, gen, progress)
            loss, stats = strategy.loss(model, head, batch)
            b = sl.stop - sl.start
            for k, v in {"loss": loss, **stats}.items():
                sums[k] = sums.get(k, 0.0) + v.detach() * b
            count += b
    model.train(was_training)
    head.train(was_training)
    return {k: float(v) / max(count, 1) for k, v in sums.items()}


def run_pretraining(config: PretrainConfig | dict) -> dict:
    """Pretrain ``config.model`` with ``config.strategy``; return the metrics dict (also written
    to ``out/pretrain_metrics.json``, with the backbone in ``out/backbone.pt``, when ``out`` is set).

    Metrics: ``pretext_loss`` per epoch (mean over training batches); for classification
    strategies ``pretext_accuracy`` per epoch on training batches and ``holdout_accuracy`` on the
    held-out pretext batches, and ``chance_accuracy``; ``holdout_loss`` per epoch; ``lr`` at the end
    of each epoch; ``n_params_backbone`` / ``n_params_head``; ``params`` (the config), ``seed``,
    ``git_commit``, ``data_sha256``; ``wall_time_s``."""
    t_start = time.perf_counter()
    if isinstance(config, dict):
        config = PretrainConfig.from_dict(config)
    config.validate()
    from pde_lib.data import load_dataset
    from pde_lib.models import MODELS, build_model
    from pde_lib.training.checkpoint import save_backbone
    from pde_lib.training.data import derived_seed, resolve_device
    from pde_lib.training.optim import make_optimizer, make_scheduler

    strategy = build_strategy(config)
    MODELS.get(config.model)
    if config.data is None:
        raise ConfigError("data (the pretraining HDF5 file) is required")
    device = resolve_device(config.device)
    ds = load_dataset(config.data, group=config.group, n=config.samples, device=device)
    if len(ds) < 2:
        raise DataError(f"pretraining file {config.data} holds {len(ds)} sample(s); need at least 2")
    strategy.check_data(ds)

    torch.manual_seed(config.seed)  # the same initialisation as a from-scratch training run
    model = build_model(config.model, in_frames=config.window, coeff_dim=5,
                        condition_on_coeffs=config.condition_on_coeffs, **config.model_kwargs)
    strategy.check_model(model, ds.u.shape[-1])
    train_ds, hold_ds = split_holdout(ds, config.holdout if strategy.trains else 0.0, config.seed)
    n_train_original = len(train_ds)
    if config.augmentation and strategy.trains:
        train_ds = _augment(train_ds, config)
    strategy.setup(train_ds)
    torch.manual_seed(derived_seed(config.seed, "pretrain-head"))
    head = strategy.build_head(model, config.head_input)
    model.to(device)
    head.to(device)

    history: dict[str, Any] = {"pretext_loss": [], "holdout_loss": [], "lr": []}
    if strategy.classification:
        history.update(pretext_accuracy=[], holdout_accuracy=[])
    extra_stats: dict[str, list] = {}
    slices = _batch_slices(len(train_ds), config.batch_size)
    epochs = config.epochs if strategy.trains else 0
    if epochs:
        params = list(model.parameters()) + list(head.parameters())
        optimizer = make_optimizer(params, config.lr, config.weight_decay)
        scheduler = make_scheduler(optimizer, epochs * len(slices), config.lr_min)
    order_gen = torch.Generator().manual_seed(derived_seed(config.seed, "data"))
    pretext_gen = torch.Generator(device=device).manual_seed(derived_seed(config.seed, "pretext"))
    noise_gen = torch.Generator(device=device).manual_seed(derived_seed(config.seed, "noise"))
    hold_seed = derived_seed(config.seed, "pretext-holdout")

    bar = tqdm(range(epochs), desc=f"pretrain {config.model}/{config.strategy}", unit="epoch",
               disable=not config.progress)
    for epoch in bar:
        progress = epoch / epochs
        model.train()
        head.train()
        perm = torch.randperm(len(train_ds), generator=order_gen).to(device)
        sums: dict[str, torch.Tensor] = {}
        count = 0
        for sl in slices:
            idx = perm[sl]
            batch = _step_inputs(strategy, train_ds, idx, pretext_gen, noise_gen, progress)
            loss, stats = strategy.loss(model, head, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            b = sl.stop - sl.start
            for k, v in {"loss": loss, **stats}.items():
                sums[k] = sums.get(k, 0.0) + v.detach() * b
            count += b
        train = {k: float(v) / count for k, v in sums.items()}  # one host sync per epoch
        hold = (evaluate_pretext(strategy, model, head, hold_ds, config.batch_size, hold_seed, progress)
                if hold_ds is not None and len(hold_ds) >= 2 else {})
        history["pretext_loss"].append(train["loss"])
        history["holdout_loss"].append(hold.get("loss"))
        history["lr"].append(optimizer.param_groups[0]["lr"])
        if strategy.classification:
            history["pretext_accuracy"].append(train["accuracy"])
            history["holdout_accuracy"].append(hold.get("accuracy"))
        for k, v in train.items():
            if k not in ("loss", "accuracy"):
                extra_stats.setdefault(k, []).append(v)
        post = {"loss": f"{train['loss']:.4f}"}
        if strategy.classification:
            post["acc"] = f"{train['accuracy']:.3f}"
            if hold:
                post["hold_acc"] = f"{hold['accuracy']:.3f}"
        bar.set_postfix(post)
    bar.close()

    metrics: dict[str, Any] = {
        "strategy": config.strategy, "model": config.model, "model_config": dict(model.config),
        "head_input": config.head_input, "classification": strategy.classification,
        "chance_accuracy": strategy.chance, **history, "pretext_stats": extra_stats,
        "epochs": epochs, "steps": epochs * len(slices),
        "n_params_backbone": sum(p.numel() for p in model.parameters()),
        "n_params_head": sum(p.numel() for p in head.parameters()),
        "params": config.to_dict(), "seed": config.seed, "git_commit": git_commit(),
        "data": str(config.data), "group": ds.group, "data_sha256": ds.sha256,
        "n_samples": len(ds), "n_train": n_train_original, "n_train_augmented": len(train_ds),
        "n_holdout": 0 if hold_ds is None else len(hold_ds),
        "environment": environment(),
    }
    metrics["wall_time_s"] = time.perf_counter() - t_start
    if config.out is not None:
        out = Path(config.out)
        save_backbone(out / BACKBONE_NAME, model, extra={
            "pretrain_strategy": config.strategy, "pretrain_epochs": epochs,
            "data_sha256": ds.sha256, "seed": config.seed})
        metrics["backbone"] = str(out / BACKBONE_NAME)
        write_json(out / METRICS_NAME, metrics)
    return metrics
