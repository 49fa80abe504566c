"""Size-limited folders of cache files, least recently used first out (the result cache
and the skeleton cache). A file's modification time is its last use: readers touch it."""
from __future__ import annotations

from pathlib import Path
from typing import Callable


def files_by_age(folder: Path, pattern: str) -> list[tuple[Path, int, float]]:
    """(path, bytes, last use) of the files matching ``pattern``, oldest first."""
    out = []
    if not folder.is_dir():
        return out
    for p in folder.glob(pattern):
        try:
            st = p.stat()
        except OSError:
            continue  # removed meanwhile
        out.append((p, st.st_size, st.st_mtime))
    return sorted(out, key=lambda e: e[2])


def evict_oldest(entries: list[tuple[Path, int, float]], max_bytes: int,
                 remove: Callable[[Path], None]) -> int:
    """Remove the oldest of ``entries`` until the rest fit in ``max_bytes``; how many."""
    total = sum(e[1] for e in entries)
    removed = 0
    for path, size, _ in entries:
        if total <= max_bytes:
            break
        remove(path)
        total -= size
        removed += 1
    return removed
