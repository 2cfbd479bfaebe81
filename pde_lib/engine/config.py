"""``EngineConfig``: the fields every training-like run shares (pretraining and fine-tuning), one
definition with one set of defaults. ``TrainConfig`` and ``PretrainConfig`` extend it.

Key order. A dataclass lists a base class's fields first, which would move the shared fields to
the front of ``to_dict()``. The order of a config's record (``to_dict()``, written into
``metrics.json`` and checkpoints, and ``field_names()``, which the CLI and error messages list) is
instead fixed by the subclass's ``FIELD_ORDER``: its own and the shared fields in record order.
Fields of option mixins (``AugmentationOptions``) come before them in ``to_dict()`` and after
them in ``field_names()``, as they did before the shared base existed."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pde_lib.utils.config import RunConfig


@dataclass
class EngineConfig(RunConfig):
    """Shared run fields: backbone ``model`` (+ ``model_kwargs``, ``condition_on_coeffs``),
    input ``window``, ``task`` (see ``engine.windowing.TASKS``), first ``samples`` of the
    training data, the optimiser schedule (``epochs``, ``batch_size``, ``lr``, ``weight_decay``,
    ``lr_min``, ``warmup_steps``, ``clip_grad_norm``), ``seed``, ``device``, ``out`` folder (None:
    nothing written), ``resume`` (continue from ``out/checkpoint.pt``) and ``progress`` (a tqdm
    bar).

    ``warmup_steps`` (0) and ``clip_grad_norm`` (None) came later (``engine.optim``): at those
    defaults ``to_dict()`` leaves them out, so a run's record (metrics, checkpoints) is what it
    was before they existed and an old checkpoint still resumes."""

    #: the record order of the config's fields (own and shared); mixin fields are not listed
    FIELD_ORDER: ClassVar[tuple[str, ...]] = ()
    #: fields added later, left out of ``to_dict()`` while they hold these (old-behaviour) values
    LATER_DEFAULTS: ClassVar[dict[str, Any]] = {"warmup_steps": 0, "clip_grad_norm": None}

    model: str = "fno2d"
    task: str = "fixed_future"
    samples: int | None = None
    epochs: int = 200
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-6
    lr_min: float = 1e-5
    seed: int = 0
    device: str = "cpu"
    out: str | None = None
    model_kwargs: dict = field(default_factory=dict)
    condition_on_coeffs: bool = False
    window: int = 8
    resume: bool = False
    progress: bool = True
    warmup_steps: int = 0
    clip_grad_norm: float | None = None

    @classmethod
    def _split_fields(cls) -> tuple[list[str], list[str]]:
        """(record fields in ``FIELD_ORDER``, option-mixin fields in dataclass order)."""
        names = [f.name for f in dataclasses.fields(cls)]
        mixin = {n for base in cls.__mro__ if dataclasses.is_dataclass(base) and not issubclass(base, EngineConfig)
                 for n in base.__dataclass_fields__}
        own = [n for n in names if n not in mixin]
        if sorted(own) != sorted(cls.FIELD_ORDER):
            raise TypeError(f"{cls.__name__}.FIELD_ORDER must list exactly its own and the shared fields; "
                            f"differs by {sorted(set(own) ^ set(cls.FIELD_ORDER))}")
        return list(cls.FIELD_ORDER), [n for n in names if n not in cls.FIELD_ORDER]

    @classmethod
    def field_names(cls) -> list[str]:
        """Field names: the config's own and shared ones in record order, then the mixins'."""
        record, options = cls._split_fields()
        return record + options

    def to_dict(self) -> dict[str, Any]:
        """The config as plain values: the mixins' fields, then the record fields in order."""
        record, options = self._split_fields()
        d = dataclasses.asdict(self)
        return {k: d[k] for k in options + record
                if not (k in self.LATER_DEFAULTS and d[k] == self.LATER_DEFAULTS[k])}

    def validate_schedule(self) -> None:
        """Types of the later schedule fields (their fit to the step count is checked when the
        schedule is built, ``engine.optim.make_scheduler``)."""
        from pde_lib.engine.optim import check_clip, check_warmup

        check_warmup(self.warmup_steps, total_steps=2 ** 62)
        self.clip_grad_norm = check_clip(self.clip_grad_norm)
