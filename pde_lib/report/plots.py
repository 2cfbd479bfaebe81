"""Report figures (matplotlib). Every function returns its ``Figure``; callers show and close it.
Colours are fixed per strategy / augmentation / distribution (``colors``); intervals are light
bands or thin bars with the means and each seed's value drawn on top; the copy-last-frame and
zero-prediction errors are dashed reference lines."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt  # headless processes fall back to Agg; kernels use inline
import numpy as np
import pandas as pd
from matplotlib import ticker

from pde_lib.report.colors import BASELINE_STYLE, color_for, order_values


def _plain_log(axis) -> None:
    """Log-scale tick labels as plain numbers (0.5, 2, 100) instead of 5 x 10^-1."""
    fmt = ticker.FuncFormatter(lambda v, _: f"{v:.3g}")
    axis.set_major_formatter(fmt)
    axis.set_minor_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.3g}" if _few_decades(axis) else ""))


def _few_decades(axis) -> bool:
    lo, hi = axis.get_view_interval()
    return lo > 0 and hi / lo < 8


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
    if paths and len(paths) <= 12:
        ax_t.legend(fontsize=10, ncol=2)
    fig.suptitle(Path(cell_dir).name)
    fig.tight_layout()
    return fig


def heatmap(table: pd.DataFrame, title: str = "", fmt: str = "{:.3g}", cmap: str = "viridis_r",
            center_zero: bool = False, reference_prefix: str = "baseline:"):
    """A numeric table (rows x columns) as an annotated heatmap, legible at 100% zoom: at least
    5 x 3.2 inches whatever the shape (a one-row table is not a thin strip), 1.5 inches per
    column so the numbers never overlap, every text >= 10 pt. The colour scale is set by the
    model rows only: reference rows (index starting with ``reference_prefix``, the baselines)
    are drawn with the colour clipped to that scale and their numbers still written."""
    values = table.to_numpy(dtype=float)
    nr, nc = max(1, values.shape[0]), max(1, values.shape[1])
    fig, ax = plt.subplots(figsize=(max(5.0, 2.4 + 1.5 * nc), max(3.2, 1.4 + 0.55 * nr)))
    is_ref = np.array([str(i).startswith(reference_prefix) for i in table.index], dtype=bool)
    scaled = values[~is_ref] if (~is_ref).any() else values
    kw = {}
    if np.isfinite(scaled).any():
        if center_zero:
            lim = np.nanmax(np.abs(scaled)) or 1.0
            kw = {"vmin": -lim, "vmax": lim}
            cmap = "RdBu"
        else:
            kw = {"vmin": float(np.nanmin(scaled)), "vmax": float(np.nanmax(scaled))}
    im = ax.imshow(values, cmap=cmap, aspect="auto", **kw)
    ax.set_xticks(range(values.shape[1]), [str(c) for c in table.columns], rotation=30, ha="right", fontsize=10)
    ax.set_yticks(range(values.shape[0]), [str(i) for i in table.index], fontsize=10)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                level = float(np.clip(im.norm(values[i, j]), 0, 1))  # text colour readable on the cell colour
                dark = abs(level - 0.5) > 0.3 if center_zero else level > 0.5
                ax.text(j, i, fmt.format(values[i, j]), ha="center", va="center", fontsize=10,
                        color="white" if dark else "black")
    if is_ref.any() and (~is_ref).any():
        ax.axhline(int(np.argmax(is_ref)) - 0.5, color="white", lw=3)
    bar = fig.colorbar(im, ax=ax, shrink=0.8)
    bar.ax.tick_params(labelsize=10)
    if is_ref.any():
        bar.set_label("scale set by the model rows", fontsize=10)
    ax.set_title(title, fontsize=12)
    fig.tight_layout()
    return fig


def _references(ax, refs: pd.DataFrame | None, panel: str | None, pv) -> None:
    """Horizontal reference lines (``tables.baseline_levels`` rows) for panel value ``pv``."""
    if refs is None or not len(refs):
        return
    sub = refs if panel is None or panel not in refs else refs[refs[panel] == pv]
    extra = [c for c in sub.columns if c not in (panel, "baseline", "value")]
    for _, r in sub[np.isfinite(sub["value"].astype(float))].iterrows():
        style = dict(BASELINE_STYLE.get(r["baseline"], {"color": "#777777", "ls": "--", "lw": 1.0}))
        label = f"baseline: {r['baseline']}"
        if extra:  # one line per value of another coordinate (say id / ood): its colour and name
            style["color"] = color_for(extra[0], r[extra[0]])
            label += f" ({', '.join(str(r[c]) for c in extra)})"
        ax.axhline(r["value"], zorder=1, label=label, **style)


def _panel_axes(n: int, width: float, height: float, ncols: int = 2):
    """A figure of ``n`` panels, ``ncols`` per row (so text stays legible at page width); returns
    the figure and the used axes in order (spare axes are removed)."""
    cols = min(ncols, max(1, n))
    rows = -(-max(1, n) // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    axes = list(grid.ravel())
    for ax in axes[n:]:
        ax.remove()
    return fig, axes[:max(1, n)]


def _legend(fig, axes, title: str) -> None:
    """One legend for the figure, right of the panels, legible at 100% (10 pt)."""
    handles, labels = {}, []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    if labels:
        fig.legend([handles[lab] for lab in labels], labels, title=title, fontsize=10, title_fontsize=10,
                   loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)


def _seed_points(ax, xs, points, color) -> None:
    """Each seed's value as a small hollow marker on top of everything."""
    for x, pts in zip(xs, points):
        if isinstance(pts, tuple) and pts:
            ax.scatter([x] * len(pts), pts, s=14, facecolors="none", edgecolors=color, linewidths=0.9,
                       zorder=5)


def ci_lines(summary: pd.DataFrame, x: str, line: str, panel: str | None = None, logx: bool = True,
             ylabel: str = "test rel. L2", title: str = "", logy: bool = True, hline: float | None = None,
             refs: pd.DataFrame | None = None):
    """Mean against ``x``, one line per ``line`` value in its fixed colour (``colors``), the 95%
    interval as a light band, each seed's value as a hollow marker on top; one panel per
    ``panel`` value; ``refs`` (``tables.baseline_levels``) as dashed reference lines."""
    panels = order_values(panel, summary[panel].unique()) if panel else [None]
    fig, axes = _panel_axes(len(panels), 5.0, 3.8)
    for ax, pv in zip(axes, panels):
        sub = summary if pv is None else summary[summary[panel] == pv]
        for lv in order_values(line, sub[line].unique()):
            g = sub[sub[line] == lv].sort_values(x)
            c = color_for(line, lv)
            ax.fill_between(g[x], g["ci_low"], g["ci_high"], color=c, alpha=0.10, lw=0, zorder=2)
            ax.plot(g[x], g["mean"], color=c, marker="o", ms=4, lw=1.5, label=str(lv), zorder=4)
            if "points" in g:
                _seed_points(ax, g[x], g["points"], c)
        _references(ax, refs, panel, pv)
        if logx:
            ax.set_xscale("log")
            xs = sorted(sub[x].unique())
            ax.set_xticks(xs, [f"{v:g}" for v in xs])
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        _set_y(ax, _extent(sub, refs), logy)
        if hline is not None:
            ax.axhline(hline, color="k", lw=0.8, zorder=1)
        ax.set_xlabel(x)
        ax.set_ylabel(ylabel)
        ax.set_title(str(pv) if pv is not None else title)
        ax.grid(alpha=0.3, which="both")
    _legend(fig, axes, line)
    if title and panel:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _extent(sub: pd.DataFrame, refs: pd.DataFrame | None) -> np.ndarray:
    """Every value a panel shows: means, bounds, per-seed points and reference levels."""
    parts = [sub[["mean", "ci_low", "ci_high"]].to_numpy(dtype=float).ravel()]
    if "points" in sub:
        parts += [np.asarray(p, dtype=float) for p in sub["points"] if isinstance(p, tuple) and p]
    if refs is not None and len(refs):
        parts.append(refs["value"].to_numpy(dtype=float))
    return np.concatenate(parts) if parts else np.zeros(0)


def grouped_points(summary: pd.DataFrame, group: str, hue: str, panel: str | None = None,
                   ylabel: str = "test rel. L2", title: str = "", logy: bool = True,
                   refs: pd.DataFrame | None = None):
    """Means as dots with 95% interval bars: ``group`` on the x axis, one dodged fixed colour per
    ``hue`` value, each seed's value as a hollow marker on top, one panel per ``panel`` value
    (dots, not bars, so a log axis stays honest); ``refs`` as dashed reference lines."""
    panels = order_values(panel, summary[panel].unique()) if panel else [None]
    width = max(4.0, 1.0 + 0.8 * summary[group].nunique())
    fig, axes = _panel_axes(len(panels), width, 4.0)
    for ax, pv in zip(axes, panels):
        sub = summary if pv is None else summary[summary[panel] == pv]
        groups = order_values(group, sub[group].unique())
        hues = order_values(hue, sub[hue].unique())
        step = 0.6 / max(1, len(hues))
        for k, hv in enumerate(hues):
            g = sub[sub[hue] == hv].set_index(group).reindex(groups)
            xs = np.arange(len(groups)) + (k - (len(hues) - 1) / 2) * step
            c = color_for(hue, hv)
            err = np.vstack([g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]]).clip(min=0)
            ax.errorbar(xs, g["mean"], yerr=np.nan_to_num(err), fmt="o", ms=6, capsize=3, color=c,
                        ecolor=c, elinewidth=1.0, alpha=0.9, label=str(hv), zorder=3)
            if "points" in g:
                _seed_points(ax, xs, g["points"], c)
        _references(ax, refs, panel, pv)
        ax.set_xticks(range(len(groups)), [str(g) for g in groups], rotation=30, ha="right", fontsize=10)
        ax.set_xlim(-0.6, len(groups) - 0.4)
        _set_y(ax, _extent(sub, refs), logy)
        ax.set_ylabel(ylabel)
        ax.set_title(str(pv) if pv is not None else title)
        ax.grid(alpha=0.3, axis="y", which="both")
    _legend(fig, axes, hue)
    if title and panel:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def trajectory_grid(u, times, titles: list[str], n_frames: int = 6, suptitle: str = ""):
    """Rows = samples (``titles``: one label per row, may hold line breaks), columns = ``n_frames``
    evenly spaced frames of u (B, T, N, N)."""
    u = np.asarray(u)
    b, t = u.shape[:2]
    cols = np.linspace(0, t - 1, n_frames).round().astype(int)
    fig, axes = plt.subplots(b, n_frames, figsize=(2.0 * n_frames + 0.8, 2.0 * b + 0.6), squeeze=False)
    for i in range(b):
        lim = float(np.abs(u[i]).max()) or 1.0
        for j, k in enumerate(cols):
            ax = axes[i][j]
            ax.imshow(u[i, k].T, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim, extent=(-1, 1, -1, 1))
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"t = {float(times[k]):.2f}", fontsize=11)
        axes[i][0].set_ylabel(titles[i], fontsize=10)
    fig.suptitle(suptitle, fontsize=13)
    fig.tight_layout()
    return fig


def valid_curves(results: pd.DataFrame, curves: pd.DataFrame, strategy: str = "none", share: float = 0.2):
    """The validation error per epoch of ``strategy``'s fine-tunes (of the ``results`` rows given),
    one panel per (distribution, PDE), one colour per (model, sample count), one line per seed;
    the last ``share`` of the epochs (where a plateaued run improves by < 5%) is shaded."""
    runs = results[results["strategy"].astype(str) == strategy]
    keys = ["cell_id", "finetune_id", "model", "samples", "distribution", "pde"]
    data = runs[keys].merge(curves, on=["cell_id", "finetune_id"])
    panels = sorted({(d, p) for d, p in zip(data["distribution"], data["pde"])})
    fig, axes = _panel_axes(max(1, len(panels)), 5.2, 3.4)
    if not panels:
        axes[0].set_axis_off()
        axes[0].text(0.5, 0.5, f"no validation curves of '{strategy}'", ha="center", va="center")
        return fig
    for ax, (dist, pde) in zip(axes, panels):
        sub = data[(data["distribution"] == dist) & (data["pde"] == pde)]
        last = sub["epoch"].max()
        ax.axvspan(last - share * last, last, color="#eeeeee", zorder=0)
        for (model, n), grp in sub.groupby(["model", "samples"], sort=True):
            color = color_for("series", f"{model} n={n}")
            for i, (_, run) in enumerate(grp.groupby("cell_id", sort=True)):
                ax.plot(run["epoch"], run["valid_rel_l2"], color=color, lw=1, alpha=0.8,
                        label=f"{model}, n={n}" if i == 0 else None)
        ax.set_yscale("log")
        _plain_log(ax.yaxis)
        ax.set_title(f"{pde} ({dist})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("valid rel. L2")
        ax.grid(alpha=0.3)
    _legend(fig, axes, f"{strategy}: model, samples")
    fig.tight_layout()
    return fig
