"""Notebook hygiene: each committed jupytext source (notebooks/*.py) has a paired .ipynb whose
cells are the same (sources, kinds, tags), one cell is tagged ``parameters``, and the paired
notebooks hold outputs (executed with smoke parameters) for nbval.

Executing the notebooks is nbval's job in CI:
    pytest --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks/*.ipynb
"""

from pathlib import Path

import jupytext
import nbformat
import pytest
import torch

torch.set_num_threads(1)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
#: every committed notebook
OWNED = ["data", "experiment", "augmentations", "report_strategies", "report_augmentations",
         "report_data_scarcity", "report_distribution_shift", "report_findings"]


def _cells(nb):
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]


@pytest.mark.parametrize("name", OWNED)
def test_pair_in_sync(name):
    py, ipynb = NOTEBOOKS / f"{name}.py", NOTEBOOKS / f"{name}.ipynb"
    assert py.is_file() and ipynb.is_file(), f"{name}: both {py.name} and {ipynb.name} must be committed"
    text = jupytext.read(py)
    paired = nbformat.read(str(ipynb), as_version=4)
    assert _cells(text) == _cells(paired), (f"{ipynb.name} is out of sync with {py.name}: "
                                            f"run `jupytext --sync notebooks/{name}.py` and re-execute")


@pytest.mark.parametrize("name", OWNED)
def test_one_parameters_cell_and_stored_outputs(name):
    nb = nbformat.read(str(NOTEBOOKS / f"{name}.ipynb"), as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{name}: expected exactly one cell tagged 'parameters'"
    checked = [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT")]
    assert checked, f"{name}: no cell marked # NBVAL_CHECK_OUTPUT"
    assert all(c.get("outputs") for c in checked), f"{name}: checked cells have no stored outputs (execute it)"
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))


def test_jupytext_config_pairs_ipynb_and_percent():
    text = (NOTEBOOKS.parent / "jupytext.toml").read_text()
    assert 'formats = "ipynb,py:percent"' in text
