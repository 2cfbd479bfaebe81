"""Comparing two results tables fine-tune by fine-tune (a re-run of some cells against a
published study): which fine-tunes they share, and how far their errors differ."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pde_lib.errors import DataError
from pde_lib.report.aggregate import load_results

KEYS = ["cell_id", "finetune_id"]
COMPARED = ["test_rel_l2", "valid_rel_l2", "test_copy_last_rel_l2"]


def compare_results(reference, rerun) -> pd.DataFrame:
    """One row per fine-tune of ``rerun`` (a results table, or a folder or CSV holding one)
    with its partner in ``reference``: for each metric of ``COMPARED``, both values and the
    relative difference |a - b| / |a|, plus ``best_epoch`` of both. DataError if a fine-tune of
    ``rerun`` is not in ``reference``."""
    ref = reference if isinstance(reference, pd.DataFrame) else load_results(reference)
    new = rerun if isinstance(rerun, pd.DataFrame) else load_results(rerun)
    merged = new[KEYS + COMPARED + ["best_epoch"]].merge(ref[KEYS + COMPARED + ["best_epoch"]], on=KEYS, how="left",
                                                         suffixes=("", "_reference"), indicator=True)
    missing = merged[merged["_merge"] == "left_only"]
    if len(missing):
        first = missing.iloc[0]
        raise DataError(f"{len(missing)} fine-tune(s) of the rerun are not in the reference table, e.g. "
                        f"{first['cell_id']} / {first['finetune_id']}")
    out = merged.drop(columns="_merge")
    for col in COMPARED:
        a, b = out[f"{col}_reference"].to_numpy(np.float64), out[col].to_numpy(np.float64)
        out[f"{col}_rel_diff"] = np.abs(b - a) / np.abs(a)
    return out


def comparison_summary(diff: pd.DataFrame) -> str:
    """One paragraph: fine-tunes compared, bitwise-equal share, largest relative differences and
    how many best epochs changed."""
    n = len(diff)
    equal = int((diff["test_rel_l2"] == diff["test_rel_l2_reference"]).sum())
    worst = {col: float(diff[f"{col}_rel_diff"].max()) if n else 0.0 for col in COMPARED}
    epochs = int((diff["best_epoch"] != diff["best_epoch_reference"]).sum())
    return (f"{n} fine-tunes compared: {equal} with bitwise-equal test error; largest relative difference "
            + ", ".join(f"{col} {v:.3g}" for col, v in worst.items())
            + f"; best epoch changed in {epochs}")
