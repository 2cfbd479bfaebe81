"""Keep freed large buffers in the process heap (glibc ``mallopt``).

glibc serves an allocation above its mmap threshold (dynamic, at most 32 MiB by default) with a
fresh ``mmap`` and returns it to the system on ``free``; the next allocation of that size is
page-faulted and zeroed again. The batched spectral solves allocate and free tensors of tens of
MiB (a (B, n, n//2 + 1) complex state at n = 512) several times per Runge-Kutta step, so without
this every step pays for it in system time (measured: ``benchmarks/data_generation.py``, the
docs/performance.md). Raising the mmap threshold and the trim threshold keeps those
buffers in the heap for reuse. Values are unchanged: only where memory comes from."""

from __future__ import annotations

import ctypes
import ctypes.util

#: glibc's mallopt parameter numbers (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: allocations up to this size come from the heap instead of their own mmap
MMAP_THRESHOLD = 512 << 20
#: free memory at the top of the heap is returned to the system only above this
TRIM_THRESHOLD = 1 << 30


def retain_freed_memory(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Set glibc's mmap and trim thresholds for this process; True if both were set, False where
    the C library has no ``mallopt`` (macOS, Windows) and nothing changed."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))
