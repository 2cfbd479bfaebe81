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
# # Report: pretraining strategies x backbones

# %% [markdown]
# *The study's findings from its best evidence (all seeds joined, both fine-tuning lengths, unlearned
# PDEs left out of pooled verdicts) are on one page: `outputs/published/findings/index.html`
# (`python -m pde_lib findings-page`). This report shows the folders named under "What this page
# shows" (by default the 60-epoch study joined with its seed extensions, `extra_dirs`).*

# %% tags=["parameters"]
sweep_dir = "../outputs/published/laptop"   # a sweep or published folder (or its results.csv)
task = "fixed_future"         # fine-tuning task
distribution = "id"           # fine-tuning distribution
augmentation = "none"         # augmentation setting (none: no augmentation)
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
from pde_lib.report.fairness import (copy_last_verdict, load_curves, not_below_copy_last, plateau_table,
                                     plateau_verdict)
from pde_lib.report.header import report_header
from pde_lib.report.learned import pde_heading, pde_order
from pde_lib.report.per_sample import load_per_sample, win_rate
from pde_lib.report.plots import heatmap, valid_curves
from pde_lib.report.tables import (html_table, improvement_table, mean_table, strategy_table, sweep_overview,
                                   win_table, with_baselines)

extra_dirs = dir_list(extra_dirs)
results = join_results(sweep_dir, extra_dirs)
df = select(results, task=task, distribution=distribution, augmentation=augmentation, samples=samples)
filters = dict(task=task, distribution=distribution, augmentation=augmentation, samples=samples)
display(HTML(report_header(sweep_dir, results, df, filters, extra_dirs)))

# %% [markdown]
# Experiment 1 of the study: which pretraining strategy helps a neural operator most, per PDE
# and backbone? Each entry is the test relative L2 error of the fine-tuned model, **geometric mean
# and 95% Student-t interval over seeds** (within a seed, the selected sample counts are averaged
# first), beside two baselines that need no model. The second part gives each strategy's **paired
# improvement over `none`**: the same backbone, seed, augmentation and fine-tune (distribution, PDE,
# sample count) with and without pretraining, 100 (1 - err / err_none) %, so positive means
# pretraining helped; and the share of test samples on which it helped.

# %%
# NBVAL_CHECK_OUTPUT
print(sweep_overview(results))
print(f"selected: task={task}, distribution={distribution}, augmentation={augmentation}, "
      f"samples={samples or 'all (averaged)'}: {len(df)} fine-tunes")

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
# ## Test error per PDE: strategy x backbone (geometric mean [95% t interval] over seeds)

# %%
for pde in pde_order(df):
    sub = select(df, pde=pde)
    display(Markdown(f"### {pde_heading(results, pde)}"))
    display(HTML(html_table(strategy_table(sub, pde))))
    means = with_baselines(mean_table(summarise(sub, ["strategy", "model"]), "strategy", "model"), sub, "model",
                           numeric=True)
    fig = heatmap(means, title=f"{pde}: test rel. L2 (geometric mean over seeds)")
    plt.show()
    plt.close(fig)

# %% [markdown]
# ## Paired improvement over `none` (%; [95% t interval] over seeds; * = survives Holm)

# %%
for pde in pde_order(df):
    display(Markdown(f"### {pde_heading(results, pde)}"))
    table = improvement_table(select(df, pde=pde), columns="model")
    display(Markdown(table.attrs.get("note", "")))
    display(HTML(html_table(table)))

# %%
display(Markdown("### All PDEs: strategy x PDE (averaged over backbones)"))
table = improvement_table(df, columns="pde")
display(Markdown(table.attrs.get("note", "")))
display(HTML(html_table(table)))

# %% [markdown]
# ## Share of test samples improved over `none`
#
# Each fine-tune stores its per-test-sample errors, so a strategy can be paired with `none` on the
# same seed, fine-tune **and test sample**. The entry is the share of those pairs on which the
# strategy's error is lower (0.5: no difference), with the number of pairs.

# %%
wins = win_rate(df, load_per_sample(sweep_dir, extra_dirs), ["strategy", "pde"])
if len(wins):
    display(HTML(html_table(win_table(wins, "strategy", "pde"))))
else:
    print("no per-sample errors in this sweep (per_sample.csv), or no strategy besides none")

# %% [markdown]
# ## Fairness checks
#
# Two conditions without which "pretraining helps" means nothing. **The `none` baseline
# passes the plateau check**: its lowest valid error improves by less than 5% over the last 20% of
# its epochs, in every seed (else pretrained runs may only look better because training was cut
# short). The check sees only this schedule: fine-tuned 4x longer (240 epochs), the 60-epoch
# baselines' errors fell further and the gains shrank, so passing it is not proof of a plateau.
# **Every trained model beats copy-last-frame in distribution**: a model whose test error
# is not below that of copying its last input frame has learned nothing usable, whatever its rank.
# Both checks cover every fine-tune of the sweep for this task (all distributions, sample counts
# and augmentations for the plateau; every strategy and augmentation in distribution for
# copy-last), not only the selection above.

# %%
# NBVAL_CHECK_OUTPUT
curves = load_curves(sweep_dir, extra_dirs)
baseline_runs = select(results, task=task)
plateaus = plateau_table(baseline_runs, curves)
print(plateau_verdict(plateaus))
copy_last = not_below_copy_last(select(results, task=task), distribution="id")
print(copy_last_verdict(select(results, task=task), copy_last, distribution="id"))

# %% [markdown]
# ### The `none` baseline: improvement over the last 20% of epochs
# One row per (model, augmentation, distribution, PDE, sample count); the improvement is
# 1 - best valid error / best valid error before the last 20% of epochs, median and largest over seeds.

# %%
plateaus.style.format({"median_improvement": "{:.1%}", "max_improvement": "{:.1%}"}, na_rep="n/a").hide(axis="index")

# %% [markdown]
# ### Validation curves of the `none` baseline (last 20% of epochs shaded)

# %%
fig = valid_curves(baseline_runs, curves)
plt.show()
plt.close(fig)

# %% [markdown]
# ### Settings that do not beat copy-last-frame in distribution
# Geometric mean of the test error over seeds and sample counts against copy-last-frame's on the
# same test samples; `runs_not_below` counts the single fine-tunes at or above it.

# %%
if len(copy_last):
    display(copy_last.style.format({"test_rel_l2": "{:.4f}", "copy_last_rel_l2": "{:.4f}", "ratio": "{:.2f}"})
            .hide(axis="index"))
else:
    print("none: every setting beats copy-last-frame in distribution")
