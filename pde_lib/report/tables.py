"""Report tables: "mean [low, high]" strings pivoted for reading (``none`` first), the two
baselines (copy last frame, zero prediction) beside the models, Holm-marked improvement tables,
and per-cell summaries."""

from __future__ import annotations

import math

import pandas as pd

from pde_lib.report.aggregate import improvement_summary, summarise
from pde_lib.report.colors import order_values
from pde_lib.report.multiple import family_note, mark_holm

COPY_LAST = "test_copy_last_rel_l2"
COPY_LABEL, ZERO_LABEL = "copy last frame", "zero prediction"
CELL_SUMMARY_COLUMNS = ["task", "distribution", "pde", "samples", "test_rel_l2", "valid_rel_l2", "best_epoch"]


def format_ci(mean: float, low: float, high: float, digits: int = 4, pct: bool = False,
              points=(), mark: bool = False) -> str:
    """"0.123 [0.110, 0.135]" (or "+12.3% [+4.0, +20.1]" with ``pct``); without an interval (NaN
    bounds) the per-seed ``points``: "0.123 (seeds: 0.11, 0.14)"; " *" appended when ``mark``
    (survives the multiple-comparison correction); "-" when missing."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    num = (lambda v: f"{v:+.1f}") if pct else (lambda v: f"{v:.{digits}g}")
    centre = f"{num(mean)}%" if pct else num(mean)
    if not (math.isnan(low) or math.isnan(high)):
        text = f"{centre} [{num(low)}, {num(high)}]"
    elif len(points) > 1:
        text = f"{centre} (seeds: {', '.join(num(p) for p in points)}; no interval)"
    else:
        text = f"{centre} (1 seed)"
    return text + (" *" if mark else "")


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    """Rows and columns in reading order (``none`` first; see ``colors.order_values``)."""
    rows = order_values(table.index.name or "", table.index) if table.index.nlevels == 1 else table.index
    cols = order_values(table.columns.name or "", table.columns) if table.columns.nlevels == 1 else table.columns
    return table.reindex(index=rows, columns=cols)


def ci_table(summary: pd.DataFrame, index: str | list[str], columns: str | list[str],
             pct: bool = False, digits: int = 4) -> pd.DataFrame:
    """Pivot a ``summarise`` / ``improvement_summary`` output into a table of "mean [low, high]"
    strings (per-seed points where there is no interval; " *" where ``holm_reject``)."""
    s = summary.copy()
    points = s["points"] if "points" in s else [()] * len(s)
    marks = s["holm_reject"] if "holm_reject" in s else [False] * len(s)
    s["cell"] = [format_ci(m, lo, hi, digits, pct, p, bool(k)) for m, lo, hi, p, k
                 in zip(s["mean"], s["ci_low"], s["ci_high"], points, marks)]
    table = s.pivot_table(index=index, columns=columns, values="cell", aggfunc="first", sort=True)
    table.columns.name = table.columns.name if isinstance(columns, str) else None
    return _ordered(table).fillna("-")


def baseline_levels(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The two references per group of ``by``: the copy-last-frame error (geometric mean over
    seeds, like ``summarise``) and the zero prediction's (rel. L2 = 1 exactly).
    Columns: by..., baseline, value."""
    keys = by or ["_all"]
    d = df.assign(_all="all")
    copy = summarise(d.dropna(subset=[COPY_LAST]), keys, COPY_LAST)[keys + ["mean"]]
    groups = d[keys].drop_duplicates().sort_values(keys).merge(copy, on=keys, how="left")
    rows = []
    for _, r in groups.iterrows():  # NaN copy-last: results from before it was recorded
        key = {k: r[k] for k in by}
        rows += [{**key, "baseline": COPY_LABEL, "value": r["mean"]}, {**key, "baseline": ZERO_LABEL, "value": 1.0}]
    return pd.DataFrame(rows, columns=by + ["baseline", "value"])


def with_baselines(table: pd.DataFrame, df: pd.DataFrame, columns: str, digits: int = 4,
                   numeric: bool = False) -> pd.DataFrame:
    """``table`` (rows x ``columns``) with two more rows: the copy-last-frame and zero-prediction
    errors for each column (strings, or numbers with ``numeric``)."""
    levels = baseline_levels(df, [columns]).pivot_table(index="baseline", columns=columns, values="value",
                                                       aggfunc="first", sort=False)
    levels = levels.reindex(index=[COPY_LABEL, ZERO_LABEL], columns=table.columns)
    if not numeric:  # column by column: also for a table without columns (an empty selection)
        levels = pd.DataFrame({c: [f"{v:.{digits}g} (no model)" if v == v else "-" for v in levels[c]]
                               for c in levels.columns}, index=levels.index, columns=levels.columns)
    levels.index = [f"baseline: {i}" for i in levels.index]
    levels.index.name, levels.columns.name = table.index.name, table.columns.name
    return pd.concat([table, levels])


def strategy_table(df: pd.DataFrame, pde: str, value: str = "test_rel_l2") -> pd.DataFrame:
    """Strategy (rows, ``none`` first) x model (columns) for one PDE: geometric mean [95% t
    interval] over seeds (other coordinates averaged within each seed), then the two baselines."""
    sub = df[df["pde"] == pde]
    return with_baselines(ci_table(summarise(sub, ["strategy", "model"], value), "strategy", "model"), sub, "model")


def _with_references(df: pd.DataFrame, baseline: str, factor: str, value: str) -> pd.DataFrame:
    """``df`` plus two pseudo-``factor`` values copied from the baseline rows: the copy-last-frame
    prediction and the zero prediction (value 1), so their paired "improvement" over the baseline
    model shows whether that model beats predicting nothing at all."""
    base = df[df[factor].astype(str) == baseline]
    refs = [base.assign(**{factor: COPY_LABEL, value: base[COPY_LAST]}).dropna(subset=[value]),
            base.assign(**{factor: ZERO_LABEL, value: 1.0})]
    return pd.concat([df] + refs, ignore_index=True)


def improvement_table(df: pd.DataFrame, columns: str = "model", baseline: str = "none",
                      factor: str = "strategy", alpha: float = 0.05) -> pd.DataFrame:
    """Paired improvement over ``baseline`` (%) with 95% t interval, ``factor`` x ``columns``,
    rows sorted by effect (mean improvement over the columns, largest first);
    the table's comparisons are one family, Holm-corrected at ``alpha`` (survivors marked *; the
    sentence stating family size and survivors is ``attrs["note"]``). Two reference rows give
    the copy-last-frame and zero predictions' "improvement" over ``baseline`` (not in the family)."""
    s = improvement_summary(_with_references(df, baseline, factor, "test_rel_l2"), [factor, columns], baseline,
                            factor=factor)
    if s.empty:
        return pd.DataFrame()
    is_ref = s[factor].isin([COPY_LABEL, ZERO_LABEL])
    tested = mark_holm(s[~is_ref])
    refs = s[is_ref].assign(**{factor: lambda d: "reference: " + d[factor] + " vs " + baseline})
    by_effect = tested.groupby(factor)["mean"].mean().sort_values(ascending=False).index
    table = pd.concat([ci_table(tested, factor, columns, pct=True).reindex(by_effect),
                       ci_table(refs, factor, columns, pct=True)])
    table.attrs["note"] = family_note(tested)
    return table


def win_table(wins: pd.DataFrame, index: str, columns: str) -> pd.DataFrame:
    """Pivot a ``per_sample.win_rate`` output into "0.75 (of 16)" strings, in reading order."""
    w = wins.assign(cell=[f"{r:.2f} (of {n})" for r, n in zip(wins["win_rate"], wins["pairs"])])
    return _ordered(w.pivot_table(index=index, columns=columns, values="cell", aggfunc="first")).fillna("-")


def mean_table(summary: pd.DataFrame, index: str, columns: str) -> pd.DataFrame:
    """Pivot of the ``mean`` column of a ``summarise`` output (numbers, for heatmaps)."""
    table = summary.pivot_table(index=index, columns=columns, values="mean", aggfunc="first", sort=True)
    return _ordered(table)


def sweep_overview(df: pd.DataFrame) -> str:
    """What a results table holds: fine-tune count and the values of every coordinate."""
    lines = [f"{len(df)} fine-tunes from {df['cell_id'].nunique()} cells"]
    for col in ["model", "strategy", "augmentation", "pretrain_fraction", "seed", "task", "distribution",
                "pde", "samples"]:
        values = sorted(df[col].unique().tolist(), key=lambda v: (str(type(v)), v))
        lines.append(f"  {col}: {', '.join(map(str, values))}")
    return "\n".join(lines)


def cell_summary(rows: list[dict]) -> pd.DataFrame:
    """One row per fine-tune of a cell (the table the experiment notebook shows)."""
    return pd.DataFrame(rows)[CELL_SUMMARY_COLUMNS]


def counts(df: pd.DataFrame) -> pd.DataFrame:
    """How many fine-tunes there are per coordinate value (a quick completeness check)."""
    out = []
    for col in ["model", "strategy", "augmentation", "pretrain_fraction", "seed", "task", "distribution",
                "pde", "samples"]:
        for v, n in df[col].value_counts(sort=False).sort_index().items():
            out.append({"coordinate": col, "value": str(v), "fine_tunes": int(n)})
    return pd.DataFrame(out)


def dataset_summary(name: str, ds) -> str:
    """A deterministic text summary of a loaded dataset: samples per PDE, the range of each
    non-zero coefficient, and u's min / max (4 significant digits)."""
    import numpy as np

    from pde_lib.data import COEFFICIENT_KEYS

    lines = [f"{name}: {len(ds)} samples, u {tuple(ds.u.shape[1:])} (T, N, N)"]
    pdes = np.asarray(ds.pde)
    coeffs = ds.coeffs.numpy()
    u = ds.u.numpy()
    for pde in sorted(set(pdes.tolist())):
        m = pdes == pde
        ranges = [f"{k} in [{coeffs[m, i].min():.4g}, {coeffs[m, i].max():.4g}]"
                  for i, k in enumerate(COEFFICIENT_KEYS) if np.any(coeffs[m, i] != 0)]
        ranges += [f"{k} in [{v.numpy()[m].min():.4g}, {v.numpy()[m].max():.4g}]"
                   for k, v in sorted(ds.extra.items())]
        lines.append(f"  {pde}: {int(m.sum())} samples; {'; '.join(ranges)}; "
                     f"u in [{u[m].min():.4g}, {u[m].max():.4g}]")
    return "\n".join(lines)


def html_table(table, empty: str = "No rows in this selection.") -> str:
    """``table`` as HTML without an index column (a meaningful index, e.g. the strategy of a
    pivot table, becomes an ordinary first column), or ``empty`` as a sentence when it has no
    rows: what every report shows instead of a bare DataFrame. A ``pandas`` Styler is rendered
    with its index hidden."""
    import html as _html

    if hasattr(table, "hide") and hasattr(table, "data"):  # a Styler
        return "" if table.data.empty and not empty else (
            f"<p>{_html.escape(empty)}</p>" if table.data.empty else table.hide(axis="index").to_html())
    if table is None or len(table) == 0:
        return f"<p>{_html.escape(empty)}</p>"
    named = any(n is not None for n in table.index.names)
    if named:  # the row labels (a pivot's strategy, ...) become a column
        t = table.reset_index()
    elif isinstance(table.index, pd.RangeIndex):
        t = table
    else:  # unnamed labels: row labels of a pivot without a name, else positions of a filtered frame
        labels = [str(v) for v in table.index]
        keep = not all(v.lstrip("-").isdigit() for v in labels)
        t = table.reset_index(drop=not keep)
        if keep:
            t = t.rename(columns={t.columns[0]: table.columns.name or "row"})
    t = t.copy()
    t.columns = [str(c) for c in t.columns]
    return t.to_html(index=False, border=0, escape=True)
