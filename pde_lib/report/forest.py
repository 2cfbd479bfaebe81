"""Forest plots of paired improvements: per row (a strategy, augmentation or sample count) the
improvement over the baseline with its 95% interval, one marker shape per run length (circle:
60 epochs, square: 240 epochs; filled where the comparison survives Holm in its family, hollow
where it does not), each seed's value as a small dot, a grey band for +-10% (the effect
size the study must resolve) and the verdict written beside every marker. Every text is at
least ``MIN_FONT`` pt, so it reads at 100% zoom at the figure's dpi (100)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pde_lib.report.colors import color_for
from pde_lib.report.verdicts import RESOLUTION_PCT

#: marker per run length (any other run takes a diamond)
RUN_MARKERS = {"60 epochs": "o", "240 epochs": "s"}
MIN_FONT = 10.0
#: the x axis stops here; an interval reaching further is drawn to the edge with an arrow
X_FLOOR = -100.0


def forest_rows(tables: dict[str, pd.DataFrame], label: str, color_kind: str, color_col: str,
                panel: str | None = None, value: str = "mean") -> pd.DataFrame:
    """One frame for ``forest`` from {run length: family table}: columns panel, label, run,
    mean, ci_low, ci_high, points, holm_reject, effect, n_seeds, color. ``label`` names the
    column (or "a+b" for two joined by a comma) that labels a row."""
    parts = []
    for run, t in tables.items():
        if t is None or t.empty:
            continue
        cols = label.split("+")
        lab = t[cols[0]].astype(str)
        for c in cols[1:]:
            lab = lab + ", " + (("n=" + t[c].astype(str)) if c == "samples" else t[c].astype(str))
        parts.append(pd.DataFrame({
            "panel": t[panel].astype(str).to_numpy() if panel else "", "label": lab.to_numpy(), "run": run,
            "mean": t[value].to_numpy(dtype=float), "ci_low": t["ci_low"].to_numpy(dtype=float),
            "ci_high": t["ci_high"].to_numpy(dtype=float),
            "points": list(t["points"]) if "points" in t else [()] * len(t),
            "holm_reject": t["holm_reject"].to_numpy(dtype=bool), "effect": t["effect"].to_numpy(),
            "n_seeds": t["n_seeds"].to_numpy(),
            "color": [color_for(color_kind, v) for v in t[color_col]]}))
    cols = ["panel", "label", "run", "mean", "ci_low", "ci_high", "points", "holm_reject", "effect", "n_seeds",
            "color"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def _row_order(sub: pd.DataFrame) -> list[str]:
    """Labels top to bottom: by their largest mean over run lengths, largest first; a label
    ending in ", n=K" keeps its strategy's rows together in K order."""
    if sub["label"].str.contains(", n=").all():
        base = sub["label"].str.split(", n=").str[0]
        rank = sub.groupby(base)["mean"].max().rank(ascending=False, method="first")
        key = pd.DataFrame({"label": sub["label"], "g": base.map(rank),
                            "n": sub["label"].str.split(", n=").str[1].astype(int)})
        return list(dict.fromkeys(key.sort_values(["g", "n"])["label"]))
    return list(sub.groupby("label")["mean"].max().sort_values(ascending=False).index)


def forest(rows: pd.DataFrame, title: str, xlabel: str = "% lower test error than no pretraining (95% t interval)",
           panel_titles: dict | None = None, width: float = 11.0, compact: bool = False):
    """A forest plot of ``forest_rows`` output, one panel per ``panel`` value, stacked (one
    above the other, sharing the x scale, with room on the right for the verdicts; module
    doc). ``compact``: a narrow headline figure (the README's): no verdict text beside the
    markers (the fill still tells Holm survivors), tighter rows, the legend over two lines.
    Returns the Figure."""
    panels = list(dict.fromkeys(rows["panel"])) or [""]
    runs = list(dict.fromkeys(rows["run"])) or [""]
    per_run = 0.19 if compact else 0.30  # inches per marker row
    sizes = [max(1, len(set(rows.loc[rows["panel"] == p, "label"]))) for p in panels]
    heights = [per_run * len(runs) * n + 0.2 for n in sizes]
    top, bottom, gap = (1.45, 0.75, 0.55) if compact else (1.25, 0.75, 0.95)  # title + legend, x label, between
    fig_h = top + bottom + sum(heights) + gap * (len(panels) - 1)
    fig = plt.figure(figsize=(width, fig_h))
    grid = fig.add_gridspec(len(panels), 1, height_ratios=heights, left=(1.25 if compact else 1.9) / width,
                            right=1 - (0.15 if compact else 3.9) / width,
                            top=1 - top / fig_h, bottom=bottom / fig_h,
                            hspace=gap / (sum(heights) / len(panels)))
    values = np.r_[rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float),
                   rows["mean"].to_numpy(dtype=float), -15.0, 15.0]
    xmin, xmax = max(X_FLOOR, np.nanmin(values) - 5), np.nanmax(values) + 5
    step = 0.17 if len(runs) > 1 else 0.0  # marker rows of one label: 0.34 apart, labels 1 apart
    for i, p in enumerate(panels):
        ax = fig.add_subplot(grid[i, 0])
        sub = rows[rows["panel"] == p]
        order = _row_order(sub) if len(sub) else []
        ax.axvspan(-RESOLUTION_PCT, RESOLUTION_PCT, color="#e6e6e6", zorder=0, lw=0)
        ax.axvline(0, color="k", lw=0.8, zorder=1)
        for j, lab in enumerate(order):
            y0 = len(order) - 1 - j
            if j:
                ax.axhline(y0 + 0.5, color="#d0d0d0", lw=0.6, zorder=0)
            for k, run in enumerate(runs):
                r = sub[(sub["label"] == lab) & (sub["run"] == run)]
                if r.empty:
                    continue
                r = r.iloc[0]
                y = y0 + step * ((len(runs) - 1) / 2 - k) * 2
                lo, hi = r["ci_low"], r["ci_high"]
                if np.isfinite(lo):
                    ax.plot([max(lo, xmin), min(hi, xmax)], [y, y], color=r["color"], lw=1.8, zorder=3)
                    if lo < xmin:
                        ax.plot([xmin], [y], marker="<", color=r["color"], ms=8, zorder=3, clip_on=False)
                pts = np.asarray(r["points"], dtype=float) if len(r["points"]) else np.zeros(0)
                if pts.size:
                    ax.scatter(np.clip(pts, xmin, xmax), np.full(pts.size, y), s=10, color=r["color"], alpha=0.35,
                               zorder=2, lw=0)
                filled = bool(r["holm_reject"])
                ax.plot([max(r["mean"], xmin)], [y], marker=RUN_MARKERS.get(run, "D"), ms=9, zorder=4,
                        color=r["color"], markerfacecolor=r["color"] if filled else "white", markeredgewidth=1.8)
                if compact:
                    continue
                ax.annotate(f"{r['mean']:+.0f}% {r['effect']} (n={r['n_seeds']})", xy=(1.0, y),
                            xycoords=("axes fraction", "data"), xytext=(6, 0), textcoords="offset points",
                            va="center", fontsize=MIN_FONT, color="#222222", annotation_clip=False)
        ax.set_yticks(range(len(order)), list(reversed(order)), fontsize=MIN_FONT if compact else 11)
        ax.set_ylim(-0.6, max(len(order), 1) - 0.4)
        ax.set_xlim(xmin, xmax)
        ax.tick_params(axis="x", labelsize=MIN_FONT)
        if i == len(panels) - 1:
            ax.set_xlabel(xlabel, fontsize=MIN_FONT)
        ax.set_title((panel_titles or {}).get(p, p), fontsize=12, loc="left")
        ax.grid(alpha=0.3, axis="x")
    handles = [plt.Line2D([], [], marker=RUN_MARKERS.get(run, "D"), color="#444444", ls="", ms=9,
                          markerfacecolor="#444444", label=run) for run in runs if run]
    handles += [plt.Line2D([], [], marker="o", color="#444444", ls="", ms=9, markerfacecolor="white",
                           label="hollow: not after Holm" if compact else "hollow: does not survive Holm"),
                plt.Line2D([], [], marker="o", color="#444444", ls="", ms=4, alpha=0.5, label="one seed"),
                plt.Rectangle((0, 0), 1, 1, color="#e6e6e6", label=f"+-{RESOLUTION_PCT:g}%")]
    fig.legend(handles=handles, loc="upper left", ncol=3 if compact else len(handles), fontsize=MIN_FONT,
               frameon=False,
               bbox_to_anchor=(0.01, 1 - 0.45 / fig_h), handletextpad=0.3, columnspacing=1.2)
    fig.suptitle(title, fontsize=13, x=0.01, ha="left", y=1 - 0.08 / fig_h)
    return fig


def small_fonts(fig, minimum: float = MIN_FONT) -> list[tuple[str, float]]:
    """(text, size) of every visible, non-empty text of ``fig`` smaller than ``minimum`` pt."""
    from matplotlib.text import Text

    return [(t.get_text(), t.get_fontsize()) for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and t.get_fontsize() < minimum]
