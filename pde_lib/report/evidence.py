"""The best evidence today for each claim, as the canonical findings page and the README block
read it: two joins of published folders (a join stacks seeds of one experiment and refuses
runs trained differently, ``joinable``), one per fine-tuning length, each answering the four
claims (``findings``) over the PDEs its backbones learned (``learned``).

The seed extensions were run after looking at the first seeds (``ADAPTIVE``): more seeds went
only where the first ones left comparisons undecided, which is optional stopping; its cost is
``stopping.false_decision_rate`` (about 8-9% false helps / hurts instead of 5% under no effect)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pde_lib.report.aggregate import join_results
from pde_lib.report.findings import (augmentation_control_table, per_pde_table, scarcity_family, shift_table,
                                     strategies_table)
from pde_lib.report.learned import learned_rows, learned_table

#: run length -> (base folder, joined folders), under outputs/published/
RUNS = {
    "60 epochs": ("laptop", ("laptop_seeds_3_4", "laptop_seeds_5_9")),
    "240 epochs": ("laptop_long_finetune", ("laptop_long_finetune_ext", "laptop_long_finetune_aug")),
}
#: how each join's seeds were chosen (what the page says beside it); n_first -> n_final seeds
ADAPTIVE = {
    "60 epochs": dict(n_first=5, n_final=10, text=(
        "FNO2D seeds 5-9 (laptop_seeds_5_9) were run after 5 seeds had left FNO2D comparisons "
        "undecided: an adaptive extension (optional stopping)")),
    "240 epochs": dict(n_first=5, n_final=15, text=(
        "U-Net seeds 5-14 (laptop_long_finetune_ext) were run only for none and the five strategies "
        "that 5 seeds left undecided: an adaptive extension (optional stopping)")),
}
#: the sample count of the strategy, augmentation and shift comparisons
SAMPLES = 32


@dataclass
class Evidence:
    """One join: its results (all rows), the learned-PDE table, and each claim's family tables
    computed on the learned rows only."""
    run: str
    folders: list[str]
    results: pd.DataFrame
    learned: pd.DataFrame
    root: Path
    claims: dict[str, pd.DataFrame] = field(default_factory=dict)


def claim_tables(results: pd.DataFrame, model: str = "fno2d", samples: int = SAMPLES) -> dict[str, pd.DataFrame]:
    """Every family of the four claims on ``results`` (pass learned rows): ``scarcity`` and
    ``trend`` (one joint Holm family), ``strategies``, ``per_pde``, ``augmentation`` (vs the
    step-matched copies), ``shift``."""
    scarcity, trend = scarcity_family(results, model=model)
    return {"scarcity": scarcity, "trend": trend, "strategies": strategies_table(results, samples=samples),
            "per_pde": per_pde_table(results, samples=samples),
            "augmentation": augmentation_control_table(results, model=model, samples=samples),
            "shift": shift_table(results, model=model, samples=samples)}


def load_evidence(published: str | Path, runs: dict = RUNS) -> dict[str, Evidence]:
    """Each run length's join under ``published`` with its claim tables (learned PDEs only)."""
    published = Path(published)
    out = {}
    for run, (base, extra) in runs.items():
        folders = [published / base, *(published / e for e in extra)]
        results = join_results(folders[0], folders[1:])
        out[run] = Evidence(run, [f.name for f in folders], results, learned_table(results), published,
                            claim_tables(learned_rows(results)))
    return out


def stopping_rates(evidence: dict, sd: float = 0.1, trials: int = 100_000) -> dict[str, dict]:
    """Per run length with an adaptive extension (``ADAPTIVE``), the simulated false helps /
    hurts rate of its rule under no effect (``stopping.false_decision_rate``, fixed seed)."""
    from pde_lib.report.stopping import false_decision_rate

    return {run: false_decision_rate(a["n_first"], a["n_final"], sd=sd, trials=trials, seed=0)
            for run, a in ADAPTIVE.items() if run in evidence}
