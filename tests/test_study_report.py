"""``python -m pde_lib study-report`` on published chunks of a synthetic study
(tests/synthetic_study.py): it refuses a partial study or chunks that read different data, and on
a whole study writes the page, every family's rows and one verdict per hypothesis."""

import json
import re
from pathlib import Path

import pytest

from pde_lib.cli.main import main
from synthetic_study import synthetic_study

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "parameters" / "study.yaml"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """outputs/published/study_v2 as run_chunk.sh leaves it: one folder per seed."""
    results, pretext = synthetic_study()
    study = tmp_path_factory.mktemp("study_v2")
    for seed in range(8):
        d = study / f"chunk_{seed}"
        d.mkdir()
        results[results["seed"] == seed].to_csv(d / "results.csv", index=False)
        pretext[pretext["seed"] == seed].to_csv(d / "pretext.csv", index=False)
        (d / "datasets.json").write_text(json.dumps({"heat_train_id": {"sha256": "ab" * 32, "params": {"seed": 0}}}))
        (d / "run.json").write_text(json.dumps({"git_commit": "f" * 40, "wall_seconds": 3600.0 + seed,
                                                "wall_time": "1 h 00 min", "cells": 55, "finetunes": 138,
                                                "started": "2026-12-07T05:00:00Z"}))
    return study


def _run(study, out, readme=""):
    return main(["study-report", "--study", str(study), "--design", str(DESIGN), "--out", str(out),
                 "--readme", str(readme)])


def test_a_whole_study_gets_its_page_families_verdicts_and_readme_block(published, tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text())
    assert _run(published, tmp_path / "report", readme) == 0
    page = (tmp_path / "report" / "index.html").read_text()
    for text in ("The answers", "F1 (H1)", "F6b (H6)", "negative control", "as expected", "Exclusions",
                 "not learned", "chunk_7", "data:image/png;base64,",
                 "Measured: 8.0 h of 2-core wall time in 8 chunks (per chunk 60-60 min", "9 GPU-hours",
                 "Decided and not", "largest effect still allowed", "Every chunk read the same data"):
        assert text in page, text
    verdicts = json.loads((tmp_path / "report" / "hypotheses.json").read_text())
    assert verdicts["H1"]["verdict"] == "agree" and verdicts["H5"]["verdict"] == "depends"
    block = readme.read_text()
    assert block.count("<!-- findings:start -->") == 1 and "pre-registered study v2" in block
    assert "pilot evidence" not in block.split("<!-- findings:end -->")[0]
    assert "| H1 | pretraining improves fine-tuning, most when fine-tune data are scarce | **agree** |" in block
    assert "comparisons of the primary families" in block and "CPU not recorded" in block
    assert "(report/index.html)" in block and (tmp_path / "report" / "forest.png").stat().st_size > 10_000
    import pandas as pd
    rows = pd.read_csv(tmp_path / "report" / "families.csv")
    assert rows.groupby("family").size().to_dict() == {
        "F1": 9, "F1 trend": 3, "F2": 31, "F3": 8, "F4": 6, "F5a": 39, "F5b": 31, "F6a": 6, "F6a trend": 2,
        "F6b": 6, "F6b trend": 2}


def test_a_partial_study_is_refused_naming_the_missing_seeds(published, tmp_path, capsys):
    partial = tmp_path / "study_v2"
    partial.mkdir()
    for seed in (0, 1):
        (partial / f"chunk_{seed}").symlink_to(published / f"chunk_{seed}")
    assert _run(partial, tmp_path / "report") == 2
    err = capsys.readouterr().err
    assert "not complete" in err and "[2, 3, 4, 5, 6, 7]" in err
    assert not (tmp_path / "report").exists()


def test_chunks_that_read_different_data_are_refused(published, tmp_path, capsys):
    import shutil

    study = tmp_path / "study_v2"
    shutil.copytree(published, study)
    (study / "chunk_5" / "datasets.json").write_text(json.dumps({"heat_train_id": {"sha256": "cd" * 32,
                                                                                 "params": {"seed": 1}}}))
    assert _run(study, tmp_path / "report") == 2
    err = capsys.readouterr().err
    assert "heat_train_id" in err and "chunk_5" in err


def test_no_published_chunk_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert _run(tmp_path / "empty", tmp_path / "report") == 2
    assert "no published chunk" in capsys.readouterr().err


def test_the_owner_of_the_readme_block_is_the_study_once_its_report_exists(tmp_path):
    from pde_lib.report.study_chunks import STUDY_VERDICTS, study_owns_readme

    assert not study_owns_readme(tmp_path)
    (tmp_path / STUDY_VERDICTS).parent.mkdir(parents=True)
    (tmp_path / STUDY_VERDICTS).write_text("{}")
    assert study_owns_readme(tmp_path)


PUBLISHED_STUDY = ROOT / "outputs" / "published" / "study_v2"


@pytest.mark.skipif(not (PUBLISHED_STUDY / "report" / "hypotheses.json").exists(),
                    reason="the study's report is rendered once every chunk is published")
def test_readme_block_is_what_the_study_report_writes(tmp_path):
    """Once the study's report exists, the README's block is exactly what study-report writes."""
    from pde_lib.report.readme_block import END, START

    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text())
    out = tmp_path / "outputs" / "published" / "study_v2" / "report"  # the same paths relative to the README
    assert main(["study-report", "--study", str(PUBLISHED_STUDY), "--design", str(DESIGN),
                 "--out", str(out), "--readme", str(readme), "--no-pilot-banners"]) == 0
    block = lambda text: text[text.index(START):text.index(END)]  # noqa: E731
    assert block((ROOT / "README.md").read_text()) == block(readme.read_text()), \
        "README's findings block drifted: run `python -m pde_lib study-report`"


def test_the_study_report_marks_every_other_published_page_a_pilot(published, tmp_path):
    """With the study inside PUBLISHED, every other folder's HTML pages and README get one "Pilot"
    banner linking the report (below nothing, above a "Superseded" banner); the study's own
    pages get none; a second run changes nothing."""
    import shutil

    from pde_lib.report.pilot_banner import START
    from pde_lib.report.superseded import mark_superseded

    pub = tmp_path / "published"
    shutil.copytree(published, pub / "study_v2")
    (pub / "laptop" / "reports").mkdir(parents=True)
    (pub / "findings").mkdir()
    (pub / "seed_count").mkdir()
    (pub / "findings" / "index.html").write_text("<html><body><h1>Findings</h1></body></html>")
    (pub / "laptop" / "reports" / "report_strategies.html").write_text("<html><body class='x'><p>old</p></body></html>")
    mark_superseded(pub / "laptop" / "reports" / "report_strategies.html", pub / "findings" / "index.html", "Older.")
    (pub / "seed_count" / "README.md").write_text("# The seed count\n\n**Decided: 8 seeds**.\n")
    args = ["study-report", "--study", str(pub / "study_v2"), "--design", str(DESIGN), "--readme", "",
            "--published", str(pub)]
    assert main(args) == 0
    pages = [pub / "findings" / "index.html", pub / "laptop" / "reports" / "report_strategies.html",
             pub / "seed_count" / "README.md"]
    first = {p: p.read_text() for p in pages}
    for page, text in first.items():
        assert text.count(START) == 1, page
        link = re.search(r'(?:href="|\]\()([^")]+index\.html)', text.split(START)[1]).group(1)
        assert (page.parent / link).resolve() == (pub / "study_v2" / "report" / "index.html").resolve(), page
    reports = first[pages[1]]
    assert reports.index("Pilot.") < reports.index("Superseded.") and "<p>old</p>" in reports
    assert first[pages[2]].startswith("# The seed count\n\n" + START) and "**Decided: 8 seeds**." in first[pages[2]]
    assert START not in (pub / "study_v2" / "report" / "index.html").read_text()
    assert main(args) == 0
    assert {p: p.read_text() for p in pages} == first


def test_a_markdown_page_without_title_gets_the_banner_at_the_top_and_bad_html_is_named(tmp_path):
    from pde_lib.errors import DataError
    from pde_lib.report.pilot_banner import END, mark_pilots

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "README.md").write_text("no title here\n")
    mark_pilots(tmp_path, tmp_path / "study_v2" / "report" / "index.html")
    text = (tmp_path / "a" / "README.md").read_text()
    assert text.endswith(END + "\n\nno title here\n") and "(../study_v2/report/index.html)" in text
    (tmp_path / "a" / "page.html").write_text("<p>no body tag</p>")
    with pytest.raises(DataError, match=r"page\.html: no <body> tag"):
        mark_pilots(tmp_path, tmp_path / "study_v2" / "report" / "index.html")
