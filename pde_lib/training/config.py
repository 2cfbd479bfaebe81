"""``TrainConfig``: every parameter of one supervised training / fine-tuning run, validated."""

from __future__ import annotations

from dataclasses import dataclass

from pde_lib.augmentations.options import AugmentationOptions
from pde_lib.engine.config import EngineConfig
from pde_lib.engine.subset import SubsetOptions
from pde_lib.engine.windowing import TASKS
from pde_lib.errors import ConfigError
from pde_lib.utils.config import check_bools, check_int, check_model_kwargs, check_optim, check_paths


@dataclass
class TrainConfig(EngineConfig, SubsetOptions, AugmentationOptions):
    """One training run: the shared run fields of ``EngineConfig`` (model, task, samples,
    schedule, seed, device, out, window, resume, progress) and its own. Files are HDF5 paths;
    ``*_group`` None means the file's single group; ``pde`` None or "all" keeps every sample;
    ``samples`` takes n training samples of the ``pde``, drawn as ``subset_draw`` says
    (``engine.subset``: the first n, or the first n of a per-seed permutation; nested either
    way); ``init`` a backbone checkpoint to start from; ``target_frame`` the fixed-future target (and the end of the
    next-step rollout); ``eval_every`` epochs between validations; ``cuda_graphs`` replays each
    step as a CUDA graph. Strength fields left None use the augmentation's own default."""

    kind = "training"
    FIELD_ORDER = ("model", "task", "train", "valid", "test", "train_group", "valid_group", "test_group", "pde",
                   "samples", "epochs", "batch_size", "lr", "weight_decay", "lr_min", "seed", "device", "out",
                   "init", "model_kwargs", "condition_on_coeffs", "window", "target_frame", "resume", "progress",
                   "eval_every", "cuda_graphs", "warmup_steps", "clip_grad_norm")

    train: str | None = None
    valid: str | None = None
    test: str | None = None
    train_group: str | None = None
    valid_group: str | None = None
    test_group: str | None = None
    pde: str | None = None
    init: str | None = None
    target_frame: int = 31
    eval_every: int = 1
    cuda_graphs: bool = False

    def validates_after(self, epoch: int) -> bool:
        """Whether the run validates after ``epoch`` (counted from 1): every ``eval_every``
        epochs and after the last, so model selection always sees the final state."""
        return epoch % self.eval_every == 0 or epoch == self.epochs

    def validate(self) -> None:
        """Check types and ranges of every field (files and names are checked by the trainer,
        which knows the registries and the data)."""
        if not isinstance(self.model, str) or not self.model:
            raise ConfigError(f"model must be a backbone name, got {self.model!r}")
        if self.task not in TASKS:
            raise ConfigError(f"unknown task {self.task!r}; valid tasks: {', '.join(TASKS)}")
        check_paths(self, "train", "valid", "test", "train_group", "valid_group", "test_group", "out", "init")
        if isinstance(self.pde, str) and self.pde.lower() == "all":
            self.pde = None
        if self.pde is not None and not isinstance(self.pde, str):
            raise ConfigError(f"pde must be a PDE name, 'all' or None, got {self.pde!r}")
        if self.samples is not None:
            check_int(self, "samples", 1)
        for key in ("epochs", "batch_size", "window", "target_frame", "eval_every"):
            check_int(self, key, 1)
        if self.target_frame < self.window:
            raise ConfigError(f"target_frame={self.target_frame} lies inside the input window "
                              f"0..{self.window - 1}; it must be >= window={self.window}")
        check_optim(self)
        self.validate_schedule()
        self.validate_augmentation()
        self.validate_subset()
        check_bools(self, "condition_on_coeffs", "resume", "progress", "cuda_graphs")
        if self.cuda_graphs and not str(self.device).startswith("cuda"):
            raise ConfigError(f"cuda_graphs needs a CUDA device, got device={self.device!r}; "
                              "drop cuda_graphs (or --cuda-graphs) to train on the CPU")
        check_model_kwargs(self)

    def require_files(self) -> None:
        """ConfigError unless train, valid and test files are all given."""
        missing = [k for k in ("train", "valid", "test") if getattr(self, k) is None]
        if missing:
            raise ConfigError(f"missing data file(s) for {', '.join(missing)}: train, valid and "
                              "test HDF5 files are all required")
