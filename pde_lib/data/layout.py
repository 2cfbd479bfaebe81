"""The HDF5 layout (docs/protocol.md section 2.6): one group per split holding ``u`` (n, T, N, N),
``x`` (2, N, N), ``t`` (T,), the coefficients (n,), ``pde`` and ``seed``. The original study's
files hold only ``u``, ``x``, ``t`` and the five coefficients; they are read too."""

SPLITS = ("pretrain", "train", "valid", "test")
ORIGINAL_KEYS = ("u", "x", "t", "nu", "ax", "ay", "cx", "cy")
#: layout version written now: version 2 adds a SHA-256 checksum to every dataset (attribute
#: ``sha256``, see ``checksum.py``); version 1 is the same layout without them
GENERATOR_VERSION = "pde_lib-data-2"
#: layout versions this reader accepts (files of the original study carry none)
READABLE_VERSIONS = ("pde_lib-data-1", "pde_lib-data-2")
#: versions whose datasets must all carry a checksum
CHECKSUMMED_VERSIONS = ("pde_lib-data-2",)
