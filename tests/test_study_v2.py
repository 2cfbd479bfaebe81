"""The pre-registered study (parameters/study.yaml, docs/preregistration.md): its chunk files
partition its seeds and change nothing else, the design has what the pre-registration says, and
the pre-registration was committed before any of the study's results."""

import subprocess
from pathlib import Path

import pytest

from pde_lib.params import load_params
from pde_lib.sweep import expand_grid, finetunes

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "parameters" / "study.yaml"
CHUNKS = sorted((ROOT / "parameters" / "study_chunks").glob("chunk_*.yaml"), key=lambda p: int(p.stem.split("_")[1]))
PREREG = ROOT / "docs" / "preregistration.md"


def _without_seeds(plain: dict) -> dict:
    plain = dict(plain, name=None, description=None)
    plain["grid"] = {k: v for k, v in plain["grid"].items() if k != "seeds"}
    plain["grid"]["subgrids"] = [{k: v for k, v in sub.items() if k != "seeds"} for sub in plain["grid"]["subgrids"]]
    return plain


def test_the_chunks_partition_the_seeds_and_change_nothing_else():
    study = load_params(STUDY)
    seeds = []
    for path in CHUNKS:
        chunk = load_params(path)
        assert chunk.name == f"study_v2_{path.stem}"
        assert _without_seeds(chunk.to_plain()) == _without_seeds(study.to_plain()), path.name
        seeds += list(chunk.grid.seeds)
    assert sorted(seeds) == sorted(study.grid.seeds) and len(seeds) == len(set(seeds))
    assert len(CHUNKS) >= 2


def test_the_design_is_what_the_preregistration_says():
    p = load_params(STUDY)
    text = PREREG.read_text()
    assert p.data.subset_draw == "per_seed" and p.data.pretrain_pool > p.data.pretrain_samples
    assert p.data.samples.train > max(max(s["finetune"]["samples"]) for s in p.grid.subgrids)
    assert f"**{len(p.grid.seeds)} seeds**" in text
    cells = expand_grid(p)
    backbones = {c.backbone for c in cells if c.strategy == "transfer" and not c.augmentation}
    assert {"fno2d", "unet", "deeponet2d"} <= backbones  # at least three backbones in claim 2
    subgrids = {s["name"]: s for s in p.grid.subgrids}
    assert [str(f) for f in subgrids["scaling_pretraining_set"]["pretrain_fractions"]] == ["1/9", "1/3", "1"]
    for name in subgrids:
        assert f"`{name}`" in text, f"the pre-registration does not describe sub-grid {name}"
    n_ft = sum(len(finetunes(p, c)) for c in cells)
    assert f"{len(cells)} cells" in text and f"{n_ft:,} fine-tunes" in text


def _adding_commit(path: Path) -> str | None:
    """The oldest commit that added ``path`` (None if it is not committed)."""
    out = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--", str(path)], cwd=ROOT,
                         capture_output=True, text=True).stdout.split()
    return out[-1] if out else None


def _is_ancestor(a: str, b: str) -> bool:
    return subprocess.run(["git", "merge-base", "--is-ancestor", a, b], cwd=ROOT).returncode == 0


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git history")
def test_the_preregistration_was_committed_before_any_results():
    """Every published chunk's results were added by a commit that descends from the commits that
    added the pre-registration and the study file (the git order the study's claims rest on)."""
    prereg, study = _adding_commit(PREREG), _adding_commit(STUDY)
    if prereg is None or study is None:
        pytest.skip("the pre-registration is not committed yet")
    for folder in sorted((ROOT / "outputs" / "published" / "study_v2").glob("chunk_*")):
        results = _adding_commit(folder / "results.csv")
        assert results is not None, f"{folder.name}: results.csv is not committed"
        assert _is_ancestor(prereg, results) and _is_ancestor(study, results) and results not in (prereg, study), \
            f"{folder.name}: its results were committed before or with the pre-registration"


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git history")
def test_the_preregistration_above_its_deviations_is_unchanged_since_the_first_chunk():
    """After chunk 0's results were committed, only the dated "Deviations" at the end may change."""
    first = _adding_commit(ROOT / "outputs" / "published" / "study_v2" / "chunk_0" / "results.csv")
    if first is None:
        pytest.skip("no chunk is committed yet")
    then = subprocess.run(["git", "show", f"{first}:docs/preregistration.md"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout
    marker = "## Deviations (dated, after the first chunk ran)"
    assert marker in then
    assert PREREG.read_text().split(marker)[0] == then.split(marker)[0]


def _fake_results(p, seeds=(0, 1, 2)) -> "pd.DataFrame":
    """One row per fine-tune of the study's grid (as results.csv has them) at the given seeds, with
    made-up errors: enough to count the rows of each pre-registered family."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = []
    for c in expand_grid(p):
        if c.seed != p.grid.seeds[0]:
            continue
        for ft in finetunes(p, c):
            for seed in seeds:
                rows.append({**c.coordinates(), "seed": seed, "task": ft.task, "distribution": ft.distribution,
                             "pde": ft.pde, "samples": ft.samples, "test_rel_l2": float(rng.uniform(0.2, 0.4))})
    return pd.DataFrame(rows)


def test_the_design_yields_the_families_the_preregistration_states():
    """The analysis plan on the study's own grid: each pre-registered family has the rows section 2
    says (F2 and F5 over the four main backbones, width variants only in F6b)."""
    from pde_lib.report import dependence, findings, pretrain_scaling

    p = load_params(STUDY)
    r = _fake_results(p)
    main = ["fno2d", "unet", "deeponet2d", "oformer2d"]
    scarcity, trend = findings.scarcity_family(r)
    assert (len(scarcity), len(trend)) == (9, 3)                                    # F1
    assert len(findings.strategies_table(r[r.model.isin(main)])) == 9 * 3 + 4      # F2
    assert len(findings.augmentation_control_table(r)) == 8                        # F3
    shift = findings.shift_table(r)
    assert len(shift[shift.setting != "ID"]) == 6                                  # F4
    d = dependence.dependence_rows(r, models=main)
    assert len(dependence.backbone_interactions(d)) == 9 * 3 + 4 * 3               # F5a
    assert len(dependence.pde_interactions(d)) == 9 * 3 + 4                        # F5b
    table, trend = pretrain_scaling.fraction_family(r, strategies=("none", "transfer", "derivative"))
    assert (len(table), len(trend)) == (6, 2)                                      # F6a
    table, trend = pretrain_scaling.width_family(r, {"fno2d_w8": 8, "fno2d": 16, "fno2d_w32": 32},
                                                 strategies=("none", "transfer", "derivative"))
    assert (len(table), len(trend)) == (6, 2)                                      # F6b
