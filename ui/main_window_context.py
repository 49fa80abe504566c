"""The main window's context: the datastack/version toolbar, switching datastack, version or
live time (a new Workspace, contextChanged, the tables listed) and opening datastack folders.
Kept apart from ui/main_window.py, which builds the window and routes its requests."""
from __future__ import annotations

from datetime import timezone

from PySide6.QtCore import QDateTime, Qt, QTimeZone
from PySide6.QtWidgets import (QComboBox, QDateTimeEdit, QFileDialog, QInputDialog, QLabel,
                               QLineEdit, QToolBar)

from services.local.local_source import DatastackNameTakenError
from services.source import DataSource
from services.workspace import Workspace
from ui.common.workers import as_cavern_error

LIVE = "live"  # version-combo data of the live entry


class WindowContext:
    """Mixin of MainWindow (it uses the window's panels, runners, settings and sink, and
    emits its contextChanged)."""

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

    def follow_context(self, panel):
        """A panel built late (the lazy tabs) gets the current context now and each later
        one, and says its messages in the status bar. Returns the panel."""
        self.contextChanged.connect(panel.set_context)
        if self.workspace is not None:
            panel.set_context(self.workspace)
        if hasattr(panel, "message"):
            panel.message.connect(self.show_message)  # panels show their errors themselves
        return panel

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
        wanted = (self.pending_session or {}).pop("version", None)
        idx = self.version_combo.findData(wanted if wanted is not None else default)
        if idx < 0:
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
        previous = self.workspace
        self.workspace = Workspace(src, ds, v, self._live_time() if self.live else None)
        if previous is not None and not self.workspace.same_context(previous):
            if self._query_context not in (None, (ds, v)):
                self.query_runner.cancel(quiet=True)  # its rows would be of the old context
            self._clear_results()
        self.contextChanged.emit(self.workspace)
        self.meta_runner.run(lambda cancel: src.tables(ds, v), on_result=self._tables_loaded)
        # then, apart, what the first query needs (a big local table's footer)
        self.prepare_runner.run(lambda cancel: src.prepare(ds, v))

    def _clear_results(self) -> None:
        """The Results table belongs to the old context: empty it and say why."""
        results = self.results
        self.provenance_label.setText("")
        self.provenance_label.setToolTip("")
        if getattr(results, "result", None) is None:
            return
        results.clear()
        results.set_message(f"{self.datastack} {self.version_combo.currentText()}: run a "
                            "query (the previous result was of another datastack or version).")

    def _live_time(self):
        return self.live_edit.dateTime().toPython().replace(tzinfo=timezone.utc)

    def _live_time_changed(self) -> None:
        if self.live:  # a new moment is a new context
            self._version_changed(self.version_combo.currentIndex())

    def _tables_loaded(self, tables) -> None:
        current = self.browser.current_table()
        select = current.name if current else self._pending_table
        pending = self.pending_session
        query = pending.pop("query", None) if pending else None
        if query:
            select = query["table"]
        self.browser.set_tables(tables, select=select)
        if query and self.builder.table is not None and self.builder.table.name == query["table"]:
            from ui.common.session import apply_query_state
            apply_query_state(self.builder, query)
        if pending is not None:
            self.pending_session = None
            if pending.get("partners_of"):
                self.connectivity.partners.root_edit.setText(pending["partners_of"])
        self.sink.note(f"{self.datastack} {self.version_combo.currentText()}: "
                       f"{len(tables)} tables", 5000)
        notice, self.startup_notice = getattr(self, "startup_notice", None), None
        if notice:  # a last session that could not be reopened
            self.show_error(notice)

    # ---- datastack folders ------------------------------------------------------
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
