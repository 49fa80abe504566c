"""What a Parquet file's footer says about a filter before any row is read: an upper
bound on the rows an ``=``/``in`` filter on an integer column can match (the rows of the
row groups whose min/max range holds one of the values). On a table sorted by that column
(``import-table``) the bound is close to the answer, so a query can tell "fits in memory"
without counting (a count is a second pass over the same row groups).

The statistics are read once per file (path, size, modification time).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from models.filters import Filter, Op


@lru_cache(maxsize=64)
def _stats(path: str, size: int, mtime: float, column: str):
    """(min, max, rows) arrays per row group of ``column``, or None (no usable stats)."""
    import pyarrow.parquet as pq
    try:
        md = pq.ParquetFile(path).metadata
    except Exception:  # noqa: BLE001 - unreadable here: the caller counts instead
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


def rows_bound(path: Path, filters) -> int | None:
    """At most this many rows of the Parquet file at ``path`` match ``filters`` (all ANDed),
    judged from the row-group statistics of their ``=``/``in`` filters on integer columns;
    None when no such filter has statistics to judge by."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    keep = None
    for f in filters:
        if not isinstance(f, Filter) or f.op not in (Op.EQ, Op.IN):
            continue
        values = f.value if f.op is Op.IN else (f.value,)
        if not values or not all(type(v) is int for v in values):
            continue
        stats = _stats(str(p), st.st_size, st.st_mtime, f.column)
        if stats is None:
            continue
        lo, hi, rows = stats
        ids = np.sort(np.asarray(values, dtype=np.int64))
        k = np.searchsorted(ids, lo)
        hit = (k < len(ids)) & (ids[np.minimum(k, len(ids) - 1)] <= hi)
        keep = hit if keep is None else keep & hit
    if keep is None:
        return None
    return int(rows[keep].sum())
