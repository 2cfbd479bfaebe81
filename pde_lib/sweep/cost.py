"""Estimated cost of a cell, so a sweep starts its most expensive cells first.

Cells run on a fixed number of workers; if the longest cell starts last, it runs alone at the
end while the other workers idle (the laptop study's last cell, a Galilean-augmented transfer
pretraining, ran alone for 4 of its 89 minutes). ``cell_cost`` counts sample-epochs at the
stored resolution, a proxy that orders cells well without timing anything:

    pretraining: epochs * (pretraining trajectories of every PDE at the cell's fraction)
                 * (1 + augmentation_ratio if the cell pretrains on augmented data),
    each fine-tune: epochs * (train samples * (1 + augmentation_ratio if augmented) + valid
                 samples) * (resolution / stored resolution)^2 (Navier-Stokes at 64^2: 4).

``priorities`` turns the costs into Dask task priorities (higher runs first); equal costs keep
the grid's order. The order of execution changes no result: a cell depends only on its own
seed."""

from __future__ import annotations

from pde_lib.params.run_settings import run_settings
from pde_lib.params.study import BASE_PDES
from pde_lib.sweep.grid import NAVIER_STOKES, Cell, finetunes


def cell_cost(params, cell: Cell) -> float:
    """Sample-epochs of ``cell`` (module doc)."""
    augmented = 1.0 + (params.finetune.augmentation_ratio if cell.augmentation else 0.0)
    cost = 0.0
    if cell.strategy != "none":
        pre_aug = augmented if params.pretrain.get("augment", False) else 1.0
        pre_epochs = run_settings(params, cell.model, "pretrain")["epochs"]
        cost += pre_epochs * params.pretrain_samples(cell.fraction) * len(BASE_PDES) * pre_aug
    d = params.data
    epochs = run_settings(params, cell.model, "finetune")["epochs"]
    for ft in finetunes(params, cell):
        if ft.pde == NAVIER_STOKES:
            valid, area = d.navier_stokes.samples.valid, (d.navier_stokes.resolution / d.resolution) ** 2
        else:
            valid, area = d.samples.valid, 1.0
        cost += epochs * (ft.samples * augmented + valid) * area
    return float(cost)


def priorities(params, cells: list[Cell]) -> dict[str, int]:
    """Cell id -> Dask priority: the rank of its cost (the most expensive cell highest; among
    equal costs, earlier cells of the grid higher)."""
    order = sorted(range(len(cells)), key=lambda i: (cell_cost(params, cells[i]), -i))
    return {cells[i].id: rank for rank, i in enumerate(order)}
