"""Report figures (matplotlib). Every function returns its ``Figure``; callers show and close it."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt  # headless processes fall back to Agg; kernels use inline
import numpy as np
import pandas as pd
from matplotlib import ticker


def _plain_log(axis) -> None:
    """Log-scale tick labels as plain numbers (0.5, 2, 100) instead of 5 x 10^-1."""
    fmt = ticker.FuncFormatter(lambda v, _: f"{v:.3g}")
    axis.set_major_formatter(fmt)
    axis.set_minor_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.3g}" if _few_decades(axis) else ""))


def _few_decades(axis) -> bool:
    lo, hi = axis.get_view_interval()
    return lo > 0 and hi / lo < 20


def _set_y(ax, values, logy: bool) -> None:
    """Log y axis with plain labels when asked and the data span at least 3x; else linear."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if logy and v.size and v.min() > 0 and v.max() / v.min() >= 3:
        ax.set_yscale("log")
        _plain_log(ax.yaxis)


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
                level = float(im.norm(values[i, j]))  # text colour readable on the cell colour
                dark = abs(level - 0.5) > 0.3 if center_zero else level > 0.5
                ax.text(j, i, fmt.format(values[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def ci_lines(summary: pd.DataFrame, x: str, line: str, panel: str | None = None, logx: bool = True,
             ylabel: str = "test rel. L2", title: str = "", logy: bool = True, hline: float | None = None):
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
            xs = sorted(sub[x].unique())
            ax.set_xticks(xs, [f"{v:g}" for v in xs])
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        _set_y(ax, sub[["ci_low", "ci_high"]].to_numpy(), logy)
        if hline is not None:
            ax.axhline(hline, color="k", lw=0.8)
        ax.set_xlabel(x)
        ax.set_ylabel(ylabel)
        ax.set_title(str(pv) if pv is not None else title)
        ax.grid(alpha=0.3, which="both")
    axes[0][-1].legend(fontsize=7, title=line)
    if title and panel:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def grouped_points(summary: pd.DataFrame, group: str, hue: str, panel: str | None = None,
                   ylabel: str = "test rel. L2", title: str = "", logy: bool = True):
    """Means as dots with 95% CI error bars: ``group`` on the x axis, one dodged colour per
    ``hue`` value, one panel per ``panel`` value (dots, not bars, so a log axis stays honest)."""
    panels = sorted(summary[panel].unique()) if panel else [None]
    width = max(4.0, 1.0 + 0.8 * summary[group].nunique())
    fig, axes = plt.subplots(1, len(panels), figsize=(width * len(panels), 3.6), squeeze=False)
    for ax, pv in zip(axes[0], panels):
        sub = summary if pv is None else summary[summary[panel] == pv]
        groups = sorted(sub[group].unique(), key=str)
        hues = sorted(sub[hue].unique(), key=str)
        step = 0.6 / max(1, len(hues))
        for k, hv in enumerate(hues):
            g = sub[sub[hue] == hv].set_index(group).reindex(groups)
            xs = np.arange(len(groups)) + (k - (len(hues) - 1) / 2) * step
            err = np.vstack([g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]]).clip(min=0)
            ax.errorbar(xs, g["mean"], yerr=err, fmt="o", ms=5, capsize=3, label=str(hv))
        ax.set_xticks(range(len(groups)), [str(g) for g in groups], rotation=30, ha="right")
        ax.set_xlim(-0.6, len(groups) - 0.4)
        _set_y(ax, sub[["ci_low", "ci_high"]].to_numpy(), logy)
        ax.set_ylabel(ylabel)
        ax.set_title(str(pv) if pv is not None else title)
        ax.grid(alpha=0.3, axis="y", which="both")
    axes[0][-1].legend(fontsize=7, title=hue)
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
