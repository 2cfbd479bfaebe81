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


def expand_grid(params) -> list[Cell]:
    """All cells of ``params.grid`` in a fixed order: model, strategy, augmentation, fraction,
    seed (file order of each list). Strategy ``none`` does not depend on the pretraining
    fraction, so it appears once (fraction "1")."""
    g = params.grid
    cells = []
    for label, kwargs in g.models.items():
        backbone = kwargs.get("model", label)
        kw = {k: v for k, v in kwargs.items() if k != "model"}
        for strategy in g.strategies:
            for aug in g.augmentations:
                fractions = params.pretrain.fractions if strategy != "none" else [Fraction(1)]
                for frac in fractions:
                    for seed in g.seeds:
                        cells.append(Cell(model=label, backbone=backbone, strategy=strategy,
                                          augmentation=tuple(aug), seed=seed,
                                          pretrain_fraction=fraction_label(frac), model_kwargs=kw))
    ids = [c.id for c in cells]
    if len(set(ids)) != len(ids):  # pragma: no cover - guarded by unique lists in the schema
        raise ConfigError("grid expansion produced duplicate cell ids")
    return cells


def finetunes(params) -> list[FineTune]:
    """The fine-tunes every cell runs: task x distribution x PDE x samples, then Navier-Stokes
    (task x its distributions x samples)."""
    f = params.finetune
    out = [FineTune(task, dist, pde, n) for task in f.tasks for dist in f.distributions
           for pde in f.pdes for n in f.samples]
    if f.navier_stokes:
        out += [FineTune(task, dist, NAVIER_STOKES, n) for task in f.tasks
                for dist in params.data.navier_stokes.distributions for n in f.samples]
    return out


def find_cell(params, cell_id: str | None) -> Cell:
    """The cell with ``cell_id`` (None: the first cell); ConfigError listing ids otherwise."""
    cells = expand_grid(params)
    if cell_id is None:
        return cells[0]
    for c in cells:
        if c.id == cell_id:
            return c
    from pde_lib.params.schema import did_you_mean
    raise ConfigError(f"no cell {cell_id!r} in the grid of {params.source}"
                      f"{did_you_mean(cell_id, [c.id for c in cells])}; "
                      f"cells: {', '.join(c.id for c in cells[:20])}{' ...' if len(cells) > 20 else ''}")
