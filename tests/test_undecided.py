"""``report.undecided``: per family, the comparisons decided and the residual uncertainty of the
others (interval width, the farthest effect an interval still allows)."""

import pandas as pd
import pytest

from pde_lib.report.undecided import residual_uncertainty, undecided_sentence


def _family(rows):
    return pd.DataFrame(rows, columns=["ci_low", "ci_high", "holm_reject", "effect"])


def test_decided_rows_are_holm_or_no_effect_and_the_others_keep_their_intervals():
    fam = {"F1": _family([(20.0, 40.0, True, "helps"), (-5.0, 5.0, False, "no 10% effect"),
                          (-30.0, 10.0, False, "too wide to tell"), (2.0, 18.0, False, "direction clear, not after Holm")]),
           "F2": _family([(-50.0, -20.0, True, "hurts")])}
    s = residual_uncertainty(fam).set_index("family")
    assert s.loc["F1", ["rows", "decided", "undecided"]].tolist() == [4, 2, 2]
    assert s.loc["F1", "median interval width"] == pytest.approx((40 + 16) / 2)
    assert s.loc["F1", "median effect still allowed"] == pytest.approx((30 + 18) / 2)
    assert s.loc["F1", "largest effect still allowed"] == 30
    assert s.loc["F2", "undecided"] == 0 and pd.isna(s.loc["F2", "largest effect still allowed"])
    text = undecided_sentence(residual_uncertainty(fam))
    assert "Decided: 3 of 5" in text and "The other 2" in text and "farthest 30%, in F1" in text


def test_a_wholly_decided_study_says_so():
    fam = {"F1": _family([(20.0, 40.0, True, "helps")]), "F1 trend": _family([])}
    assert undecided_sentence(residual_uncertainty(fam)) == "All 1 comparisons of the primary families are decided."
