"""Per-test-sample errors: ``per_sample.csv`` of a sweep folder (each fine-tune's error on each
test sample, written by ``pde_lib.sweep.results``), so two runs can be compared on the same test
samples as well as on the same seed.

``win_rate``: for each comparison, the share of (seed, fine-tune, test sample) pairs on which the
run's error is below its baseline partner's (0.5 = no difference; the "probability of
improvement" of Agarwal et al., NeurIPS 2021, taken over test samples)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pde_lib.report.aggregate import pair_keys
from pde_lib.report.folders import sweep_folder

PER_SAMPLE_COLUMNS = ["cell_id", "finetune_id", "sample", "sample_seed", "test_rel_l2", "copy_last_rel_l2"]


def load_per_sample(sweep_dir: str | Path, extra_dirs=()) -> pd.DataFrame:
    """``per_sample.csv`` of a sweep folder (or of the folder holding a given results.csv);
    an empty table when there is none. ``extra_dirs``: folders joined to it (stacked)."""
    if extra_dirs:
        return pd.concat([load_per_sample(d) for d in [sweep_dir, *extra_dirs]], ignore_index=True)
    csv = sweep_folder(sweep_dir) / "per_sample.csv"
    return pd.read_csv(csv) if csv.exists() else pd.DataFrame(columns=PER_SAMPLE_COLUMNS)


def win_rate(results: pd.DataFrame, per_sample: pd.DataFrame, by: list[str], baseline: str = "none",
             factor: str = "strategy") -> pd.DataFrame:
    """Per group of ``by``: ``pairs`` (seed x fine-tune x test-sample pairs with the baseline
    partner) and ``win_rate``, the share of pairs where the run's test error is lower (ties
    count one half). Rows of ``results`` select which fine-tunes take part."""
    cols = by + ["pairs", "win_rate"]
    if per_sample.empty or results.empty:
        return pd.DataFrame(columns=cols)
    rows = results.drop(columns=["test_rel_l2"]).merge(per_sample, on=["cell_id", "finetune_id"])
    keys = pair_keys(factor) + ["sample_seed"]
    base = rows[rows[factor].astype(str) == baseline][keys + ["test_rel_l2"]].rename(
        columns={"test_rel_l2": "baseline_err"})
    paired = rows[rows[factor].astype(str) != baseline].merge(base, on=keys, how="inner", validate="many_to_one")
    if paired.empty:
        return pd.DataFrame(columns=cols)
    diff = paired["baseline_err"].to_numpy() - paired["test_rel_l2"].to_numpy()
    paired["win"] = (diff > 0) + 0.5 * (diff == 0)
    out = paired.groupby(by, sort=True)["win"].agg(pairs="count", win_rate="mean").reset_index()
    return out[cols]
