"""Size-limited folders of cache files, least recently used first out (the result cache
and the skeleton cache). A file's modification time is its last use: readers touch it."""
from __future__ import annotations

import threading
from pathlib import Path


class LruFolder:
    """The files matching ``PATTERN`` in ``folder``, kept under ``max_bytes`` by removing
    the least recently used. Subclasses name their pattern and may remove differently."""

    PATTERN = "*"

    def __init__(self, folder: Path, max_bytes: int):
        self.folder = Path(folder)
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()

    def entries(self) -> list[tuple[Path, int, float]]:
        """(path, bytes, last use) of each cached file, oldest first."""
        out = []
        if not self.folder.is_dir():
            return out
        for p in self.folder.glob(self.PATTERN):
            try:
                st = p.stat()
            except OSError:
                continue  # removed meanwhile
            out.append((p, st.st_size, st.st_mtime))
        return sorted(out, key=lambda e: e[2])

    def size_bytes(self) -> int:
        return sum(e[1] for e in self.entries())

    def evict(self) -> int:
        """Remove least recently used files until the cache fits; returns files removed."""
        with self._lock:
            entries = self.entries()
            total = sum(e[1] for e in entries)
            removed = 0
            for path, size, _ in entries:
                if total <= self.max_bytes:
                    break
                self._remove(path)
                total -= size
                removed += 1
            return removed

    def clear(self) -> None:
        for path, _, _ in self.entries():
            self._remove(path)

    @staticmethod
    def _remove(path: Path) -> None:
        try:
            path.unlink()
        except OSError:
            pass
