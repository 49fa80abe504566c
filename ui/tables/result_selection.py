"""The result panel's selection: which rows, columns and root ids are selected, Ctrl+A,
copy (TSV or bare ids), double-click to inspect, and keeping the selection through a sort.

A mixin of ResultPanel (ui/tables/result_panel.py). The selection is read from its ranges,
never from per-cell index objects, so a selected column of two million rows costs nothing."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel
from PySide6.QtWidgets import QApplication

from services.results.result_rows import is_missing
from ui.common.result_table_model import is_root_id_column

if TYPE_CHECKING:  # the window opens without pandas; the rows' frames bring it
    import pandas as pd

MAX_COPY_ROWS = 100_000  # more than this belongs in a file, not the clipboard
KEEP_SELECTION_ROWS = 200_000  # above this many selected cells' rows, a sort drops them


class ResultSelection:
    """Mixin of ResultPanel (it uses the panel's view, model, set_message and rootIdActivated)."""

    # ---- selection, copy, double-click -------------------------------------------------
    def selected_view_rows(self) -> np.ndarray:
        """Rows touched by the selection, from its ranges (no per-cell index objects)."""
        parts = [np.arange(r.top(), r.bottom() + 1) for r in self.view.selectionModel().selection()]
        return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)

    def selected_columns(self) -> list[int]:
        cols = set()
        for r in self.view.selectionModel().selection():
            cols.update(range(r.left(), r.right() + 1))
        return sorted(cols)

    def selectionFrame(self) -> pd.DataFrame:
        """The selected rows (all columns) as a DataFrame, in view order."""
        return self.model.frame_rows(self.selected_view_rows())

    def select_rows(self, view_rows) -> None:
        sm = self.view.selectionModel()
        flags = (QItemSelectionModel.SelectionFlag.Select
                 | QItemSelectionModel.SelectionFlag.Rows)
        sm.clearSelection()
        for r in view_rows:
            sm.select(self.model.index(int(r), 0), flags)

    def select_all(self) -> None:
        """Ctrl+A: every row of the selected columns when whole columns are selected (so a
        copy then takes those columns), otherwise every cell."""
        n, sm = self.model.rowCount(), self.view.selectionModel()
        cols = [c for c in self.selected_columns() if n and sm.isColumnSelected(c)]
        if not cols:
            self.view.selectAll()
            return
        sel = QItemSelection()
        for c in cols:
            sel.select(self.model.index(0, c), self.model.index(n - 1, c))
        sm.select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def selected_ids(self) -> list[int]:
        """Distinct root ids of the selected rows, in view order: from a selected root-id
        column, else from the table's first root-id column."""
        rows = self.selected_view_rows()
        names = self.model.rows.names
        if len(rows) == 0 or len(rows) > MAX_COPY_ROWS:
            return []
        cols = [c for c in self.selected_columns() if is_root_id_column(names[c])]
        cols = cols or [c for c in range(len(names)) if is_root_id_column(names[c])]
        if not cols:
            return []
        values = self.model.frame_rows(rows).iloc[:, cols[0]].tolist()
        out = []
        for v in values:
            if is_missing(v):
                continue
            try:
                v = int(v)
            except (TypeError, ValueError):
                continue
            if v > 0:
                out.append(v)
        return list(dict.fromkeys(out))

    def copy_ids(self) -> None:
        ids = self.selected_ids()
        if not ids:
            self.set_message("Select rows with root ids to copy first.")
            return
        QApplication.clipboard().setText("\n".join(str(i) for i in ids))
        self.set_message(f"Copied {len(ids):,} root ids.")

    def copy_selection(self, header: bool | None = None) -> None:
        """Copy the selected cells as TSV; ``header`` None: a header line unless a
        single column is selected (ids paste straight into filters and the matrix)."""
        rows = self.selected_view_rows()
        if len(rows) == 0:
            self.set_message("Select cells to copy first.")
            return
        if len(rows) > MAX_COPY_ROWS:
            self.set_message(f"{len(rows):,} rows are too many for the clipboard: "
                             "use Export selected rows instead.", error=True)
            return
        cols = self.selected_columns()
        if header is None:
            header = len(cols) > 1
        QApplication.clipboard().setText(self.model.cells_tsv(rows, cols, header=header))
        self.set_message(f"Copied {len(rows):,} rows × {len(cols)} columns"
                         + ("." if header else ", without header."))

    def _double_clicked(self, index) -> None:
        name = self.model.column_name(index.column())
        if not is_root_id_column(name):
            return
        value = self.model.rows.value(index.row(), index.column())
        if is_missing(value):
            return
        try:
            root = int(value)
        except (TypeError, ValueError):
            return
        if root > 0:
            self.rootIdActivated.emit(root)

    # ---- the selection through a sort --------------------------------------------------
    def _save_selection(self):
        """Whole selected columns, and the other selected ranges by source rows."""
        n = self.model.rowCount()
        whole, parts, count = set(), [], 0
        for r in self.view.selectionModel().selection():
            if n and r.top() == 0 and r.bottom() == n - 1:
                whole.update(range(r.left(), r.right() + 1))
                continue
            count += r.bottom() - r.top() + 1
            if self.model.on_disk or count > KEEP_SELECTION_ROWS:
                parts = None
            if parts is not None:
                parts.append((self.model.source_rows(np.arange(r.top(), r.bottom() + 1)),
                              r.left(), r.right()))
        return sorted(whole), parts or []

    def _restore_selection(self, saved) -> None:
        whole, parts = saved
        n = self.model.rowCount()
        if n == 0 or (not whole and not parts):
            return
        m, sel = self.model, QItemSelection()
        for c in whole:
            sel.select(m.index(0, c), m.index(n - 1, c))
        if parts:
            order = self.model.source_rows(np.arange(n))
            where = np.full(int(order.max()) + 1 if len(order) else 0, -1, dtype=np.int64)
            where[order] = np.arange(n)
            for sources, left, right in parts:
                view = where[sources[sources < len(where)]]
                view = np.sort(view[view >= 0])
                if len(view) == 0:
                    continue
                breaks = np.flatnonzero(np.diff(view) != 1) + 1
                for run in np.split(view, breaks):
                    sel.select(m.index(int(run[0]), left), m.index(int(run[-1]), right))
        self.view.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.Select)
