"""The one epoch loop: ``train_runs(runs, stepper, epochs=..., desc=...)`` trains one run, or K
stacked runs together, from their start epoch to ``epochs``.

Each epoch (``run_epoch``):

1. ``stepper.epoch(epoch)``: the optimiser steps over the epoch's batches, one score dict per run;
2. the divergence check (``utils.divergence``): a run whose loss or weights are not finite stops
   the whole call with a one-line TrainingError, before anything of this epoch is written;
3. per run, ``stepper.export(k, run.model)`` (a stacked run's weights into its own module), then
   ``run.end_epoch(epoch, scores)``: evaluation, best-state selection, history;
4. per run, the epoch's time is added to ``history["wall_time_s"]`` and, if the run keeps one
   and a checkpoint is due, its training state is written atomically to ``out/checkpoint.pt``.

A checkpoint is due after the first epoch of a call, after the last epoch, and otherwise once
``CHECKPOINT_INTERVAL_S`` seconds have passed since the previous one (at the laptop study's
sizes an epoch takes milliseconds and writing the state every epoch cost a tenth of a
fine-tune); a run killed in between resumes exactly from its last checkpoint, redoing at most
that many seconds. After each epoch ``on_epoch_end(epoch + 1, [run.history, ...])`` is called;
an exception from it stops training, after writing the epoch's checkpoint if it was not due, so
a resumed run continues exactly from the epoch the exception followed. A tqdm bar shows progress unless
``config.progress`` is off. What a run writes at the end (metrics files, last) is its caller's
``finish``; the driver writes only checkpoints."""

from __future__ import annotations

import time
from typing import Callable, Sequence

from tqdm.auto import tqdm

from pde_lib.engine.checkpoint import save_training_state
from pde_lib.engine.run import Run
from pde_lib.engine.stepper import Stepper
from pde_lib.utils.divergence import check_epoch
from pde_lib.utils.formatting import sig
from pde_lib.utils.memory import retain_freed_memory


#: seconds between training-state checkpoints after the first epoch's (the last epoch's is always written)
CHECKPOINT_INTERVAL_S = 30.0


def write_checkpoints(runs: Sequence[Run], stepper: Stepper, epochs_done: int) -> None:
    """Each run that keeps one: its training state after ``epochs_done`` epochs, atomically."""
    for k, run in enumerate(runs):
        if run.ckpt_path is not None:
            save_training_state(run.ckpt_path, config=run.config.to_dict(), epoch=epochs_done, model=run.model,
                                optimizer=stepper.optimizer_state(k), scheduler=stepper.scheduler,
                                generators=run.gens, best=run.best, history=run.history, modules=run.modules)
            run.saved_epoch = epochs_done


def run_epoch(runs: Sequence[Run], stepper: Stepper, epoch: int, checkpoint: bool = True) -> list[dict]:
    """Epoch ``epoch`` (0-based) of ``runs`` (steps 1-4 above, the checkpoint if ``checkpoint``);
    each run's ``end_epoch`` report."""
    t_epoch = time.perf_counter()
    scores = stepper.epoch(epoch)
    weights_ok = stepper.finite_weights()
    for run, score, ok in zip(runs, scores, weights_ok):  # before any checkpoint of this epoch
        check_epoch(score["loss"], ok, **run.divergence(epoch))
    reports = []
    for k, run in enumerate(runs):
        stepper.export(k, run.model)
        reports.append(run.end_epoch(epoch, scores[k]))
    elapsed = time.perf_counter() - t_epoch
    for run in runs:
        run.history["wall_time_s"] += elapsed  # a stacked epoch: every run progressed during it
    if checkpoint:
        write_checkpoints(runs, stepper, epoch + 1)
    return reports


def train_runs(runs: Sequence[Run], stepper: Stepper, *, epochs: int, desc: str,
               on_epoch_end: Callable[[int, list[dict]], None] | None = None) -> None:
    """Train ``runs`` (all at the same start epoch) through epoch ``epochs`` with ``stepper``.

    Freed activation buffers stay in the process heap (``utils.memory.retain_freed_memory``):
    at the laptop study's sizes a step allocates and frees buffers of 1-2 MiB dozens of times,
    and glibc's defaults would map, fault in and zero their pages again each time."""
    retain_freed_memory()
    start = runs[0].start_epoch
    bar = tqdm(range(start, epochs), desc=desc, unit="epoch", disable=not runs[0].config.progress,
               initial=start, total=epochs)
    last_checkpoint = time.perf_counter()
    for epoch in bar:
        due = (epoch == start or epoch + 1 == epochs
               or time.perf_counter() - last_checkpoint >= CHECKPOINT_INTERVAL_S)
        reports = run_epoch(runs, stepper, epoch, checkpoint=due)
        if due:
            last_checkpoint = time.perf_counter()
        if len(runs) == 1:
            bar.set_postfix(runs[0].postfix(reports[0]))
        else:
            bar.set_postfix(loss=sig(sum(r["loss"] for r in reports) / len(reports)))
        if on_epoch_end is not None:
            try:
                on_epoch_end(epoch + 1, [run.history for run in runs])
            except BaseException:
                if not due:  # the interrupted run resumes from this epoch
                    write_checkpoints(runs, stepper, epoch + 1)
                raise
    bar.close()
