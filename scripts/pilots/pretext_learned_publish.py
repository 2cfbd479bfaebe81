"""Publish the pretext pilot: copy ``runs.csv`` and ``curves.csv`` (from ``pretext_learned.py``)
to OUT_DIR with ``config.json`` (the parameter file, each backbone's resolved pretraining
settings, the data file and its SHA-256 as the runs recorded it, the runs' git commits) and one
figure per backbone: the held-out skill of each strategy against the epoch (left; 0 = the
reference, 1 = perfect) and PICL's held-out contrastive loss (right; PICL has no reference, so
no skill).

    python scripts/pilots/pretext_learned_publish.py PARAMS.yaml RUN_DIR OUT_DIR"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pde_lib.utils.atomic import atomic_path, write_json, write_text  # noqa: E402


def plot_backbone(curves: pd.DataFrame, backbone: str, path: Path) -> None:
    c = curves[curves["backbone"] == backbone]
    fig, (ax, ax1, ax2) = plt.subplots(1, 3, figsize=(14, 4), gridspec_kw={"width_ratios": [3, 2, 1.4]})
    for i, (strategy, g) in enumerate(c.groupby("strategy", sort=False)):
        color = f"C{i}"
        if strategy == "picl":
            ax2.plot(g["epoch"], g["value"], color="k", marker=".")
            continue
        ax.plot(g["epoch"], g["skill"], marker=".", color=color, label=f"{strategy} ({g['metric'].iloc[0]})")
        if g["metric"].iloc[0] == "accuracy":  # cross-entropy against the uniform guess, ln(classes)
            ax1.plot(g["epoch"], 1 - g["holdout_loss"] / np.log(1 / g["reference"]), marker=".", color=color,
                     label=strategy)
    for a in (ax, ax1):
        a.axhline(0.0, color="grey", lw=0.8, ls="--")
    ax.set(xlabel="pretraining epoch", ylabel="held-out skill (0: reference, 1: perfect)",
           title=f"{backbone}: held-out pretext skill (axis cut at -0.5)", ylim=(-0.5, 1.02))
    ax.legend(fontsize=7, ncol=2)
    ax1.set(xlabel="pretraining epoch", ylabel="1 - cross-entropy / ln(classes)",
            title="classification: held-out loss skill", ylim=(-0.5, 1.02))
    if ax1.get_legend_handles_labels()[0]:
        ax1.legend(fontsize=7)
    ax2.set(xlabel="pretraining epoch", ylabel="held-out contrastive loss", title="picl (no reference)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def _f(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def markdown_table(runs: pd.DataFrame) -> str:
    """The runs as a markdown table (the README's), one row per run."""
    head = ("| backbone | strategy | epochs | metric | held-out value | reference | skill | learned | p (> chance) "
            "| settled epoch | last-third gain | plateau | loss skill | loss plateau | wall s | CPU s | load |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in runs.to_dict("records"):
        ref = _f(r["reference"]) if r["strategy"] != "picl" else "none defined"
        lines.append(f"| {r['backbone']} | {r['strategy']} | {r['epochs']} | {r['metric']} | {_f(r['value'], 4)} | {ref} "
                     f"| {_f(r['skill'])} | {_f(r['learned'])} | {_f(r['p_above_chance'])} | {r['settled_epoch']} "
                     f"| {_f(r['last_third_gain'])} | {_f(r['plateau'])} | {_f(r['loss_skill'])} "
                     f"| {_f(r['loss_plateau'])} | {_f(r['wall_s'], 0)} | {_f(r['cpu_s'], 0)} | {_f(r['load_1min'], 1)} |")
    return "\n".join(lines) + "\n"


def skill_matrix(runs: pd.DataFrame) -> str:
    """Strategies x backbones: the last epoch's held-out skill, ``*`` where the figure had not
    plateaued, ``(epochs)`` in the header; classification strategies also the held-out
    cross-entropy's skill against ln(classes) (CE); picl: "no ref." and its loss plateau."""
    backbones = list(dict.fromkeys(runs["backbone"]))
    eps = {b: int(runs.loc[runs["backbone"] == b, "epochs"].max()) for b in backbones}
    lines = ["| strategy | " + " | ".join(f"{b} ({eps[b]} ep.)" for b in backbones) + " |",
             "|---|" + "---|" * len(backbones)]
    for strategy in dict.fromkeys(runs["strategy"]):
        cells = []
        for b in backbones:
            r = runs[(runs["backbone"] == b) & (runs["strategy"] == strategy)]
            if r.empty:
                cells.append("not run")
                continue
            r = r.iloc[0]
            star = "" if r["plateau"] else "*"
            ce = f" (CE {_f(r['loss_skill'], 2)})" if r["metric"] == "accuracy" else ""
            cells.append(f"no ref.{star}" if strategy == "picl" else f"{_f(r['skill'], 2)}{star}{ce}")
        lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def config_record(params_path: str, run_dir: Path) -> dict:
    from pde_lib.params import load_params
    from pde_lib.params.run_settings import run_settings

    params = load_params(params_path)
    runs = [json.loads(p.read_text()) for p in sorted(run_dir.glob("*/pretrain/pretrain_metrics.json"))]
    first = runs[0]
    return {"params_file": params_path, "params_text": Path(params_path).read_text(),
            "models": {k: dict(v or {}) for k, v in params.grid.models.items()},
            "pretrain_settings": {label: run_settings(params, label, "pretrain") for label in params.grid.models},
            "holdout_fraction": first["params"]["holdout"], "n_samples": first["n_samples"],
            "n_train": first["n_train"], "n_holdout": first["n_holdout"], "data": Path(first["data"]).name,
            "data_sha256": sorted({r["data_sha256"] for r in runs}),
            "git_commits": sorted({str(r["git_commit"]) for r in runs}),
            "torch_threads": 1, "device": "cpu"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("params")
    ap.add_argument("runs", help="the run folder of pretext_learned.py (holds runs.csv, curves.csv)")
    ap.add_argument("out")
    args = ap.parse_args()
    run_dir, out = Path(args.runs), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("runs.csv", "curves.csv"):
        shutil.copyfile(run_dir / name, out / name)
    write_json(out / "config.json", config_record(args.params, run_dir))
    runs = pd.read_csv(run_dir / "runs.csv")
    for col in ("learned", "plateau", "loss_plateau", "above_chance"):
        runs[col] = runs[col].map({True: True, False: False, "True": True, "False": False})
    write_text(out / "table.md", markdown_table(runs))
    write_text(out / "skill_matrix.md", skill_matrix(runs))
    curves = pd.read_csv(run_dir / "curves.csv")
    for backbone in curves["backbone"].unique():
        plot_backbone(curves, backbone, out / f"skill_{backbone}.png")


if __name__ == "__main__":
    main()
