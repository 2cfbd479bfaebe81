"""The canonical findings page: one self-contained HTML file (figures embedded as PNG data, no
script, no network) answering the paper's four claims from the best evidence today
(``evidence.load_evidence``: the joined 60-epoch and 240-epoch runs). Per claim: a one-line
verdict per run length (``claim_text``), a forest plot (``forest``), then the tables, each
headed by exactly what it shows. Same inputs, same bytes (PNG metadata without software or
date; matplotlib's Agg output is deterministic)."""

from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from pde_lib.report.claim_text import CLAIM_TEXT  # noqa: E402
from pde_lib.report.evidence import ADAPTIVE, SAMPLES  # noqa: E402
from pde_lib.report.findings import CLAIMS, PER_PDE_FAMILY, family_view, trend_view  # noqa: E402
from pde_lib.report.forest import forest, forest_rows  # noqa: E402
from pde_lib.report.learned import LEARNED_BELOW  # noqa: E402
from pde_lib.report.tables import html_table  # noqa: E402
from pde_lib.report.verdicts import LABELS, MEANINGS  # noqa: E402

#: the pilot-evidence banner (amber: a caution, not the superseded pages' red)
PILOT_STYLE = "background:#fff4d6;border:2px solid #b7791f;color:#3d2a00;padding:10px 14px;margin:8px 0 14px 0"
CSS = """body{font-family:sans-serif;font-size:16px;line-height:1.45;max-width:1240px;margin:24px auto;
padding:0 16px;color:#1a1a1a}h1{font-size:1.8em}h2{margin-top:1.8em;border-bottom:2px solid #ccc}
table{border-collapse:collapse;margin:6px 0 18px 0;font-size:14px}th,td{border:1px solid #ccc;padding:3px 8px;
text-align:left}th{background:#f2f2f2}img{max-width:100%}.verdict{font-size:1.1em;background:#f5f8ff;
border-left:5px solid #0b4f9c;padding:6px 12px;margin:8px 0}.flag{color:#8b0000;font-weight:bold}
.note{color:#444}"""


def png_data(fig, dpi: int = 100) -> bytes:
    """``fig`` as PNG bytes without software / date metadata (reproducible); closes it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def table_html(view: pd.DataFrame, empty: str) -> str:
    """A table without index column, or ``empty`` as a sentence (``tables.html_table``)."""
    return html_table(view, empty)


def _tables(claims: dict) -> dict[str, dict]:
    return {run: ev.claims for run, ev in claims.items()}


def claim_figure(n: int, by_run: dict[str, dict]):
    """The forest plot of claim ``n`` over every run length (None when nothing to plot)."""
    pick = lambda key: {run: t[key] for run, t in by_run.items()}  # noqa: E731
    if n == 1:
        rows = forest_rows(pick("scarcity"), "strategy+samples", "strategy", "strategy")
        trend = forest_rows(pick("trend"), "strategy", "strategy", "strategy", value="extra_gain")
        trend["panel"] = "trend"
        rows["panel"] = "count"
        titles = {"count": "improvement over none at each sample count",
                  "trend": "extra gain at the smallest count over the largest"}
        return forest(pd.concat([rows, trend], ignore_index=True),
                      "Claim 1: gains, most when data are scarce (FNO2D, learned PDEs)",
                      xlabel="% lower test error (95% t interval)", panel_titles=titles)
    if n == 2:
        rows = forest_rows(pick("strategies"), "strategy", "strategy", "strategy", panel="model")
        return forest(rows, f"Claim 2: every strategy vs none per backbone ({SAMPLES} samples, learned PDEs)")
    if n == "headline":  # claim 2, narrow, for the README's first screen
        rows = forest_rows(pick("strategies"), "strategy", "strategy", "strategy", panel="model")
        return forest(rows, "Every strategy vs no pretraining", xlabel=f"% lower test error ({SAMPLES} samples)",
                      width=4.6, compact=True)
    if n == 3:
        aug = {run: t.assign(row=t["augmentation"] + " on " + t["strategy"]) for run, t in pick("augmentation").items()}
        rows = forest_rows(aug, "row", "augmentation", "augmentation")
        if rows.empty:
            return None
        return forest(rows, "Claim 3: each augmentation vs the same number of unchanged copies (FNO2D)",
                      xlabel="% lower test error than unchanged copies (95% t interval)")
    rows = forest_rows(pick("shift"), "strategy", "strategy", "strategy", panel="setting")
    return forest(rows, f"Claim 4: vs none in distribution, out of distribution, on Navier-Stokes (FNO2D, {SAMPLES} samples)")


def _learned_pdes(ev, model: str, distribution: str = "id") -> str:
    t = ev.learned
    t = t[(t["model"] == model) & (t["distribution"] == distribution) & t["learned"] & (t["pde"] != "navier_stokes")]
    return " and ".join(sorted(t["pde"])) or "no PDE"


def _claim_tables(n: int, ev) -> str:
    """The tables of claim ``n`` for one run length, each headed by what it shows."""
    c, out = ev.claims, []
    heat_burgers = _learned_pdes(ev, "fno2d")
    if n == 1:
        fam = c["scarcity"].attrs.get("family", 0)
        out.append(f"<p><b>FNO2D, in distribution, no augmentation, {heat_burgers} pooled, each strategy run at two "
                   f"or more sample counts vs none.</b> One Holm family of {fam}: these rows and the trend rows.</p>")
        out.append(table_html(family_view(c["scarcity"], ["strategy", "samples"]), "No strategy ran at two counts."))
        out.append(table_html(trend_view(c["trend"]), "No trend to test."))
    elif n == 2:
        fam = c["strategies"].attrs.get("family", 0)
        per_model = "; ".join(f"{m}: {_learned_pdes(ev, m)}" for m in sorted(ev.claims["strategies"]["model"].unique()))
        out.append(f"<p><b>Every strategy vs none per backbone, in distribution, {SAMPLES} samples, no augmentation, "
                   f"learned PDEs pooled ({per_model}).</b> One Holm family of {fam}.</p>")
        out.append(table_html(family_view(c["strategies"], ["model", "strategy"]), "No strategy comparison."))
        fam = c["per_pde"].attrs.get("family", 0)
        out.append(f"<p><b>Per PDE</b>: the same comparisons, one row per learned PDE; one Holm family of {fam} "
                   f"({PER_PDE_FAMILY.format(samples=SAMPLES)}). A * here survives Holm over all {fam}.</p>")
        out.append(table_html(family_view(c["per_pde"], ["model", "pde", "strategy"]), "No per-PDE comparison."))
    elif n == 3:
        fam = c["augmentation"].attrs.get("family", 0)
        out.append(f"<p><b>FNO2D, in distribution, {SAMPLES} samples, {heat_burgers} pooled where each augmentation ran: "
                   f"each augmentation vs unchanged copies at the same ratio (same steps).</b> One Holm family of "
                   f"{fam}.</p>")
        out.append(table_html(family_view(c["augmentation"], ["strategy", "augmentation"],
                                          label="improvement over unchanged copies"),
                              "The step-matched control (unchanged copies) did not run at this length."))
    else:
        fam = c["shift"].attrs.get("family", 0)
        out.append(f"<p><b>FNO2D, {SAMPLES} samples, no augmentation, the strategies fine-tuned out of distribution vs "
                   f"none: ID ({heat_burgers} pooled), OOD ({_learned_pdes(ev, 'fno2d', 'ood')} pooled), unseen PDE "
                   f"(Navier-Stokes 64 x 64).</b> One Holm family of {fam}.</p>")
        out.append(table_html(family_view(c["shift"], ["setting", "strategy"]), "No shifted fine-tunes."))
    return "\n".join(out)


def adaptive_note(evidence: dict, rates: dict) -> str:
    """The optional-stopping paragraph: which seeds were added after looking, and the simulated
    false helps / hurts rate of that rule (``stopping.false_decision_rate``)."""
    items = []
    for run in evidence:
        a, r = ADAPTIVE.get(run), rates.get(run)
        if a and r:
            items.append(f"<li><b>{html.escape(run)}</b>: {html.escape(a['text'])}. Simulated under no effect "
                         f"(per-seed sd 0.1 on the log ratio), this rule gives {100 * r['adaptive']:.1f}% false helps / "
                         f"hurts instead of the nominal {100 * r['fixed']:.1f}% ({a['n_first']} then up to "
                         f"{a['n_final']} seeds).</li>")
    return ("<p><b>Adaptive seed extensions (optional stopping).</b> Seeds were added after looking at the first "
            "ones, so a Holm survivor among the extended comparisons is less certain than 5% suggests:</p><ul>"
            + "".join(items) + "</ul>")


def unlearned_html(evidence: dict) -> str:
    rows = []
    for run, ev in evidence.items():
        bad = ev.learned[~ev.learned["learned"]]
        for _, r in bad.iterrows():
            rows.append({"run": run, "model": r["model"], "distribution": r["distribution"], "PDE": r["pde"],
                         "none: test rel. L2 (95% t)": f"{r['mean']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]",
                         "seeds": r["n_seeds"], "flag": "NOT LEARNED"})
    return table_html(pd.DataFrame(rows), "Every PDE was learned.")


def code_html(text: str) -> str:
    """``text`` escaped, with markdown `code` spans as <code> (the claim texts are shared with the
    README block)."""
    import re

    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def glance_html(by_run: dict[str, dict]) -> str:
    """The verdict of every claim at every run length, one table (claims x run lengths)."""
    rows = []
    for n, claim in CLAIMS.items():
        cells = "".join(f'<td><b>{html.escape(CLAIM_TEXT[n](t)[0])}</b></td>' for t in by_run.values())
        rows.append(f'<tr><td><a href="#claim{n}">{n}. {html.escape(claim)}</a></td>{cells}</tr>')
    head = "".join(f"<th>{html.escape(run)}</th>" for run in by_run)
    return f"<table><thead><tr><th>claim of the paper</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def page_html(evidence: dict, scale: pd.DataFrame, rates: dict, figures: dict[int, bytes | None],
              superseded: list[str]) -> str:
    """The whole page (module doc); ``figures``: claim -> PNG bytes. Answers first (the verdicts
    at a glance, then each claim), what the evidence is after."""
    by_run = _tables(evidence)
    labels = "".join(f"<li><b>{html.escape(lab)}</b>: {html.escape(MEANINGS[lab])}</li>" for lab in LABELS)
    runs = "".join(f"<li><b>{html.escape(run)}</b>: {' + '.join(f'<code>outputs/published/{f}</code>' for f in ev.folders)} "
                   f"({len(ev.results)} fine-tunes, seeds per backbone: "
                   + ", ".join(f"{m} {g['seed'].nunique()}" for m, g in ev.results.groupby("model")) + ")</li>"
                   for run, ev in evidence.items())
    parts = ["<h1>Findings at a glance: the paper's four claims</h1>",
             "<p>What this study's best evidence says about each claim of <i>Strategies for Pretraining Neural "
             "Operators</i> (TMLR 2024), fine-tuned 60 and 240 epochs (separate evidence: runs trained "
             "differently are never joined). Generated by <code>python -m pde_lib findings-page</code> from the "
             "published results tables; it supersedes the per-folder report pages.</p>",
             f"<p style=\"{PILOT_STYLE}\"><b>Pilot evidence.</b> These runs were planned one after another, with seeds added "
             "where results were undecided and every seed trained on the same samples. The pre-registered study v2 "
             "(docs/preregistration.md in the repository: 8 seeds fixed in advance, seeds that draw their data, four "
             "backbones) will replace them; this page will then show its findings alone.</p>",
             glance_html(by_run),
             "<p><b>How to read it.</b> Each comparison is a paired improvement over no pretraining (same backbone, "
             "seed, data and steps): % lower test error with its 95% Student-t interval over seeds; * and a filled "
             "marker: survives Holm at 5% in its stated family. The verdict labels, one rule "
             f"(<code>pde_lib/report/verdicts.py</code>):</p><ul>{labels}</ul>",
             f"<p>Unlearned PDEs (none's 95% interval not below {LEARNED_BELOW:g} of the zero prediction's error) "
             "are left out of every pooled row; seed extensions were adaptive. Both are explained under "
             '<a href="#evidence">the evidence</a>.</p>']
    for n, claim in CLAIMS.items():
        parts.append(f'<h2 id="claim{n}">Claim {n}: {html.escape(claim)}</h2>')
        for run, tables in by_run.items():
            verdict, text, _ = CLAIM_TEXT[n](tables)
            parts.append(f'<p class="verdict"><b>{html.escape(run)}: {html.escape(verdict)}</b>. '
                         f"{code_html(text)}</p>")
        if figures.get(n):
            parts.append(img(figures[n], f"forest plot of claim {n}"))
        for run, ev in evidence.items():
            parts.append(f"<h3>{html.escape(run)}</h3>")
            parts.append(_claim_tables(n, ev))
    parts += ['<h2 id="evidence">The evidence</h2>', f"<ul>{runs}</ul>",
              f"<p><b>Unlearned PDEs are left out of every pooled verdict</b>: a PDE enters only where the none "
              f"baseline's 95% interval of its test error (geometric mean over seeds) lies below {LEARNED_BELOW:g} "
              "of the zero prediction's (relative L2 of predicting 0 is 1); averaged in, a PDE whose every "
              "model predicts ~0 pulls every pooled effect towards 0.</p>", unlearned_html(evidence),
              adaptive_note(evidence, rates),
              "<h3>Scale: this study beside the paper</h3>", table_html(scale, ""),
              "<h2>Superseded pages</h2><p>These pages now carry a banner pointing here:</p><ul>"
              + "".join(f'<li><a href="{html.escape(s)}">{html.escape(s.lstrip("./"))}</a></li>' for s in superseded)
              + "</ul>"]
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>pde-pretrain: findings at a '
            f"glance</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n")


def all_figures(evidence: dict) -> dict[int, bytes | None]:
    """PNG bytes of each claim's forest plot, and of the README's narrow headline figure
    (key ``"headline"``)."""
    by_run = _tables(evidence)
    out = {}
    for n in CLAIMS:
        fig = claim_figure(n, by_run)
        out[n] = png_data(fig) if fig is not None else None
    out["headline"] = png_data(claim_figure("headline", by_run))
    return out
