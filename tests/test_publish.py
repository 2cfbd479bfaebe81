"""Publishing a finished sweep (``python -m pde_lib publish``): the run log a sweep keeps, what a
published folder holds, and the sweeps it refuses (unfinished, mixed or dirty commits, no wall
time). Stand-in training (``test_sweep.fake_runner``), so it is fast."""

import gzip
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from pde_lib.errors import ConfigError
from pde_lib.params import load_params
from pde_lib.report.header import header_facts
from pde_lib.sweep import expand_grid, run_sweep
from pde_lib.report.fairness import load_curves
from pde_lib.sweep.publish import PUBLISHED_FILES, publish_sweep, wall_time_text
from pde_lib.sweep.runlog import RUNS_FILE, RunLog, read_runs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_sweep import fake_runner, study  # noqa: E402,F401  (the micro study fixture)

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _set_commit(sweep: Path, commit=COMMIT, only=None) -> None:
    """Stand-in training records no commit; give every (or one) fine-tune's metrics one."""
    for path in sorted(sweep.glob("cells/*/finetune/*/metrics.json"))[slice(only)]:
        m = json.loads(path.read_text())
        m["git_commit"] = commit
        path.write_text(json.dumps(m))


@pytest.fixture(scope="module")
def finished(study, tmp_path_factory):
    """A finished micro sweep (stand-in training) whose fine-tunes record one clean commit."""
    params_path, machine_path = study
    out = tmp_path_factory.mktemp("finished") / "sweep"
    result = run_sweep(params_path, out, machine=machine_path, runner=fake_runner, progress=False,
                       reports=False, n_workers=1)
    assert not result.failed
    _set_commit(out)
    return out


def test_a_sweep_logs_each_invocation_with_commit_machine_and_wall_time(finished):
    runs = read_runs(finished)
    assert len(runs) == 1
    (run,) = runs
    assert run["finished"] is not None and run["seconds"] > 0
    assert run["cells"] == 4 and run["pending"] == 4 and run["completed"] == 4 and run["failed"] == 0
    assert run["cells_selected"] is False and run["workers"] == 1
    assert run["machine"]["logical_cpus"] >= 1 and run["machine"]["cpu"] and run["machine"]["torch"]


def test_an_interrupted_invocation_leaves_an_open_entry(tmp_path):
    log = RunLog()
    log.start(tmp_path, n_cells=3, n_pending=3, selected=True)
    (entry,) = read_runs(tmp_path)
    assert entry["finished"] is None and entry["seconds"] is None and entry["cells_selected"] is True
    log.finish(completed=3, failed=0)
    (entry,) = read_runs(tmp_path)
    assert entry["finished"] is not None and entry["completed"] == 3


def test_publish_copies_tables_and_provenance_and_the_reports_name_the_run(finished, tmp_path):
    dest = tmp_path / "published" / "micro"
    run = publish_sweep(finished, dest)
    for name in PUBLISHED_FILES:
        assert (dest / name).read_bytes() == (finished / name).read_bytes(), name
    # the validation curves, gzipped: the same bytes inside, the same file for the same content
    assert gzip.decompress((dest / "curves.csv.gz").read_bytes()) == (finished / "curves.csv").read_bytes()
    pd.testing.assert_frame_equal(load_curves(dest), load_curves(finished))
    assert len(load_curves(dest)) > 0 and not (dest / "curves.csv").exists()
    first = (dest / "curves.csv.gz").read_bytes()
    run = publish_sweep(finished, dest)  # again: its "published" time stamp may be a second later
    assert (dest / "curves.csv.gz").read_bytes() == first
    saved = json.loads((dest / "run.json").read_text())
    assert saved == run
    assert run["git_commit"] == COMMIT and run["cells"] == 4 and run["finetunes"] == 16
    assert run["wall_seconds"] == pytest.approx(read_runs(finished)[0]["seconds"], abs=0.1)
    assert run["wall_time"] == wall_time_text(run["wall_seconds"])
    assert run["workers"] == 1 and run["torch_threads"] == 1  # as run (--workers 1), as frozen
    results = pd.read_csv(dest / "results.csv")
    expected = {c.id for c in expand_grid(load_params(finished / "params.yaml"))}
    assert set(results.cell_id) == expected
    facts = dict(header_facts(dest, results, results, {}))
    assert facts["published run"].startswith(f"commit {COMMIT[:12]};")
    assert run["wall_time"] in facts["published run"]
    assert "published run" not in dict(header_facts(finished, results, results, {}))


def test_publish_refuses_an_unfinished_sweep_naming_a_missing_cell(finished, tmp_path):
    partial = tmp_path / "partial"
    import shutil

    shutil.copytree(finished, partial)
    (partial / "cells" / "fno2d__transfer__none__s1" / "DONE.json").unlink()
    with pytest.raises(ConfigError, match=r"1 of 4 cells are not finished \(e\.g\. fno2d__transfer__none__s1\)"):
        publish_sweep(partial, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


@pytest.mark.parametrize("commit, only", [(COMMIT[:-1] + "8", 1), (COMMIT + "-dirty", None), ("unknown", None)])
def test_publish_refuses_results_of_mixed_dirty_or_unknown_commits(finished, tmp_path, commit, only):
    import shutil

    mixed = tmp_path / "mixed"
    shutil.copytree(finished, mixed)
    _set_commit(mixed, commit, only)
    with pytest.raises(ConfigError, match="one clean git commit; its fine-tunes record"):
        publish_sweep(mixed, tmp_path / "dest")


def test_publish_needs_a_wall_time_when_the_run_log_cannot_give_it(finished, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(finished, old)
    (old / RUNS_FILE).unlink()  # a sweep started before run logs existed
    with pytest.raises(ConfigError, match="--wall-seconds"):
        publish_sweep(old, tmp_path / "dest")
    run = publish_sweep(old, tmp_path / "dest", wall_seconds=3723)
    assert run["wall_time"] == "1 h 02 min 03 s" and run["machine"]["recorded"] == "when published"
    assert run["workers"] == 2  # without a run log: the frozen machine profile's
    with pytest.raises(ConfigError, match="--wall-seconds must be > 0"):
        publish_sweep(old, tmp_path / "dest2", wall_seconds=0)


def test_publish_refuses_a_folder_that_is_not_a_sweep(tmp_path):
    with pytest.raises(ConfigError, match="not a sweep folder"):
        publish_sweep(tmp_path, tmp_path / "dest")


def test_the_pretext_table_lists_every_pretraining_with_its_held_out_figure(finished, tmp_path):
    """pretext.csv (the manipulation check): one row per pretrained cell with its coordinates and the
    held-out figure its PRETRAINED.json recorded; published next to results.csv."""
    import shutil

    from pde_lib.sweep.results import PRETEXT_COLUMNS, collect_pretext

    sweep = tmp_path / "sweep"
    shutil.copytree(finished, sweep)
    marker = sweep / "cells" / "fno2d__transfer__none__s1" / "pretrain" / "PRETRAINED.json"
    record = json.loads(marker.read_text())
    record["final"].update(holdout_metric="loss", holdout_value=0.25, holdout_reference=1.0,
                           holdout_reference_is="the zero field (relative L2 error 1)", holdout_skill=0.75)
    marker.write_text(json.dumps(record))
    table = collect_pretext(sweep)
    assert list(table.columns) == PRETEXT_COLUMNS
    assert list(table.cell_id) == ["fno2d__transfer__none__s0", "fno2d__transfer__none__s1"]
    assert list(table.strategy) == ["transfer", "transfer"] and list(table.seed) == [0, 1]
    row = table.iloc[1]
    assert (row.holdout_metric, row.holdout_value, row.holdout_skill) == ("loss", 0.25, 0.75)
    assert table.iloc[0].holdout_skill is None or pd.isna(table.iloc[0].holdout_skill)
    publish_sweep(sweep, tmp_path / "dest")
    published = pd.read_csv(tmp_path / "dest" / "pretext.csv")
    assert published.holdout_skill.tolist()[1] == 0.75
