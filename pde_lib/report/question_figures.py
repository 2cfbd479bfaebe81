"""Figures of the dependence and scaling questions (``dependence``, ``pretrain_scaling``).

- ``improvement_grid``: strategies (rows) x backbones or (backbone, PDE) (columns), each cell the
  paired improvement over ``none`` with its 95% t interval written in it, coloured by the
  improvement (blue: lower error, red: higher; the scale is symmetric about 0); a row whose
  colours change along it is an interaction.
- ``interaction_forest``: an interaction family as a forest plot (``forest.forest``): the gain
  on a beyond the gain on b with its interval, filled where it survives Holm, the verdict beside.
- ``scaling_figure``: test error (geometric mean over seeds, 95% t interval as a band, each
  seed's value as a hollow marker) against the pretraining-set fraction (log x), one line per
  strategy in its fixed colour, ``none`` (pretrained on nothing) as a horizontal band; and
  against the backbone width (log x), one line per strategy, ``none`` included.

Every text is at least ``forest.MIN_FONT`` (10) pt."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import ticker

from pde_lib.report.colors import color_for, order_values
from pde_lib.report.forest import MIN_FONT, forest, forest_rows


def _cell_text(mean: float, low: float, high: float, n: int) -> str:
    if not np.isfinite(mean):
        return "-"
    if np.isfinite(low) and np.isfinite(high):
        return f"{mean:+.0f}%\n[{low:+.0f}, {high:+.0f}]"
    return f"{mean:+.0f}%\n(n={n}, no interval)"


def improvement_grid(cells: pd.DataFrame, columns: list[str] = ("model",), title: str = "",
                     limit: float | None = None):
    """``dependence.improvement_cells`` output as an annotated grid (module doc): one row per
    strategy (reading order), one column per value of ``columns`` (joined by ", "); ``limit``
    fixes the colour scale to +-limit % (default: the largest |mean|, at least 10)."""
    columns = list(columns)
    cells = cells.copy()
    cells["grid_column"] = [", ".join(map(str, v)) for v in cells[columns].itertuples(index=False)]
    rows = order_values("strategy", cells["strategy"].astype(str).unique())
    cols = sorted(cells["grid_column"].unique())
    grid = np.full((len(rows), len(cols)), np.nan)
    text = [["-"] * len(cols) for _ in rows]
    for r in cells.itertuples(index=False):
        i, j = rows.index(str(r.strategy)), cols.index(r.grid_column)
        grid[i, j] = r.mean
        text[i][j] = _cell_text(float(r.mean), float(r.ci_low), float(r.ci_high), int(r.n_seeds))
    finite = np.abs(grid[np.isfinite(grid)])
    lim = limit or max(10.0, float(finite.max()) if finite.size else 10.0)
    fig, ax = plt.subplots(figsize=(max(5.5, 2.6 + 1.6 * len(cols)), max(3.2, 1.5 + 0.7 * len(rows))))
    im = ax.imshow(grid, cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto")
    for i in range(len(rows)):
        for j in range(len(cols)):
            level = float(np.clip(im.norm(grid[i, j]), 0, 1)) if np.isfinite(grid[i, j]) else 0.5
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=MIN_FONT,
                    color="white" if abs(level - 0.5) > 0.3 else "black")
    ax.set_xticks(range(len(cols)), cols, rotation=20, ha="right", fontsize=MIN_FONT)
    ax.set_yticks(range(len(rows)), rows, fontsize=MIN_FONT)
    bar = fig.colorbar(im, ax=ax, shrink=0.8)
    bar.ax.tick_params(labelsize=MIN_FONT)
    bar.set_label("% lower test error than none", fontsize=MIN_FONT)
    ax.set_title(title or "improvement over none (95% t interval)", fontsize=12, loc="left")
    fig.tight_layout()
    return fig


def interaction_forest(table: pd.DataFrame, title: str, run: str = "interaction"):
    """An interaction family (``dependence.backbone_interactions`` / ``pde_interactions``) as a
    forest plot: one row per (strategy[, backbone]): "a vs b", coloured by strategy."""
    t = table.copy()
    head = t["model"].astype(str) + ", " if "model" in t else ""
    t["label"] = head + t["strategy"].astype(str) + ": " + t["a"].astype(str) + " vs " + t["b"].astype(str)
    rows = forest_rows({run: t}, "label", "strategy", "strategy")
    return forest(rows, title, xlabel="gain on a beyond the gain on b, % (95% t interval)")


def _log_x(ax, values, labels) -> None:
    ax.set_xscale("log")
    ax.set_xticks(values, labels, fontsize=MIN_FONT)
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.tick_params(axis="y", labelsize=MIN_FONT)


def _log_y(ax, frames) -> None:
    """Log y axis (plain tick labels) when the values shown span 3x or more."""
    v = np.concatenate([f[["mean", "ci_low", "ci_high"]].to_numpy(dtype=float).ravel() for f in frames if len(f)]
                       or [np.zeros(0)])
    v = v[np.isfinite(v) & (v > 0)]
    if v.size and v.max() / v.min() >= 3:
        ax.set_yscale("log")
        plain = ticker.FuncFormatter(lambda y, _: f"{y:.3g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain if v.max() / v.min() < 8 else ticker.NullFormatter())
        ax.tick_params(axis="y", which="both", labelsize=MIN_FONT)


def _line(ax, g: pd.DataFrame, x: str, strategy: str) -> None:
    c = color_for("strategy", strategy)
    ax.fill_between(g[x], g["ci_low"], g["ci_high"], color=c, alpha=0.12, lw=0, zorder=2)
    ax.plot(g[x], g["mean"], color=c, marker="o", ms=5, lw=1.6, label=strategy, zorder=4)
    for xv, pts in zip(g[x], g["points"]):
        ax.scatter([xv] * len(pts), pts, s=14, facecolors="none", edgecolors=c, linewidths=0.9, zorder=5)


def scaling_figure(by_fraction: pd.DataFrame, by_width: pd.DataFrame | None = None, title: str = ""):
    """Two panels (module doc) from ``pretrain_scaling.error_by_fraction`` and
    ``error_by_width`` (None: the fraction panel only)."""
    fig, axes = plt.subplots(1, 2 if by_width is not None else 1, figsize=(12 if by_width is not None else 6.5, 4.6),
                             squeeze=False)
    ax = axes[0, 0]
    base = by_fraction[by_fraction["strategy"].astype(str) == "none"]
    others = by_fraction[by_fraction["strategy"].astype(str) != "none"]
    if len(base):
        b = base.iloc[0]
        ax.axhspan(b["ci_low"], b["ci_high"], color=color_for("strategy", "none"), alpha=0.10, lw=0, zorder=1)
        ax.axhline(b["mean"], color=color_for("strategy", "none"), lw=1.4, ls="--", zorder=3,
                   label="none, no pretraining (95% band)")
    for s in order_values("strategy", others["strategy"].astype(str).unique()):
        _line(ax, others[others["strategy"].astype(str) == s].sort_values("fraction"), "fraction", s)
    fr = others.drop_duplicates("fraction").sort_values("fraction")
    _log_x(ax, fr["fraction"].tolist(), [str(v).replace("of", "/") for v in fr["pretrain_fraction"]])
    ax.set_xlabel("fraction of the pretraining set", fontsize=MIN_FONT)
    ax.set_ylabel("test rel. L2 (geometric mean, 95% t)", fontsize=MIN_FONT)
    ax.set_title("against pretraining-set size", fontsize=12, loc="left")
    _log_y(ax, [by_fraction])
    ax.grid(alpha=0.3, which="both")
    if by_width is not None:
        ax = axes[0, 1]
        for s in order_values("strategy", by_width["strategy"].astype(str).unique()):
            _line(ax, by_width[by_width["strategy"].astype(str) == s].sort_values("width"), "width", s)
        w = by_width.drop_duplicates("width").sort_values("width")
        _log_x(ax, w["width"].tolist(), [f"{v:g}\n{m}" for v, m in zip(w["width"], w["model"])])
        ax.set_xlabel("backbone width", fontsize=MIN_FONT)
        ax.set_title("against width", fontsize=12, loc="left")
        _log_y(ax, [by_width])
        ax.grid(alpha=0.3, which="both")
    handles, labels = {}, []
    for a in axes.ravel():
        for h, lab in zip(*a.get_legend_handles_labels()):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    fig.suptitle(title, fontsize=13, x=0.01, ha="left")
    fig.legend([handles[lab] for lab in labels], labels, fontsize=MIN_FONT, loc="upper left", frameon=False,
               ncol=len(labels), bbox_to_anchor=(0.01, 0.94))  # its own line under the title
    fig.tight_layout(rect=(0, 0, 1, 0.86))
    return fig
