"""The result panel's Export button: its menu (export selected or all rows, copy the query
as Python, write provenance), the file dialog, and what the panel says while and after an
export. The writing itself, ResultPanel.export_rows in ui/tables/result_panel.py, runs the
services.results.export writers in a worker.

A mixin of ResultPanel; _build_export_menu is called once from its constructor."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QPushButton, QToolButton

from models.errors import CancelledError, CavernError
from ui.common.table_file_dialog import ask_table_path



class ResultExportMenu:
    """Mixin of ResultPanel (it uses the panel's result, model, export_runner, set_message
    and export signals)."""

    def _build_export_menu(self) -> None:
        """The Export button and its menu, the export actions and the Cancel export button."""
        self.export_button = QToolButton(text="Export", toolTip="Write rows to CSV or Parquet, or "
                                                                "copy their query as Python")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        # in the Export menu: a button would widen the panel past a small screen
        self.code_action = QAction("Copy as &Python", self)
        self.code_action.setToolTip("Copy the caveclient (+ pandas, for a join) code that "
                                    "gives the rows shown")
        self.cancel_export_button = QPushButton(
            "Cancel export", toolTip="Stop writing; the file you had is left as it was")
        self.cancel_export_button.setVisible(False)
        self.export_selected_action = QAction("Export &selected rows…", self)
        self.export_all_action = QAction("Export &all rows…", self)
        self.export_selected_action.setToolTip("Write the selected rows (all columns) to a file")
        self.export_all_action.setToolTip("Write every row that passes the filter to a file")
        self.provenance_action = QAction("Write where the rows came from", self, checkable=True,
                                         checked=True)
        self.provenance_action.setToolTip(
            "Datastack, version or live time, server, table, filters, units and row count: in "
            "a Parquet file's metadata, or in <file>.provenance.json beside a CSV/TSV file")
        menu = QMenu(self)
        menu.addAction(self.export_selected_action)
        menu.addAction(self.export_all_action)
        menu.addSeparator()
        menu.addAction(self.code_action)
        menu.addSeparator()
        menu.addAction(self.provenance_action)
        self.export_button.setMenu(menu)

    def export_actions(self) -> list[QAction]:
        return [self.export_selected_action, self.export_all_action]

    def _default_name(self) -> str:
        if self.result is None:
            return "cavern_export.csv"
        spec = self.result.spec
        version = f"_v{spec.version}" if spec.version is not None else ""
        return f"{spec.table or 'result'}{version}.csv"

    def _ask_export(self, selected_only: bool) -> None:
        title = "Export selected rows" if selected_only else "Export all rows"
        start = os.path.join(self._export_dir, self._default_name())
        path = ask_table_path(self, title, start)
        if not path:
            return
        self._export_dir = str(Path(path).parent)
        self.export_rows(path, selected_only=selected_only)

    def _export_progress(self, done: int, total: int) -> None:
        if self.export_runner.busy and done < total:
            self.set_message(f"Exporting… {done:,} of {total:,} rows written")

    def _export_done(self, path, n: int) -> None:
        self.set_message(f"Exported {n:,} rows to {path}")
        self.exportFinished.emit(path)

    def _export_failed(self, err: CavernError) -> None:
        if isinstance(err, CancelledError):
            self.set_message("Export cancelled; no file was written or changed.")
        else:
            self.set_message(f"Export failed: {err}", error=True)
        self.exportFailed.emit(str(err))

    def _export_busy(self, busy: bool) -> None:
        self.cancel_export_button.setVisible(busy)
        self.export_button.setEnabled(not busy and self.model.rowCount() > 0)
