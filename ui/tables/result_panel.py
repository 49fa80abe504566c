"""The result panel: a query's rows, a quick filter, copy and export.

Rows are shown through ResultTableModel (never Qt items), so a two-million-row synapse
table opens at once. Filtering large results and every export run in a worker; the
status line says how many rows are shown and reports errors in words, never a traceback.

Selection and copy, as a researcher expects from a spreadsheet: clicking a column header
selects that column and sorts by it (again: descending; a third time: the query's order),
and the selection is kept through the sort; Ctrl+click (or Shift+click) on headers selects
columns without sorting. Ctrl+A selects every row of the selected columns when whole
columns are selected, otherwise everything. Copy (Ctrl+C) writes TSV with a header line,
except for a single column (ids), which is copied as bare values, one a line, ready for an
``in`` filter or the matrix's pasted ids. The right-click menu (built on
ui.common.table_context_menu) copies ids, TSV with or without header, inspects, links and
exports.

The panel's parts live beside it as mixins and a menu class: result_selection.py (selection,
copy, double-click, the selection through a sort), result_export_menu.py (the Export button,
its menu and dialog) and result_context_menu.py (the right-click menu).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QPushButton, QTableView, QVBoxLayout, QWidget)

from models.errors import CancelledError, CavernError
from models.query_spec import QueryResult
from services.results.export import export_disk_rows, export_format, export_frame
from services.results.positions import compact_positions
from ui.common import status_sink
from ui.common.result_table_model import ResultTableModel
from ui.common.styles import ERROR_STYLE, WARNING_STYLE
from ui.common.workers import RequestRunner
from ui.tables.result_context_menu import ResultContextMenu
from ui.common.table_file_dialog import FILE_FILTERS
from ui.tables.result_export_menu import ResultExportMenu
from ui.tables.result_selection import KEEP_SELECTION_ROWS, MAX_COPY_ROWS, ResultSelection

__all__ = ["ResultPanel", "ResultContextMenu", "FILTER_DELAY_MS", "SYNC_FILTER_ROWS",
           "PREWARM_ROWS", "MAX_COPY_ROWS", "FILE_FILTERS", "IDLE_TEXT", "KEEP_SELECTION_ROWS",
           "VIEW_TIP"]

FILTER_DELAY_MS = 250  # wait for a pause in typing before filtering
SYNC_FILTER_ROWS = 200_000  # below this the filter runs at once on the GUI thread
PREWARM_ROWS = 50_000  # above this, filter indexes are built in the background on arrival
IDLE_TEXT = "Run a query to see its rows here."
VIEW_TIP = ("Click a header to select that column and sort by it (click again: descending, "
            "a third time: the query's order); Ctrl+click or Shift+click headers to select "
            "columns without sorting. Ctrl+C copies the selection as TSV (one column: bare "
            "values, no header); Ctrl+A selects all rows of the selected columns. "
            "Right-click for more. Double-click a root id to inspect the cell.")


class ResultPanel(ResultSelection, ResultExportMenu, QWidget):
    rootIdActivated = Signal("qint64")  # a root id cell was double-clicked (64-bit!)
    exportFinished = Signal(str)  # path written
    exportFailed = Signal(str)  # message for the user
    filterApplied = Signal(str)
    linkRequested = Signal(list)  # root ids for a Neuroglancer link (menu entry if connected)
    cleared = Signal()
    codeRequested = Signal(object)  # the QueryResult shown: "Copy as Python" of it (a join too)
    _exportProgress = Signal(int, int)  # rows written, rows in all; emitted from the worker

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result: QueryResult | None = None
        self.model = ResultTableModel(self)
        self.filter_runner = RequestRunner(self)
        self.export_runner = RequestRunner(self)
        self.warm_runner = RequestRunner(self)  # builds filter indexes in the background
        self.sort_runner = RequestRunner(self)  # sorts of an on-disk result (DuckDB)
        self._export_dir = str(Path.home())

        self.filter_edit = QLineEdit(
            placeholderText="Filter rows: text in any column (e.g. a root id)",
            toolTip="Keep the rows where any column contains this text (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_timer = QTimer(self, singleShot=True, interval=FILTER_DELAY_MS)
        self.copy_button = QPushButton("Copy", toolTip="Copy the selected cells as TSV (Ctrl+C)")
        self._build_export_menu()  # the Export button, its menu and actions, Cancel export
        self.copy_action = QAction("&Copy cells", self)
        self.copy_action.setToolTip("Copy the selected cells as TSV (one column: no header)")
        self._header_modifiers = Qt.KeyboardModifier.NoModifier
        self.server = ""  # the result's server (set_result), for its provenance

        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSortingEnabled(False)
        header = self.view.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # no sort until a click
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        header.setResizeContentsPrecision(200)  # size columns from a sample, not 2M rows
        header.setStretchLastSection(True)
        vheader = self.view.verticalHeader()
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # uniform row heights
        vheader.setDefaultSectionSize(self.view.fontMetrics().height() + 6)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.addActions([self.copy_action, self.export_selected_action, self.export_all_action])
        self.view.setToolTip(VIEW_TIP)
        self.copy_button.setToolTip("Copy the selected cells as TSV (Ctrl+C); a single column "
                                    "is copied without its header, one value a line")
        self.context_menu = ResultContextMenu(self)
        header.viewport().installEventFilter(self)  # the modifiers of a header click
        self.status = QLabel(IDLE_TEXT)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.copy_button)
        top.addWidget(self.export_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.cancel_export_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        lay.addLayout(bottom)

        self.filter_edit.textChanged.connect(lambda _t: self.filter_timer.start())
        self.filter_edit.returnPressed.connect(self.apply_filter)
        self.filter_timer.timeout.connect(self.apply_filter)
        header.sectionClicked.connect(self._header_clicked)
        self.view.doubleClicked.connect(self._double_clicked)
        self.copy_button.clicked.connect(lambda: self.copy_selection())
        self.copy_action.triggered.connect(lambda: self.copy_selection())
        self.export_selected_action.triggered.connect(lambda: self._ask_export(True))
        self.export_all_action.triggered.connect(lambda: self._ask_export(False))
        self.cancel_export_button.clicked.connect(lambda: self.export_runner.cancel())
        self.code_action.triggered.connect(
            lambda: self.result is not None and self.codeRequested.emit(self.result))
        self.export_runner.busyChanged.connect(self._export_busy)
        self.export_runner.failed.connect(self._export_failed)  # reports a cancel
        self._exportProgress.connect(self._export_progress)  # queued: crosses threads
        self.filter_runner.failed.connect(self._filter_failed)
        self.sort_runner.failed.connect(self._sort_failed)
        # Ctrl+C: the view's own copy takes only the current cell, so catch the key first.
        self.view.installEventFilter(self)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.view.selectionModel().selectionChanged.connect(self._update_actions)
        self.model.modelReset.connect(self._update_actions)
        self._update_actions()

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if obj is self.view and kind == QEvent.Type.KeyPress:
            if event.matches(QKeySequence.StandardKey.Copy):
                self.copy_selection()
                return True
            if event.matches(QKeySequence.StandardKey.SelectAll):
                self.select_all()
                return True
        elif obj is self.view.viewport() and kind == QEvent.Type.ContextMenu:
            self.context_menu.popup(event.pos())
            return True
        elif (obj is self.view.horizontalHeader().viewport()
              and kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease)):
            self._header_modifiers = event.modifiers()
        return super().eventFilter(obj, event)

    def clear(self) -> None:
        """Empty the table, its status line and the provenance it shows (the result's
        datastack, version and filters); the quick-filter text is the user's and stays."""
        for runner in (self.filter_runner, self.sort_runner, self.warm_runner):
            runner.cancel(quiet=True)
        self.filter_timer.stop()
        self.view.clearSelection()
        self.result = None
        self.model.set_frame(None)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.set_message(IDLE_TEXT)
        self.status.setToolTip("")
        self._update_actions()
        self.cleared.emit()

    # ---- input ---------------------------------------------------------------------------
    def set_result(self, result: QueryResult, server: str = "") -> None:
        """Show a query's rows; any older rows, sort and filter are dropped. ``server``:
        where the rows came from ("" for local data), written with exports."""
        self.server = server
        self.filter_runner.cancel(quiet=True)
        self.sort_runner.cancel(quiet=True)
        self.result = result
        frame = result.frame
        import pandas as pd  # loaded with the first result (the window opens without it)
        if result.source != "local" and isinstance(frame, pd.DataFrame):
            frame = compact_positions(frame)  # one (n, 3) block, not an array per row
        self.model.set_frame(frame)
        if not self.model.on_disk and self.model.rows.n_source > PREWARM_ROWS:
            self.warm_runner.run(self.model.rows.prewarm)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.resizeColumnsToContents()
        if self.filter_edit.text().strip():
            self.apply_filter()
        else:
            self._show_counts()

    def set_message(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    # ---- sort and filter ----------------------------------------------------------------
    def _header_clicked(self, column: int) -> None:
        mods = self._header_modifiers | QApplication.keyboardModifiers()
        if mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            # selecting columns, not sorting: undo the header's own flip of its indicator
            rows = self.model.rows
            col = rows.sort_column if rows.sort_column is not None else -1
            self.view.horizontalHeader().setSortIndicator(
                col, Qt.SortOrder.DescendingOrder if rows.descending and col >= 0
                else Qt.SortOrder.AscendingOrder)
            return
        header = self.view.horizontalHeader()
        rows = self.model.rows
        if rows.sort_column == column and not rows.descending:
            order = Qt.SortOrder.DescendingOrder
        elif rows.sort_column == column:  # third click: back to the query's own order
            column, order = -1, Qt.SortOrder.AscendingOrder
        else:
            order = Qt.SortOrder.AscendingOrder
        self.sort_by(column, order)
        header.setSortIndicator(column, order)

    def sort_by(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Sort; the selection is kept (whole columns, and selected cells by their rows)."""
        saved = self._save_selection()
        self.view.clearSelection()  # view rows are about to mean other source rows
        if self.model.on_disk:  # DuckDB sorts into a table in a worker; then applied at once
            rows = self.model.rows
            descending = order == Qt.SortOrder.DescendingOrder
            if column >= 0:
                self.set_message(f"Sorting {rows.n_rows:,} rows on disk by "
                                 f"{rows.names[column]}…")

            def done(_view):
                if rows is self.model.rows:
                    self.model.sort(column, order)
                    self._restore_selection(saved)
                    self._show_counts()
            self.sort_runner.run(rows.prepare_sort, column, descending, on_result=done)
            return
        big = self.model.rows.n_source > SYNC_FILTER_ROWS
        if big:  # up to a second or two on millions of rows (first sort by a position)
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.model.sort(column, order)
        except Exception as exc:  # noqa: BLE001 - a column of values that cannot be compared
            self.set_message(f"Cannot sort by this column: {exc}", error=True)
        finally:
            if big:
                QApplication.restoreOverrideCursor()
        self._restore_selection(saved)

    def apply_filter(self) -> None:
        self.filter_timer.stop()
        text = self.filter_edit.text()
        rows = self.model.rows
        if self.model.on_disk:  # a DuckDB scan of the files, in a worker
            self.set_message(f"Filtering {rows.n_source:,} rows on disk for '{text.strip()}'…")
            self.filter_runner.run(rows.filter_mask, text,
                                   on_result=lambda view: self._filter_done(rows, text, view))
            return
        if not text.strip() or rows.n_source <= SYNC_FILTER_ROWS:
            self._filter_done(rows, text, None if not text.strip() else rows.filter_mask(text))
            return
        self.set_message(f"Filtering {rows.n_source:,} rows for '{text.strip()}'…")
        self.filter_runner.run(rows.filter_mask, text, pass_cancel=False,
                               on_result=lambda mask: self._filter_done(rows, text, mask))

    def _filter_done(self, rows, text: str, mask) -> None:
        if rows is not self.model.rows:
            return  # a newer result arrived meanwhile
        self.model.set_filter_text(text, mask)
        self._show_counts()
        self.filterApplied.emit(text)

    def _filter_failed(self, err: CavernError) -> None:
        if not isinstance(err, CancelledError):
            self.set_message(f"Filter failed: {err}", error=True)

    def _sort_failed(self, err: CavernError) -> None:
        if not isinstance(err, CancelledError):
            self.set_message(f"Cannot sort by this column: {err}", error=True)

    def _show_counts(self) -> None:
        if self.result is None:
            return
        rows = self.model.rows
        spec = self.result.spec
        where = spec.table + (f" ({spec.datastack} v{spec.version})" if spec.version is not None
                              else f" ({spec.datastack})" if spec.datastack else "")
        text = f"{self.result.summary()} · {where}"
        needle = rows.filter_text.strip()
        if needle:
            text = f"{rows.n_rows:,} of {rows.n_source:,} rows contain '{needle}' · " + text
        if self.model.on_disk:
            text += (" · on disk: rows are read from DuckDB as you scroll, never all "
                     "loaded")
        notes = [n for n in dict.fromkeys(self.result.notes)
                 if not (self.model.on_disk and "stays on disk" in n)]
        if notes:  # what the source wants the user to know (missing rows, stale ids...)
            text += " · " + " ".join(notes)
        self.set_message(text)
        if self.result.truncated or notes:
            self.status.setStyleSheet(WARNING_STYLE)

    def _update_actions(self, *_args) -> None:
        has_rows = self.model.rowCount() > 0
        has_sel = self.view.selectionModel().hasSelection()
        self.export_all_action.setEnabled(has_rows)
        self.export_selected_action.setEnabled(has_rows and has_sel)
        self.copy_action.setEnabled(has_sel)
        self.copy_button.setEnabled(has_sel)
        self.export_button.setEnabled(has_rows)
        self.code_action.setEnabled(self.result is not None)

    # ---- export (the Export button, menu and dialog: result_export_menu.py) ---------
    def export_rows(self, path: str, selected_only: bool = False, fmt: str | None = None) -> None:
        """Write the selected (or all filtered, sorted) rows to ``path`` in a worker."""
        try:
            export_format(path, fmt)
        except CavernError as err:
            self._export_failed(err)
            status_sink.report_error(self, err)
            return
        rows = self.model.rows
        view_rows = self.selected_view_rows() if selected_only else None
        if selected_only and len(view_rows) == 0:
            err = CavernError("Select the rows to export first.")
            self._export_failed(err)
            status_sink.report_error(self, err)
            return
        n = len(view_rows) if selected_only else rows.n_rows
        self.set_message(f"Exporting {n:,} rows to {Path(path).name}…")
        prov = None
        if self.provenance_action.isChecked() and self.result is not None:
            from services.results.provenance import result_provenance
            prov = result_provenance(self.result, self.server, n,
                                     QApplication.applicationVersion())
            needle = rows.filter_text.strip()
            if needle:
                prov["quick_filter"] = needle

        def work(cancel):
            if getattr(rows, "on_disk", False):  # DuckDB COPY: never through memory
                return str(export_disk_rows(rows, path, fmt, view_rows=view_rows,
                                            cancel=cancel, progress=self._exportProgress.emit,
                                            provenance=prov))
            frame = rows.frame_rows(view_rows) if selected_only else rows.view_frame()
            return str(export_frame(frame, path, fmt, cancel=cancel,
                                    progress=self._exportProgress.emit, provenance=prov))

        # await_outcome: a Cancel that comes after the file was written (during the final
        # rename) is too late; what export_frame did is what the panel says
        self.export_runner.run(work, await_outcome=True,
                               on_result=lambda p: self._export_done(p, n))
