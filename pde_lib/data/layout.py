"""The HDF5 layout (docs/protocol.md section 2.6): one group per split holding ``u`` (n, T, N, N),
``x`` (2, N, N), ``t`` (T,), the coefficients (n,), ``pde`` and ``seed``. The original study's
files hold only ``u``, ``x``, ``t`` and the five coefficients; they are read too."""

#: splits a file may hold (one HDF5 group each); a fine-tune reads the last three
SPLITS = ("pretrain", "train", "valid", "test")
FINETUNE_SPLITS = ("train", "valid", "test")
#: the PDE names a file may label its samples with, in a fixed order: ``Dataset.pde_index`` and
#: the stored ``pde`` labels index into it. A new PDE module (``pde_lib/pdes/``) registers under
#: one of these names, so a new PDE adds its name here too (``pdes.registry`` checks it).
PDE_NAMES = ("advection", "burgers", "heat", "navier_stokes")
#: coefficients every file stores (zeros where a PDE has none), in the original study's order;
#: a model or strategy takes them as a (B, 5) tensor in this order
COEFFICIENT_KEYS = ("nu", "ax", "ay", "cx", "cy")
#: Navier-Stokes adds these
EXTRA_KEYS = ("visc", "amp")
#: coefficient distributions: in distribution (the training ranges) and out of distribution
DISTRIBUTIONS = ("id", "ood")
ORIGINAL_KEYS = ("u", "x", "t", "nu", "ax", "ay", "cx", "cy")
#: layout version written now: version 2 adds a SHA-256 checksum to every dataset (attribute
#: ``sha256``, see ``checksum.py``); version 1 is the same layout without them
GENERATOR_VERSION = "pde_lib-data-2"
#: layout versions this reader accepts (files of the original study carry none)
READABLE_VERSIONS = ("pde_lib-data-1", "pde_lib-data-2")
#: versions whose datasets must all carry a checksum
CHECKSUMMED_VERSIONS = ("pde_lib-data-2",)
