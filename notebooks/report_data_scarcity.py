# ---
# jupyter:
#   kernelspec:
#     display_name: Python (pde_lib)
#     language: python
#     name: pde-lib
# ---

# %% [markdown]
# # Report: data scarcity
#
# Experiment 3: test error against the number of fine-tuning samples, one line per strategy with
# its **95% bootstrap confidence band over seeds**, one panel per PDE, one figure per backbone.
# Below, each strategy's **paired improvement over `none`** (same backbone, seed, augmentation,
# fine-tune) at each sample count: does pretraining help most when data is scarce?

# %% tags=["parameters"]
sweep_dir = "example_sweep"   # a sweep folder (or its results.csv)
task = "fixed_future"
distribution = "id"
augmentation = "none"

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from pde_lib.report.aggregate import improvement_summary, load_results, select, summarise
from pde_lib.report.plots import ci_lines
from pde_lib.report.tables import ci_table, sweep_overview

results = load_results(sweep_dir)
df = select(results, task=task, distribution=distribution, augmentation=augmentation)

# %%
# NBVAL_CHECK_OUTPUT
print(sweep_overview(results))
print(f"sample counts: {sorted(df['samples'].unique().tolist())}")

# %% [markdown]
# ## Error against sample count (mean and 95% CI band)

# %%
for model in sorted(df["model"].unique()):
    s = summarise(select(df, model=model), ["strategy", "pde", "samples"])
    fig = ci_lines(s, x="samples", line="strategy", panel="pde", title=f"{model}: test rel. L2 vs samples")
    plt.show()
    plt.close(fig)

# %% [markdown]
# ## Tables: strategy x samples (all backbones and PDEs averaged within seed)

# %%
display(ci_table(summarise(df, ["strategy", "samples"]), "strategy", "samples"))

# %% [markdown]
# ## Paired improvement over `none` (%) against sample count

# %%
imp = improvement_summary(df, ["strategy", "samples"])
display(ci_table(imp, "strategy", "samples", pct=True) if len(imp) else "no strategy besides none")
if len(imp):
    fig = ci_lines(imp.assign(pde="all PDEs"), x="samples", line="strategy", panel="pde",
                   ylabel="improvement over none (%)", logy=False, hline=0.0)
    plt.show()
    plt.close(fig)
