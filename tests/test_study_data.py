"""``report.study_data``: whether the study's chunks read the same data. Regenerated files (another
file SHA-256) pass when their recipe is equal and the test samples' copy-last errors agree to float
rounding; another recipe, another values digest or more than rounding is refused by name."""

import json

import pandas as pd
import pytest

from pde_lib.errors import DataError
from pde_lib.report.study_data import COPY_LAST_TOLERANCE, consistency_paragraph, data_consistency

RECIPE = {"pdes": ["heat", "burgers"], "seed": 0, "split": "test"}


def _chunk(root, k, file_sha, cpu, copy_last, recipe=RECIPE, values=None, per_sample=True):
    d = root / f"chunk_{k}"
    d.mkdir()
    rec = {"sha256": file_sha, "params": recipe}
    if values:
        rec["values_sha256"] = values
    (d / "datasets.json").write_text(json.dumps({"test_id": rec}))
    (d / "run.json").write_text(json.dumps({"machine": {"cpu": cpu}}))
    if per_sample:
        rows = [{"cell_id": f"c{k}_{cell}", "finetune_id": f"fixed_future__id__{pde}__n{n}", "sample": s,
                 "copy_last_rel_l2": v * (1 + s)} for cell in range(2) for n in (10, 32)
                for pde, v in copy_last.items() for s in range(4)]
        pd.DataFrame(rows).to_csv(d / "per_sample.csv", index=False)
    return d


def test_one_generation_of_the_files_is_the_same_data_byte_for_byte(tmp_path):
    folders = [_chunk(tmp_path, k, "ab" * 32, "AMD EPYC", {"heat": 2.0}, per_sample=False) for k in range(3)]
    dc = data_consistency(folders)
    assert not dc.regenerated and list(dc.generations["generation"]) == ["A", "A", "A"]
    assert "Every chunk read the same data" in consistency_paragraph(dc)


def test_regenerated_files_agreeing_to_rounding_pass_and_are_described(tmp_path):
    folders = [_chunk(tmp_path, 0, "ab" * 32, "AMD EPYC", {"heat": 2.0, "burgers": 3.0}),
               _chunk(tmp_path, 1, "ab" * 32, "AMD EPYC", {"heat": 2.0, "burgers": 3.0}),
               _chunk(tmp_path, 2, "cd" * 32, "Intel Xeon", {"heat": 2.0, "burgers": 3.0 * (1 + 1e-6)})]
    dc = data_consistency(folders)
    assert list(dc.generations["generation"]) == ["A", "A", "B"]
    t = dc.test_sets.set_index("test set")
    assert t.loc["fixed_future__id__heat", "bitwise equal samples"] == 4 == t.loc["fixed_future__id__heat", "samples"]
    assert t.loc["fixed_future__id__burgers", "bitwise equal samples"] == 0
    assert t.loc["fixed_future__id__burgers", "largest relative spread"] == pytest.approx(1e-6, rel=1e-3)
    text = consistency_paragraph(dc)
    assert "chunk_0, chunk_1 (AMD EPYC); chunk_2 (Intel Xeon)" in text
    assert "1 of 2 test sets" in text and "fixed_future__id__burgers" in text and "1e-06" in text


def test_regenerated_files_that_differ_beyond_rounding_are_refused(tmp_path):
    folders = [_chunk(tmp_path, 0, "ab" * 32, "AMD EPYC", {"heat": 2.0}),
               _chunk(tmp_path, 1, "cd" * 32, "Intel Xeon", {"heat": 2.0 * (1 + 100 * COPY_LAST_TOLERANCE)})]
    with pytest.raises(DataError, match="test set fixed_future__id__heat: .* did not read the same data"):
        data_consistency(folders)


def test_regenerated_files_without_per_sample_errors_cannot_be_judged(tmp_path):
    folders = [_chunk(tmp_path, 0, "ab" * 32, "", {"heat": 2.0}, per_sample=False),
               _chunk(tmp_path, 1, "cd" * 32, "", {"heat": 2.0}, per_sample=False)]
    with pytest.raises(DataError, match="chunk_0/per_sample.csv: missing"):
        data_consistency(folders)


@pytest.mark.parametrize("field", ["params", "values_sha256"])
def test_another_recipe_or_values_digest_is_refused_naming_file_and_chunks(tmp_path, field):
    other = {"params": dict(RECIPE, seed=1), "values_sha256": "ef" * 32}[field]
    a = _chunk(tmp_path, 0, "ab" * 32, "", {"heat": 2.0}, values="12" * 32)
    b = _chunk(tmp_path, 1, "ab" * 32, "", {"heat": 2.0}, **({"recipe": other} if field == "params" else
                                                               {"values": other}))
    with pytest.raises(DataError, match=f"data file test_id has {field} .* in .*chunk_1 but .* in .*chunk_0"):
        data_consistency([a, b])


def test_equal_values_digests_need_no_per_sample_check(tmp_path):
    folders = [_chunk(tmp_path, 0, "ab" * 32, "", {"heat": 2.0}, values="12" * 32, per_sample=False),
               _chunk(tmp_path, 1, "cd" * 32, "", {"heat": 2.0}, values="12" * 32, per_sample=False)]
    dc = data_consistency(folders)
    assert not dc.regenerated and dc.test_sets.empty
