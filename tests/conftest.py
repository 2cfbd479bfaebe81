"""Shared fixtures: the seed of the learning tests and the recorder of their figures.

A *learning test* asserts that something was learned (a pretext loss falls, a classifier beats
chance, a model beats copy-last-frame). Its threshold is set from the spread of its figure over
seeds 0..4 (``python tests/learning_margins.py`` re-measures it): ``PDE_LEARNING_SEED`` picks the
seed (default 0) and ``PDE_LEARNING_FIGURES=FILE`` appends each figure to FILE as a JSON line."""

from __future__ import annotations

import json
import os

import pytest


@pytest.fixture
def learning_seed() -> int:
    """The seed of model initialisation and batch order in a learning test (default 0)."""
    return int(os.environ.get("PDE_LEARNING_SEED", "0"))


def halfway_bar(worst: float, null: float) -> float:
    """The threshold of a learning test whose figure has ``null`` when nothing is learned (a loss
    ratio of 1, chance accuracy) and ``worst`` at the worst of seeds 0..4: halfway between them, so
    the worst measured seed clears it by half of what it learned."""
    return (worst + null) / 2


@pytest.fixture
def learned(request, learning_seed):
    """``learned(value, worst=W, null=N)``: assert a learning test's figure clears the bar halfway
    between ``null`` and ``W``, the worst of five seeds (a fixed bar: ``below=`` / ``above=``), and
    record the figure when ``PDE_LEARNING_FIGURES`` is set."""

    def check(value: float, *, worst: float | None = None, null: float = 1.0, below: float | None = None,
              above: float | None = None, note: str = ""):
        if worst is not None:
            bar = halfway_bar(worst, null)
            below, above = (bar, None) if worst < null else (None, bar)
        if (below is None) == (above is None):
            raise TypeError("give worst= or exactly one of below= / above=")
        path = os.environ.get("PDE_LEARNING_FIGURES")
        if path:
            row = dict(test=request.node.nodeid, seed=learning_seed, value=float(value),
                       threshold=below if above is None else above,
                       direction="below" if above is None else "above", note=note)
            with open(path, "a") as f:
                f.write(json.dumps(row) + "\n")
        if below is not None:
            assert value < below, f"{request.node.name}: {value:.4g} not below {below:.4g} (seed {learning_seed}) {note}"
        else:
            assert value > above, f"{request.node.name}: {value:.4g} not above {above:.4g} (seed {learning_seed}) {note}"

    return check
