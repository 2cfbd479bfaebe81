# ---
# jupyter:
#   kernelspec:
#     display_name: Python (pde_lib)
#     language: python
#     name: pde-lib
# ---

# %% [markdown]
# # Report: the paper's four claims

# %% tags=["parameters"]
sweep_dir = "../outputs/published/laptop"   # a sweep or published folder (or its results.csv)
model = "fno2d"               # the backbone of the scarcity, augmentation and shift comparisons
samples = 32                  # the fine-tune sample count of the strategy, augmentation and shift comparisons
extra_dirs = []               # folders of the same grid at other seeds to join (README, "Laptop study")

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")
from IPython.display import HTML, Markdown, display

from pde_lib.report.aggregate import dir_list, join_results
from pde_lib.report.findings import (CLAIMS, augmentation_control_table, augmentation_table, effect_counts,
                                     family_view, scarcity_table, scarcity_trend, shift_table, strategies_table,
                                     trend_view)
from pde_lib.report.header import report_header
from pde_lib.report.multiple import family_note
from pde_lib.report.precision import precision_summary, precision_view

extra_dirs = dir_list(extra_dirs)
results = join_results(sweep_dir, extra_dirs)
display(HTML(report_header(sweep_dir, results, results, dict(model=model, samples=samples), extra_dirs)))

# %% [markdown]
# Each claim of "Strategies for Pretraining Neural Operators" is answered by one **family of
# paired comparisons**: a pretrained (or augmented) run against its partner without pretraining
# (or augmentation) on the same backbone, seed, fine-tune data, order and step count. Per seed the
# log error ratio is averaged over the PDEs pooled in a row; the entry is the improvement
# 100 (1 - ratio) % with its **95% Student-t interval over seeds**; `*` marks the comparisons that
# survive a **Holm correction at 5%** over the family. The `effect` column applies one rule, the
# same everywhere (`pde_lib.report.findings`): **helps** / **hurts** (survives Holm), **no 10%
# effect** (not significant, and the whole interval lies within -10% .. +10%), **unresolved**
# (the interval is too wide to tell a 10% effect from none).

# %% [markdown]
# ## 1. Pretraining improves fine-tuning, most when fine-tune data are scarce
# Each strategy run at several sample counts against `none`, in distribution, heat, advection and
# Burgers pooled. The second table tests "most when scarce": how much more a strategy cuts the
# error at the smallest count than at the largest (paired by seed).

# %%
# NBVAL_CHECK_OUTPUT
t1 = scarcity_table(results, model=model)
print(f"claim 1: {CLAIMS[1]}\n{family_note(t1)}\neffects: {effect_counts(t1)}")

# %%
display(family_view(t1, ["strategy", "samples"]))
display(trend_view(scarcity_trend(results, model=model)))

# %% [markdown]
# ## 2. Transfer learning and physics-based strategies do best
# Every strategy against `none` per backbone, in distribution, at the chosen sample count.
# Physics-based: `picl`, `derivative`, `coefficient`; pretext tasks from vision: `binary`,
# `time_sort`, `space_sort`, `jigsaw`, `masked`.

# %%
# NBVAL_CHECK_OUTPUT
t2 = strategies_table(results, samples=samples)
print(f"claim 2: {CLAIMS[2]}\n{family_note(t2)}\neffects: {effect_counts(t2)}")

# %%
display(family_view(t2.sort_values(["model", "mean"], ascending=[True, False]), ["model", "strategy"]))

# %% [markdown]
# ## 3. Augmentations improve pretraining and fine-tuning
# Each augmentation against no augmentation, without pretraining (`none`) and with it
# (`transfer`), pooled over the PDEs where the augmentation is a symmetry.

# %%
# NBVAL_CHECK_OUTPUT
t3 = augmentation_table(results, model=model, samples=samples)
print(f"claim 3: {CLAIMS[3]}\n{family_note(t3)}\neffects: {effect_counts(t3)}")

# %%
display(family_view(t3, ["strategy", "augmentation"], label="improvement over no augmentation"))

# %% [markdown]
# Every augmentation adds copies (`augmentation_ratio`), so an augmented run also takes more
# optimisation steps. The step-matched control `copy` adds the same number of *unchanged* copies:
# each augmentation against `copy` shows what the transform itself adds beyond the extra steps.

# %%
# NBVAL_CHECK_OUTPUT
t3c = augmentation_control_table(results, model=model, samples=samples)
print(f"claim 3, step-matched (against unchanged copies):\n{family_note(t3c)}\neffects: {effect_counts(t3c)}"
      if len(t3c) else "claim 3, step-matched: the control `copy` did not run in this sweep")

# %%
display(family_view(t3c, ["strategy", "augmentation"], label="improvement over unchanged copies"))

# %% [markdown]
# ## 4. Pretrained models gain under distribution shift and on an unseen PDE
# The strategies fine-tuned out of distribution against `none`: in distribution (ID), out of
# distribution (OOD: heat, advection, Burgers with coefficients outside the pretraining ranges)
# and on Navier-Stokes at 64^2, a PDE never seen in pretraining.

# %%
# NBVAL_CHECK_OUTPUT
t4 = shift_table(results, model=model, samples=samples)
print(f"claim 4: {CLAIMS[4]}\n{family_note(t4)}\neffects: {effect_counts(t4)}")

# %%
display(family_view(t4, ["setting", "strategy"]))

# %% [markdown]
# ## How many seeds would decide every comparison
# An interval tells a 10% improvement from none, whatever the effect, when its whole width on
# the log scale is at most log(1 / 0.9), i.e. a half-width of at most 0.053. From the
# seed-to-seed spread each interval implies, the seeds a re-run would need for that
# (`pde_lib.report.precision`): an estimate, and a conservative count from the 80% upper
# confidence bound of the spread (few seeds estimate a spread poorly). A row that is not narrow
# enough may still be decided, when its interval lies far from 0.

# %%
# NBVAL_CHECK_OUTPUT
families = {"claim 1": (t1, ["strategy", "samples"]), "claim 2": (t2, ["model", "strategy"]),
            "claim 3": (t3, ["strategy", "augmentation"]), "claim 4": (t4, ["setting", "strategy"])}
for name, (table, _) in families.items():
    print(f"{name}: {precision_summary(table)}")

# %%
for name, (table, by) in families.items():
    display(Markdown(f"**{name}**"))
    display(precision_view(table, by))
