# ---
# jupyter:
#   kernelspec:
#     display_name: Python (pde_lib)
#     language: python
#     name: pde-lib
# ---

# %% [markdown]
# # One grid cell: pretrain once, then fine-tune
#
# A cell is one (backbone, pretraining strategy, augmentation, seed). This notebook pretrains the
# backbone with the cell's strategy (skipped for `none`), then runs every fine-tune of the cell
# (distribution x PDE x sample count, plus Navier-Stokes), each writing its own `metrics.json`.
# Fine-tunes already on disk are skipped, so rerunning a killed cell resumes it.
# The sweep runs this notebook once per cell with papermill; run it by hand to inspect one cell.

# %% tags=["parameters"]
params_path = "../parameters/smoke.yaml"  # study parameter file
machine_path = None        # machine profile (None: parameters/machines/local_cpu.yaml)
cell_id = None             # None: the first cell of the grid
cell_dir = None            # None: ../outputs/notebook_runs/<cell id>
data_dir = "../outputs/data"  # dataset folder (shared; missing files are generated)
device = None              # None: the machine profile's device
torch_threads = 1          # fixed thread count: CPU results are bitwise reproducible

# %%
import json
import warnings
from pathlib import Path

import torch
from IPython.display import Image, display

warnings.filterwarnings("ignore", message="IProgress not found")

from pde_lib.params import load_machine, load_params
from pde_lib.report.tables import cell_summary
from pde_lib.sweep import find_cell, run_cell

torch.set_num_threads(torch_threads)
params = load_params(params_path)
machine = load_machine(machine_path)
cell = find_cell(params, cell_id)
cell_dir = Path(cell_dir or Path("../outputs/notebook_runs") / cell.id)

# %%
# NBVAL_CHECK_OUTPUT
print("cell:", cell.id)
print(json.dumps(cell.coordinates(), indent=1))

# %%
result = run_cell(cell, params, machine, cell_dir, data_dir=data_dir, device=device, progress=False)

# %% [markdown]
# ## Fine-tunes done

# %%
# NBVAL_CHECK_OUTPUT
summary = cell_summary(result["finetunes"])
print(f"pretrained: {result['pretrained']}")
print(f"{len(summary)} fine-tunes done")
print(summary.groupby(["distribution", "pde"]).size().to_string())
for ft in result["finetunes"]:
    print(ft["finetune_id"])

# %% [markdown]
# ## Loss curves and summary table

# %%
display(Image(filename=str(cell_dir / "loss_curves.png")))

# %%
summary.style.format({"test_rel_l2": "{:.4f}", "valid_rel_l2": "{:.4f}"}).hide(axis="index")
