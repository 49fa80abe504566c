"""Position columns as one (n, 3) block of numbers, never one Python object per row.

DuckDB and caveclient hand positions over as a list per row; as a pandas object column
that is a numpy array per row (~250 B/row with the pointer and the array header). Here a
position column is kept as a pandas ``ArrowDtype(fixed_size_list<int64, 3>)`` column: one
contiguous 24 B/row buffer (plus a validity bit), which DataFrame operations (iloc, copy,
concat, Parquet export) carry along, and which gives its (n, 3) numpy array without a copy.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:  # imported where a Series is made or read: not at start-up
    import pandas as pd

    from models.datastack import TableInfo


def is_list_type(t: pa.DataType) -> bool:
    return (pa.types.is_list(t) or pa.types.is_large_list(t)
            or pa.types.is_fixed_size_list(t))


def _numeric_child(t: pa.DataType) -> bool:
    v = t.value_type
    return pa.types.is_integer(v) or pa.types.is_floating(v)


def compact_list_array(arr) -> pa.Array | None:
    """A list array whose non-null rows all hold 3 numbers, as fixed_size_list[3]; else None."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    t = arr.type
    if not is_list_type(t) or not _numeric_child(t):
        return None
    if pa.types.is_fixed_size_list(t):
        return arr if t.list_size == 3 else None
    lengths = pc.list_value_length(arr)
    if len(arr) and lengths.null_count < len(arr):
        mm = pc.min_max(lengths)
        if mm["min"].as_py() != 3 or mm["max"].as_py() != 3:
            return None
    try:
        return pc.cast(arr, pa.list_(t.value_type, 3))
    except pa.ArrowInvalid:
        return None


def position_series(arr, name=None, index=None) -> pd.Series:
    import pandas as pd
    return pd.Series(pd.arrays.ArrowExtensionArray(arr), name=name, index=index, copy=False)


def frame_from_arrow(table: pa.Table) -> pd.DataFrame:
    """A DataFrame of an Arrow table; 3-number list columns stay compact (see module doc).

    Other columns convert as ``Table.to_pandas`` does (numpy int64/float64/object)."""
    compact = {}
    for i, name in enumerate(table.column_names):
        arr = compact_list_array(table.column(i))
        if arr is not None:
            compact[i] = arr
    # Positions are dropped before to_pandas, which would otherwise build the objects first.
    plain = table.select([i for i in range(table.num_columns) if i not in compact])
    frame = plain.to_pandas(split_blocks=True, self_destruct=False)
    for i in sorted(compact):
        frame.insert(i, table.column_names[i], position_series(compact[i], index=frame.index))
    return frame


def is_position_series(series: pd.Series) -> bool:
    import pandas as pd
    dtype = series.dtype
    return (isinstance(dtype, pd.ArrowDtype) and pa.types.is_fixed_size_list(dtype.pyarrow_dtype)
            and _numeric_child(dtype.pyarrow_dtype))


def _arrow_of(series: pd.Series) -> pa.Array:
    arr = pa.array(series.array) if not hasattr(series.array, "_pa_array") else \
        series.array._pa_array
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def series_xyz(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) numbers + validity of a compact position column (no copy when nothing is null)."""
    arr = _arrow_of(series)
    n, width = len(arr), arr.type.list_size
    valid = (np.ones(n, dtype=bool) if arr.null_count == 0
             else arr.is_valid().to_numpy(zero_copy_only=False))
    # .values is the whole child buffer (null rows keep their slot): slice to this array.
    child = arr.values.slice(arr.offset * width, n * width)
    if child.null_count == 0:
        flat = child.to_numpy(zero_copy_only=False)
    else:
        flat = child.to_numpy(zero_copy_only=False)  # floats with NaN for nulls
    xyz = flat.reshape(n, width)
    if not valid.all():
        xyz = xyz.astype(np.float64)
        xyz[~valid] = np.nan
    return xyz, valid


def xyz_series(xyz: np.ndarray, valid: np.ndarray | None = None, name=None,
               index=None) -> pd.Series:
    """A compact position column from an (n, 3) array (one copy, no objects)."""
    xyz = np.ascontiguousarray(xyz)
    n, width = xyz.shape
    child = pa.array(xyz.reshape(-1))
    mask = None if valid is None or valid.all() else pa.array(~np.asarray(valid, bool))
    arr = pa.FixedSizeListArray.from_arrays(child, width, mask=mask)
    return position_series(arr, name=name, index=index)


def compact_positions(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with object columns of 3-number lists/arrays made compact (shallow copy).

    For frames from sources that hand over one list per row (caveclient). Columns that
    are not uniformly 3 numbers are left as they are."""
    out = None
    for name in frame.columns:
        col = frame[name]
        if col.dtype != object or not len(col):
            continue
        first = col.first_valid_index()
        if first is None or not isinstance(col.loc[first], (list, tuple, np.ndarray)):
            continue
        try:
            arr = compact_list_array(pa.array(col.to_numpy(), from_pandas=True))
        except (pa.ArrowException, TypeError, ValueError):
            arr = None
        if arr is None:
            continue
        if out is None:
            out = frame.copy(deep=False)
        out[name] = position_series(arr, name=name, index=frame.index)
    return frame if out is None else out


def positions_text(series: pd.Series) -> np.ndarray:
    """'[x, y, z]' per row of a compact position column (None where missing), vectorised
    for integers; floats go through the same per-value rule as the table's text."""
    from services.results.export import list_text
    xyz, valid = series_xyz(series)
    if xyz.dtype.kind in "iu" or (xyz.size and np.all(~np.isfinite(xyz) | (xyz == np.round(xyz)))
                                  and np.all(np.abs(xyz[valid]) < 2**53)):
        parts = [pc.cast(pa.array(xyz[:, d].astype(np.int64) if valid.all() else
                                  np.where(valid, xyz[:, d], 0).astype(np.int64)), pa.string())
                 for d in range(xyz.shape[1])]
        joined = pc.binary_join_element_wise("[", *sum(([p, ", "] for p in parts), [])[:-1],
                                             "]", "")
        out = joined.to_numpy(zero_copy_only=False).astype(object)
    else:
        out = np.array([list_text(r) for r in xyz], dtype=object)
    if not valid.all():
        out[~valid] = None
    return out


def rescale_positions(frame, info: "TableInfo", desired):
    """Position columns converted from the table's voxels to ``desired`` (nm per unit),
    as CAVE's materialization service does for ``desired_resolution`` (a local table
    asked for another resolution)."""
    scale = np.asarray(info.voxel_resolution, float) / np.asarray(desired, float)
    for col in info.position_columns:
        if col in frame and len(frame):
            c = info.column(col)
            factor = scale if (c is None or c.units in ("", "vx")) else 1.0 / np.asarray(desired, float)
            series = frame[col]
            if not is_position_series(series):
                series = compact_positions(frame[[col]])[col]
            if is_position_series(series):  # one vectorised multiply over (n, 3)
                xyz, valid = series_xyz(series)
                frame[col] = xyz_series(xyz.astype(float) * factor, valid, index=frame.index)
                continue
            values = frame[col].to_numpy()
            ok = np.array([v is not None and len(v) == 3 for v in values])
            out = np.empty(len(values), dtype=object)
            if ok.any():
                xyz = np.vstack(values[ok]).astype(float) * factor
                out[np.flatnonzero(ok)] = list(xyz)
            frame[col] = out
    return frame
