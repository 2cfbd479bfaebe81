"""Shared fixtures: the seed of the learning tests and the recorder of their figures.

A *learning test* asserts that something was learned (a pretext loss falls, a classifier beats
chance, a model beats copy-last-frame). Its threshold is set from the spread of its figure over
seeds 0..4 (``python tests/learning_margins.py`` re-measures it): ``PDE_LEARNING_SEED`` picks the
seed (default 0) and ``PDE_LEARNING_FIGURES=FILE`` appends each figure to FILE as a JSON line."""

from __future__ import annotations

import json
import os

import pytest

#: test modules that check orchestration (files, processes, notebooks, CLIs, docs), whose results
#: do not depend on which CPU kernels torch runs; marked ``orchestration``. .ci/run re-runs the
#: other (numerical) fast tests under torch's other CPU kernels.
ORCHESTRATION_MODULES = frozenset({
    "test_architecture", "test_bad_input_cli", "test_cli_output", "test_cluster_security", "test_docs",
    "test_kill_resume", "test_notebooks", "test_offline_html", "test_params", "test_publish",
    "test_published", "test_slurm", "test_study_report", "test_subgrids", "test_sweep"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in ORCHESTRATION_MODULES:
            item.add_marker(pytest.mark.orchestration)


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
