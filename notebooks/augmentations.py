# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: pde-lib
#     language: python
#     name: pde-lib
# ---

# %% [markdown]
# # Augmentations: Lie point symmetries and input noise
#
# docs/protocol.md section 6. Each augmentation is applied only to the PDEs it is a true symmetry of:
#
# | name | transform | valid for |
# |---|---|---|
# | noise | Gaussian noise on the *input* frames only (std = `noise_level` x sample std) | all |
# | shift | u(x - s, t): sub-grid for heat / advection, whole cells for Burgers / Navier-Stokes | heat, advection, Burgers, NS (s1 + s2 = 0) |
# | scale | lambda u; Burgers relabels (cx, cy) -> (cx, cy) / lambda | heat, advection, Burgers |
# | galilean | advection u(x - V t, t), a -> a + V; Burgers u(x - w c t, t) + w | advection, Burgers |
#
# Below: each valid (augmentation, PDE) pair side by side, then the PDE residual of the originals
# and of the augmented copies, and a re-solve of each copy from its frame 0 with its (updated)
# coefficients. Last, transforms that are *not* symmetries, to show that the check catches them.
# All logic lives in `pde_lib.augmentations.diagnostics`.

# %% tags=["parameters"]
data_file = ""          # HDF5 file of heat, advection, Burgers samples (empty: generate a small one)
ns_file = ""            # HDF5 Navier-Stokes file (empty: generate a tiny one on the stored grid)
samples_per_pde = 2     # used when generating
seed = 0                # generator seed of every augmentation draw
per_pde = 2             # samples shown per (augmentation, PDE) pair
frames = [0, 8, 16, 31]
out_dir = ""            # where figures and tables are saved (empty: a temporary folder)

# %%
# NBVAL_CHECK_OUTPUT
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch

from pde_lib.augmentations import AUGMENTATIONS, get_augmentation
from pde_lib.augmentations.diagnostics import (demo_pairs, invalid_examples,
                                               invalid_table, plot_side_by_side, residual_table)
from pde_lib.data import load_dataset
from pde_lib.generation import GenerationParams, generate_dataset

torch.set_num_threads(1)
pd.set_option("display.width", 200)
pd.set_option("display.precision", 3)
tmp = Path(tempfile.mkdtemp())
out = Path(out_dir) if out_dir else tmp / "figures"
out.mkdir(parents=True, exist_ok=True)
if not data_file:
    data_file = tmp / "hab.h5"
    generate_dataset(GenerationParams(pdes=["heat", "advection", "burgers"], split="valid",
                                      distribution="id", samples_per_pde=samples_per_pde, seed=seed),
                     data_file, progress=False)
if not ns_file:
    ns_file = tmp / "ns.h5"
    generate_dataset(GenerationParams(pdes=["navier_stokes"], split="valid", distribution="id",
                                      samples_per_pde=1, seed=seed, refine=1), ns_file, progress=False)
ds = load_dataset(data_file)
ns = load_dataset(ns_file)
print(f"{len(ds)} samples of {sorted(set(ds.pde))}; {len(ns)} Navier-Stokes samples")
for name in AUGMENTATIONS:
    aug = get_augmentation(name)
    strength = f"{aug.strength_name} = {aug.strength_default}" if aug.strength_name else "no strength (control)"
    print(f"{name:9s} valid for {sorted(aug.valid_pdes)}; {strength}")

# %% [markdown]
# ## Original and augmented trajectories (first sample of each pair)

# %%
pairs = demo_pairs(ds, seed=seed, per_pde=per_pde)
pairs.update(demo_pairs(ns, seed=seed, per_pde=per_pde))
for (name, pde), (orig, copy) in pairs.items():
    if name == "noise":
        continue  # noise leaves the trajectory unchanged (it is added to input frames in training)
    fig = plot_side_by_side(orig, copy, frames=frames, title=f"{name} on {pde}")
    fig.savefig(out / f"{name}_{pde}.png", dpi=80)
    plt.show()
    plt.close(fig)

# %% [markdown]
# ## PDE residual and re-solve of every valid pair
#
# `residual_*`: median relative spectral residual ||u_t - F(u)|| / ||u_t|| (4th-order time
# difference at the stored dt, which dominates it for fast advection and Burgers); `ratio`: the
# largest per-sample augmented / original ratio (a Galilean boost changes the advection speed and
# with it the time-difference error); `ratio_resolved_band`: the same over the Fourier modes
# |m| < N/3 that a dealiased solver resolves (a sub-grid shift of stored Burgers frames misplaces
# their aliased near-Nyquist content, which raises the full residual but not this one);
# `resolve_error_last_frame`: relative L2 at the last frame
# against a fresh solve from the copy's frame 0 with the copy's coefficients (NaN: Navier-Stokes
# is not re-solved).

# %%
table = residual_table(pairs)
table.to_csv(out / "residuals.csv", index=False)
print(table.to_string(index=False))

# %% [markdown]
# ## Transforms that are not symmetries
#
# The same residual for transforms outside the validity table: it grows by one to five orders of
# magnitude, so the check above has teeth.

# %%
bad = invalid_examples(ds)
bad.update(invalid_examples(ns))
bad_table = invalid_table(bad)
bad_table.to_csv(out / "invalid.csv", index=False)
print(bad_table.to_string(index=False))
