"""On-disk cache of query results from materialized CAVE versions.

A materialized version never changes, so the same spec on the same server gives the same
rows: repeat queries (and reopened sessions) read a Parquet file instead of the network.
Live queries (a timestamp) change with proofreading and are never cached. The key is
server + datastack + version + spec, never the token. The folder is size-limited: the
least recently used files go first. A file that cannot be read is removed and treated
as a miss.

Pages: a big answer is fetched in pages (services.cave.cave_paging); each page of a
materialized version is kept too (``page-*.parquet``, keyed by the page's full request:
filters with its id range, columns...), with the server's row-limit warning, and page
counts likewise, so a cancelled or failed fetch resumes where it stopped. The same size
limit and the same checks apply; once the whole result is stored its pages are dropped.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from models.query_spec import QueryResult, QuerySpec
from services.results.lru_files import LruFolder

DEFAULT_MAX_BYTES = 2 * 1024**3
_META_KEY = b"cavern_cache"


#: a folder for the cache instead of the user's cache folder (a big disk; tests)
CACHE_DIR_ENV = "CAVERN_CACHE_DIR"


def default_cache_dir() -> Path:
    import os
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]) / "results"
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("Cavern")) / "results"


def spec_key(server: str, spec: QuerySpec, page: str | None = None) -> str:
    """A stable hash of what determines a materialized result (token excluded);
    ``page``: "rows" or "count" of one page request, never a whole result's key."""
    parts = {
        "server": server.rstrip("/"),
        "datastack": spec.datastack,
        "version": spec.version,
        "table": spec.table,
        "is_view": spec.is_view,
        "filters": [[f.column, f.op.value, _plain(f.value), f.units] for f in spec.filters],
        "columns": list(spec.columns),
        "limit": spec.limit,
        "desired_resolution": list(spec.desired_resolution) if spec.desired_resolution else None,
        "merge_reference": spec.merge_reference,
    }
    if page is not None:
        parts["page"] = page
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(v):
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, str):
        try:
            return v.item()
        except (ValueError, AttributeError):
            pass
    return v


class BadCacheFile(ValueError):
    """A cache file whose metadata is malformed or belongs to another key."""


def read_meta(schema_meta, server: str, spec: QuerySpec) -> dict:
    """The validated cache metadata of a file, or BadCacheFile.

    The recorded server, datastack, table and version must be the key's (a hash is not
    proof), and each field must have its type."""
    raw = (schema_meta or {}).get(_META_KEY)
    if raw is None:
        raise BadCacheFile("no cache metadata")
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadCacheFile(f"metadata is not JSON: {type(exc).__name__}") from None
    if not isinstance(meta, dict):
        raise BadCacheFile("metadata is not an object")
    notes = meta.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise BadCacheFile("notes is not a list of text")
    truncated = meta.get("truncated", False)
    if not isinstance(truncated, bool):
        raise BadCacheFile("truncated is not true/false")
    total = meta.get("total_rows")
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
        raise BadCacheFile("total_rows is not a row count")
    expected = {"server": server.rstrip("/"), "datastack": spec.datastack,
                "table": spec.table, "version": spec.version}
    for name, want in expected.items():
        got = meta.get(name)
        if type(got) is not type(want) or got != want:
            raise BadCacheFile(f"recorded {name} is not the key's")
    return {"notes": list(notes), "truncated": truncated, "total_rows": total}


def _page_meta(schema_meta, server: str, spec: QuerySpec, count: bool) -> dict:
    """A page file's validated metadata (the checks of read_meta, and the page's own)."""
    read_meta(schema_meta, server, spec)
    meta = json.loads(schema_meta[_META_KEY])
    if meta.get("page") != ("count" if count else "rows"):
        raise BadCacheFile("not a page of this kind")
    for name in (("count",) if count else ("warned_limit",)):
        v = meta.get(name)
        if (v is None and name == "count") or (v is not None and (
                isinstance(v, bool) or not isinstance(v, int) or v < 0)):
            raise BadCacheFile(f"{name} is not a row count")
    return meta


def cacheable(spec: QuerySpec) -> bool:
    return spec.timestamp is None and spec.version is not None and bool(spec.datastack)


class ResultCache(LruFolder):
    PATTERN = "*.parquet"

    def __init__(self, folder: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        super().__init__(folder if folder is not None else default_cache_dir(), max_bytes)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.parquet"

    def _page_path(self, key: str) -> Path:
        return self.folder / f"page-{key}.parquet"

    # ---- pages of a big answer -----------------------------------------------------
    def get_page(self, server: str, spec: QuerySpec, count: bool = False):
        """A kept page: (frame, warned limit) or, for ``count``, the row count; None on
        a miss (a bad file is removed)."""
        if not cacheable(spec):
            return None
        path = self._page_path(spec_key(server, spec, "count" if count else "rows"))
        if not path.is_file() or path.is_symlink():
            if path.is_symlink() or path.exists():
                self._remove(path)
            return None
        try:
            table = pq.read_table(path)
            meta = _page_meta(table.schema.metadata, server, spec, count)
            value = meta["count"] if count else (
                table.replace_schema_metadata(None).to_pandas(), meta["warned_limit"])
        except Exception:  # noqa: BLE001 - any unreadable page is a miss, never an error
            self._remove(path)
            return None
        try:
            os.utime(path)
        except OSError:
            pass
        return value

    def put_page(self, server: str, spec: QuerySpec, frame=None, warned_limit=None,
                 count: int | None = None) -> str | None:
        """Keep one page's rows (or its ``count``); returns its key, None if not kept."""
        if not cacheable(spec):
            return None
        kind = "count" if count is not None else "rows"
        try:
            if count is not None:
                table = pa.table({"count": pa.array([int(count)], pa.int64())})
            else:
                plain = frame.copy(deep=False)
                plain.attrs = {}
                table = pa.Table.from_pandas(plain, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError):
            return None
        meta = {"page": kind, "warned_limit": warned_limit, "count": count,
                "server": server.rstrip("/"), "table": spec.table, "version": spec.version,
                "datastack": spec.datastack, "stored": time.time()}
        key = spec_key(server, spec, kind)
        if not self._write(table, meta, self._page_path(key)):
            return None
        self.evict()
        return key

    @staticmethod
    def page_key(server: str, spec: QuerySpec, count: bool = False) -> str:
        return spec_key(server, spec, "count" if count else "rows")

    def drop_pages(self, keys) -> None:
        for key in keys:
            self._remove(self._page_path(key))

    # ---- read ----------------------------------------------------------------------
    def get(self, server: str, spec: QuerySpec) -> QueryResult | None:
        if not cacheable(spec):
            return None
        path = self._path(spec_key(server, spec))
        if not path.is_file() or path.is_symlink():
            if path.is_symlink() or path.exists():  # e.g. a folder: never a 0-row result
                self._remove(path)
            return None
        t0 = time.perf_counter()
        try:
            table = pq.read_table(path)
            meta = read_meta(table.schema.metadata, server, spec)
            frame = table.replace_schema_metadata(None).to_pandas()
        except Exception:  # noqa: BLE001 - any unreadable file is a miss, never an error
            self._remove(path)  # corrupt, half-written or another key's: ask the server again
            return None
        try:
            os.utime(path)  # LRU: a hit makes the file recent
        except OSError:
            pass
        notes = meta["notes"] + ["from the local result cache"]
        return QueryResult(spec, frame, time.perf_counter() - t0,
                           truncated=meta["truncated"], total_rows=meta["total_rows"],
                           source="cache", notes=notes)

    # ---- write ---------------------------------------------------------------------
    def put(self, server: str, result: QueryResult) -> bool:
        """Store a materialized result; False when it is not cacheable or cannot be written."""
        spec = result.spec
        if not cacheable(spec):
            return False
        frame = result.frame.copy(deep=False)
        frame.attrs = {}  # caveclient's attrs hold query metadata that Parquet need not carry
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError):
            return False  # e.g. mixed-type object columns: just not cached
        meta = {"truncated": result.truncated, "total_rows": result.total_rows,
                "notes": [n for n in result.notes if n != "from the local result cache"],
                "server": server.rstrip("/"), "table": spec.table, "version": spec.version,
                "datastack": spec.datastack, "stored": time.time()}
        if not self._write(table, meta, self._path(spec_key(server, spec))):
            return False
        self.evict()
        return True

    def _write(self, table, meta: dict, path: Path) -> bool:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               _META_KEY: json.dumps(meta).encode()})
        tmp = path.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, tmp)
            os.replace(tmp, path)  # readers never see a half-written file
        except (pa.ArrowException, OSError):
            self._remove(tmp)
            return False
        return True

    # ---- size ------------------------------------------------------------------------
    @staticmethod
    def _remove(path: Path) -> None:
        try:
            if path.is_dir() and not path.is_symlink():
                import shutil  # a folder at a cache file's name: it is ours (hash name)
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
        except OSError:
            pass
