"""The HDF5 layout (docs/protocol.md section 2.6): one group per split holding ``u`` (n, T, N, N),
``x`` (2, N, N), ``t`` (T,), the coefficients (n,), ``pde`` and ``seed``. The original study's
files hold only ``u``, ``x``, ``t`` and the five coefficients; they are read too."""

SPLITS = ("pretrain", "train", "valid", "test")
ORIGINAL_KEYS = ("u", "x", "t", "nu", "ax", "ay", "cx", "cy")
GENERATOR_VERSION = "pde_lib-data-1"
