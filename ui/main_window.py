"""Cavern's main window: datastack/version picker, table browser, query builder, results.

The window builds its panels and routes their requests (queries, counts, cells between
panels); the Cell, Connectivity and Figures tabs are built when first shown or asked for
(ui/common/lazy_pages.py: pandas and pyqtgraph load then, not at start-up). Its parts live
beside it as mixins: ui/main_window_context.py (the datastack and version toolbar,
switching context), ui/main_window_menus.py (the menu bar) and ui/main_window_actions.py
(sessions, help, find, about)."""
from __future__ import annotations

import time

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QWidget

from models.errors import CancelledError, CavernError
from models.reference_join import reference_join_of
from services.source import DataSource
from services.workspace import Workspace
from ui.tables.query_builder_panel import QueryBuilderPanel
from ui.tables.result_panel import ResultPanel
from ui.tables.table_browser_panel import TableBrowserPanel
from ui.main_window_actions import CurrentPageTabs, WindowActions, elide
from ui.main_window_context import LIVE, WindowContext  # noqa: F401 - LIVE: importable here too
from ui.main_window_menus import WindowMenus
from ui.common import status_sink
from ui.common.lazy_pages import LazyPage, LazyPages
from ui.common.request_status_bar import RequestStatusBar
from ui.common.workers import RequestRunner


FIRST_DATASTACK = "pinky100_sample"  # what a first launch opens (README says so)
FRAME_W, FRAME_H = 16, 40  # room for a window frame and title bar on a small screen


class MainWindow(WindowContext, WindowMenus, WindowActions, QMainWindow):
    # a services.workspace.Workspace whenever the picked datastack or version changes
    contextChanged = Signal(object)
    # tab pages built on first use (self.pages): reading one builds it
    inspector = LazyPage("inspector")
    connectivity = LazyPage("connectivity")
    figures = LazyPage("figures")

    def __init__(self, source: DataSource, settings: QSettings, datastack: str | None = None,
                 app_version: str = "", token_store=None, cave_source_factory=None):
        super().__init__()
        self.local_source = source
        self.settings = settings
        self.app_version = app_version
        self.setWindowTitle("Cavern")
        self.setObjectName("CavernMainWindow")
        self._fit_to_screen(1400, 860)
        # (source, datastack) of the entry picked in the datastack combo
        self.source: DataSource = source
        self.datastack = ""
        self.version: int | None = None
        self.live = False  # a CAVE datastack queried live at live_edit's timestamp
        self.workspace: Workspace | None = None  # the context the panels show
        self._pending_table = settings.value("last_table", "", str)
        self._query_context = None  # (datastack, version) of the last query started
        self.pending_session = None  # what an opened session restores once data are listed
        self.meta_runner = RequestRunner(self)
        self.prepare_runner = RequestRunner(self)  # source.prepare: reads ahead, says nothing
        self.query_runner = RequestRunner(self)
        self.count_runner = RequestRunner(self)

        self._build_toolbar()
        self.browser = TableBrowserPanel()
        self.builder = QueryBuilderPanel()
        self.results = ResultPanel()
        self.tabs = CurrentPageTabs(documentMode=True)
        self.tabs.addTab(self.results, "Results")
        # No page scrolling: every panel fits with splitters; only tables scroll. The
        # docks are hidden for the wide Cell and Connectivity tabs (_tab_changed).
        self.pages = LazyPages(self.tabs)
        self.pages.add("inspector", "Cell", self._new_inspector)
        self.pages.add("connectivity", "Connectivity", self._new_connectivity)
        # The MICrONS tutorial's figures and joins (ui/figures); a join opens in Results.
        self.pages.add("figures", "Figures", self._new_figures)
        self.contextChanged.connect(self.builder.set_workspace)  # value completion
        from ui.common.recent_queries import RecentQueries
        self.builder.set_recent_store(RecentQueries(settings))  # the builder's Recent menu
        self.setCentralWidget(self.tabs)
        self.browser_dock = self._dock("Tables", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.builder_dock = self._dock("Query", self.builder, Qt.DockWidgetArea.RightDockWidgetArea)
        self._build_status_bar()
        self._build_menus()
        # on a small screen the results keep half the width
        wide = self.width() >= 1280
        self.resizeDocks([self.browser_dock, self.builder_dock],
                         [330, 380] if wide else [270, 300], Qt.Orientation.Horizontal)

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
        self._docks_were_visible = {self.browser_dock: True, self.builder_dock: True}
        self._last_tab = 0
        self._connect_cell_panels()

        from ui.cave.cave_controller import CaveController, default_source_factory
        self.cave = CaveController(self, token_store, cave_source_factory or default_source_factory)
        self._restore_layout()
        # read before the combo fills: adding the first entry selects (and remembers) it
        last = settings.value("last_datastack", "", str)
        for name in source.datastacks():
            self.add_datastack(source, name, select=False)
        names = source.datastacks()
        wanted = datastack or last
        if wanted not in names:
            wanted = FIRST_DATASTACK if FIRST_DATASTACK in names else None
        self.select_datastack(wanted)
        self.reopen_last_session()

    # ---- construction ------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

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
        # what the shown result is (datastack, version, server, filters, units)
        self.provenance_label = QLabel("")
        self.provenance_label.setObjectName("provenance")
        self.provenance_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        sb.addPermanentWidget(self.provenance_label)
        sb.addPermanentWidget(self.request_status)

    def _connect_cell_panels(self) -> None:
        """Cells flow between panels: a root id double-clicked in any table opens the
        inspector; the inspector's "Show partners" opens the connectivity viewer."""
        self.tabs.currentChanged.connect(self._tab_changed)
        self.results.rootIdActivated.connect(self.inspect_cell)
        self._build_cells_menu()

    # ---- the lazy pages, made and wired when first needed (self.pages) ------------------
    def _new_inspector(self):
        from ui.cells.cell_inspector_panel import CellInspectorPanel
        panel = self.follow_context(CellInspectorPanel())
        panel.showPartners.connect(self.show_partners)
        return panel

    def _new_connectivity(self):
        from ui.connectivity.connectivity_panel import ConnectivityPanel
        panel = self.follow_context(ConnectivityPanel())
        panel.inspectCell.connect(self.inspect_cell)
        panel.linkRequested.connect(self._link_cells)
        panel.rowsLinkRequested.connect(lambda rows: self.inspector.link_for_rows(rows))
        return panel

    def _new_figures(self):
        from ui.figures.figures_panel import FiguresPanel
        panel = self.follow_context(FiguresPanel())
        panel.joinReady.connect(self._query_done)
        return panel

    def _tab_changed(self, index: int) -> None:
        """The table browser and query builder belong to the Results tab: hide them for
        the wide viewers and bring them back (if the user had them open) with the results."""
        docks = (self.browser_dock, self.builder_dock)
        if index == 0:
            for dock in docks:
                dock.setVisible(self._docks_were_visible[dock])
        elif self.tabs.widget(index) is not None and self._last_tab == 0:
            for dock in docks:
                self._docks_were_visible[dock] = dock.isVisible()
                dock.setVisible(False)
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
        from services.links.partners_link import PARTNERS_ATTR  # the cell, then its partners
        frame.attrs[PARTNERS_ATTR] = int(root_ids[0]) if len(root_ids) else None
        self.inspector.link_for_rows(frame)

    def _link_selection(self) -> None:
        frame = self.results.selectionFrame()
        if frame is None or len(frame) == 0:
            self.show_error("Select rows of the result first (they need a position or root id column).")
            return
        from services.links.neuroglancer_links import RESOLUTION_ATTR  # the rows' units
        res = getattr(getattr(self.results.result, "spec", None), "desired_resolution", None)
        frame.attrs[RESOLUTION_ATTR] = tuple(res) if res else None
        self.inspector.link_for_rows(frame)

    # ---- queries -------------------------------------------------------------------
    def _with_context(self, spec):
        if self.live:
            return spec.with_(datastack=self.datastack, version=None, timestamp=self._live_time())
        return spec.with_(datastack=self.datastack, version=spec.version or self.version)

    def run_query(self, spec) -> None:
        spec = self._with_context(spec)
        self._query_context = (spec.datastack, spec.version)
        self._query_started = time.perf_counter()
        self.results.set_message(f"Running query on {spec.table}…")
        ws = self.workspace or Workspace(self.source, self.datastack, self.version)
        self.query_runner.run(ws.run, spec, on_result=self._query_done)

    def _query_done(self, result) -> None:
        self.results.set_result(result, getattr(self.source, "server", ""))
        self.tabs.setCurrentWidget(self.results)
        notes = list(dict.fromkeys(getattr(result, "notes", None) or ()))
        text = f"{result.spec.table}: {result.summary()}"
        from ui.common.provenance import provenance_text
        where = provenance_text(result.spec, self.source)
        self.provenance_label.setText(elide(where, 90))
        self.provenance_label.setToolTip(where)
        self.sink.show(" · ".join([text] + notes), "warning" if notes else "", 8000)
        self.settings.setValue("last_table", result.spec.table)

    def show_result(self, result) -> None:
        """Rows made elsewhere (synapses selected on a cell's morphology) in Results."""
        self._query_done(result)

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

    def _fit_to_screen(self, width: int, height: int) -> None:
        """Open at this size, or smaller and centred when the screen's free area (without
        panels and task bars) is smaller: Run and the status bar must be on screen."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            self.resize(width, height)
            return
        area = screen.availableGeometry()
        # the frame is not known before the window is shown: leave room for a title bar
        w, h = min(width, area.width() - FRAME_W), min(height, area.height() - FRAME_H)
        self.resize(w, h)
        self.move(area.x() + (area.width() - w - FRAME_W) // 2,
                  area.y() + (area.height() - h - FRAME_H) // 2)

    def _restore_layout(self) -> None:
        geom = self.settings.value("geometry")
        state = self.settings.value("window_state")
        if geom is not None:
            self.restoreGeometry(geom)
            screen = self.screen() or QApplication.primaryScreen()
            if screen is not None and not screen.availableGeometry().contains(self.frameGeometry()):
                self._fit_to_screen(self.width(), self.height())  # the screen got smaller
        if state is not None:
            self.restoreState(state)

    def layout_state(self):
        """saveState() as on the Results tab: the docks hidden for the wide tabs are the
        user's layout all the same (else the next start would open without them)."""
        if self.tabs.currentIndex() == 0:
            return self.saveState()
        hidden = [d for d, shown in self._docks_were_visible.items() if shown]
        for dock in hidden:
            dock.setVisible(True)
        state = self.saveState()
        for dock in hidden:
            dock.setVisible(False)
        return state

    def closeEvent(self, event) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.layout_state())
        self.save_last_session()
        from ui.common.runner_registry import cancel_all
        cancel_all(owner=self)  # every panel's requests; the sources close at quit (ui.app)
        super().closeEvent(event)


def app_icon() -> QIcon:
    from importlib.resources import files
    path = files("resources") / "icons" / "cavern.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()
