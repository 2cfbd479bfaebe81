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
# # Report: the paper's four claims

# %% [markdown]
# *The study's findings from its best evidence (all seeds joined, both fine-tuning lengths, unlearned
# PDEs left out of pooled verdicts) are on one page: `outputs/published/findings/index.html`
# (`python -m pde_lib findings-page`). This report shows the folders named under "What this page
# shows" (by default the 60-epoch study joined with its seed extensions, `extra_dirs`).*

# %% tags=["parameters"]
sweep_dir = "../outputs/published/laptop"   # a sweep or published folder (or its results.csv)
model = "fno2d"               # the backbone of the scarcity, augmentation and shift comparisons
samples = 32                  # the fine-tune sample count of the strategy, augmentation and shift comparisons
# folders of the same grid at other seeds to join (comma-separated; "" for none); the default is the
# study's 60-epoch evidence: the published run joined with both seed extensions
extra_dirs = "../outputs/published/laptop_seeds_3_4,../outputs/published/laptop_seeds_5_9"

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")
from IPython.display import HTML, Markdown, display

from pde_lib.report.aggregate import dir_list, join_results
from pde_lib.report.findings import (CLAIMS, augmentation_control_table, augmentation_table, effect_counts,
                                     family_view, scarcity_family, shift_table, strategies_table, trend_view)
from pde_lib.report.header import report_header
from pde_lib.report.learned import learned_rows, learned_table, unlearned_note
from pde_lib.report.multiple import family_note
from pde_lib.report.tables import html_table
from pde_lib.report.verdicts import LABELS, MEANINGS
from pde_lib.report.precision import precision_summary, precision_view

extra_dirs = dir_list(extra_dirs)
results = join_results(sweep_dir, extra_dirs)
pooled = learned_rows(results)  # every pooled verdict: the PDEs the backbones learned
filters = {"PDEs pooled": "learned only (listed last)", "distribution": "id (claims 1-3), id / ood / unseen (claim 4)",
           "backbone": f"{model} (claims 1, 3, 4), every backbone (claim 2)",
           "samples": f"every count (claim 1), {samples} (claims 2-4)", "augmentation": "none (claims 1, 2, 4)"}
display(HTML(report_header(sweep_dir, results, pooled, filters, extra_dirs)))

# %% [markdown]
# Each claim of "Strategies for Pretraining Neural Operators" is answered by one **family of
# paired comparisons**: a pretrained (or augmented) run against its partner without pretraining
# (or augmentation) on the same backbone, seed, fine-tune data, order and step count. Per seed the
# log error ratio is averaged over the PDEs pooled in a row; the entry is the improvement
# 100 (1 - ratio) % with its **95% Student-t interval over seeds**; `*` marks the comparisons that
# survive a **Holm correction at 5%** over the family. The `verdict` column applies one rule, the
# same everywhere (`pde_lib.report.verdicts`); its labels are listed below. A PDE enters a pooled
# row only if it was learned: the `none` baseline's 95% interval of its test error lies below 0.9
# of the zero prediction's (`pde_lib.report.learned`); unlearned PDEs are listed, flagged, last.

# %%
# NBVAL_CHECK_OUTPUT
for label in LABELS:
    print(f"{label}: {MEANINGS[label]}")
print(unlearned_note(results))

# %% [markdown]
# ## 1. Pretraining improves fine-tuning, most when fine-tune data are scarce
# Each strategy run at several sample counts against `none`, in distribution, the learned PDEs of
# heat, advection and Burgers pooled. The second table tests "most when scarce": how much more a
# strategy cuts the error at the smallest count than at the largest (paired by seed). Both tables
# are **one Holm family**: every test the claim rests on.

# %%
# NBVAL_CHECK_OUTPUT
t1, trend = scarcity_family(pooled, model=model)
print(f"claim 1: {CLAIMS[1]}\n{family_note(t1, 'the two tables below: counts and trends')}\n"
      f"effects: {effect_counts(t1)}; trends: {effect_counts(trend)}")

# %%
display(HTML(html_table(family_view(t1, ["strategy", "samples"]), "No strategy ran at two sample counts.")))
display(HTML(html_table(trend_view(trend), "No strategy ran at two sample counts: no trend to test.")))

# %% [markdown]
# ## 2. Transfer learning and physics-based strategies do best
# Every strategy against `none` per backbone, in distribution, at the chosen sample count.
# Physics-based: `picl`, `derivative`, `coefficient`; pretext tasks from vision: `binary`,
# `time_sort`, `space_sort`, `jigsaw`, `masked`.

# %%
# NBVAL_CHECK_OUTPUT
t2 = strategies_table(pooled, samples=samples)
print(f"claim 2: {CLAIMS[2]}\n{family_note(t2)}\neffects: {effect_counts(t2)}")

# %%
display(HTML(html_table(family_view(t2, ["model", "strategy"]))))

# %% [markdown]
# ## 3. Augmentations improve pretraining and fine-tuning
# Each augmentation against no augmentation, without pretraining (`none`) and with it
# (`transfer`), pooled over the PDEs where the augmentation is a symmetry.

# %%
# NBVAL_CHECK_OUTPUT
t3 = augmentation_table(pooled, model=model, samples=samples)
print(f"claim 3: {CLAIMS[3]}\n{family_note(t3)}\neffects: {effect_counts(t3)}")

# %%
display(HTML(html_table(family_view(t3, ["strategy", "augmentation"], label="improvement over no augmentation"))))

# %% [markdown]
# Every augmentation adds copies (`augmentation_ratio`), so an augmented run also takes more
# optimisation steps. The step-matched control `copy` adds the same number of *unchanged* copies:
# each augmentation against `copy` shows what the transform itself adds beyond the extra steps.

# %%
# NBVAL_CHECK_OUTPUT
t3c = augmentation_control_table(pooled, model=model, samples=samples)
print(f"claim 3, step-matched (against unchanged copies):\n{family_note(t3c)}\neffects: {effect_counts(t3c)}"
      if len(t3c) else "claim 3, step-matched: the control `copy` did not run in this sweep")

# %%
display(HTML(html_table(family_view(t3c, ["strategy", "augmentation"], label="improvement over unchanged copies"),
                        "The step-matched control (unchanged copies) did not run in this sweep.")))

# %% [markdown]
# ## 4. Pretrained models gain under distribution shift and on an unseen PDE
# The strategies fine-tuned out of distribution against `none`: in distribution (ID), out of
# distribution (OOD: the learned ones of heat, advection, Burgers with coefficients outside the
# pretraining ranges) and on Navier-Stokes at 64^2, a PDE never seen in pretraining.

# %%
# NBVAL_CHECK_OUTPUT
t4 = shift_table(pooled, model=model, samples=samples)
print(f"claim 4: {CLAIMS[4]}\n{family_note(t4)}\neffects: {effect_counts(t4)}")

# %%
display(HTML(html_table(family_view(t4, ["setting", "strategy"]))))

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
    display(HTML(html_table(precision_view(table, by))))

# %% [markdown]
# ## Not learned (flagged; left out of every pooled row above)

# %%
bad = learned_table(results)
display(HTML(html_table(bad[~bad["learned"]].assign(flag="NOT LEARNED").drop(columns="learned"),
                        "Every PDE was learned.")))
