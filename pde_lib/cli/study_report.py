"""``python -m pde_lib study-report``: the pre-registered study's report, once every chunk is
published: ``OUT/index.html`` (self-contained, figures embedded), ``OUT/families.csv`` (every row
of every family, with its label and pretext check) and ``OUT/hypotheses.json`` (one verdict per
hypothesis), ``OUT/forest.png`` and the README's findings block (replacing the pilot evidence's),
and a "Pilot" banner linking the report on every other published page (``report.pilot_banner``;
when STUDY is a folder of PUBLISHED). Refuses a partial study: nothing is analysed between chunks
(docs/preregistration.md, section 8)."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("--study", default="outputs/published/study_v2", help="the folder of the published chunks")
    p.add_argument("--design", default="parameters/study.yaml", help="the study's parameter file (its seeds)")
    p.add_argument("--out", default=None, help="where the report goes (default: STUDY/report)")
    p.add_argument("--prereg", default="docs/preregistration.md", help="the pre-registration the page links to")
    p.add_argument("--readme", default="README.md",
                   help="README whose findings block to replace with the study's ('' to skip)")
    p.add_argument("--published", default="outputs/published",
                   help="the published folders whose pages get the pilot banner (when STUDY is one of them)")
    p.add_argument("--no-pilot-banners", action="store_true", help="do not mark the other published pages as pilots")


def run(args) -> int:
    import json
    import os
    from pathlib import Path

    import pandas as pd
    from tqdm import tqdm

    from pde_lib.errors import ConfigError
    from pde_lib.report.study_analysis import analyse
    from pde_lib.report.study_chunks import load_study
    from pde_lib.report.findings_page import png_data
    from pde_lib.report.readme_block import insert_after_title
    from pde_lib.report.study_page import figures, study_page_html
    from pde_lib.report.study_readme import headline_figure, study_block
    from pde_lib.utils.atomic import write_bytes, write_text

    study, design = Path(args.study), Path(args.design)
    if not study.is_dir():
        raise ConfigError(f"--study {study}: no such folder")
    if not design.is_file():
        raise ConfigError(f"--design {design}: no such parameter file")
    out = Path(args.out) if args.out else study / "report"
    if args.readme and not Path(args.readme).is_file():
        raise ConfigError(f"--readme {args.readme}: no such file (give '' to skip the README block)")
    steps = tqdm(total=5, desc="study report", unit="step")
    run_ = load_study(study, design)
    steps.update()
    a = analyse(run_.results, run_.pretext)
    steps.update()
    figs = figures(a)
    steps.update()
    out.mkdir(parents=True, exist_ok=True)
    prereg = os.path.relpath(Path(args.prereg).resolve(), out.resolve())
    write_text(out / "index.html", study_page_html(run_, a, figs, prereg))
    rows = pd.concat([pd.DataFrame(columns=["family"])] + [t.assign(family=name) for name, t in a.families.items()
                                                           if len(t)], ignore_index=True)
    write_text(out / "families.csv", rows.drop(columns=["points"], errors="ignore").to_csv(index=False))
    write_text(out / "hypotheses.json", json.dumps({h: {"verdict": v, "text": t} for h, (v, t) in
                                                    a.hypotheses.items()}, indent=1) + "\n")
    steps.update()
    write_bytes(out / "forest.png", png_data(headline_figure(a)))
    if args.readme:
        readme = Path(args.readme)
        rel = lambda p: os.path.relpath(p.resolve(), readme.resolve().parent)  # noqa: E731
        block = study_block(run_, a, rel(out / "index.html"), rel(out / "forest.png"))
        write_text(readme, insert_after_title(readme.read_text(encoding="utf-8"), block))
    steps.update()
    steps.close()
    published = Path(args.published)
    if not args.no_pilot_banners and study.resolve().parent == published.resolve():
        from pde_lib.report.pilot_banner import mark_pilots

        print(f"pilot banner on {len(mark_pilots(published, out / 'index.html', study.name))} pages of {published}")
    for h, (v, _) in a.hypotheses.items():
        print(f"  {h}: {v}")
    print(f"wrote {out / 'index.html'}, forest.png, families.csv and hypotheses.json"
          + (f"; README block in {args.readme}" if args.readme else ""))
    return 0
