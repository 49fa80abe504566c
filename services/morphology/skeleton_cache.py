"""On-disk cache of skeletons from a CAVE skeleton service.

Kept in ``skeletons/`` inside the result cache's folder (services.results.result_cache),
one gzip-compressed JSON file per (server, datastack, root id, skeleton version): the
service's dict as it arrived, with the key it was stored under. A root id never changes
(an edit makes a new one), so the skeleton of a root id at one skeleton version is the same
in every materialized version; the caller asks the cache only for materialized versions,
never for live views, as for query results. A file that cannot be read, or that records
another key, is removed and treated as a miss. Least recently used files go first when
the folder outgrows its limit.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
import time
from pathlib import Path

from services.results.lru_files import LruFolder

DEFAULT_MAX_BYTES = 512 * 1024**2
FOLDER_NAME = "skeletons"


def cache_key(server: str, datastack: str, root_id: int, skeleton_version: int) -> dict:
    return {"server": server.rstrip("/"), "datastack": datastack, "root_id": int(root_id),
            "skeleton_version": int(skeleton_version)}


class SkeletonCache(LruFolder):
    PATTERN = "*.json.gz"

    def __init__(self, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES):
        super().__init__(folder, max_bytes)

    @classmethod
    def beside(cls, result_cache) -> "SkeletonCache | None":
        """The skeleton cache inside a ResultCache's folder (None without one)."""
        if result_cache is None or getattr(result_cache, "folder", None) is None:
            return None
        return cls(Path(result_cache.folder) / FOLDER_NAME)

    def path(self, key: dict) -> Path:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
        return self.folder / f"{digest}.json.gz"

    def get(self, server: str, datastack: str, root_id: int,
            skeleton_version: int) -> dict | None:
        """The stored skeleton dict, or None (a bad file is removed)."""
        key = cache_key(server, datastack, root_id, skeleton_version)
        path = self.path(key)
        if not path.is_file() or path.is_symlink():
            return None
        try:
            doc = json.loads(gzip.decompress(path.read_bytes()))
            if not isinstance(doc, dict) or doc.get("key") != key or \
                    not isinstance(doc.get("skeleton"), dict):
                raise ValueError("not this key's skeleton")
        except (OSError, EOFError, ValueError, RecursionError):
            self._remove(path)
            return None
        try:
            os.utime(path)  # LRU: a hit makes the file recent
        except OSError:
            pass
        return doc["skeleton"]

    def put(self, server: str, datastack: str, root_id: int, skeleton_version: int,
            skeleton: dict) -> bool:
        """Store the service's dict; False when it cannot be written (never an error)."""
        key = cache_key(server, datastack, root_id, skeleton_version)
        path = self.path(key)
        tmp = path.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
        try:
            data = json.dumps({"key": key, "stored": time.time(), "skeleton": skeleton},
                              default=_plain).encode()
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(gzip.compress(data, compresslevel=6))
            os.replace(tmp, path)  # readers never see a half-written file
        except (OSError, TypeError, ValueError):
            self._remove(tmp)
            return False
        self.evict()
        return True



def _plain(v):
    """numpy arrays and scalars (caveclient's decoders make them) as JSON values."""
    if hasattr(v, "tolist"):
        return v.tolist()
    raise TypeError(f"{type(v).__name__} is not JSON")
