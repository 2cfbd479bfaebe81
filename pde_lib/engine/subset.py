"""``SubsetOptions``: how a run draws its training subset from its data file (fine-tuning and
pretraining share it; the draw itself is ``pde_lib.data.subset``).

``subset_draw``: "prefix" (the first n samples: every seed trains on the same data, as every run
before this option did) or "per_seed" (the first n of a permutation seeded from ``subset_seed``,
None meaning the run's ``seed``, and the pool's PDE and distribution). ``subset_seed`` is ignored
under "prefix"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pde_lib.data.subset import SUBSET_DRAWS, SubsetDraw, rows_sha256
from pde_lib.errors import ConfigError


@dataclass
class SubsetOptions:
    """Option mixin of a run config (``EngineConfig`` subclasses): the training subset's draw."""

    #: values a checkpoint written before these options existed is taken to hold
    SUBSET_DEFAULTS: ClassVar[dict] = {"subset_draw": "prefix", "subset_seed": None}

    subset_draw: str = "prefix"
    subset_seed: int | None = None

    def validate_subset(self) -> None:
        if self.subset_draw not in SUBSET_DRAWS:
            raise ConfigError(f"subset_draw must be one of {', '.join(SUBSET_DRAWS)}, got {self.subset_draw!r}")
        s = self.subset_seed
        if s is not None and (isinstance(s, bool) or not isinstance(s, int) or s < 0):
            raise ConfigError(f"subset_seed must be an integer >= 0 or None (the run's seed), got {s!r}")

    def subset(self, per_pde: bool = False) -> SubsetDraw | None:
        """The ``load_dataset`` draw of the training file: None for "prefix" (the first n, read
        exactly as before), else the seeded draw (n of each PDE with ``per_pde``)."""
        if self.subset_draw == "prefix":
            return SubsetDraw(seed=None, per_pde=True) if per_pde else None
        return SubsetDraw(seed=self.seed if self.subset_seed is None else self.subset_seed, per_pde=per_pde)

    def subset_record(self, rows) -> dict:
        """Provenance of the training subset for a run's metrics: how it was drawn, the seed of
        the draw (None for "prefix"), the data-file rows in training order and their SHA-256."""
        rows = [int(r) for r in rows]
        return {"draw": self.subset_draw,
                "seed": None if self.subset_draw == "prefix" else self.subset(False).seed,
                "rows": rows, "rows_sha256": rows_sha256(rows)}
