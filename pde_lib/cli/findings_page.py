"""``python -m pde_lib findings-page``: the canonical findings page from the published tables:
``OUT/index.html`` (self-contained), ``OUT/forest.png`` (the headline figure), the README's
findings block (between its markers; inserted after the title paragraph if absent), and a
superseded banner on every report page of the published folders."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("--published", default="outputs/published", help="the folder of the published runs")
    p.add_argument("--out", default="outputs/published/findings", help="where index.html and forest.png go")
    p.add_argument("--readme", default="README.md", help="README whose findings block to rewrite ('' to skip)")
    p.add_argument("--paper", default="parameters/paper.yaml", help="the paper's parameter file (scale table)")
    p.add_argument("--no-banners", action="store_true", help="do not mark the per-folder report pages superseded")


def run(args) -> int:
    import os
    from pathlib import Path

    from tqdm import tqdm

    from pde_lib.errors import ConfigError
    from pde_lib.report.evidence import load_evidence, stopping_rates
    from pde_lib.report.findings_page import all_figures, page_html
    from pde_lib.report.readme_block import findings_block, insert_after_title
    from pde_lib.report.scale import scale_table
    from pde_lib.report.study_chunks import STUDY_PAGE, STUDY_VERDICTS, study_owns_readme
    from pde_lib.report.superseded import REASONS, mark_published
    from pde_lib.utils.atomic import write_bytes, write_text

    published, out = Path(args.published), Path(args.out)
    if not published.is_dir():
        raise ConfigError(f"--published {published}: no such folder")
    if args.readme and not Path(args.readme).is_file():
        raise ConfigError(f"--readme {args.readme}: no such file (give '' to skip the README block)")
    steps = tqdm(total=5, desc="findings page", unit="step")
    evidence = load_evidence(published)
    steps.update()
    rates = stopping_rates(evidence)
    scale = scale_table(args.paper, evidence)
    figures = all_figures(evidence)
    steps.update()
    page = out / "index.html"
    banners = [] if args.no_banners else [
        os.path.relpath(p.resolve(), out.resolve()) for folder in REASONS
        for p in sorted((published / folder / "reports").glob("*.html"))]
    out.mkdir(parents=True, exist_ok=True)
    write_text(page, page_html(evidence, scale, rates, figures, banners))
    write_bytes(out / "forest.png", figures["headline"])
    steps.update()
    if not args.no_banners:
        mark_published(published, page)
        if study_owns_readme(published):  # the findings page was just rewritten: it is a pilot page too
            from pde_lib.report.pilot_banner import mark_pilots

            mark_pilots(published, published / STUDY_PAGE)
    steps.update()
    if args.readme and study_owns_readme(published):  # the README's block is the study's now
        print(f"README block left alone: {published / STUDY_VERDICTS} exists, so the block is the study's "
              "(python -m pde_lib study-report)")
    elif args.readme:
        readme = Path(args.readme)
        rel = lambda p: os.path.relpath(p.resolve(), readme.resolve().parent)  # noqa: E731
        block = findings_block(evidence, scale, rates, rel(page), rel(out / "forest.png"))
        write_text(readme, insert_after_title(readme.read_text(encoding="utf-8"), block))
    steps.update()
    steps.close()
    print(f"wrote {page} and {out / 'forest.png'}" + (f"; README block in {args.readme}" if args.readme else ""))
    return 0
