"""What a Parquet file's footer says about a filter before any row is read: an upper
bound on the rows an ``=``/``in`` filter on an integer column can match (the rows of the
row groups whose min/max range holds one of the values). On a table sorted by that column
(``import-table``) the bound is close to the answer, so a query can tell "fits in memory"
without counting (a count is a second pass over the same row groups), and a query can
read just those groups (``read_matching_groups``).

The footer and a column's statistics are read once per file (path, size, modification
time); the sorted scans of services.local.sorted_scan read them from here too.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from models.filters import Filter, Op


def _key(path: Path):
    """The cache key of a file as it is now (path, size, modification time), or None."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return str(path), st.st_size, st.st_mtime


@lru_cache(maxsize=64)
def _metadata(path: str, size: int, mtime: float):
    import pyarrow.parquet as pq
    try:
        return pq.ParquetFile(path).metadata
    except Exception:  # noqa: BLE001 - not Parquet, unreadable: the caller goes another way
        return None


#: One footer parse at a time: a query arriving while ``prepare`` reads the same footer
#: waits for it instead of parsing it a second time.
_parsing = threading.Lock()


def metadata(path: Path):
    """The file's parsed footer (pyarrow FileMetaData), read once per file as it is now;
    None when it is not a Parquet file. Readers pass it on (``ParquetFile(metadata=)``)
    instead of parsing the footer again: several MB for a table of 337M rows."""
    key = _key(path)
    if not key:
        return None
    with _parsing:
        return _metadata(*key)


def footer(path: Path) -> tuple[tuple[str, ...], int] | None:
    """(column names, rows) of a Parquet file, or None when it is not one."""
    md = metadata(path)
    if md is None:
        return None
    return tuple(md.schema.column(i).name for i in range(md.num_columns)), int(md.num_rows)


@lru_cache(maxsize=64)
def _stats(path: str, size: int, mtime: float, column: str):
    md = _metadata(path, size, mtime)
    if md is None:
        return None
    names = [md.schema.column(i).name for i in range(md.num_columns)]
    if column not in names:
        return None
    ci = names.index(column)
    n = md.num_row_groups
    lo, hi, rows = (np.empty(n, np.int64) for _ in range(3))
    for g in range(n):
        rg = md.row_group(g)
        st = rg.column(ci).statistics
        if st is None or not st.has_min_max or not isinstance(st.min, int):
            return None
        lo[g], hi[g], rows[g] = st.min, st.max, rg.num_rows
    return lo, hi, rows


def column_stats(path: Path, column: str):
    """(min, max, rows) arrays per row group of an integer ``column``, or None (no such
    column, or no usable statistics)."""
    key = _key(path)
    if not key:
        return None
    with _parsing:
        return _stats(*key, column)


#: Files at least this big have their footer read ahead by ``prepare``; a smaller footer
#: takes milliseconds.
PREPARE_BYTES = 64 << 20


def prepare(path: Path, columns) -> bool:
    """Read the footer of a big Parquet file and the statistics of ``columns`` (the id
    columns queries filter on) into the cache, so the first query does not wait for them
    (0.46 s and 0.06 s a column at 337M rows, 20,569 row groups). True if it was read."""
    try:
        if Path(path).stat().st_size < PREPARE_BYTES:
            return False
    except OSError:
        return False
    if metadata(path) is None:
        return False
    for c in columns:
        column_stats(path, c)
    return True


def groups_holding(lo: np.ndarray, hi: np.ndarray, values) -> np.ndarray:
    """Which row groups' [min, max] ranges hold at least one of ``values``."""
    ids = np.sort(np.asarray(values, dtype=np.int64))
    if len(ids) == 0:
        return np.zeros(len(lo), bool)
    k = np.searchsorted(ids, lo)
    return (k < len(ids)) & (ids[np.minimum(k, len(ids) - 1)] <= hi)


def matching_groups(path: Path, filters) -> tuple[np.ndarray, np.ndarray] | None:
    """(keep, rows): which row groups of the Parquet file at ``path`` can hold rows matching
    ``filters`` (all ANDed; a bool mask) and the rows of every group, judged from the
    statistics of their ``=``/``in`` filters on integer columns; None when no such filter
    has statistics to judge by."""
    keep = rows = None
    for f in filters:
        if not isinstance(f, Filter) or f.op not in (Op.EQ, Op.IN):
            continue
        values = f.value if f.op is Op.IN else (f.value,)
        if not values or not all(type(v) is int for v in values):
            continue
        stats = column_stats(path, f.column)
        if stats is None:
            continue
        lo, hi, rows = stats
        hit = groups_holding(lo, hi, values)
        keep = hit if keep is None else keep & hit
    return None if keep is None else (keep, rows)


def rows_bound(path: Path, filters) -> int | None:
    """At most this many rows of the Parquet file at ``path`` match ``filters`` (the rows
    of the groups ``matching_groups`` keeps); None when it cannot judge."""
    found = matching_groups(path, filters)
    return None if found is None else int(found[1][found[0]].sum())


def read_matching_groups(path: Path, filters, max_rows: int):
    """The row groups that can hold rows matching ``filters`` as one Arrow table, every
    column in the file's order, read with the cached footer (pyarrow, threaded); None
    when the statistics keep more than half of the groups or more than ``max_rows`` rows,
    or the file cannot be read this way. A superset of the matching rows: the caller still
    applies the filters.

    A file of a few hundred million rows has a footer of several MB, which DuckDB parses
    on every query; here it is read once and only the groups holding a cell's rows are.
    """
    found = matching_groups(path, filters)
    if found is None:
        return None
    keep, rows = found
    if 2 * int(keep.sum()) > len(keep) or int(rows[keep].sum()) > max_rows:
        return None
    return _read_groups(path, np.flatnonzero(keep).tolist())


def _read_groups(path: Path, groups: list):
    import pyarrow as pa
    import pyarrow.parquet as pq
    md = metadata(path)
    if md is None:
        return None
    try:
        pf = pq.ParquetFile(str(path), metadata=md)
        return pf.read_row_groups(groups, use_threads=True) if groups else (
            pf.schema_arrow.empty_table())
    except (pa.ArrowException, OSError):
        return None  # the caller's DuckDB path says what is wrong with the file
