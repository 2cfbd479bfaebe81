# ---
# jupyter:
#   kernelspec:
#     display_name: Python (pde_lib)
#     language: python
#     name: pde-lib
# ---

# %% [markdown]
# # Report: augmentations
#
# Experiment 2: each augmentation (Lie point symmetries and noise) alone and combined, with and
# without pretraining. Entries are test relative L2, **mean [95% bootstrap CI] over seeds**.
# Improvements are **paired**: against the same run without augmentation (same backbone,
# strategy, seed and fine-tune), and each strategy against `none` under the same augmentation.

# %% tags=["parameters"]
sweep_dir = "example_sweep"   # a sweep folder (or its results.csv)
task = "fixed_future"
distribution = "id"
samples = None                # a sample count, or None to average over all counts

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from pde_lib.report.aggregate import load_results, select, summarise
from pde_lib.report.plots import grouped_points
from pde_lib.report.tables import ci_table, improvement_table, sweep_overview

results = load_results(sweep_dir)
df = select(results, task=task, distribution=distribution, samples=samples)

# %%
# NBVAL_CHECK_OUTPUT
print(sweep_overview(results))
print(f"augmentation settings: {', '.join(sorted(df['augmentation'].unique()))}")
if df["augmentation"].nunique() < 2:
    print("only one augmentation setting in this sweep: run parameters/families/augmentations.yaml "
          "for the comparison")

# %% [markdown]
# ## Test error: augmentation x strategy, per PDE (mean [95% CI], averaged over backbones)

# %%
for pde in sorted(df["pde"].unique()):
    sub = select(df, pde=pde)
    display(Markdown(f"### {pde}"))
    display(ci_table(summarise(sub, ["augmentation", "strategy"]), "augmentation", "strategy"))

# %%
s = summarise(df, ["augmentation", "strategy", "pde"])
fig = grouped_points(s, group="strategy", hue="augmentation", panel="pde", title="test rel. L2 by augmentation")
plt.show()
plt.close(fig)

# %% [markdown]
# ## Paired improvement of each augmentation over no augmentation (%), augmentation x PDE

# %%
table = improvement_table(df, columns="pde", factor="augmentation", baseline="none")
display(table if len(table) else Markdown("_Only one augmentation setting in this sweep: nothing to compare._"))

# %% [markdown]
# ## Paired improvement of each strategy over `none`, per augmentation setting (%)

# %%
display(improvement_table(df, columns="augmentation"))
