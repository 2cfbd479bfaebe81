"""Grid expansion: a study's parameters -> cells (backbone x strategy x augmentation x seed
[x pretraining fraction]) -> each cell's fine-tunes (task x distribution x PDE x samples).

Ids are stable, readable and filesystem-safe: ``fno2d__transfer__shift+noise__s0`` for a cell,
``fixed_future__id__heat__n100`` for a fine-tune."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fractions import Fraction

from pde_lib.errors import ConfigError

NAVIER_STOKES = "navier_stokes"


def augmentation_label(augmentation) -> str:
    """``[]`` -> "none", ``["shift", "noise"]`` -> "shift+noise" (order kept)."""
    return "+".join(augmentation) if augmentation else "none"


def fraction_label(fraction) -> str:
    """1 -> "1", 1/9 -> "1of9"."""
    f = Fraction(fraction)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}of{f.denominator}"


@dataclass(frozen=True)
class FineTune:
    """One fine-tuning run of a cell."""

    task: str
    distribution: str
    pde: str
    samples: int

    @property
    def id(self) -> str:
        return f"{self.task}__{self.distribution}__{self.pde}__n{self.samples}"

    @classmethod
    def from_id(cls, ft_id: str) -> "FineTune":
        """Inverse of ``id``."""
        parts = ft_id.split("__")
        if len(parts) != 4 or not parts[3].startswith("n") or not parts[3][1:].isdigit():
            raise ValueError(f"not a fine-tune id: {ft_id!r} (expected TASK__DIST__PDE__nSAMPLES)")
        return cls(parts[0], parts[1], parts[2], int(parts[3][1:]))


@dataclass(frozen=True)
class Cell:
    """One grid cell: a backbone (``model`` is its label in ``grid.models``, ``backbone`` the
    registered name), a strategy, an augmentation list and a seed; pretrained at most once."""

    model: str
    backbone: str
    strategy: str
    augmentation: tuple[str, ...]
    seed: int
    pretrain_fraction: str = "1"
    model_kwargs: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def id(self) -> str:
        parts = [self.model, self.strategy, augmentation_label(self.augmentation), f"s{self.seed}"]
        if self.pretrain_fraction != "1":
            parts.append(f"pf{self.pretrain_fraction}")
        return "__".join(parts)

    @property
    def augmentation_label(self) -> str:
        return augmentation_label(self.augmentation)

    @property
    def fraction(self) -> Fraction:
        num, _, den = self.pretrain_fraction.partition("of")
        return Fraction(int(num), int(den or 1))

    def coordinates(self) -> dict:
        """The grid coordinates of this cell, as columns of results.csv."""
        return {"model": self.model, "backbone": self.backbone, "strategy": self.strategy,
                "augmentation": self.augmentation_label, "seed": self.seed,
                "pretrain_fraction": self.pretrain_fraction}

    def to_dict(self) -> dict:
        d = asdict(self)
        d["augmentation"] = list(self.augmentation)
        d["id"] = self.id
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Cell":
        d = {k: v for k, v in d.items() if k != "id"}
        d["augmentation"] = tuple(d.get("augmentation", ()))
        return cls(**d)


def _product(params, models, strategies, augmentations, seeds, fractions=None) -> list[Cell]:
    """Cells of one full product, in the fixed order model, strategy, augmentation, fraction,
    seed (file order of each list); ``fractions`` None: ``pretrain.fractions``."""
    g = params.grid
    fractions = list(fractions) if fractions else list(params.pretrain.fractions)
    cells = []
    for label in models:
        kwargs = g.models[label]
        backbone = kwargs.get("model", label)
        kw = {k: v for k, v in kwargs.items() if k != "model"}
        for strategy in strategies:
            for aug in augmentations:
                for frac in (fractions if strategy != "none" else [Fraction(1)]):
                    for seed in seeds:
                        cells.append(Cell(model=label, backbone=backbone, strategy=strategy,
                                          augmentation=tuple(aug), seed=seed,
                                          pretrain_fraction=fraction_label(frac), model_kwargs=kw))
    return cells


def subgrid_cells(params) -> list[tuple[dict, list[Cell]]]:
    """``[(sub-grid, its cells)]`` in file order; a study without ``grid.subgrids`` is one
    sub-grid named "grid" (the full product, with the ``finetune`` section's fine-tunes)."""
    g = params.grid
    subs = g.get("subgrids") or [{"name": "grid", "description": "", "models": list(g.models),
                                  "strategies": g.strategies, "augmentations": g.augmentations,
                                  "seeds": g.seeds, "finetune": {k: params.finetune[k] for k in FINETUNE_KEYS}}]
    return [(sub, _product(params, sub["models"], sub["strategies"], sub["augmentations"], sub["seeds"],
                           sub.get("pretrain_fractions")))
            for sub in subs]


def expand_grid(params) -> list[Cell]:
    """All cells of ``params.grid`` in a fixed order: model, strategy, augmentation, fraction,
    seed (file order of each list). Strategy ``none`` does not depend on the pretraining
    fraction, so it appears once (fraction "1"). With ``grid.subgrids`` the cells are the union
    of the sub-grids' cells: sub-grids in file order, each in the order above, a cell already
    listed by an earlier sub-grid skipped (its fine-tunes are the union of both's)."""
    cells, seen = [], set()
    for _, sub_cells in subgrid_cells(params):
        for c in sub_cells:
            if c.id not in seen:
                seen.add(c.id)
                cells.append(c)
    return cells


#: the keys of ``finetune`` that decide which fine-tunes a cell runs (a sub-grid may restrict them)
FINETUNE_KEYS = ("tasks", "samples", "pdes", "distributions", "navier_stokes")


def _finetunes_of(f, params) -> list[FineTune]:
    out = [FineTune(task, dist, pde, n) for task in f["tasks"] for dist in f["distributions"]
           for pde in f["pdes"] for n in f["samples"]]
    if f["navier_stokes"]:
        out += [FineTune(task, dist, NAVIER_STOKES, n) for task in f["tasks"]
                for dist in params.data.navier_stokes.distributions for n in f["samples"]]
    return out


def finetunes(params, cell: Cell | None = None) -> list[FineTune]:
    """The fine-tunes a cell runs: task x distribution x PDE x samples, then Navier-Stokes
    (task x its distributions x samples). With ``grid.subgrids``, the union (first occurrence
    order) over the sub-grids that hold ``cell``; ``cell`` None: over every sub-grid."""
    out, seen = [], set()
    for sub, sub_cells in subgrid_cells(params):
        if cell is not None and cell.id not in {c.id for c in sub_cells}:
            continue
        for ft in _finetunes_of(sub["finetune"], params):
            if ft.id not in seen:
                seen.add(ft.id)
                out.append(ft)
    return out


def _unknown_cell(params, cell_id: str, ids: list[str]) -> ConfigError:
    from pde_lib.params.schema import did_you_mean
    return ConfigError(f"no cell {cell_id!r} in the grid of {params.source}{did_you_mean(cell_id, ids)}; "
                       f"valid ids: the cell_id column of a sweep's results.csv, or "
                       f"`python -m pde_lib sweep {params.source} --list-cells` ({len(ids)} cells, "
                       f"e.g. {', '.join(ids[:3])})")


def find_cell(params, cell_id: str | None) -> Cell:
    """The cell with ``cell_id`` (None: the first cell); a one-line ConfigError otherwise."""
    cells = expand_grid(params)
    if cell_id is None:
        return cells[0]
    for c in cells:
        if c.id == cell_id:
            return c
    raise _unknown_cell(params, cell_id, [c.id for c in cells])


def select_cells(params, cell_ids) -> list[Cell]:
    """The cells named in ``cell_ids`` (ids, or one comma-separated string), in grid order;
    a one-line ConfigError naming the first unknown id (with a did-you-mean) otherwise."""
    if isinstance(cell_ids, str):
        cell_ids = cell_ids.split(",")
    wanted = [c.strip() for c in cell_ids if c.strip()]
    if not wanted:
        raise ConfigError("--cells: expected one or more cell ids separated by commas, got none")
    cells = expand_grid(params)
    ids = [c.id for c in cells]
    for cid in wanted:
        if cid not in ids:
            raise _unknown_cell(params, cid, ids)
    return [c for c in cells if c.id in set(wanted)]
