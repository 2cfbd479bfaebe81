"""Report figures (matplotlib, Agg-safe). Every function returns its ``Figure``; callers close it."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def cell_loss_curves(cell_dir: str | Path):
    """Training loss and validation error per epoch of every fine-tune of a cell (log scale)."""
    fig, (ax_t, ax_v) = plt.subplots(1, 2, figsize=(11, 4))
    paths = sorted(Path(cell_dir).glob("finetune/*/metrics.json"))
    for p in paths:
        m = json.loads(p.read_text())
        train = np.asarray(m.get("train_loss") or [], dtype=float)
        valid = np.asarray([np.nan if v is None else v for v in (m.get("valid_curve") or [])], dtype=float)
        ax_t.plot(np.arange(1, len(train) + 1), train, marker="o", ms=2, lw=1, label=p.parent.name)
        ax_v.plot(np.arange(1, len(valid) + 1), valid, marker="o", ms=2, lw=1)
    for ax, title in ((ax_t, "fine-tuning: training loss"), (ax_v, "fine-tuning: validation rel. L2")):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    if paths and len(paths) <= 24:
        ax_t.legend(fontsize=6, ncol=2)
    fig.suptitle(Path(cell_dir).name)
    fig.tight_layout()
    return fig


def heatmap(table: pd.DataFrame, title: str = "", fmt: str = "{:.3g}", cmap: str = "viridis_r",
            center_zero: bool = False):
    """A numeric table (rows x columns) as an annotated heatmap."""
    values = table.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(1.2 + 1.3 * max(1, values.shape[1]), 1.0 + 0.45 * max(1, values.shape[0])))
    kw = {}
    if center_zero and np.isfinite(values).any():
        lim = np.nanmax(np.abs(values)) or 1.0
        kw = {"vmin": -lim, "vmax": lim}
        cmap = "RdBu"
    im = ax.imshow(values, cmap=cmap, aspect="auto", **kw)
    ax.set_xticks(range(values.shape[1]), [str(c) for c in table.columns], rotation=30, ha="right")
    ax.set_yticks(range(values.shape[0]), [str(i) for i in table.index])
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                ax.text(j, i, fmt.format(values[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if not center_zero else "black")
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def ci_lines(summary: pd.DataFrame, x: str, line: str, panel: str | None = None, logx: bool = True,
             ylabel: str = "test rel. L2", title: str = ""):
    """Mean against ``x``, one line per ``line`` value, with the 95% CI as a shaded band; one
    panel per ``panel`` value."""
    panels = sorted(summary[panel].unique()) if panel else [None]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
    for ax, pv in zip(axes[0], panels):
        sub = summary if pv is None else summary[summary[panel] == pv]
        for lv, g in sub.groupby(line, sort=True):
            g = g.sort_values(x)
            ax.plot(g[x], g["mean"], marker="o", ms=3, label=str(lv))
            ax.fill_between(g[x], g["ci_low"], g["ci_high"], alpha=0.2)
        if logx:
            ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(x)
        ax.set_ylabel(ylabel)
        ax.set_title(str(pv) if pv is not None else title)
        ax.grid(alpha=0.3, which="both")
    axes[0][-1].legend(fontsize=7, title=line)
    if title and panel:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def grouped_bars(summary: pd.DataFrame, group: str, bar: str, panel: str | None = None,
                 ylabel: str = "test rel. L2", title: str = "", logy: bool = True):
    """Grouped bars of the mean with 95% CI error bars: ``group`` on the x axis, one bar per
    ``bar`` value, one panel per ``panel`` value."""
    panels = sorted(summary[panel].unique()) if panel else [None]
    fig, axes = plt.subplots(1, len(panels), figsize=(max(4.5, 1.0 + 0.9 * summary[group].nunique()) * len(panels), 3.8),
                             squeeze=False)
    for ax, pv in zip(axes[0], panels):
        sub = summary if pv is None else summary[summary[panel] == pv]
        groups = sorted(sub[group].unique(), key=str)
        bars = sorted(sub[bar].unique(), key=str)
        width = 0.8 / max(1, len(bars))
        for k, bv in enumerate(bars):
            g = sub[sub[bar] == bv].set_index(group).reindex(groups)
            xs = np.arange(len(groups)) + (k - (len(bars) - 1) / 2) * width
            err = np.vstack([g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]]).clip(min=0)
            ax.bar(xs, g["mean"], width, yerr=err, capsize=2, label=str(bv))
        ax.set_xticks(range(len(groups)), [str(g) for g in groups], rotation=30, ha="right")
        if logy:
            ax.set_yscale("log")
        ax.set_ylabel(ylabel)
        ax.set_title(str(pv) if pv is not None else title)
        ax.grid(alpha=0.3, axis="y")
    axes[0][-1].legend(fontsize=7, title=bar)
    if title and panel:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def trajectory_grid(u, times, titles: list[str], n_frames: int = 6, suptitle: str = ""):
    """Rows = samples, columns = ``n_frames`` evenly spaced frames of u (B, T, N, N)."""
    u = np.asarray(u)
    b, t = u.shape[:2]
    cols = np.linspace(0, t - 1, n_frames).round().astype(int)
    fig, axes = plt.subplots(b, n_frames, figsize=(1.9 * n_frames, 2.0 * b + 0.4), squeeze=False)
    for i in range(b):
        lim = float(np.abs(u[i]).max()) or 1.0
        for j, k in enumerate(cols):
            ax = axes[i][j]
            ax.imshow(u[i, k].T, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim, extent=(-1, 1, -1, 1))
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"t = {float(times[k]):.2f}", fontsize=8)
        axes[i][0].set_ylabel(titles[i], fontsize=7)
    fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
