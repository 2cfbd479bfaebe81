"""``run_pretraining(config) -> metrics``: pretrain a backbone with one strategy
(docs/protocol.md sections 5, 7).

A thin layer on the training engine (``pde_lib.engine``): the pretext objective
``(inputs, target) -> strategy.loss(model, head, (inputs, target))`` in the engine's step loop
(``engine.stepper``), the epochs in its driver (``engine.driver``).

Order of work: validate the config and the strategy / model names, load and check the data, build
the backbone (seeded exactly as a from-scratch training run builds it, ``engine.seeding``) and
check the strategy can apply to it, hold out a fraction of the samples, append augmented copies,
build the head, then train head + backbone with one AdamW and a cosine schedule over every
optimiser step. Each epoch ends with the pretext scores on the held-out samples. Only the
backbone's weights are written (``out/backbone.pt``), never the head's. With ``resume=True`` (off
by default) the engine also writes ``out/checkpoint.pt`` (``engine.driver``: after the first and the
last epoch, and at most every ``CHECKPOINT_INTERVAL_S`` seconds between; backbone, head,
optimiser, random streams, history) and a rerun continues from it exactly.

Random streams, each seeded from ``config.seed`` alone (so they are the same for every strategy):
backbone initialisation (global torch RNG, seeded just before the model is built), batch order
(a CPU generator), the held-out subset, pretext draws (labels, masks, starts; a generator on the
run's device, so a step never synchronises with the host), the held-out pretext draws (reseeded
each epoch, so every epoch scores the same pretext problems), augmentation and input noise.

An epoch whose pretext loss or weights are not finite stops the run with a one-line TrainingError;
no backbone.pt or metrics are written (with ``resume``, the last good checkpoint stays)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import torch

from pde_lib.engine.checkpoint import save_backbone
from pde_lib.engine.data import with_augmented_copies
from pde_lib.engine.driver import run_epoch, train_runs
from pde_lib.engine.optim import make_optimizer, make_scheduler
from pde_lib.engine.run import Run, check_resume
from pde_lib.engine.seeding import build_run_model, derived_seed
from pde_lib.engine.stepper import Stepper
from pde_lib.errors import ConfigError, DataError
from pde_lib.pretraining.config import PretrainConfig
from pde_lib.pretraining.registry import STRATEGIES
from pde_lib.utils.atomic import write_json
from pde_lib.utils.device import resolve_device
from pde_lib.utils.formatting import sig
from pde_lib.utils.provenance import environment, git_commit

PRETRAINED_BACKBONE_NAME = "backbone.pt"
PRETRAIN_METRICS_NAME = "pretrain_metrics.json"


def build_strategy(config: PretrainConfig):
    """The strategy object for ``config`` (ConfigError listing the valid names if unknown)."""
    cls = STRATEGIES.get(config.strategy)
    return cls(window=config.window, head_input=config.head_input, window_start=config.window_start,
               task=config.task)


def split_holdout(ds, fraction: float, seed: int):
    """(train, held-out) datasets: a seeded random ``fraction`` of ``ds`` (>= 1 sample if > 0)."""
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


def _rows(fixed: dict | None, idx) -> dict:
    """The batch's rows of a strategy's ``per_sample`` tensors."""
    return {k: v[idx] for k, v in (fixed or {}).items()}


def _step_inputs(strategy, ds, idx, gen, noise_gen, progress, fixed=None):
    batch = strategy.make_batch(ds.u[idx], ds.coeffs[idx], ds.pde_index[idx], ds.x, gen, progress,
                                **_rows(fixed, idx))
    noise = ds.extra.get("input_noise")
    if noise is not None:  # noise augmentation: model inputs only, targets stay clean
        from pde_lib.augmentations import add_input_noise

        inputs, target = batch
        inputs = {**inputs, "frames": add_input_noise(inputs["frames"], noise[idx], noise_gen)}
        batch = (inputs, target)
    return batch


def evaluate_pretext(strategy, model, head, ds, batch_size: int, seed: int, progress: float,
                     fixed: dict | None = None) -> dict:
    """Mean pretext loss (and stats, e.g. accuracy, and ``trivial_loss``, the loss of the
    strategy's input-blind predictor where it has one) over fixed held-out pretext batches: ``ds``
    in a fixed order drawn from ``seed`` (mixed PDEs per batch, as in training: PICL's loss depends
    on a batch's mix), pretext draws from a generator reseeded with ``seed``. ``fixed``: the
    strategy's ``per_sample`` tensors of ``ds``, if computed (else ``make_batch`` computes them)."""
    device = ds.u.device
    gen = torch.Generator(device=device).manual_seed(seed)
    order = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed)).to(device)
    was_training = model.training
    model.eval()
    head.eval()
    sums: dict[str, torch.Tensor] = {}
    count = 0
    with torch.no_grad():
        for sl in _batch_slices(len(ds), batch_size):
            idx = order[sl]
            batch = strategy.make_batch(ds.u[idx], ds.coeffs[idx], ds.pde_index[idx], ds.x, gen, progress,
                                        **_rows(fixed, idx))
            loss, stats = strategy.loss(model, head, batch)
            trivial = strategy.trivial_loss(batch)
            if trivial is not None:
                stats = {**stats, "trivial_loss": trivial}
            b = sl.stop - sl.start
            for k, v in {"loss": loss, **stats}.items():
                sums[k] = sums.get(k, 0.0) + v.detach() * b
            count += b
    model.train(was_training)
    head.train(was_training)
    return {k: float(v) / max(count, 1) for k, v in sums.items()}


def holdout_figure(strategy, history: dict) -> dict:
    """The pretext task's held-out figure after the last epoch, next to what it must beat:
    classification: ``holdout_value`` the accuracy, ``holdout_reference`` chance, ``holdout_skill``
    = (accuracy - chance) / (max_accuracy - chance); regression: the loss, the loss of the
    strategy's input-blind predictor (``Strategy.trivial``), skill = 1 - loss / trivial loss.
    Skill 0: no better than the reference; 1: perfect. None where a figure is missing (no
    held-out samples, no epochs, no trivial predictor)."""
    out = {"holdout_metric": None, "holdout_value": None, "holdout_reference": None,
           "holdout_reference_is": None, "holdout_skill": None}
    if strategy.classification:
        accs = history.get("holdout_accuracy") or [None]
        value, ref = accs[-1], strategy.chance
        out.update(holdout_metric="accuracy", holdout_value=value, holdout_reference=ref,
                   holdout_reference_is="chance (1 / classes)")
        if value is not None and strategy.max_accuracy > ref:
            out["holdout_skill"] = (value - ref) / (strategy.max_accuracy - ref)
    elif strategy.trivial is not None:
        losses, trivial = history.get("holdout_loss") or [None], history.get("holdout_trivial_loss") or [None]
        value, ref = losses[-1], trivial[-1]
        out.update(holdout_metric="loss", holdout_value=value, holdout_reference=ref,
                   holdout_reference_is=strategy.trivial)
        if value is not None and ref:
            out["holdout_skill"] = 1.0 - value / ref
    return out


class PretrainRun(Run):
    """A prepared pretraining run (an engine ``Run``): strategy, backbone, head (a checkpointed
    module), data, optimiser, the engine's ``Stepper`` over the pretext objective, and the
    random streams ``data`` (batch order), ``pretext`` (labels, masks, starts; on the run's
    device) and ``noise``. ``run_pretraining`` is ``prepare_pretraining`` + the engine's driver +
    ``finish``; ``train_epoch(epoch)`` runs one epoch of it."""

    resume_ignores = ("resume", "progress", "out")
    nothing_kept = "pretraining keeps no checkpoint, so nothing was written"

    def __init__(self, config: PretrainConfig):
        from pde_lib.data import load_dataset
        from pde_lib.models import MODELS

        self.t_start = time.perf_counter()
        self.strategy = strategy = build_strategy(config)
        MODELS.get(config.model)
        if config.data is None:
            raise ConfigError("data (the pretraining HDF5 file) is required")
        check_resume(config)
        self.device = device = resolve_device(config.device)
        per_pde = config.samples_per_pde is not None
        ds = load_dataset(config.data, group=config.group, n=config.samples_per_pde if per_pde else config.samples,
                          device=device, draw=config.subset(per_pde=per_pde))
        if len(ds) < 2:
            raise DataError(f"pretraining file {config.data} holds {len(ds)} sample(s); need at least 2")
        strategy.check_data(ds)
        self.data = ds

        model = build_run_model(config)  # the same initialisation as a from-scratch training run
        strategy.check_model(model, ds.u.shape[-1])
        self.train, self.holdout = split_holdout(ds, config.holdout if strategy.trains else 0.0, config.seed)
        self.n_train_original = len(self.train)
        if config.augmentation and strategy.trains:
            self.train = with_augmented_copies(self.train, config)
        strategy.setup(self.train)
        # what make_batch would recompute from fixed data every step, once per run
        self.fixed = {"train": strategy.per_sample(self.train) if strategy.trains else {},
                      "holdout": strategy.per_sample(self.holdout)
                      if strategy.trains and self.holdout is not None and len(self.holdout) >= 2 else {}}
        torch.manual_seed(derived_seed(config.seed, "pretrain-head"))
        self.head = strategy.build_head(model, config.head_input)
        model.to(device)
        self.head.to(device)

        history: dict[str, Any] = {"pretext_loss": [], "holdout_loss": [], "lr": []}
        if strategy.classification:
            history.update(pretext_accuracy=[], holdout_accuracy=[])
        if strategy.trivial is not None:
            history["holdout_trivial_loss"] = []
        history["pretext_stats"] = {}  # other per-epoch statistics (e.g. PICL's margin)
        gens = {"data": torch.Generator().manual_seed(derived_seed(config.seed, "data")),
                "pretext": torch.Generator(device=device).manual_seed(derived_seed(config.seed, "pretext")),
                "noise": torch.Generator(device=device).manual_seed(derived_seed(config.seed, "noise"))}
        super().__init__(config, model, gens, modules={"head": self.head}, checkpoint=config.resume,
                         history=history)
        self.resume()

        self.epochs = config.epochs if strategy.trains else 0
        self.slices = _batch_slices(len(self.train), config.batch_size)
        self.optimizer = self.scheduler = self.stepper = None
        if self.epochs:
            params = list(self.model.parameters()) + list(self.head.parameters())
            self.optimizer = make_optimizer(params, config.lr, config.weight_decay)
            self.scheduler = make_scheduler(self.optimizer, self.epochs * len(self.slices), config.lr_min,
                                            config.warmup_steps)
            self.restore_optimizer(self.optimizer, self.scheduler)
            self.stepper = Stepper(self.objective, self.batches, self.optimizer, self.scheduler,
                                   modules=(self.model, self.head), clip_grad_norm=config.clip_grad_norm)
        self.hold_seed = derived_seed(config.seed, "pretext-holdout")

    @property
    def what(self) -> str:
        return f"pretraining {self.config.model}/{self.config.strategy}"

    # ---- the engine's interface -----------------------------------------------------------
    def objective(self, inputs: dict, target) -> tuple[torch.Tensor, dict]:
        """The pretext objective: the strategy's loss of backbone + head on one batch."""
        return self.strategy.loss(self.model, self.head, (inputs, target))

    def batches(self, epoch: int):
        """One epoch of pretext batches ``((inputs, target), b)``: the training samples in a
        seeded order, batches of ``batch_size`` (a trailing single sample dropped), pretext draws
        from the ``pretext`` stream, input noise from the ``noise`` stream."""
        progress = epoch / self.epochs
        perm = torch.randperm(len(self.train), generator=self.gens["data"]).to(self.device)
        for sl in self.slices:
            idx = perm[sl]
            yield _step_inputs(self.strategy, self.train, idx, self.gens["pretext"], self.gens["noise"],
                               progress, self.fixed["train"]), sl.stop - sl.start

    def end_epoch(self, epoch: int, scores: dict[str, float]) -> dict:
        """Score the held-out pretext batches; append the epoch's training means, held-out
        scores and lr to the history."""
        hold = self.evaluate(progress=epoch / self.epochs)
        h = self.history
        h["pretext_loss"].append(scores["loss"])
        h["holdout_loss"].append(hold.get("loss"))
        h["lr"].append(self.optimizer.param_groups[0]["lr"])
        if self.strategy.classification:
            h["pretext_accuracy"].append(scores["accuracy"])
            h["holdout_accuracy"].append(hold.get("accuracy"))
        if "holdout_trivial_loss" in h:
            h["holdout_trivial_loss"].append(hold.get("trivial_loss"))
        for k, v in scores.items():
            if k not in ("loss", "accuracy"):
                h["pretext_stats"].setdefault(k, []).append(v)
        return {"train": scores, "holdout": hold}

    def postfix(self, report: dict) -> dict:
        train, hold = report["train"], report["holdout"]
        post = {"loss": sig(train["loss"])}
        if self.strategy.classification:
            post["acc"] = f"{train['accuracy']:.3f}"
            if hold:
                post["hold_acc"] = f"{hold['accuracy']:.3f}"
        return post

    # ---- use --------------------------------------------------------------------------------
    def evaluate(self, ds=None, seed: int | None = None, progress: float = 0.0) -> dict:
        """Pretext loss/stats of the current backbone + head on fixed pretext batches of ``ds``
        (default: the held-out samples)."""
        fixed = self.fixed["holdout"] if ds is None else None
        ds = self.holdout if ds is None else ds
        if ds is None or len(ds) < 2:
            return {}
        return evaluate_pretext(self.strategy, self.model, self.head, ds, self.config.batch_size,
                                self.hold_seed if seed is None else seed, progress, fixed)

    def train_epoch(self, epoch: int) -> dict:
        """One epoch of the engine's driver: AdamW steps on the training samples, the divergence
        check, held-out scores, history (and, with ``resume``, the checkpoint). Returns
        ``{"train": training means, "holdout": held-out scores}``."""
        return run_epoch([self], self.stepper, epoch)[0]

    def finish(self) -> dict:
        """The metrics dict; writes OUT/backbone.pt (backbone only) and OUT/pretrain_metrics.json."""
        config, ds, model = self.config, self.data, self.model
        history = {k: v for k, v in self.history.items() if k not in ("pretext_stats", "wall_time_s")}
        metrics: dict[str, Any] = {
            "strategy": config.strategy, "model": config.model, "model_config": dict(model.config),
            "head_input": config.head_input, "classification": self.strategy.classification,
            "chance_accuracy": self.strategy.chance,
            "max_accuracy": self.strategy.max_accuracy if self.strategy.classification else None,
            **history, "pretext_stats": self.history["pretext_stats"],
            "epochs": len(history["pretext_loss"]), "steps": len(history["pretext_loss"]) * len(self.slices),
            "n_params_backbone": sum(p.numel() for p in model.parameters()),
            "n_params_head": sum(p.numel() for p in self.head.parameters()),
            "params": config.to_dict(), "seed": config.seed, "git_commit": git_commit(),
            "data": str(config.data), "group": ds.group, "data_sha256": ds.sha256,
            "n_samples": len(ds), "n_train": self.n_train_original, "n_train_augmented": len(self.train),
            "data_subset": config.subset_record(ds.rows.tolist()),
            "n_holdout": 0 if self.holdout is None else len(self.holdout),
            "environment": environment(),
        }
        metrics.update(holdout_figure(self.strategy, self.history))
        metrics["wall_time_s"] = time.perf_counter() - self.t_start
        if config.out is not None:
            out = Path(config.out)
            save_backbone(out / PRETRAINED_BACKBONE_NAME, model, extra={
                "pretrain_strategy": config.strategy, "pretrain_epochs": metrics["epochs"],
                "data_sha256": ds.sha256, "seed": config.seed})
            metrics["backbone"] = str(out / PRETRAINED_BACKBONE_NAME)
            write_json(out / PRETRAIN_METRICS_NAME, metrics)
        return metrics


def prepare_pretraining(config: PretrainConfig | dict) -> PretrainRun:
    """Validate ``config``, load and check the data, build backbone, head and optimiser, and
    (with ``resume``) load the checkpoint to continue from."""
    if isinstance(config, dict):
        config = PretrainConfig.from_dict(config)
    config.validate()
    return PretrainRun(config)


def run_pretraining(config: PretrainConfig | dict, on_epoch_end: Callable[[int, dict], None] | None = None) -> dict:
    """Pretrain ``config.model`` with ``config.strategy``; return the metrics dict (also written
    to ``out/pretrain_metrics.json``, with the backbone in ``out/backbone.pt``, when ``out`` is set).
    ``on_epoch_end(epoch, history)`` is called after each epoch (and its checkpoint, with
    ``resume``; epoch counted from 1); an exception from it stops the run, which ``resume=True``
    then continues exactly.

    Metrics: ``pretext_loss`` per epoch (mean over training batches); for classification
    strategies ``pretext_accuracy`` per epoch on training batches and ``holdout_accuracy`` on the
    held-out pretext batches, and ``chance_accuracy``; ``holdout_loss`` per epoch (None where
    fewer than 2 samples are held out); ``lr`` at the end of each epoch; ``pretext_stats`` (other
    per-epoch statistics, e.g. PICL's margin); ``holdout_trivial_loss`` per epoch for regression
    strategies with an input-blind predictor, and the last epoch's held-out figure against chance or
    that predictor (``holdout_figure``: ``holdout_metric``, ``holdout_value``, ``holdout_reference``,
    ``holdout_reference_is``, ``holdout_skill``); ``n_params_backbone`` / ``n_params_head``;
    ``params`` (the config), ``seed``, ``git_commit``, ``data_sha256``; ``wall_time_s``."""
    run = prepare_pretraining(config)
    cfg = run.config
    hook = None if on_epoch_end is None else (lambda epoch, histories: on_epoch_end(epoch, histories[0]))
    train_runs([run], run.stepper, epochs=run.epochs, desc=f"pretrain {cfg.model}/{cfg.strategy}", on_epoch_end=hook)
    return run.finish()
