"""The Results table's right-click menu (ui/tables/result_panel.py builds one per panel).

Built on ui.common.table_context_menu: copy ids, TSV with or without header, inspect, link
and export, read from the panel's own selection."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QMetaMethod, QPoint
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from ui.common.table_context_menu import TableContextMenu

if TYPE_CHECKING:
    from ui.tables.result_panel import ResultPanel


class ResultContextMenu(TableContextMenu):
    """The Results table's right-click menu: the shared table menu's entries, read from
    the panel's own selection (whole columns, on-disk results, without per-cell indexes),
    plus actions others added to the view (e.g. the window's Neuroglancer link)."""

    def __init__(self, panel: "ResultPanel"):
        self.panel = panel
        super().__init__(panel.view, inspect=panel.rootIdActivated.emit,
                         export=lambda: panel._ask_export(False), message=panel.set_message)
        # whatever policy others set on the view, the viewport's ContextMenu event is ours
        panel.view.viewport().installEventFilter(panel)

    def ids(self) -> list[int]:
        return self.panel.selected_ids()

    def build(self) -> QMenu:
        p = self.panel
        menu = QMenu(self.view)
        menu.setToolTipsVisible(True)
        rows = p.selected_view_rows()
        ids = p.selected_ids()
        n_cols = len(p.selected_columns())

        def add(text, slot, enabled=True, tip=""):
            act = QAction(text, menu)
            act.setEnabled(enabled)
            act.setToolTip(tip)
            act.triggered.connect(slot)
            menu.addAction(act)
            return act
        add(f"Copy root ids ({len(ids):,})", p.copy_ids, bool(ids),
            "One id a line, no header: ready for an 'in' filter or the matrix's pasted ids")
        add("Copy as TSV with header", lambda: p.copy_selection(header=True), len(rows) > 0,
            f"The selected cells ({len(rows):,} rows × {n_cols} columns) with column names")
        add("Copy as TSV without header", lambda: p.copy_selection(header=False),
            len(rows) > 0, "The selected cells, values only")
        menu.addSeparator()
        add("Inspect cell", lambda: p.rootIdActivated.emit(ids[0]), bool(ids),
            "Open the first selected root id in the cell inspector")
        if p.isSignalConnected(QMetaMethod.fromSignal(p.linkRequested)):
            add("Neuroglancer link…", lambda: p.linkRequested.emit(ids), bool(ids),
                "A Neuroglancer link showing the selected root ids")
        own = {p.copy_action, p.export_selected_action, p.export_all_action}
        for act in self.view.actions():  # e.g. the window's link action
            if act not in own:
                menu.addAction(act)
        menu.addSeparator()
        menu.addAction(p.export_selected_action)
        menu.addAction(p.export_all_action)
        return menu

    def popup(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        sm = self.view.selectionModel()
        if index.isValid() and not sm.isSelected(index):
            self.view.selectRow(index.row())  # right-click outside the selection: that row
        self.last_menu = self.build()
        self.last_menu.popup(self.view.viewport().mapToGlobal(pos))

    def copy_ids(self) -> None:
        self.panel.copy_ids()

    def copy_tsv(self, header: bool) -> None:
        self.panel.copy_selection(header=header)
