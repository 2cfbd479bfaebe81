"""Load and check a training run's data before any training starts: the train / valid / test
files, the PDE filter, the sample count, the window, and the (optional) augmented copies."""

from __future__ import annotations

from dataclasses import dataclass

from pde_lib.data import PDE_NAMES, Dataset, load_dataset
from pde_lib.engine.data import with_augmented_copies
from pde_lib.engine.windowing import check_window
from pde_lib.errors import ConfigError, DataError
from pde_lib.training.config import TrainConfig


@dataclass
class RunData:
    """The three splits on the training device (train possibly with augmented copies appended)."""

    train: Dataset
    valid: Dataset
    test: Dataset
    n_train_original: int
    train_rows: list[int]


def check_pde_name(pde: str | None) -> None:
    if pde is not None and pde not in PDE_NAMES:
        raise ConfigError(f"unknown PDE {pde!r}; valid PDE names: {', '.join(PDE_NAMES)} (or 'all')")


def _load(config: TrainConfig, split: str, device, n=None, draw=None) -> Dataset:
    path = getattr(config, split)
    group = getattr(config, f"{split}_group")
    ds = load_dataset(path, group=group, pde=config.pde, n=n, device=device, draw=draw)
    if len(ds) == 0:
        what = f"{config.pde} samples" if config.pde else "samples"
        raise DataError(f"{split} file {path} holds no {what}")
    check_window(ds.u.shape[1], config.window, config.target_frame, what=f"{split} trajectory in {path}")
    return ds


def load_run_data(config: TrainConfig, device) -> RunData:
    """Read train (``samples`` samples of ``pde``, drawn as ``config.subset()`` says: the first
    n, or a per-seed draw), valid and test (every sample of ``pde``)
    onto ``device``, checking names, counts, shapes, finiteness and the window; then append
    augmented training copies if ``config.augmentation`` is set."""
    config.require_files()
    check_pde_name(config.pde)
    train = _load(config, "train", device, n=config.samples, draw=config.subset())
    valid = _load(config, "valid", device)
    test = _load(config, "test", device)
    res = train.u.shape[-1]
    for split, ds in (("valid", valid), ("test", test)):
        if ds.u.shape[-1] != res:
            raise DataError(f"{split} file {ds.path} has {ds.u.shape[-1]}x{ds.u.shape[-1]} frames but the "
                            f"train file {train.path} has {res}x{res}")
    n_original = len(train)
    rows = train.rows.tolist()
    if config.augmentation:
        train = with_augmented_copies(train, config)
    return RunData(train=train, valid=valid, test=test, n_train_original=n_original, train_rows=rows)
