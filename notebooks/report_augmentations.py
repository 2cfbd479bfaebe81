# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python (pde_lib)
#     language: python
#     name: pde-lib
# ---

# %% [markdown]
# # Report: augmentations

# %% [markdown]
# *The study's findings from its best evidence (all seeds joined, both fine-tuning lengths, unlearned
# PDEs left out of pooled verdicts) are on one page: `outputs/published/findings/index.html`
# (`python -m pde_lib findings-page`). This report shows the folders named under "What this page
# shows" (by default the 60-epoch study joined with its seed extensions, `extra_dirs`).*

# %% tags=["parameters"]
sweep_dir = "../outputs/published/laptop"   # a sweep or published folder (or its results.csv)
task = "fixed_future"
distribution = "id"
samples = None                # a sample count, or None to average over all counts
# folders of the same grid at other seeds to join (comma-separated; "" for none); the default is the
# study's 60-epoch evidence: the published run joined with both seed extensions
extra_dirs = "../outputs/published/laptop_seeds_3_4,../outputs/published/laptop_seeds_5_9"

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")
import matplotlib.pyplot as plt
from IPython.display import HTML, Markdown, display

from pde_lib.report.aggregate import dir_list, join_results, select, summarise
from pde_lib.report.header import report_header
from pde_lib.report.learned import pde_heading, pde_order
from pde_lib.report.plots import grouped_points
from pde_lib.report.tables import html_table, baseline_levels, ci_table, improvement_table, sweep_overview, with_baselines

extra_dirs = dir_list(extra_dirs)
results = join_results(sweep_dir, extra_dirs)
df = select(results, task=task, distribution=distribution, samples=samples)
filters = dict(task=task, distribution=distribution, samples=samples)
display(HTML(report_header(sweep_dir, results, df, filters, extra_dirs)))

# %% [markdown]
# Experiment 2: each augmentation (Lie point symmetries and noise) alone and combined, with and
# without pretraining. Entries are test relative L2, **geometric mean [95% Student-t interval]
# over seeds**, beside the copy-last-frame and zero-prediction baselines. Improvements are
# **paired**: against the same run without augmentation (same backbone, strategy, seed and
# fine-tune), and each strategy against `none` under the same augmentation.

# %%
# NBVAL_CHECK_OUTPUT
print(sweep_overview(results))
print(f"augmentation settings: {', '.join(sorted(df['augmentation'].unique()))}")
if df["augmentation"].nunique() < 2:
    print("only one augmentation setting in this sweep: run parameters/families/augmentations.yaml "
          "for the comparison")

# %% [markdown]
# **How to read the numbers.** Test errors are positive and skewed (one unlucky seed can be
# several times the others), so they are summarised on the log scale: within a seed the selected
# fine-tunes are averaged as log errors; over seeds each entry is the **geometric mean** with a
# **95% Student-t interval** of the mean log error, mapped back (so it is multiplicative,
# not symmetric). A paired improvement uses the per-seed log ratio err / err_baseline and is shown
# as 100 (1 - ratio) %. The t interval needs no resampling and is exact for normal log errors, so it
# keeps its 95% coverage at 2, 3 and 5 seeds (simulated in `tests/test_report_stats.py`), where
# the percentile bootstrap used before covered only 70-76% at 3 seeds and gave [min, max] at 2;
# the price is width: with 2 seeds the t quantile is 12.7. With fewer than 2 seeds an entry shows
# the per-seed points and no interval; figures with intervals draw each seed's value
# as a small hollow marker. Each
# improvement table is one family of comparisons, Holm-corrected at 5%: `*` marks the survivors,
# and the family size is stated above the table. Every table and figure also shows two baselines
# that need no model: copying the last input frame, and predicting zero (rel. L2 = 1).

# %% [markdown]
# ## Test error: augmentation x strategy, per PDE (geometric mean [95% t interval], backbones averaged)

# %%
for pde in pde_order(df):
    sub = select(df, pde=pde)
    display(Markdown(f"### {pde_heading(results, pde)}"))
    table = ci_table(summarise(sub, ["strategy", "augmentation"]), "augmentation", "strategy")
    display(HTML(html_table(with_baselines(table, sub, "strategy"))))

# %%
s = summarise(df, ["augmentation", "strategy", "pde"])
fig = grouped_points(s, group="strategy", hue="augmentation", panel="pde", title="test rel. L2 by augmentation",
                     refs=baseline_levels(df, ["pde"]))
plt.show()
plt.close(fig)

# %% [markdown]
# ## Paired improvement of each augmentation over no augmentation (%), augmentation x PDE (* = survives Holm)

# %%
table = improvement_table(df, columns="pde", factor="augmentation", baseline="none")
if df["augmentation"].nunique() > 1:
    display(Markdown(table.attrs.get("note", "")))
    display(HTML(html_table(table)))
else:
    display(Markdown("_Only one augmentation setting in this sweep: nothing to compare._"))

# %% [markdown]
# ## Paired improvement of each strategy over `none`, per augmentation setting (%; * = survives Holm)

# %%
table = improvement_table(df, columns="augmentation")
display(Markdown(table.attrs.get("note", "")))
display(HTML(html_table(table)))
