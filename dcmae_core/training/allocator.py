"""The glibc allocator setting that keeps a CPU training step's freed activations for the next step."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_ALLOCATOR_TUNED = False


def keep_freed_memory() -> bool:
    """On Linux/glibc, keep memory that training frees for the next step instead of returning it to the OS.

    A CPU pretraining step allocates and frees gigabytes of activations; by default glibc unmaps large blocks
    and trims the heap, so every step page-faults all of it in again (seen as system time). Raising the trim
    threshold and the top pad and serving every block from the heap more than doubled the paper preset's
    CPU pretraining speed at batch 8 (docs/benchmarks.md); the price is a resident size that stays at the peak.
    Process-wide and idempotent; False where it does not apply (other C libraries, other systems)."""
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_max = -1, -2, -4
    ok = all(
        mallopt(param, value) == 1
        for param, value in (
            (m_mmap_max, 0),  # no block gets its own mapping: all come from the heap and are reused
            (m_trim_threshold, 2**31 - 1),  # never give the heap's top back between steps
            (m_top_pad, 2**30),  # grow the heap in 1 GiB steps
        )
    )
    _ALLOCATOR_TUNED = ok
    return ok
