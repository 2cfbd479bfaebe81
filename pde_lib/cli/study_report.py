"""``python -m pde_lib study-report``: the pre-registered study's report, once every chunk is
published: ``OUT/index.html`` (self-contained, figures embedded), ``OUT/families.csv`` (every row
of every family, with its label and pretext check) and ``OUT/hypotheses.json`` (one verdict per
hypothesis). Refuses a partial study: nothing is analysed between chunks
(docs/preregistration.md, section 8)."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("--study", default="outputs/published/study_v2", help="the folder of the published chunks")
    p.add_argument("--design", default="parameters/study.yaml", help="the study's parameter file (its seeds)")
    p.add_argument("--out", default=None, help="where the report goes (default: STUDY/report)")
    p.add_argument("--prereg", default="docs/preregistration.md", help="the pre-registration the page links to")


def run(args) -> int:
    import json
    import os
    from pathlib import Path

    import pandas as pd
    from tqdm import tqdm

    from pde_lib.errors import ConfigError
    from pde_lib.report.study_analysis import analyse
    from pde_lib.report.study_chunks import load_study
    from pde_lib.report.study_page import figures, study_page_html
    from pde_lib.utils.atomic import write_text

    study, design = Path(args.study), Path(args.design)
    if not study.is_dir():
        raise ConfigError(f"--study {study}: no such folder")
    if not design.is_file():
        raise ConfigError(f"--design {design}: no such parameter file")
    out = Path(args.out) if args.out else study / "report"
    steps = tqdm(total=4, desc="study report", unit="step")
    run_ = load_study(study, design)
    steps.update()
    a = analyse(run_.results, run_.pretext)
    steps.update()
    figs = figures(a)
    steps.update()
    out.mkdir(parents=True, exist_ok=True)
    prereg = os.path.relpath(Path(args.prereg).resolve(), out.resolve())
    write_text(out / "index.html", study_page_html(run_, a, figs, prereg))
    rows = pd.concat([t.assign(family=name) for name, t in a.families.items() if len(t)], ignore_index=True)
    write_text(out / "families.csv", rows.drop(columns=["points"], errors="ignore").to_csv(index=False))
    write_text(out / "hypotheses.json", json.dumps({h: {"verdict": v, "text": t} for h, (v, t) in
                                                    a.hypotheses.items()}, indent=1) + "\n")
    steps.update()
    steps.close()
    for h, (v, _) in a.hypotheses.items():
        print(f"  {h}: {v}")
    print(f"wrote {out / 'index.html'}, families.csv and hypotheses.json")
    return 0
