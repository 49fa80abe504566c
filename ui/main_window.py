"""Cavern's main window: datastack/version picker, table browser, query builder, results."""
from __future__ import annotations

import time
from datetime import timezone

from PySide6.QtCore import QDateTime, QSettings, Qt, QTimeZone, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (QApplication, QComboBox, QDateTimeEdit, QDockWidget, QFileDialog,
                               QFrame, QInputDialog, QLabel, QLineEdit, QMenu, QScrollArea,
                               QMainWindow, QMessageBox, QTabWidget, QToolBar, QWidget)

from models.errors import CancelledError, CavernError
from services.local.local_source import DatastackNameTakenError
from models.query_spec import reference_join_of
from services.source import DataSource
from services.workspace import Workspace
from ui.cells.cell_inspector_panel import CellInspectorPanel
from ui.connectivity.connectivity_panel import ConnectivityPanel
from ui.tables.query_builder_panel import QueryBuilderPanel
from ui.tables.result_panel import ResultPanel
from ui.tables.table_browser_panel import TableBrowserPanel
from ui.common import status_sink
from ui.common.request_status_bar import RequestStatusBar
from ui.common.workers import RequestRunner, as_cavern_error


LIVE = "live"  # version-combo data of the live entry


class MainWindow(QMainWindow):
    # a services.workspace.Workspace whenever the picked datastack or version changes
    contextChanged = Signal(object)

    def __init__(self, source: DataSource, settings: QSettings, datastack: str | None = None,
                 app_version: str = "", token_store=None, cave_source_factory=None):
        super().__init__()
        self.local_source = source
        self.settings = settings
        self.app_version = app_version
        self.setWindowTitle("Cavern")
        self.setObjectName("CavernMainWindow")
        self.resize(1400, 860)
        # (source, datastack) of the entry picked in the datastack combo
        self.source: DataSource = source
        self.datastack = ""
        self.version: int | None = None
        self.live = False  # a CAVE datastack queried live at live_edit's timestamp
        self.workspace: Workspace | None = None  # the context the panels show
        self._pending_table = settings.value("last_table", "", str)
        self.meta_runner = RequestRunner(self)
        self.query_runner = RequestRunner(self)
        self.count_runner = RequestRunner(self)

        self._build_toolbar()
        self.browser = TableBrowserPanel()
        self.builder = QueryBuilderPanel()
        self.results = ResultPanel()
        self.inspector = CellInspectorPanel()
        self.connectivity = ConnectivityPanel()
        self.tabs = QTabWidget(documentMode=True)
        self.tabs.addTab(self.results, "Results")
        # Scroll areas: the docks keep their width even when a wide panel is shown.
        self.tabs.addTab(_scrollable(self.inspector), "Cell")
        self.tabs.addTab(_scrollable(self.connectivity), "Connectivity")
        self.setCentralWidget(self.tabs)
        self.browser_dock = self._dock("Tables", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.builder_dock = self._dock("Query", self.builder, Qt.DockWidgetArea.RightDockWidgetArea)
        self._build_status_bar()
        self._build_menus()
        self.resizeDocks([self.browser_dock, self.builder_dock], [330, 380],
                         Qt.Orientation.Horizontal)

        self.browser.tableSelected.connect(self.builder.set_table)
        self.browser.tableActivated.connect(lambda _t: self.builder.run_button.click())
        self.browser.countRequested.connect(self._count_rows)
        self.builder.runRequested.connect(self.run_query)
        self.builder.cancelRequested.connect(self.query_runner.cancel)
        self.builder.copyCodeRequested.connect(self._copy_code)
        self.builder.message.connect(self.show_error)
        self.query_runner.busyChanged.connect(self._query_busy)
        self.query_runner.failed.connect(self._query_failed)
        self.count_runner.failed.connect(self._count_failed)
        self._builder_was_visible, self._last_tab = True, 0
        self._connect_cell_panels()

        from ui.cave.cave_controller import CaveController, default_source_factory
        self.cave = CaveController(self, token_store, cave_source_factory or default_source_factory)
        self._restore_layout()
        for name in source.datastacks():
            self.add_datastack(source, name, select=False)
        wanted = datastack or settings.value("last_datastack", "", str)
        self.select_datastack(wanted if wanted in source.datastacks() else None)

    # ---- construction ------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_toolbar(self) -> None:
        bar = QToolBar("Datastack", self)
        bar.setObjectName("toolbar_datastack")
        bar.setMovable(False)
        self.datastack_combo = QComboBox(minimumContentsLength=24)
        self.datastack_combo.setToolTip("Datastack: a bundled sample, a local folder or a CAVE server")
        self.version_combo = QComboBox(minimumContentsLength=18)
        self.version_combo.setToolTip("Materialization version")
        bar.addWidget(QLabel(" Datastack "))
        bar.addWidget(self.datastack_combo)
        bar.addWidget(QLabel("  Version "))
        bar.addWidget(self.version_combo)
        self.live_edit = QDateTimeEdit(QDateTime.currentDateTimeUtc())
        self.live_edit.setTimeZone(QTimeZone.utc())
        self.live_edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss 'UTC'")
        self.live_edit.setCalendarPopup(True)
        self.live_edit.setToolTip("Live query: the data as they were at this moment (UTC)")
        self.live_action = bar.addWidget(self.live_edit)
        self.live_edit.editingFinished.connect(self._live_time_changed)
        self.live_action.setVisible(False)
        self.addToolBar(bar)
        self.toolbar = bar
        self.datastack_combo.currentIndexChanged.connect(self._datastack_changed)
        self.version_combo.currentIndexChanged.connect(self._version_changed)

    def _build_status_bar(self) -> None:
        """Messages of every request in the window go through one sink to the status bar;
        the query's (and the window's other requests') progress and Cancel sit at its right."""
        sb = self.statusBar()
        self.sink = status_sink.install(self, status_sink.status_bar_sink(sb, self))
        self.request_status = RequestStatusBar(self.query_runner, self.meta_runner,
                                               self.count_runner, compact=True)
        self.busy_bar = self.request_status.progress
        self.busy_label = self.request_status.detail
        self.cancel_button = self.request_status.cancel_button
        sb.addPermanentWidget(self.request_status)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self.open_action = QAction("&Open datastack folder…", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.open_datastack_folder)
        file_menu.addAction(self.open_action)
        file_menu.addSeparator()
        for action in self.results.export_actions():
            file_menu.addAction(action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.file_menu = file_menu
        self.view_menu = mb.addMenu("&View")
        self.view_menu.addAction(self.browser_dock.toggleViewAction())
        self.view_menu.addAction(self.builder_dock.toggleViewAction())
        help_menu = mb.addMenu("&Help")
        about = QAction("&About Cavern", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        self.help_menu = help_menu

    # ---- datastacks and versions ------------------------------------------------
    def add_datastack(self, source: DataSource, name: str, label: str = "", select: bool = True) -> None:
        for i in range(self.datastack_combo.count()):
            src, ds = self.datastack_combo.itemData(i)
            if src is source and ds == name:
                if select:
                    self.datastack_combo.setCurrentIndex(i)
                return
        text = label or (f"{name}  (local)" if source.kind == "local" else name)
        self.datastack_combo.addItem(text, (source, name))
        if select:
            self.datastack_combo.setCurrentIndex(self.datastack_combo.count() - 1)

    def select_datastack(self, name: str | None, source: DataSource | None = None) -> None:
        """Pick a datastack by name (the first when None), of ``source`` when given: two
        sources can hold datastacks of the same name (a CAVE one and its offline copy)."""
        for i in range(self.datastack_combo.count()):
            src, ds = self.datastack_combo.itemData(i)
            if name is None or (ds == name and (source is None or src is source)):
                if self.datastack_combo.currentIndex() == i:
                    self._datastack_changed(i)
                self.datastack_combo.setCurrentIndex(i)
                return

    def _datastack_changed(self, index: int) -> None:
        if index < 0:
            return
        self.source, self.datastack = self.datastack_combo.itemData(index)
        self.settings.setValue("last_datastack", self.datastack)
        self.version_combo.blockSignals(True)
        self.version_combo.clear()
        self.version_combo.blockSignals(False)
        self.browser.set_tables([])
        self.builder.set_table(None)
        src, ds = self.source, self.datastack
        self.meta_runner.run(lambda cancel: (src.versions(ds), src.default_version(ds)),
                             on_result=self._versions_loaded)

    def _versions_loaded(self, result) -> None:
        versions, default = result
        self.version_combo.blockSignals(True)
        self.version_combo.clear()
        for v in sorted(versions, key=lambda v: v.version, reverse=True):
            self.version_combo.addItem(v.label(), v.version)
            self.version_combo.setItemData(self.version_combo.count() - 1, v.tooltip(),
                                           Qt.ItemDataRole.ToolTipRole)
        if self.source.kind == "cave":
            self.version_combo.addItem("live (at a time)", LIVE)
            self.version_combo.setItemData(self.version_combo.count() - 1,
                                           "Query the live database at a timestamp (not cached)",
                                           Qt.ItemDataRole.ToolTipRole)
        self.version_combo.blockSignals(False)
        idx = self.version_combo.findData(default)
        self.version_combo.setCurrentIndex(max(idx, 0))
        self._version_changed(self.version_combo.currentIndex())

    def _version_changed(self, index: int) -> None:
        if index < 0:
            return
        data = self.version_combo.itemData(index)
        self.live = data == LIVE
        self.live_action.setVisible(self.live)
        self.version = None if self.live else data
        src, ds, v = self.source, self.datastack, self.version
        self.workspace = Workspace(src, ds, v, self._live_time() if self.live else None)
        self.contextChanged.emit(self.workspace)
        self.meta_runner.run(lambda cancel: src.tables(ds, v), on_result=self._tables_loaded)

    def _live_time_changed(self) -> None:
        if self.live:  # a new moment is a new context
            self._version_changed(self.version_combo.currentIndex())

    def _tables_loaded(self, tables) -> None:
        current = self.browser.current_table()
        select = current.name if current else self._pending_table
        self.browser.set_tables(tables, select=select)
        self.sink.note(f"{self.datastack} {self.version_combo.currentText()}: "
                       f"{len(tables)} tables", 5000)

    def open_datastack_folder(self, folder: str | None = None) -> None:
        if not folder:
            folder = QFileDialog.getExistingDirectory(self, "Open datastack folder")
            if not folder:
                return
        name = self._add_folder(folder)
        if name is not None:
            self.add_datastack(self.local_source, name)
            self.show_message(f"Opened {name} from {folder}.")

    def _add_folder(self, folder: str, name: str | None = None) -> str | None:
        """The datastack's name, or None (the reason is shown). A manifest naming an open
        datastack is offered another name; it never replaces the open one."""
        try:
            return self.local_source.add_folder(folder, name=name)
        except DatastackNameTakenError as exc:
            other, ok = QInputDialog.getText(
                self, "Datastack name in use",
                f"{exc.message}\n\nOpen it under this name instead:",
                QLineEdit.EchoMode.Normal, exc.suggestion)
            if not ok:
                self.show_message("The folder was not opened: its datastack name is in use.")
                return None
            return self._add_folder(folder, other)
        except Exception as exc:  # noqa: BLE001 - whatever a folder holds, say it in words
            self.show_error(as_cavern_error(exc))
            return None

    def _connect_cell_panels(self) -> None:
        """Cells flow between panels: a root id double-clicked in any table opens the
        inspector; the inspector's "Show partners" opens the connectivity viewer."""
        for panel in (self.inspector, self.connectivity):
            self.contextChanged.connect(panel.set_context)
            panel.message.connect(self.show_message)  # panels show their errors themselves
        self.tabs.currentChanged.connect(self._tab_changed)
        self.results.rootIdActivated.connect(self.inspect_cell)
        self.connectivity.inspectCell.connect(self.inspect_cell)
        self.connectivity.linkRequested.connect(self._link_cells)
        self.connectivity.rowsLinkRequested.connect(self.inspector.link_for_rows)
        self.inspector.showPartners.connect(self.show_partners)
        self.link_action = QAction("Neuroglancer link of selected rows…", self)
        self.link_action.triggered.connect(self._link_selection)
        self.results.view.addAction(self.link_action)
        self.results.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        cells = self.menuBar().insertMenu(self.help_menu.menuAction(), QMenu("&Cells", self))
        cells_menu = cells.menu()
        inspect = QAction("&Inspect a cell…", self, shortcut="Ctrl+I")
        inspect.triggered.connect(lambda: (self.tabs.setCurrentIndex(1),
                                           self.inspector.id_edit.setFocus()))
        cells_menu.addAction(inspect)
        cells_menu.addAction(self.link_action)

    def _tab_changed(self, index: int) -> None:
        """The query builder belongs to the Results tab: hide it for the wide viewers and
        bring it back (if the user had it open) with the results."""
        if index == 0:
            self.builder_dock.setVisible(self._builder_was_visible)
        elif self.tabs.widget(index) is not None and self._last_tab == 0:
            self._builder_was_visible = self.builder_dock.isVisible()
            self.builder_dock.setVisible(False)
        self._last_tab = index

    def inspect_cell(self, root_id: int) -> None:
        self.tabs.setCurrentIndex(1)
        self.inspector.inspect(int(root_id))

    def show_partners(self, root_id: int) -> None:
        self.tabs.setCurrentIndex(2)
        self.connectivity.show_cell(int(root_id))

    def _link_cells(self, root_ids: list) -> None:
        import pandas as pd
        frame = pd.DataFrame({"pt_root_id": pd.array([int(r) for r in root_ids], dtype="int64")})
        self.inspector.link_for_rows(frame)

    def _link_selection(self) -> None:
        frame = self.results.selectionFrame()
        if frame is None or len(frame) == 0:
            self.show_error("Select rows of the result first (they need a position or root id column).")
            return
        self.inspector.link_for_rows(frame)

    # ---- queries -------------------------------------------------------------------
    def _live_time(self):
        return self.live_edit.dateTime().toPython().replace(tzinfo=timezone.utc)

    def _with_context(self, spec):
        if self.live:
            return spec.with_(datastack=self.datastack, version=None, timestamp=self._live_time())
        return spec.with_(datastack=self.datastack, version=spec.version or self.version)

    def run_query(self, spec) -> None:
        spec = self._with_context(spec)
        self._query_started = time.perf_counter()
        self.results.set_message(f"Running query on {spec.table}…")
        ws = self.workspace or Workspace(self.source, self.datastack, self.version)
        self.query_runner.run(ws.run, spec, on_result=self._query_done)

    def _query_done(self, result) -> None:
        self.results.set_result(result)
        self.tabs.setCurrentWidget(self.results)
        notes = list(dict.fromkeys(getattr(result, "notes", None) or ()))
        text = f"{result.spec.table}: {result.summary()}"
        self.sink.show(" · ".join([text] + notes), "warning" if notes else "", 8000)
        self.settings.setValue("last_table", result.spec.table)

    def _query_failed(self, err: CavernError) -> None:
        # the sink has shown it in the status bar (and offered a token if it was rejected)
        if isinstance(err, CancelledError):
            self.results.set_message("Query cancelled; the previous result is kept.")
            self.show_message("Query cancelled.")
        else:
            self.results.set_message(f"Query failed: {err}", error=True)

    def _query_busy(self, busy: bool) -> None:
        self.builder.set_busy(busy)

    def _count_rows(self, table: str) -> None:
        src, ds, v = self.source, self.datastack, self.version
        self.count_runner.run(lambda cancel: src.row_count(ds, table, v),
                              on_result=lambda n: self.browser.update_row_count(table, n))

    def _count_failed(self, err) -> None:
        self.browser.reset_count_button()  # the sink shows the error

    def _copy_code(self, spec) -> None:
        spec = self._with_context(spec)
        table = self.browser.current_table()
        server = getattr(self.source, "server", "")
        code = spec.to_caveclient_code(server, table.voxel_resolution if table else (4, 4, 40),
                                       reference=reference_join_of(table) if table else None)
        if self.source.kind == "local":
            code = ("# Local sample datastack: on a CAVE server the same query reads:\n" + code)
        QApplication.clipboard().setText(code)
        self.show_message("caveclient code copied to the clipboard.")

    # ---- messages, about, layout -------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.sink.note(str(text))

    def show_error(self, err) -> None:
        """An error in words (a CavernError or text), through the window's sink: a rejected
        token or terms of service to accept are offered a dialog."""
        self.sink.error(err)

    def show_about(self) -> None:
        credits = []
        for i in range(self.datastack_combo.count()):
            src, ds = self.datastack_combo.itemData(i)
            if src.kind == "local":
                try:
                    c = src.datastack_info(ds).credits
                except CavernError:
                    continue
                if c:
                    credits.append(f"<p><b>{ds}</b>: {c}</p>")
        QMessageBox.about(self, "About Cavern", (
            f"<h3>Cavern {self.app_version}</h3><p>Browse CAVE connectome data: tables, "
            "queries, cells, connectivity and Neuroglancer links.</p>"
            "<p><b>Sample data</b></p>" + "".join(credits)))

    def _restore_layout(self) -> None:
        geom = self.settings.value("geometry")
        state = self.settings.value("window_state")
        if geom is not None:
            self.restoreGeometry(geom)
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        from ui.common.runner_registry import cancel_all
        cancel_all(owner=self)  # every panel's requests; the sources close at quit (ui.app)
        super().closeEvent(event)


def _scrollable(panel: QWidget) -> QScrollArea:
    area = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
    area.setWidget(panel)
    return area


def app_icon() -> QIcon:
    from importlib.resources import files
    path = files("resources") / "icons" / "cavern.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()
