"""The right-click menu of the partner and matrix tables: copy ids, copy as TSV (with or
without header), inspect, link, export. The rows are the view's selected rows (or the row
under the mouse when nothing is selected), read from the ResultTableModel's frame."""
from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QTableView

from ui.common.result_table_model import is_root_id_column


def selected_view_rows(view: QTableView) -> np.ndarray:
    sm = view.selectionModel()
    rows = sorted({i.row() for i in sm.selectedIndexes()}) if sm is not None else []
    return np.asarray(rows, dtype=np.int64)


def rows_frame(view: QTableView, rows=None):
    """The model's frame rows behind these view rows (the selection by default)."""
    model = view.model()
    rows = selected_view_rows(view) if rows is None else np.asarray(rows, dtype=np.int64)
    if model is None or model.frame() is None or len(rows) == 0:
        return None
    src = model.source_rows(rows)
    return model.frame().iloc[np.asarray(src, dtype=np.int64)]


def id_column(frame, preferred: str = "") -> str | None:
    if frame is None:
        return None
    if preferred and preferred in frame.columns:
        return preferred
    return next((c for c in frame.columns if is_root_id_column(str(c))), None)


def frame_tsv(frame, header: bool = True) -> str:
    from services.results.export import frame_as_text
    return frame_as_text(frame).to_csv(sep="\t", index=False, header=header,
                                        lineterminator="\n")


class TableContextMenu:
    """Installs itself on ``view``; each callback gets the chosen root ids (or rows)."""

    def __init__(self, view: QTableView, id_col: str = "",
                 inspect: Callable[[int], None] | None = None,
                 link: Callable[[list], None] | None = None,
                 export: Callable[[], None] | None = None,
                 message: Callable[[str], None] | None = None):
        self.view, self.id_col = view, id_col
        self.inspect, self.link, self.export, self.message = inspect, link, export, message
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self.popup)
        self.last_menu: QMenu | None = None

    def ids(self) -> list[int]:
        frame = rows_frame(self.view)
        col = id_column(frame, self.id_col)
        if col is None:
            return []
        return [int(v) for v in dict.fromkeys(frame[col].to_numpy().tolist())]

    def build(self) -> QMenu:
        """The menu for the current selection (also used by tests, without exec)."""
        menu = QMenu(self.view)
        frame = rows_frame(self.view)
        n = 0 if frame is None else len(frame)
        ids = self.ids()
        def add(text, slot, enabled=True):
            act = QAction(text, menu)
            act.setEnabled(enabled)
            act.triggered.connect(slot)
            menu.addAction(act)
            return act
        add(f"Copy root ids ({len(ids)})", self.copy_ids, bool(ids))
        add("Copy rows as TSV with header", lambda: self.copy_tsv(True), n > 0)
        add("Copy rows as TSV without header", lambda: self.copy_tsv(False), n > 0)
        menu.addSeparator()
        if self.inspect is not None:
            add("Inspect cell", lambda: self.inspect(ids[0]), len(ids) >= 1)
        if self.link is not None:
            add("Neuroglancer link…", lambda: self.link(ids), bool(ids))
        if self.export is not None:
            add("Export…", self.export, True)
        return menu

    def popup(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        sm = self.view.selectionModel()
        if index.isValid() and sm is not None and not sm.isRowSelected(index.row(), index.parent()):
            self.view.selectRow(index.row())
        self.last_menu = self.build()
        self.last_menu.popup(self.view.viewport().mapToGlobal(pos))

    def copy_ids(self) -> None:
        ids = self.ids()
        QGuiApplication.clipboard().setText("\n".join(str(i) for i in ids))
        if self.message:
            self.message(f"Copied {len(ids):,} root ids.")

    def copy_tsv(self, header: bool) -> None:
        frame = rows_frame(self.view)
        if frame is None:
            return
        QGuiApplication.clipboard().setText(frame_tsv(frame, header))
        if self.message:
            self.message(f"Copied {len(frame):,} rows as TSV.")
