# ---
# jupyter:
#   kernelspec:
#     display_name: Python (pde_lib)
#     language: python
#     name: pde-lib
# ---

# %% [markdown]
# # Report: distribution shift and transfer to Navier-Stokes
#
# Experiment 4. Pretraining always uses in-distribution (ID) heat + advection + Burgers data.
# Fine-tuning on ID vs out-of-distribution (OOD) coefficients shows whether pretraining helps more
# when the downstream data resembles the pretraining data; Navier-Stokes is a PDE never seen in
# pretraining. Entries: test relative L2, **mean [95% bootstrap CI] over seeds**; improvements are
# **paired over `none`** (same backbone, seed, augmentation and fine-tune).

# %% tags=["parameters"]
sweep_dir = "example_sweep"   # a sweep folder (or its results.csv)
task = "fixed_future"
augmentation = "none"
samples = None                # a sample count, or None to average over all counts

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from pde_lib.report.aggregate import load_results, select, summarise
from pde_lib.report.plots import ci_lines, grouped_points
from pde_lib.report.tables import ci_table, improvement_table, sweep_overview

results = load_results(sweep_dir)
df = select(results, task=task, augmentation=augmentation, samples=samples)
base = df[df["pde"] != "navier_stokes"]
ns = df[df["pde"] == "navier_stokes"]

# %%
# NBVAL_CHECK_OUTPUT
print(sweep_overview(results))
print(f"ID/OOD fine-tunes: {len(base)}; Navier-Stokes fine-tunes: {len(ns)}")

# %% [markdown]
# ## ID vs OOD: test error per strategy (mean [95% CI], averaged over backbones)

# %%
for pde in sorted(base["pde"].unique()):
    display(Markdown(f"### {pde}"))
    display(ci_table(summarise(select(base, pde=pde), ["strategy", "distribution"]), "strategy", "distribution"))
fig = grouped_points(summarise(base, ["strategy", "distribution", "pde"]), group="strategy", hue="distribution",
                   panel="pde", title="ID vs OOD fine-tuning")
plt.show()
plt.close(fig)

# %% [markdown]
# ## Paired improvement over `none` (%): ID vs OOD

# %%
display(improvement_table(base, columns="distribution"))

# %% [markdown]
# ## Navier-Stokes (unseen PDE)

# %%
if len(ns):
    display(ci_table(summarise(ns, ["strategy", "model"]), "strategy", "model"))
    display(Markdown("Paired improvement over `none` (%), strategy x backbone:"))
    display(improvement_table(ns, columns="model"))
    fig = ci_lines(summarise(ns, ["strategy", "model", "samples"]), x="samples", line="strategy", panel="model",
                   title="Navier-Stokes: test rel. L2 vs samples")
    plt.show()
    plt.close(fig)
else:
    print("no Navier-Stokes fine-tunes in this sweep (finetune.navier_stokes: false)")
