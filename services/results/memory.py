"""Give memory freed after a large result back to the operating system.

DuckDB's scan buffers and the pages of a CAVE result are freed once the result's columns
are built, but glibc's allocator keeps freed arenas mapped: the process then holds about
twice the result (measured: 91-101 B/row resident for a 56 B/row synapse result). Asking
the allocator to trim (``malloc_trim``) after a large result brings the process back to
the size of what it really holds (58-63 B/row). Arrow's own pool (mimalloc) is asked to
let go of its unused pages too. Elsewhere than glibc only the Arrow pool is released.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

#: Results smaller than this leave little to trim; trimming costs a few milliseconds.
TRIM_ROWS = 200_000

_trim = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _trim = getattr(_libc, "malloc_trim", None)  # absent on musl
    except OSError:
        _trim = None
    if _trim is not None:
        _trim.argtypes, _trim.restype = [ctypes.c_size_t], ctypes.c_int


def release_freed_memory(n_rows: int | None = None) -> bool:
    """Trim the allocator after a result of ``n_rows`` rows (always when None).
    True when the allocator gave memory back."""
    if n_rows is not None and n_rows < TRIM_ROWS:
        return False
    arrow = sys.modules.get("pyarrow")  # only if something already uses it
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    return bool(_trim(0)) if _trim is not None else False
