# ---
# jupyter:
#   kernelspec:
#     display_name: Python (pde_lib)
#     language: python
#     name: pde-lib
# ---

# %% [markdown]
# # Report: pretraining strategies x backbones
#
# Experiment 1 of the study: which pretraining strategy helps a neural operator most, per PDE
# and backbone? Each entry is the test relative L2 error of the fine-tuned model, **mean and 95%
# bootstrap confidence interval over seeds** (within a seed, the selected sample counts are
# averaged first). The second part gives each strategy's **paired improvement over `none`**: the
# same backbone, seed, augmentation and fine-tune (distribution, PDE, sample count) with and without
# pretraining, 100 (err_none - err) / err_none, so positive means pretraining helped.

# %% tags=["parameters"]
sweep_dir = "example_sweep"   # a sweep folder (or its results.csv)
task = "fixed_future"         # fine-tuning task
distribution = "id"           # fine-tuning distribution
augmentation = "none"         # augmentation setting (none: no augmentation)
samples = None                # a sample count, or None to average over all counts

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from pde_lib.report.aggregate import load_results, select, summarise
from pde_lib.report.plots import heatmap
from pde_lib.report.tables import improvement_table, mean_table, strategy_table, sweep_overview

results = load_results(sweep_dir)
df = select(results, task=task, distribution=distribution, augmentation=augmentation, samples=samples)

# %%
# NBVAL_CHECK_OUTPUT
print(sweep_overview(results))
print(f"selected: task={task}, distribution={distribution}, augmentation={augmentation}, "
      f"samples={samples or 'all (averaged)'}: {len(df)} fine-tunes")

# %% [markdown]
# ## Test error per PDE: strategy x backbone (mean [95% CI] over seeds)

# %%
for pde in sorted(df["pde"].unique()):
    sub = select(df, pde=pde)
    display(Markdown(f"### {pde}"))
    display(strategy_table(sub, pde))
    fig = heatmap(mean_table(summarise(sub, ["strategy", "model"]), "strategy", "model"),
                  title=f"{pde}: mean test rel. L2")
    plt.show()
    plt.close(fig)

# %% [markdown]
# ## Paired improvement over `none` (%; mean [95% CI] over seeds)

# %%
for pde in sorted(df["pde"].unique()):
    display(Markdown(f"### {pde}"))
    display(improvement_table(select(df, pde=pde), columns="model"))

# %%
display(Markdown("### All PDEs: strategy x PDE (averaged over backbones)"))
display(improvement_table(df, columns="pde"))
