"""The Qt table model over a query result's DataFrame.

A thin Qt face on services.results.result_rows.ResultRows: Qt asks for the cells it draws and
only those are formatted; sorting and the quick filter swap a row-index array, so a
2-million-row synapse table is ready as soon as it arrives.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont

from services.results.export import frame_as_text
from services.results.result_rows import INT, LIST, NUMERIC, ResultRows, is_missing

if TYPE_CHECKING:  # the window opens on an empty model, without pandas; frames bring it
    import pandas as pd

ROOT_ID_NAMES = {"segment_id", "root_id", "pt_root_id", "pre_pt_root_id", "post_pt_root_id",
                 "segment_id_secondary"}
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


HEADER_TIP = ("Click: select this column and sort by it (again: descending, a third time: "
              "the query's order); the selection is kept. Ctrl+click or Shift+click: select "
              "columns without sorting.")


def is_root_id_column(name: str) -> bool:
    name = name.lower()
    return name in ROOT_ID_NAMES or name.endswith("root_id")


class ResultTableModel(QAbstractTableModel):
    """Rows of one DataFrame; the view row -> source row map lives in ``rows``."""

    filterApplied = Signal(str)  # the filter text now in effect
    sorted = Signal(int, bool)  # column, descending

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows = ResultRows()
        self._mono = QFont("monospace")
        self._mono.setStyleHint(QFont.StyleHint.TypeWriter)
        self._muted = QColor("#7f8c8d")

    # ---- data in ---------------------------------------------------------------------
    def set_frame(self, frame) -> None:
        """Show a new frame, or an on-disk result (services.results.disk_result), whose
        rows are then fetched page by page; sort and filter start afresh."""
        old = self.rows
        self.beginResetModel()
        if getattr(frame, "on_disk", False):
            from services.results.disk_rows import DiskRows
            self.rows = DiskRows(frame)
        else:
            self.rows = ResultRows(frame)
        self.endResetModel()
        if getattr(old, "on_disk", False) and old.result is not frame:
            old.close()  # its temporary database goes with it

    @property
    def on_disk(self) -> bool:
        return getattr(self.rows, "on_disk", False)

    def frame(self) -> pd.DataFrame | None:
        """The whole DataFrame, or None for an on-disk result (use frame_rows)."""
        return self.rows.frame

    # ---- QAbstractTableModel -----------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.rows.n_rows

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows.names)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.rows.text(row, col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if self.rows.kinds[col] in NUMERIC else _LEFT
        if role == Qt.ItemDataRole.FontRole and self.rows.kinds[col] in (INT, LIST):
            return self._mono  # digits line up, so ids are easy to compare by eye
        if role == Qt.ItemDataRole.UserRole:
            return self.rows.value(row, col)
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if section >= len(self.rows.names):
                return None
            if role == Qt.ItemDataRole.DisplayRole:
                return self.rows.names[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return (f"{self.rows.names[section]} ({self.rows.type_name(section)})\n"
                        + HEADER_TIP)
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._muted
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        descending = order == Qt.SortOrder.DescendingOrder
        self.layoutAboutToBeChanged.emit()
        self.rows.sort(column, descending)
        self.layoutChanged.emit()
        self.sorted.emit(column, descending)

    # ---- quick filter ------------------------------------------------------------------
    def set_filter_text(self, text: str, mask: np.ndarray | None = None) -> None:
        """Keep rows whose text contains ``text``; ``mask`` if it was computed in a worker."""
        self.beginResetModel()  # the row count changes: views must drop their row indexes
        self.rows.set_filter(text, mask)
        self.endResetModel()
        self.filterApplied.emit(text)

    def filter_text(self) -> str:
        return self.rows.filter_text

    # ---- data out ------------------------------------------------------------------------
    def column_name(self, column: int) -> str:
        return self.rows.names[column]

    def source_rows(self, view_rows) -> np.ndarray:
        return self.rows.source_rows(view_rows)

    def frame_rows(self, view_rows) -> pd.DataFrame:
        """The DataFrame rows behind these view rows (view order, all columns)."""
        return self.rows.frame_rows(np.unique(np.asarray(view_rows, dtype=np.int64)))

    def view_frame(self) -> pd.DataFrame:
        """Every row that passes the filter, in the current sort order."""
        return self.rows.view_frame()

    def cells_tsv(self, view_rows, columns, header: bool = True) -> str:
        """These rows x columns as TSV, with a header line unless ``header`` is False.

        Values are exact (root ids, full-precision floats) and positions read
        '[x, y, z]', so pasting into a spreadsheet or pandas loses nothing.
        """
        if len(view_rows) == 0 or len(columns) == 0:
            return ""
        part = self.rows.frame_rows(np.unique(np.asarray(view_rows))).iloc[:, list(columns)]
        if len(columns) == 1 and not header:  # bare values, one a line (no "" for empty)
            text = frame_as_text(part).iloc[:, 0]
            return "".join(("" if is_missing(v) else str(v)) + "\n" for v in text.tolist())
        return frame_as_text(part).to_csv(sep="\t", index=False, header=header,
                                          lineterminator="\n")
