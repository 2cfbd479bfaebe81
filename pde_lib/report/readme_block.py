"""The README's findings block, generated from the published tables so its verdicts, numbers
and stars cannot drift from them: one short paragraph per claim and run length (``claim_text``),
the per-PDE results that survive Holm in their stated family, the scale of the evidence beside
the paper's, the headline figure and a link to the canonical page. It lives in README.md between
``START`` and ``END``; ``replace_block`` swaps it in."""

from __future__ import annotations

import re

import pandas as pd

from pde_lib.report.claim_text import CLAIM_TEXT, ci
from pde_lib.report.findings import CLAIMS, PER_PDE_FAMILY
from pde_lib.report.evidence import SAMPLES
from pde_lib.report.learned import LEARNED_BELOW
from pde_lib.report.verdicts import HELPS, HURTS

START, END = "<!-- findings:start -->", "<!-- findings:end -->"


def _md_table(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "---|" * len(df.columns)
    rows = ["| " + " | ".join(str(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def per_pde_line(run: str, table: pd.DataFrame) -> str:
    """The per-PDE survivors of ``table`` (``per_pde_table``), starred, with the family stated."""
    fam = table.attrs.get("family", len(table))
    hits = table[table["effect"].isin([HELPS, HURTS])].sort_values(["model", "pde", "mean"], ascending=[True, True, False])
    items = ", ".join(f"{r['model']} {r['pde']} `{r['strategy']}` {ci(r)}" for _, r in hits.iterrows()) or "none"
    return (f"Per PDE, {run} (family of {fam}: {PER_PDE_FAMILY.format(samples=SAMPLES)}; * = survives Holm "
            f"over all {fam}): {items}.")


def scale_sentence(scale: pd.DataFrame) -> str:
    """The scale table (``scale.scale_table``) in one sentence: each setting's value in this
    study (the run lengths' values joined by " / " where they differ) with the paper's in
    brackets."""
    paper, *ours = scale.columns[1:]
    items = []
    for _, r in scale.iterrows():
        mine = list(dict.fromkeys(str(r[c]) for c in ours))
        items.append(f"{r['setting']} {' / '.join(mine)} (paper: {r[paper]})")
    return "; ".join(items)


def findings_block(evidence: dict, scale: pd.DataFrame, rates: dict, page: str, figure: str) -> str:
    """The block's markdown, markers included (module doc). ``page`` / ``figure``: paths
    relative to the README. First screen: the verdict per claim and run length, one short
    paragraph per claim (the effects that carry each verdict), the headline figure beside them
    and the scale of the evidence beside the paper's; then the per-PDE results, the PDEs left
    out as unlearned and the cost of the adaptive seed extensions."""
    runs = list(evidence)
    glance = pd.DataFrame({"claim of the paper": [f"{n}. {c}" for n, c in CLAIMS.items()],
                           **{run: [f"**{CLAIM_TEXT[n](ev.claims)[0]}**" for n in CLAIMS]
                              for run, ev in evidence.items()}})
    lines = [START, "", "## Findings at a glance", "",
             f'<img align="right" src="{figure}" alt="forest plot: every strategy against no '
             'pretraining, per backbone, 60 and 240 epochs">', "",
             f"Which of the paper's claims hold, on the best evidence so far (laptop-scale models, "
             f"{' and '.join(runs)} of fine-tuning). Every figure, table and rule: "
             f"**[the findings page]({page})**. Scale ({' / '.join(runs)} where they differ): "
             f"{scale_sentence(scale)}.", "",
             _md_table(glance), ""]
    for n, claim in CLAIMS.items():
        texts = []
        for run, ev in evidence.items():
            verdict, _, headline = CLAIM_TEXT[n](ev.claims)
            texts.append(f"**{run}: {verdict}**: {headline}.")
        lines.append(f"{n}. *{claim[0].upper() + claim[1:]}.* " + " ".join(texts))
    lines += ["", "% lower test error than no pretraining, with its 95% t interval; * = survives Holm at 5% in "
              "its claim's family. Labels: *helps* / *hurts* (survives Holm), *no 10% effect* (interval inside "
              "+-10%), *direction clear, not after Holm* (interval excludes 0 only), *too wide to tell*.", "",
              "Scale of the evidence beside the paper's (`parameters/paper.yaml`, `docs/protocol.md`):", "",
              _md_table(scale), "",
              f"Evidence: {runs[0]} ({' + '.join(f'`{f}`' for f in evidence[runs[0]].folders)}) and {runs[-1]} "
              f"({' + '.join(f'`{f}`' for f in evidence[runs[-1]].folders)}) under `outputs/published/`, "
              "each a separate join. Generated from their results tables by `python -m pde_lib findings-page` "
              "(do not edit by hand; `tests/test_findings_page.py` checks it).", ""]
    for run, ev in evidence.items():
        lines.append(per_pde_line(run, ev.claims["per_pde"]))
        lines.append("")
    bad = sorted({f"{r['pde']} ({r['model']}, {r['distribution'].upper()})" for ev in evidence.values()
                  for _, r in ev.learned[~ev.learned["learned"]].iterrows()})
    lines.append(f"Left out of every pooled verdict as not learned (none's 95% interval not below {LEARNED_BELOW:g} "
                 f"of the zero prediction's error): {', '.join(bad) or 'nothing'}.")
    stop = "; ".join(f"{run}: {100 * r['adaptive']:.1f}% instead of {100 * r['fixed']:.1f}% "
                     f"({r['n_first']} then up to {r['n_final']} seeds)" for run, r in rates.items())
    lines += ["", "The seed extensions were adaptive (more seeds only where the first ones left comparisons "
              f"undecided: optional stopping); simulated under no effect, false helps / hurts: {stop}. This is "
              "pilot evidence: the pre-registered study v2 ([docs/preregistration.md](docs/preregistration.md): "
              "8 seeds fixed in advance, seeds that draw their data, four backbones) will replace it.", "", END]
    return "\n".join(lines)


def replace_block(readme: str, block: str) -> str:
    """``readme`` with the text between the markers (markers included) replaced by ``block``;
    ValueError if the markers are missing or out of order."""
    i, j = readme.find(START), readme.find(END)
    if i < 0 or j < i:
        raise ValueError(f"README has no {START} ... {END} block")
    return readme[:i] + block + readme[j + len(END):]


def insert_after_title(readme: str, block: str) -> str:
    """``readme`` with ``block`` inserted after its title paragraph (the first blank line after
    the first paragraph under the ``# `` title), when it has no block yet."""
    if START in readme:
        return replace_block(readme, block)
    m = re.search(r"^# .*\n\n(?:.+\n)+\n", readme, flags=re.M)
    if m is None:
        raise ValueError("README has no title paragraph to put the findings block after")
    return readme[:m.end()] + block + "\n\n" + readme[m.end():]


PER_PDE_ITEM = re.compile(r"(\w+) (\w+) `(\w+)` ([+-][\d.]+)% \[[^\]]*\]( \*)?")


def per_pde_items(block: str) -> list[tuple[str, str, str, str, int, bool]]:
    """(run, model, pde, strategy, family size, starred) for every per-PDE result in ``block``
    (what ``per_pde_line`` wrote), so a test can check each star against its stated family."""
    out = []
    for line in block.splitlines():
        m = re.match(r"Per PDE, (.+?) \(family of (\d+):", line)
        if m:
            body = line.split("):", 1)[1]
            out += [(m.group(1), a, b, c, int(m.group(2)), bool(star))
                    for a, b, c, _, star in PER_PDE_ITEM.findall(body)]
    return out
