"""A result's rows as the table shows them: cell text, a sort order and a quick filter.

Qt-free so it can be tested and benchmarked headless; ui/result_table_model.py wraps it.
Each column's numpy array is taken once; nothing is formatted until a cell is asked
for, and sorting/filtering only compute row indices (the data are never copied).

pandas is imported where a frame is read, not with the module: the window's empty result
table (a ResultRows of no frame) opens without it (tests/ui/test_startup_imports.py).
"""
from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from services.results import quick_filter
from services.results.export import is_list_like, list_text
from services.results.positions import is_position_series, series_xyz

if TYPE_CHECKING:
    import pandas as pd

INT, FLOAT, BOOL, TEXT, LIST, TIME, OTHER = "int", "float", "bool", "text", "list", "time", "other"
NUMERIC = (INT, FLOAT)


def column_kind(values: np.ndarray) -> str:
    k = values.dtype.kind
    if k in "iu":
        return INT
    if k == "f":
        return FLOAT
    if k == "b":
        return BOOL
    if k == "M":
        return TIME
    if k in "US":
        return TEXT
    if k == "O":
        import pandas as pd
        first = next((v for v in values[:1000] if v is not None and v is not pd.NA
                      and not (isinstance(v, float) and v != v)), None)
        if first is None or isinstance(first, str):
            return TEXT
        if is_list_like(first):
            return LIST
        return OTHER
    return OTHER


def is_missing(v) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v)  # NaN / NaT
    except (TypeError, ValueError):  # pd.NA (NA != NA is NA, which has no truth value)
        import pandas as pd
        return v is pd.NA


def format_float(v: float) -> str:
    """Whole numbers without '.0'; else 6 significant digits, no exponent below 1e15."""
    if v != v:
        return ""
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    a = abs(v)
    if 1e-4 <= a < 1e15:
        text = f"{v:.6g}" if a < 1e6 else f"{v:.1f}"
        return text
    return f"{v:.4e}"


def format_value(v) -> str:
    if is_list_like(v):
        return list_text(v)
    if is_missing(v):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (int, np.integer)):
        return str(int(v))  # exact: never through float
    if isinstance(v, (float, np.floating)):
        return format_float(float(v))
    if isinstance(v, np.datetime64):
        import pandas as pd
        return str(pd.Timestamp(v).strftime("%Y-%m-%d %H:%M:%S"))
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S%z")
    return str(v)


def _column_array(series: pd.Series) -> np.ndarray:
    import pandas as pd
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):  # avoid one Timestamp object per row
        return series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    if isinstance(dtype, pd.CategoricalDtype):
        return series.astype(object).to_numpy()
    return series.to_numpy()


class PositionCells:
    """A compact position column seen as cells: row -> its (3,) array, None if missing.

    Stands in for an object array of per-row arrays without making one."""

    dtype = np.dtype(object)

    def __init__(self, xyz: np.ndarray, valid: np.ndarray):
        self.xyz, self.valid = xyz, valid

    def __len__(self) -> int:
        return len(self.xyz)

    def __getitem__(self, row):
        if np.ndim(row) == 0:
            return self.xyz[row] if self.valid[row] else None
        out = np.empty(len(np.asarray(row)), dtype=object)
        out[:] = [self[int(r)] for r in np.asarray(row)]
        return out


class ResultRows:
    """Columns of one DataFrame plus a row order and a filter; view row -> source row."""

    def __init__(self, frame: pd.DataFrame | None = None):
        self._frame = frame  # None: no rows (``frame`` is then an empty DataFrame)
        self.names = [] if frame is None else [str(c) for c in frame.columns]
        self._xyz: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.columns, self.kinds = [], []
        for i in range(len(self.names)):
            series = frame.iloc[:, i]
            if is_position_series(series):  # (n, 3) straight from the Arrow buffer
                self._xyz[i] = series_xyz(series)
                self.columns.append(PositionCells(*self._xyz[i]))
                self.kinds.append(LIST)
            else:
                self.columns.append(_column_array(series))
                self.kinds.append(column_kind(self.columns[-1]))
        self.n_source = 0 if frame is None else len(frame)
        self.sort_column = -1
        self.descending = False
        self.filter_text = ""
        self._order: np.ndarray | None = None  # sorted source rows
        self._mask: np.ndarray | None = None  # source rows kept by the filter
        self._rows: np.ndarray | None = None  # view row -> source row; None: identity
        self._arrow: dict[int, pa.Array] = {}
        self._index: dict = {}
        self._lock = threading.Lock()

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:  # no rows: an empty frame, made when first asked for
            import pandas as pd
            self._frame = pd.DataFrame()
        return self._frame

    # ---- shape and cells -----------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return self.n_source if self._rows is None else len(self._rows)

    def source_row(self, view_row: int) -> int:
        return view_row if self._rows is None else int(self._rows[view_row])

    def source_rows(self, view_rows) -> np.ndarray:
        view_rows = np.asarray(view_rows, dtype=np.int64)
        return view_rows if self._rows is None else self._rows[view_rows]

    def value(self, view_row: int, column: int):
        return self.columns[column][self.source_row(view_row)]

    def text(self, view_row: int, column: int) -> str:
        v = self.value(view_row, column)
        kind = self.kinds[column]
        if kind == INT:
            return str(v)  # numpy int64 prints exactly
        if kind == FLOAT:
            return format_float(float(v))
        return format_value(v)

    def type_name(self, column: int) -> str:
        return str(self.frame.dtypes.iloc[column])

    def frame_rows(self, view_rows) -> pd.DataFrame:
        """The source DataFrame's rows behind these view rows, in view order."""
        return self.frame.iloc[self.source_rows(view_rows)].reset_index(drop=True)

    def view_frame(self) -> pd.DataFrame:
        """The whole filtered and sorted frame."""
        if self._rows is None:
            return self.frame.reset_index(drop=True)
        return self.frame.iloc[self._rows].reset_index(drop=True)

    # ---- sorting -------------------------------------------------------------------
    def sort(self, column: int, descending: bool = False) -> None:
        """Stable sort by one column, missing values last; column < 0: source order."""
        if column < 0 or column >= len(self.columns):
            self.sort_column, self._order = -1, None
        else:
            self.sort_column, self.descending = column, descending
            self._order = self._sort_order(column, descending)
        self._combine()

    def _sort_order(self, column: int, descending: bool) -> np.ndarray:
        values, kind = self.columns[column], self.kinds[column]
        if kind == LIST:
            xyz, valid = self.positions(column)
            packed = _packed_key(xyz if valid.all() else xyz[valid])
            if packed is not None:  # one argsort instead of a 3-key lexsort
                return _ordered(None if valid.all() else valid,
                                lambda: np.argsort(packed, kind="stable"),
                                lambda: np.argsort(packed[::-1], kind="stable"), descending)
            keys = [xyz[valid, i] for i in range(xyz.shape[1] - 1, -1, -1)]
            return _ordered(valid, lambda: np.lexsort(keys), lambda: np.lexsort(
                [k[::-1] for k in keys]), descending)
        if kind in (INT, FLOAT, BOOL, TIME):
            valid = (~np.isnan(values) if kind == FLOAT else ~np.isnat(values) if kind == TIME
                     else None)
            keys = values if valid is None else values[valid]
            return _ordered(valid, lambda: np.argsort(keys, kind="stable"),
                            lambda: np.argsort(keys[::-1], kind="stable"), descending)
        arr = self.arrow_column(column)
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        arr = arr.filter(pa.array(valid))
        if pa.types.is_string(arr.type):
            arr = pc.utf8_lower(arr)  # 'apical' next to 'Apical', as a reader expects
        return _ordered(valid, lambda: pc.sort_indices(arr).to_numpy(),
                        lambda: pc.sort_indices(arr[::-1]).to_numpy(), descending)

    # ---- quick filter ----------------------------------------------------------------
    def filter_mask(self, text: str) -> np.ndarray | None:
        """Source rows whose cell text contains ``text`` (any column, any case).

        Safe in a worker thread: it reads the columns and fills caches under a lock.
        """
        return quick_filter.filter_mask(self, text)

    def text_index(self, key) -> quick_filter.TextIndex:
        """Codes + distinct texts of a column, or of one axis ``(column, d)`` of a list."""
        with self._lock:
            if key not in self._index:
                if isinstance(key, tuple):
                    xyz, valid = self._positions(key[0])
                    values = xyz[:, key[1]]
                    kind = FLOAT if values.dtype.kind == "f" else INT
                    index = quick_filter.build_index(values, kind, format_value)
                    if not valid.all():
                        index.codes[~valid] = -1
                else:
                    kind = self.kinds[key]
                    formatter = format_float if kind == FLOAT else format_value
                    index = quick_filter.build_index(self.columns[key], kind, formatter)
                self._index[key] = index
            return self._index[key]

    def prewarm(self, cancel=None) -> None:
        """Build every column's text index and position array ahead of the first filter.

        Run in a background thread right after a result arrives, so the first quick
        filter and the first position sort do not pay for it; the lock makes a GUI call
        that needs the same index wait for it rather than build it twice.
        """
        for i, kind in enumerate(self.kinds):
            if cancel is not None and cancel.cancelled:
                return
            if kind == LIST:
                xyz, _valid = self.positions(i)
                for d in range(xyz.shape[1]):
                    self.text_index((i, d))
            elif kind in (INT, FLOAT, TEXT, BOOL, TIME):
                self.text_index(i)

    def set_filter(self, text: str, mask: np.ndarray | None = None) -> None:
        """Apply a filter; ``mask`` is ``filter_mask(text)`` if it was computed elsewhere."""
        self.filter_text = text
        self._mask = self.filter_mask(text) if mask is None and text.strip() else mask
        self._combine()

    def _combine(self) -> None:
        order, mask = self._order, self._mask
        if mask is None:
            self._rows = order
        elif order is None:
            self._rows = np.flatnonzero(mask)
        else:
            self._rows = order[mask[order]]

    # ---- derived columns, built on first use -------------------------------------------
    def positions(self, column: int) -> tuple[np.ndarray, np.ndarray]:
        """A list column as an (n, k) array plus a validity mask (cached)."""
        with self._lock:
            return self._positions(column)

    def _positions(self, column: int) -> tuple[np.ndarray, np.ndarray]:
        if column not in self._xyz:
            self._xyz[column] = _stack_lists(self.columns[column])
        return self._xyz[column]

    def arrow_column(self, column: int) -> pa.Array:
        with self._lock:
            if column not in self._arrow:
                values = self.columns[column]
                try:
                    arr = pa.array(values, from_pandas=True)
                    if self.kinds[column] == OTHER:
                        arr = pc.cast(arr, pa.string())
                except (pa.ArrowException, TypeError, ValueError):
                    arr = pa.array([None if is_missing(v) else format_value(v) for v in values],
                                   type=pa.string())
                self._arrow[column] = arr
            return self._arrow[column]


def _ordered(valid, ascending, on_reversed, descending: bool) -> np.ndarray:
    """Stable order of the valid rows (ascending or descending), then the missing ones."""
    if descending:
        rev = on_reversed()  # stable ascending order of the reversed keys
        local = (len(rev) - 1 - rev)[::-1]  # = stable descending order
    else:
        local = ascending()
    if valid is None:
        return local.astype(np.int64, copy=False)
    idx = np.flatnonzero(valid)
    return np.concatenate([idx[local], np.flatnonzero(~valid)])


def _packed_key(xyz: np.ndarray) -> np.ndarray | None:
    """x, y, z packed into one int64 that sorts like (x, y, z), when the bits fit."""
    if xyz.dtype.kind not in "iu" or xyz.size == 0 or xyz.min() < 0:
        return None
    bits = [int(xyz[:, d].max()).bit_length() for d in range(xyz.shape[1])]
    if sum(bits) > 63:
        return None
    key = np.zeros(len(xyz), dtype=np.int64)
    for d in range(xyz.shape[1]):
        key <<= bits[d]
        key |= xyz[:, d].astype(np.int64, copy=False)
    return key


def _stack_lists(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, k) numbers plus validity from a column of per-row lists/arrays."""
    n = len(values)
    try:  # one vectorized pass through Arrow: offsets tell every row's length
        arr = pa.array(values, from_pandas=True)
        if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
            valid = arr.is_valid().to_numpy(zero_copy_only=False)
            lengths = np.diff(arr.offsets.to_numpy())
            width = int(lengths[valid].max()) if valid.any() else 1
            flat = arr.flatten().to_numpy(zero_copy_only=False)
            if flat.dtype.kind in "iuf" and np.all(lengths[valid] == width):
                if valid.all():
                    return flat.reshape(n, width), valid
                xyz = np.full((n, width), np.nan)
                xyz[valid] = flat.reshape(-1, width)
                return xyz, valid
    except (pa.ArrowException, TypeError, ValueError):  # mixed or non-numeric lists
        pass
    lengths = [len(v) if is_list_like(v) else 0 for v in values]
    width = max(lengths, default=0) or 1
    xyz = np.full((n, width), np.nan)
    valid = np.zeros(n, dtype=bool)
    for i, v in enumerate(values):
        if lengths[i] == width:
            try:
                xyz[i] = np.asarray(v, dtype=float)
                valid[i] = True
            except (TypeError, ValueError):
                pass
    return xyz, valid
