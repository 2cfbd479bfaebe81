# ---
# jupyter:
#   kernelspec:
#     display_name: Python (pde_lib)
#     language: python
#     name: pde-lib
# ---

# %% [markdown]
# # Datasets of a study
#
# Generates every dataset file a parameter file asks for (missing files only; existing ones are
# reused and checksummed), prints a summary of each, and shows trajectories of every PDE.

# %% tags=["parameters"]
params_path = "../parameters/smoke.yaml"  # study parameter file
data_dir = "../outputs/data"               # where the .h5 files go
n_show = 2                                  # trajectories shown per PDE
distribution = "id"                         # which train files to plot (id or ood)

# %%
import warnings

import matplotlib.pyplot as plt
import torch

warnings.filterwarnings("ignore", message="IProgress not found")
from pde_lib.data import load_dataset
from pde_lib.params import load_params
from pde_lib.report.plots import trajectory_grid
from pde_lib.report.tables import dataset_summary
from pde_lib.sweep import ensure_datasets

torch.set_num_threads(1)
plt.rcParams["figure.dpi"] = 72
params = load_params(params_path)
records = ensure_datasets(params, data_dir=data_dir, progress=False)

# %% [markdown]
# ## Summary: samples per PDE, coefficient ranges, value range

# %%
# NBVAL_CHECK_OUTPUT
for name, rec in records.items():
    print(dataset_summary(name, load_dataset(rec["path"])))

# %% [markdown]
# ## Trajectories (training files; coefficient values in the row labels)

# %%
for name in [n for n in records if n in (f"train_{distribution}", f"ns_train_{distribution}")]:
    ds = load_dataset(records[name]["path"])
    for pde in sorted(set(ds.pde)):
        sub = load_dataset(records[name]["path"], pde=pde, n=n_show)
        titles = ["\n".join(f"{k}={v:.3g}" for k, v in zip(("nu", "ax", "ay", "cx", "cy"), c.tolist()) if v)
                  for c in sub.coeffs]
        fig = trajectory_grid(sub.u.numpy(), sub.t.numpy(), titles, suptitle=f"{pde} ({name})")
        plt.show()
        plt.close(fig)
