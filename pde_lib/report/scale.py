"""The scale of the evidence beside the paper's: parameters per backbone, grid, pretraining and
fine-tuning sizes, epochs and seeds, read from the frozen parameter files (``params.yaml`` of
each published folder, ``parameters/paper.yaml`` for the paper) and the results tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pde_lib.report.header import load_sweep_params, model_sizes


def _params_count(text: str) -> str:
    return text.split(" parameters")[0]


def scale_rows(params, seeds: dict[str, list[int]] | None = None, samples: list[int] | None = None) -> dict[str, str]:
    """One column of the scale table for a ``StudyParams`` (and the seeds per backbone and
    fine-tune sample counts seen in a results table; else the parameter file's)."""
    sizes = model_sizes(params)
    sub_counts = sorted({n for sub in (params.grid.get("subgrids") or []) for n in sub["finetune"]["samples"]}
                        or set(params.finetune.samples))
    out = {f"{m} parameters": _params_count(sizes[m]) if m in sizes else "-" for m in ("fno2d", "unet")}
    out.update({
        "grid (heat / advection / Burgers)": f"{params.data.resolution} x {params.data.resolution}",
        "pretraining trajectories per PDE": f"{params.data.pretrain_samples:,}",
        "pretraining epochs": str(params.pretrain.epochs),
        "fine-tune samples": ", ".join(map(str, samples or sub_counts)),
        "fine-tune epochs": str(params.finetune.epochs),
    })
    if seeds:
        out["seeds"] = "; ".join(f"{m} {len(s)}" for m, s in sorted(seeds.items()))
    else:
        out["seeds"] = str(len(list(params.grid.seeds)))
    return out


def scale_table(paper_yaml: str | Path, evidence: dict) -> pd.DataFrame:
    """Rows: what is compared; columns: the paper, then each run length of ``evidence``
    (``evidence.load_evidence``, its base folder's frozen parameters and its joined seeds)."""
    from pde_lib.params import load_params

    cols = {"paper (parameters/paper.yaml)": scale_rows(load_params(paper_yaml))}
    for run, ev in evidence.items():
        seeds = {m: sorted(g["seed"].unique().tolist()) for m, g in ev.results.groupby("model")}
        samples = sorted(int(n) for n in ev.results["samples"].unique())
        cols[f"this study, {run}"] = scale_rows(load_sweep_params(ev.root / ev.folders[0]), seeds, samples)
    table = pd.DataFrame(cols)
    table.index.name = "setting"
    return table.reset_index()
