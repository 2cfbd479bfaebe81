"""The pre-registered analysis (pde_lib.report.study_analysis) on a synthetic study with planted
effects (tests/synthetic_study.py): each rule of the pre-registration must find what was planted
and leave out what it says to leave out."""

import numpy as np
import pandas as pd
import pytest

from pde_lib.report import study_analysis as sa
from synthetic_study import synthetic_study

#: pandas statistics only: nothing that torch's CPU kernels could change, so CI runs it once
pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def analysis():
    return sa.analyse(*synthetic_study())


def test_every_family_has_the_preregistered_rows(analysis):
    f = analysis.families
    counts = {k: len(f[k]) + len(f.get(f"{k} trend", [])) for k in sa.FAMILIES}
    assert counts == {"F1": 12, "F2": 31, "F3": 8, "F4": 6, "F5a": 39, "F5b": 31, "F6a": 8, "F6b": 8}


def test_the_planted_gain_is_found_and_nothing_else_helps(analysis):
    f2 = analysis.families["F2"]
    helps = f2[f2["effect"] == "helps"]
    assert list(zip(helps["model"], helps["strategy"])) == [("fno2d", "transfer")]
    assert abs(float(helps["mean"].iloc[0]) - 30.0) < 3.0
    assert (f2.loc[f2["strategy"] != "transfer", "effect"] == "no 10% effect").all()


def test_the_hypotheses_read_what_was_planted(analysis):
    h = analysis.hypotheses
    assert h["H1"][0] == "agree"            # transfer helps at n=10, more than at n=100
    assert h["H2"][0] == "disagree"         # transfer helps on FNO2D only
    assert "of the 8 others, 8 no 10% effect, 0 undecided" in h["H2"][1]   # unet: transfer not counted twice
    assert "not tested: " in h["H2"][1] and "unet `jigsaw`" in h["H2"][1]
    assert h["H5"][0] == "depends"          # transfer: FNO2D minus the others survives Holm
    assert "more with more pretraining data" not in h["H6"][1]   # no planted fraction trend


def test_a_diverged_run_is_excluded_and_listed(analysis):
    assert len(analysis.excluded) == 1 and analysis.excluded["model"].iloc[0] == "unet"
    f2 = analysis.families["F2"]
    row = f2[(f2["model"] == "unet") & (f2["strategy"] == "binary")]
    assert int(row["n_seeds"].iloc[0]) == 8   # the seed keeps its Burgers pair
    assert len(f2[(f2["model"] == "unet") & (f2["strategy"] == "masked")]) == 1


def test_the_unlearned_pde_is_left_out_and_the_negative_control_says_so(analysis):
    learned = analysis.learned.set_index(["model", "distribution", "pde"])["learned"]
    assert not learned[("fno2d", "id", "advection")] and learned[("fno2d", "id", "heat")]
    assert "as expected" in sa.negative_control(analysis.learned)
    assert all(set(t.get("pde", pd.Series(dtype=str))) <= {"heat", "burgers"} for t in analysis.families.values())


def test_every_row_carries_the_manipulation_check(analysis):
    f2 = analysis.families["F2"].set_index(["model", "strategy"])["pretext"]
    assert f2[("fno2d", "transfer")] == "learned" and f2[("unet", "jigsaw")] == "not learned"
    assert f2[("oformer2d", "picl")] == "not checkable"
    f5a = analysis.families["F5a"]
    row = f5a[(f5a["strategy"] == "jigsaw")].iloc[0]
    assert row["pretext"].startswith("not learned on")


def test_a_nan_skill_or_missing_seed_never_reads_as_learned():
    results, pretext = synthetic_study(seeds=range(4))
    pretext.loc[pretext["strategy"] == "transfer", "holdout_skill"] = np.nan
    a = sa.analyse(results, pretext)
    assert (a.pretext.loc[a.pretext["strategy"] == "transfer", "pretext"] == "not checkable").all()


def test_a_study_that_learned_nothing_tests_nothing_and_says_so():
    """Every PDE at 0.98 of the zero prediction's error: no family has a row, every hypothesis
    reads "not tested" (none is read as a verdict), and the page still renders."""
    from pde_lib.report.study_page import figures

    results, pretext = synthetic_study(seeds=range(3), base=dict.fromkeys(("heat", "burgers", "advection",
                                                                           "navier_stokes"), 0.98))
    a = sa.analyse(results, pretext)
    assert all(len(t) == 0 for t in a.families.values())
    assert {v for v, _ in a.hypotheses.values()} == {"not tested"}
    assert figures(a) == {}
