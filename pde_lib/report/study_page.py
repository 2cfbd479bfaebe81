"""The pre-registered study's report: one self-contained HTML page (figures embedded, no script,
no network) from ``study_analysis.analyse`` of a whole study (``study_chunks.load_study``).
Answers first: one verdict per hypothesis H1-H6; then per family its forest plot and table, each
row with the manipulation check's label; then the rules' evidence (learned PDEs and the negative
control, trivial baselines, exclusions, convergence shares, the per-PDE secondary family) and the
run record (chunks, seeds, commits, wall times). Same inputs, same bytes."""

from __future__ import annotations

import html

import pandas as pd

from pde_lib.report.findings import PER_PDE_FAMILY, family_view
from pde_lib.report.findings_page import CSS, img, png_data, table_html
from pde_lib.report.forest import forest, forest_rows
from pde_lib.report.learned import LEARNED_BELOW
from pde_lib.report.pretrain_scaling import error_by_fraction, error_by_width
from pde_lib.report.question_figures import interaction_forest, scaling_figure
from pde_lib.report.aggregate import select
from pde_lib.report.study_analysis import (FAMILIES, POOLED_PDES, STUDY_SCALING, WIDTHS, StudyAnalysis,
                                           baselines_table, family_rows, negative_control)
from pde_lib.report.study_chunks import StudyRun
from pde_lib.report.study_data import consistency_paragraph
from pde_lib.report.tables import format_ci
from pde_lib.report.undecided import residual_uncertainty, undecided_sentence
from pde_lib.report.verdicts import LABELS, MEANINGS

RUN = "study v2"
#: the columns that name a row of each family (the table's first columns)
ROW_KEYS = {"F1": ["strategy", "samples"], "F2": ["model", "strategy"], "F3": ["strategy", "augmentation"],
            "F4": ["setting", "strategy"], "F5a": ["strategy", "a", "b"], "F5b": ["model", "strategy", "a", "b"],
            "F6a": ["strategy", "pretrain_fraction"], "F6b": ["strategy", "model"]}
HYPOTHESES = {"H1": "pretraining improves fine-tuning, most when fine-tune data are scarce",
              "H2": "transfer learning and physics-based strategies do best",
              "H3": "augmentations improve pretraining and fine-tuning",
              "H4": "pretrained models gain under distribution shift and on an unseen PDE",
              "H5": "pretraining is highly dependent on model and dataset choices",
              "H6": "the gain grows with the pretraining set and the backbone's width"}


def trend_table(trend: pd.DataFrame) -> pd.DataFrame:
    """A joint family's trend rows for reading: strategy, what is compared, the extra gain with
    its 95% t interval (* survives Holm), seeds, Holm-adjusted p, verdict, pretext."""
    if trend.empty:
        return pd.DataFrame()
    lo, hi = ("n_min", "n_max") if "n_min" in trend else ("level", "versus")
    return pd.DataFrame({
        "strategy": trend["strategy"].to_numpy(),
        "compared": [f"{a} vs {b}" for a, b in zip(trend[lo], trend[hi])],
        "extra gain (95% t)": [format_ci(m, a, b, pct=True, mark=bool(k)) for m, a, b, k in
                               zip(trend["extra_gain"], trend["ci_low"], trend["ci_high"], trend["holm_reject"])],
        "seeds": trend["n_seeds"].to_numpy(),
        "p (Holm)": [f"{p:.3g}" for p in trend["p_holm"]],
        "verdict": trend["effect"].to_numpy(), "pretext": trend["pretext"].to_numpy()})


def family_figure(name: str, a: StudyAnalysis):
    """The forest plot (or, for F6, the error against size and width) of family ``name``."""
    fam = a.families
    if name == "F1":
        rows = forest_rows({RUN: fam["F1"]}, "strategy+samples", "strategy", "strategy").assign(panel="count")
        trend = forest_rows({RUN: fam["F1 trend"]}, "strategy", "strategy", "strategy", value="extra_gain")
        return forest(pd.concat([rows, trend.assign(panel="trend")], ignore_index=True), "F1 (H1): FNO2D",
                      panel_titles={"count": "improvement over none at each sample count",
                                    "trend": "extra gain at 10 samples over 100"})
    if name == "F2":
        return forest(forest_rows({RUN: fam["F2"]}, "strategy", "strategy", "strategy", panel="model"),
                      "F2 (H2): every strategy vs none per backbone, 32 samples")
    if name == "F3":
        t = fam["F3"].assign(row=fam["F3"]["augmentation"] + " on " + fam["F3"]["strategy"])
        return forest(forest_rows({RUN: t}, "row", "augmentation", "augmentation"),
                      "F3 (H3): FNO2D, every augmentation vs the step-matched copies",
                      xlabel="% lower test error than unchanged copies (95% t interval)")
    if name == "F4":
        return forest(forest_rows({RUN: fam["F4"]}, "strategy", "strategy", "strategy", panel="setting"),
                      "F4 (H4): FNO2D out of distribution and on Navier-Stokes")
    if name in ("F5a", "F5b"):
        return interaction_forest(fam[name], f"{name} (H5): {FAMILIES[name][1]}", run=RUN)
    if name == "F6a":
        rows = select(family_rows(a.results, models=["fno2d"], fraction=None), pde=list(POOLED_PDES))
        widths = select(family_rows(a.results, models=list(WIDTHS)), pde=list(POOLED_PDES))
        by_width = (error_by_width(widths, WIDTHS, strategies=STUDY_SCALING) if len(a.families["F6b"]) else None)
        return scaling_figure(error_by_fraction(rows, strategies=STUDY_SCALING), by_width,
                              "F6 (H6): test error against pretraining-set size and FNO2D width")
    return None


def figures(a: StudyAnalysis) -> dict[str, bytes]:
    """PNG bytes per family (F6a's figure shows F6a and F6b)."""
    out = {}
    for name in FAMILIES:
        fig = family_figure(name, a) if len(a.families.get(name, ())) else None
        if fig is not None:
            out[name] = png_data(fig)
    return out


def glance(a: StudyAnalysis) -> str:
    rows = "".join(f"<tr><td><b>{h}</b></td><td>{html.escape(HYPOTHESES[h])}</td><td><b>{html.escape(v)}</b></td>"
                   f"<td>{html.escape(t)}</td></tr>" for h, (v, t) in a.hypotheses.items())
    return ("<table><tr><th>hypothesis</th><th>the paper's claim</th><th>verdict</th><th>what carries it</th></tr>"
            f"{rows}</table>")


#: the pre-registration's cost plan (its section 9), which the measured cost is set beside
PLANNED_COST = ("planned: about 8.4 h of 2-core wall time. At the paper's model sizes the pre-registration "
                "estimates the same design at about 50 h on 2 CPU cores, from this project's measured paper-size "
                "CPU throughput, and about 9 GPU-hours on one GPU (about 1 hour on 8, one chunk each) if a "
                "paper-size step takes 10 ms, a figure quoted for the original code on an H200: no GPU was lent "
                "to measure this project's step times")


def cost_paragraph(run: StudyRun, prereg: str) -> str:
    """The measured wall time (total, per chunk) beside the plan of the pre-registration's section 9."""
    wall = pd.to_numeric(run.chunks["wall_seconds"], errors="coerce") / 60
    measured = ("wall time not recorded for every chunk" if wall.isna().any() else
                f"{wall.sum() / 60:.1f} h of 2-core wall time in {len(wall)} chunks (per chunk {wall.min():.0f}-"
                f"{wall.max():.0f} min, median {wall.median():.0f}; data generation once per session not included)")
    return (f'<p><b>Cost.</b> Measured: {measured}; {html.escape(PLANNED_COST)} (<a href="{html.escape(prereg)}">'
            "pre-registration</a>, section 9; docs/performance.md).</p>")


def run_record(run: StudyRun, prereg: str) -> str:
    return (f"<p>Design <code>{html.escape(run.design)}</code>, results <code>{html.escape(str(run.folder))}"
            f"</code>: {len(run.results)} fine-tunes, {run.results['seed'].nunique()} seeds, "
            f"{len(run.pretext)} pretraining runs.</p>" + cost_paragraph(run, prereg)
            + table_html(run.chunks, "no chunks") + data_section(run))


def data_section(run: StudyRun) -> str:
    """Whether the chunks read the same data (``study_data``), with the test sets' agreement."""
    dc = run.data
    table = ("" if dc.test_sets.empty else
             table_html(dc.test_sets.assign(**{"largest relative spread": dc.test_sets["largest relative spread"]
                                               .map(lambda v: f"{v:.2g}")}), "no test sets"))
    return f"<p><b>Data.</b> {html.escape(consistency_paragraph(dc))}</p>" + table


def undecided_section(a: StudyAnalysis) -> str:
    """How many comparisons are decided, and the residual uncertainty of the others (``undecided``)."""
    summary = residual_uncertainty(a.families)
    shown = summary.assign(**{c: summary[c].round(1).astype(object).where(summary[c].notna(), "-")
                              for c in summary.columns if "effect" in c or "width" in c})
    return (f"<p><b>Decided and not.</b> {html.escape(undecided_sentence(summary))} Per family (interval widths "
            "and effects in percentage points):</p>" + table_html(shown, "no families"))


def family_section(name: str, a: StudyAnalysis, figs: dict) -> str:
    hyp, what = FAMILIES[name]
    t = a.families[name]
    n = len(t) + len(a.families.get(f"{name} trend", ()))
    parts = [f'<h2 id="{name}">{name} ({hyp}): {html.escape(what)}</h2>',
             f"<p class=note>One Holm family of {n} rows at 5%.</p>"]
    if name in figs:
        parts.append(img(figs[name], f"figure of {name}"))
    label = "improvement over copy" if name == "F3" else "difference of gains" if name.startswith("F5") \
        else "improvement over none"
    parts.append(table_html(family_view(t, ROW_KEYS[name] + ["pretext"], label=label), "no rows"))
    if f"{name} trend" in a.families:
        parts.append(table_html(trend_table(a.families[f"{name} trend"]), "no trend rows"))
    return "\n".join(parts)


def rules_section(a: StudyAnalysis) -> str:
    learned = a.learned.assign(**{c: a.learned[c].round(4) for c in ("mean", "ci_low", "ci_high")})
    base = baselines_table(a.results)
    base = base.assign(**{c: base[c].round(4) for c in ("mean", "ci_low", "ci_high", "copy_last")})
    pre = a.pretext.assign(**{c: a.pretext[c].round(3) for c in ("skill", "ci_low", "ci_high")})
    conv = a.convergence.assign(**{c: a.convergence[c].round(2) for c in ("share_converged", "median_best_fraction")})
    return "\n".join([
        '<h2 id="pretext">The manipulation check: was each pretext task learned?</h2>',
        "<p>Held-out pretext skill per backbone and strategy over seeds (0 = its reference: chance, the best "
        "input-blind predictor or the zero field; 1 = perfect): <b>learned</b> when the mean's 95% t interval lies "
        "above 0. Where a strategy is <b>not learned</b>, its rows say nothing about the strategy: it was not "
        "tested there.</p>", table_html(pre, "no pretraining runs"),
        '<h2 id="learned">Learned PDEs, the negative control and trivial baselines</h2>',
        f"<p>A (backbone, distribution, PDE) enters the pooled families only where none's test error (geometric "
        f"mean over seeds) has a 95% interval below {LEARNED_BELOW:g}: the zero prediction's error is 1. "
        f"{html.escape(negative_control(a.learned))}.</p>", table_html(learned, "no none runs"),
        "<p>Trivial baselines at 32 samples: none's error beside predicting the last input frame "
        "(<code>copy_last</code>) and predicting zero (<code>zero</code>).</p>", table_html(base, "no rows"),
        '<h2 id="excluded">Exclusions (diverged runs)</h2>',
        table_html(a.excluded, "No fine-tune diverged: nothing was excluded."),
        '<h2 id="convergence">Where the selected epoch lies</h2>',
        "<p>Per backbone and strategy, the share of fine-tunes whose best validation epoch lies before 80% of "
        "the budget. Reported, not used to exclude (the budget rule, by doubling, decided the budget).</p>",
        table_html(conv, "no runs"),
        f'<h2 id="per-pde">Per PDE (secondary family: {html.escape(PER_PDE_FAMILY.format(samples=32))})</h2>',
        "<p>These decide no hypothesis; a star means the row survives Holm over this whole family.</p>",
        table_html(family_view(a.per_pde, ["model", "pde", "strategy"]), "no rows")])


def study_page_html(run: StudyRun, a: StudyAnalysis, figs: dict, prereg: str) -> str:
    """The whole page (module doc); ``prereg``: the link to the pre-registration."""
    labels = "".join(f"<li><b>{html.escape(lab)}</b>: {html.escape(MEANINGS[lab])}</li>" for lab in LABELS)
    parts = ["<h1>Strategies for pretraining neural operators: the pre-registered study</h1>",
             f'<p>Every hypothesis below was fixed, with its families, rules and seed count, in <a href="'
             f'{html.escape(prereg)}">the pre-registration</a> before any of these runs. Generated by '
             "<code>python -m pde_lib study-report</code> from the published chunks.</p>",
             '<h2 id="glance">The answers</h2>', glance(a), undecided_section(a),
             "<p><b>How to read it.</b> Each comparison is paired by seed (same backbone, data drawn and steps): "
             "% lower test error than the baseline with its 95% Student-t interval over seeds; * and a filled marker: "
             f"survives Holm at 5% in its family. The labels, one rule:</p><ul>{labels}</ul>"]
    parts += [family_section(name, a, figs) for name in FAMILIES]
    parts += [rules_section(a), '<h2 id="run">The run</h2>', run_record(run, prereg)]
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>pde-pretrain: the pre-registered '
            f"study</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n")
