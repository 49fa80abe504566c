"""The table's rows of an on-disk result: ResultRows' interface over a DiskResult.

Only the rows the view shows are in memory: pages of PAGE_ROWS fetched by row number and
kept in a small LRU cache, each page a ResultRows, so cells read exactly as they do for
an in-memory result. Sort and filter build DuckDB tables (run them in a worker through
``prepare_sort`` / ``filter_mask``); applying a prepared one is instant.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import pyarrow as pa

from models.errors import CavernError
from services.results.disk_result import RN, DiskResult, View
from services.results.positions import frame_from_arrow
from services.results.result_rows import (BOOL, FLOAT, INT, LIST, OTHER, TEXT, TIME,
                                          ResultRows)

PAGE_ROWS = 1024
MAX_PAGES = 12


def arrow_kind(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return INT
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return FLOAT
    if pa.types.is_boolean(t):
        return BOOL
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return TIME
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return TEXT
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return LIST
    return OTHER


class DiskRows:
    """Rows of a DiskResult as the table shows them; view row -> page -> cell."""

    on_disk = True
    frame = None  # never a whole DataFrame

    def __init__(self, result: DiskResult, page_rows: int = PAGE_ROWS,
                 max_pages: int = MAX_PAGES):
        self.result = result
        self.names = list(result.names)
        self.kinds = [arrow_kind(f.type) for f in result.schema]
        self.type_names = [str(f.type) for f in result.schema]
        self.n_source = result.n
        self.page_rows, self.max_pages = page_rows, max_pages
        self.sort_column, self.descending, self.filter_text = -1, False, ""
        self._view: View = result.base
        self._pages: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.rows_held = 0
        self.peak_rows_held = 0
        self.pages_fetched = 0

    # ---- shape and cells -----------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return self._view.n

    def _page(self, view_row: int) -> tuple[ResultRows, np.ndarray, int]:
        number = view_row // self.page_rows
        key = (self._view.rel, number)
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
                return page[0], page[1], view_row - number * self.page_rows
        start = number * self.page_rows
        table = self.result.fetch(self._view, start, min(start + self.page_rows, self._view.n))
        src = table.column(RN).to_numpy()
        rows = ResultRows(frame_from_arrow(table.drop_columns([RN])))
        with self._lock:
            self._pages[key] = (rows, src)
            self.pages_fetched += 1
            self.rows_held += len(src)
            while len(self._pages) > self.max_pages:
                _k, (old, _s) = self._pages.popitem(last=False)
                self.rows_held -= old.n_source
            self.peak_rows_held = max(self.peak_rows_held, self.rows_held)
        return rows, src, view_row - start

    def value(self, view_row: int, column: int):
        page, _src, i = self._page(view_row)
        return page.value(i, column)

    def text(self, view_row: int, column: int) -> str:
        page, _src, i = self._page(view_row)
        return page.text(i, column)

    def source_row(self, view_row: int) -> int:
        _page, src, i = self._page(view_row)
        return int(src[i])

    def source_rows(self, view_rows) -> np.ndarray:
        view_rows = np.asarray(view_rows, dtype=np.int64)
        if self._view is self.result.base:
            return view_rows
        return np.array([self.source_row(int(r)) for r in view_rows], dtype=np.int64)

    def type_name(self, column: int) -> str:
        return self.type_names[column]

    def frame_rows(self, view_rows):
        """These view rows (all columns) as a DataFrame, in the order given."""
        view_rows = np.asarray(view_rows, dtype=np.int64)
        uniq = np.unique(view_rows)
        table = self.result.fetch_rows(self._view, uniq)
        frame = frame_from_arrow(table.drop_columns([RN]))
        if len(uniq) != len(view_rows) or np.any(uniq != view_rows):
            frame = frame.iloc[np.searchsorted(uniq, view_rows)]
        return frame.reset_index(drop=True)

    def view_frame(self):
        raise CavernError(f"The {self.n_rows:,} rows stay on disk: export them to a file "
                          "instead of loading them.")

    # ---- sort and filter ---------------------------------------------------------------
    def _key(self, column: int, descending: bool):
        return None if column < 0 or column >= len(self.names) else (column, bool(descending))

    def prepare_sort(self, column: int, descending: bool = False, cancel=None) -> View:
        """Build the sorted (and still filtered) view in DuckDB; call in a worker."""
        return self.result.view(self._key(column, descending), self.filter_text, self.kinds,
                                cancel)

    def sort(self, column: int, descending: bool = False) -> None:
        key = self._key(column, descending)
        self._set_view(self.prepare_sort(column, descending))
        self.sort_column, self.descending = (-1, False) if key is None else key

    def filter_mask(self, text: str, cancel=None) -> View:
        """The filtered view of ``text`` in the current order (the on-disk 'mask')."""
        key = self._key(self.sort_column, self.descending)
        return self.result.view(key, text, self.kinds, cancel)

    def set_filter(self, text: str, mask: View | None = None) -> None:
        self.filter_text = text
        self._set_view(mask if mask is not None else self.filter_mask(text))

    def prewarm(self, cancel=None) -> None:
        """Nothing to build ahead: DuckDB scans the files when asked."""

    def _set_view(self, view: View) -> None:
        if view is self._view:
            return
        with self._lock:
            self._view = view
            self._pages.clear()
            self.rows_held = 0

    @property
    def view(self) -> View:
        return self._view

    def close(self) -> None:
        with self._lock:
            self._pages.clear()
            self.rows_held = 0
        self.result.close()
