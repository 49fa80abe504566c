"""The cell inspector: what the datastack knows about one cell, and links to see it.

Integration (for the main window):
  - ``window.contextChanged.connect(panel.set_context)`` (and call it once at start-up).
  - ``results.rootIdActivated.connect(panel.inspect)`` (double-click on a root id), then
    show the inspector's tab/dock.
  - ``panel.showPartners.connect(<connectivity viewer's show-partners slot>)`` (int root id).
  - ``panel.message.connect(window.show_error)`` (one-line messages for the status bar).
  - Result panel action "Neuroglancer link of selection":
    ``panel.link_for_rows(results.selectionFrame())`` opens a small link dialog.
"""
from __future__ import annotations


from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QTextBrowser, QToolButton, QVBoxLayout, QWidget)

from models.errors import CancelledError, CavernError
from services.cells.cell_inspection import LINK_KINDS, SITE_CHOICES, Inspection, inspect_cell
from ui.cells.cell_facts_view import facts_html
from ui.cells.cell_history import CellHistory
from ui.cells.cell_links import CellLinks
from ui.common import status_sink
from ui.common.request_status_bar import RequestStatusBar
from ui.common.styles import ERROR_STYLE, NOTE_STYLE  # noqa: F401 - ERROR_STYLE: for tests
from ui.common.workers import RequestRunner
from ui.common.workspace_view import WorkspaceView


class CellInspectorPanel(CellLinks, WorkspaceView, QWidget):
    message = Signal(str)  # a one-line message for the status bar
    showPartners = Signal("qint64")  # root id: open the connectivity viewer's partners
    cellShown = Signal(object)  # the Inspection (CellRecord + root-id status) now displayed
    linkReady = Signal(object)  # NeuroglancerLink (url, n_annotations, n_dropped, notes)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.inspection: Inspection | None = None  # the cell shown now
        self.link = None  # the last link built for the shown cell
        self.history = CellHistory()
        self._asked = ""  # the id text of the running lookup
        self.runner = RequestRunner(self)
        self.link_runner = RequestRunner(self)
        self._link_dialogs: list = []
        self._build()
        self._connect()
        self._update_buttons()

    # ---- construction ----------------------------------------------------------------
    def _build(self) -> None:
        self.back_button = QToolButton(text="◀", toolTip="Back to the previous cell (Alt+Left)")
        self.forward_button = QToolButton(text="▶", toolTip="Forward (Alt+Right)")
        self.id_edit = QLineEdit(placeholderText="Root id or nucleus id (type or paste)")
        self.id_edit.setClearButtonEnabled(True)
        self.id_edit.setToolTip("A root id or nucleus id of this datastack (Return inspects)")
        self.inspect_button = QPushButton("Inspect")
        self.inspect_button.setToolTip("Look the cell up: types, proofreading, soma, synapses")
        self.recent_combo = QComboBox(toolTip="Recently inspected cells")
        self.recent_combo.setMinimumContentsLength(36)
        top = QHBoxLayout()
        top.addWidget(self.back_button)
        top.addWidget(self.forward_button)
        top.addWidget(self.id_edit, 1)
        top.addWidget(self.inspect_button)
        top.addWidget(QLabel("Recent:"))
        top.addWidget(self.recent_combo)

        # lookups and links share one status line: message, progress and Cancel
        self.status_bar = RequestStatusBar(self.runner, self.link_runner)
        self.status = self.status_bar.label
        self.progress, self.cancel_button = self.status_bar.progress, self.status_bar.cancel_button
        self.status_bar.show_text("Type a root id or nucleus id, or double-click a root id in "
                                  "the results.")
        self.stale_label = QLabel()
        self.stale_label.setWordWrap(True)
        self.stale_label.setStyleSheet(NOTE_STYLE)
        self.use_current_button = QPushButton(
            "Inspect the current id", toolTip="Look up the id the cell has at this version")
        stale = QHBoxLayout()
        stale.addWidget(self.stale_label, 1)
        stale.addWidget(self.use_current_button)
        self.stale_label.setVisible(False)
        self.use_current_button.setVisible(False)

        self.facts = QTextBrowser(openExternalLinks=False)
        self.facts.setPlaceholderText("No cell inspected yet.")

        self.partners_button = QPushButton("Show partners")
        self.partners_button.setToolTip("Open this cell's input and output partners in the "
                                        "connectivity viewer")
        self.copy_id_button = QPushButton("Copy root id")
        self.copy_id_button.setToolTip("Copy the cell's root id to the clipboard")
        actions = QHBoxLayout()
        actions.addWidget(self.partners_button)
        actions.addWidget(self.copy_id_button)
        self.morphology_button = QPushButton("Morphology")  # skeleton + synapses window
        self.morphology_button.setToolTip("Show the cell's skeleton with its synapses")
        self.morphology_button.clicked.connect(self._show_morphology)
        actions.addWidget(self.morphology_button)
        actions.addStretch(1)

        ng = QGroupBox("Neuroglancer")
        self.link_kind_combo = QComboBox(toolTip="What the Neuroglancer link shows")
        for key, label in LINK_KINDS:
            self.link_kind_combo.addItem(label, key)
        self.site_combo = QComboBox(toolTip="Which viewer the link opens")
        for key, label in SITE_CHOICES:
            self.site_combo.addItem(label, key)
        self.open_button = QPushButton("Open in browser")
        self.open_button.setToolTip("Open the Neuroglancer link in your web browser")
        self.copy_link_button = QPushButton("Copy link")
        self.copy_link_button.setToolTip("Copy the Neuroglancer link to the clipboard")
        self.short_button = QPushButton("Short link")
        self.short_button.setToolTip("Store the state on the CAVE state server and copy its "
                                     "short link (needs a CAVE connection)")
        self.short_button.setVisible(False)
        self.link_label = QLabel()
        self.link_label.setWordWrap(True)
        self.link_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(QLabel("Show:"))
        row.addWidget(self.link_kind_combo, 2)
        row.addWidget(QLabel("in"))
        row.addWidget(self.site_combo, 1)
        row.addWidget(self.open_button)
        row.addWidget(self.copy_link_button)
        row.addWidget(self.short_button)
        ngl = QVBoxLayout(ng)
        ngl.addLayout(row)
        ngl.addWidget(self.link_label)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.status_bar)
        lay.addLayout(stale)
        lay.addWidget(self.facts, 1)
        lay.addLayout(actions)
        lay.addWidget(ng)

    def _connect(self) -> None:
        self.inspect_button.clicked.connect(self._inspect_typed)
        self.id_edit.returnPressed.connect(self._inspect_typed)
        self.back_button.clicked.connect(self.go_back)
        self.forward_button.clicked.connect(self.go_forward)
        QShortcut(QKeySequence("Alt+Left"), self, self.go_back)
        QShortcut(QKeySequence("Alt+Right"), self, self.go_forward)
        self.recent_combo.activated.connect(self._go_recent)
        self.runner.busyChanged.connect(self._busy)
        # Cancel reports through `failed` only; other errors come through on_error
        self.runner.failed.connect(self._cancelled)
        self.link_runner.failed.connect(self._cancelled)
        self.link_runner.busyChanged.connect(self._busy)
        self.use_current_button.clicked.connect(self._inspect_current_id)
        self.partners_button.clicked.connect(self._show_partners)
        self.copy_id_button.clicked.connect(self._copy_root_id)
        self.open_button.clicked.connect(lambda: self._with_link(self._open_url))
        self.copy_link_button.clicked.connect(lambda: self._with_link(self._copy_url))
        self.short_button.clicked.connect(self._shorten)
        self.link_kind_combo.currentIndexChanged.connect(self._forget_link)
        self.site_combo.currentIndexChanged.connect(self._forget_link)

    # ---- public API ------------------------------------------------------------------
    def set_context(self, ws) -> None:
        """The main window's Workspace changed: later lookups use it."""
        changed = ws is None or not ws.same_context(self.ws)
        self.ws = ws
        self.short_button.setVisible(bool(ws is not None and ws.source.has_state_server))
        if changed and self.record is not None:
            # The facts, link and staleness were read in the old context: drop them, say so.
            old = self.record.datastack + (f" v{self.record.version}"
                                           if self.record.version is not None else "")
            version = self.version
            now = self.datastack + (f" v{version}" if version is not None else "")
            self.runner.cancel(quiet=True)
            self.inspection = None
            self._forget_link()
            self.facts.clear()
            self.facts.setPlaceholderText(
                f"The cell shown before belongs to {old}; the datastack is now {now}. "
                "Press Inspect to look its id up here.")
            self.stale_label.setVisible(False)
            self.use_current_button.setVisible(False)
            self._set_status(f"Datastack is now {now}: the previous cell was from {old}. "
                             "Press Inspect to look it up here.")
        self._update_buttons()

    @Slot("qint64")
    def inspect(self, root_id: int) -> None:
        """Look up a cell by root id (e.g. double-clicked in a result table)."""
        self.id_edit.setText(str(int(root_id)))
        self._lookup(str(int(root_id)), remember=True)

    def inspect_text(self, text: str) -> None:
        """Look up a typed or pasted root id / nucleus id."""
        self.id_edit.setText(text)
        self._lookup(text, remember=True)

    def go_back(self) -> None:
        if self.history.can_back():
            self._revisit(self.history.back())

    def go_forward(self) -> None:
        if self.history.can_forward():
            self._revisit(self.history.forward())

    # ---- lookups ---------------------------------------------------------------------
    def _inspect_typed(self) -> None:
        self._lookup(self.id_edit.text(), remember=True)

    def _lookup(self, text: str, remember: bool) -> None:
        if self.source is None or not self.datastack:
            self._input_error(CavernError("No datastack is open.",
                                          hint="Pick a datastack first."))
            return
        if not text.strip():
            self._input_error(CavernError("Type a root id or a nucleus id first."))
            return
        self._asked = text
        self._set_status(f"Looking up {text.strip()} in {self.datastack}…")
        self.runner.run(inspect_cell, self.ws, text,
                        on_result=lambda rec: self._show(rec, remember),
                        on_error=self._error)

    def _revisit(self, entry) -> None:
        if entry is None:
            return
        datastack, root_id = entry
        self.id_edit.setText(str(root_id))
        self._update_history_widgets()
        if datastack != self.datastack:  # a root id means nothing in another datastack
            self._set_status(f"Cell {root_id} is from {datastack}: pick that datastack to "
                             "see it again, or press Inspect to look for it here.", warn=True)
            return
        self._lookup(str(root_id), remember=False)

    @property
    def record(self):
        """The CellRecord shown now, or None."""
        return None if self.inspection is None else self.inspection.record

    def _show(self, insp: Inspection, remember: bool) -> None:
        self.inspection = insp
        rec = insp.record
        self._forget_link()
        if remember:
            self.history.visit(self.datastack, rec.root_id)
        self.id_edit.setText(str(rec.root_id))
        self.facts.setHtml(facts_html(insp))
        self._show_staleness(insp)
        status = insp.status
        if status is not None and status.is_latest is None and not status.versions:
            self._set_status(f"{rec.root_id} is not in any table of {self.datastack}: check "
                             "the id, or pick the datastack it belongs to.", warn=True)
        else:
            via = f" (nucleus {rec.nucleus_id})" if str(rec.nucleus_id) == \
                self._asked.strip() else ""
            self._set_status(f"Cell {rec.root_id}{via} in {self.datastack}.")
        self._update_buttons()
        self.cellShown.emit(insp)

    def _show_staleness(self, insp: Inspection) -> None:
        current = insp.suggested_id
        since = None if insp.status is None else insp.status.edited_since
        if insp.is_stale:
            text = (f"Root id {insp.record.root_id} is not a root id of this version: the "
                    f"cell was edited (proofread), so at this version the segmentation calls "
                    f"it {current}." if current is not None else
                    f"Root id {insp.record.root_id} is not a root id of this version, and the "
                    f"server suggests none: check the id and the version.")
        elif since is not None:
            text = (f"Root id {insp.record.root_id} is right for this version, but the cell "
                    f"has been edited since: today it is {since}. Live data and Neuroglancer "
                    f"use the new id.")
        else:
            text = ""
        self.stale_label.setText(text)
        self.stale_label.setVisible(bool(text))
        self.use_current_button.setVisible(insp.is_stale and current is not None)

    def _inspect_current_id(self) -> None:
        if self.inspection is not None and self.inspection.suggested_id is not None:
            self.inspect(int(self.inspection.suggested_id))

    # ---- small actions ---------------------------------------------------------------
    def _show_partners(self) -> None:
        if self.record is not None:
            self.showPartners.emit(int(self.record.root_id))

    def _show_morphology(self) -> None:
        if self.record is None:
            self._input_error(CavernError("Inspect a cell first."))
            return
        from ui.morphology.morphology_window import open_morphology
        open_morphology(self, self.ws, int(self.record.root_id))

    def _copy_root_id(self) -> None:
        if self.record is not None:
            QGuiApplication.clipboard().setText(str(self.record.root_id))
            self._set_status(f"Root id {self.record.root_id} copied.")

    def _go_recent(self, index: int) -> None:
        entries = self.history.entries()
        if 0 <= index < len(entries):
            # the combo lists newest first
            self._revisit(self.history.go(len(entries) - 1 - index))

    # ---- state -----------------------------------------------------------------------
    def _busy(self, _b: bool) -> None:
        self.inspect_button.setEnabled(not self.status_bar.busy)

    def _update_history_widgets(self) -> None:
        self.back_button.setEnabled(self.history.can_back())
        self.forward_button.setEnabled(self.history.can_forward())
        entries = self.history.entries()
        self.recent_combo.blockSignals(True)
        self.recent_combo.clear()
        for ds, rid in reversed(entries):
            self.recent_combo.addItem(f"{rid} · {ds}")
        if entries:
            self.recent_combo.setCurrentIndex(len(entries) - 1 - self.history.position)
        self.recent_combo.blockSignals(False)

    def _update_buttons(self) -> None:
        has = self.record is not None
        for b in (self.partners_button, self.copy_id_button, self.open_button,
                  self.copy_link_button, self.short_button):
            b.setEnabled(has)
        self._update_history_widgets()

    def _set_status(self, text: str, warn: bool = False) -> None:
        self.status_bar.show_text(text, "note" if warn else "")

    def _cancelled(self, err: CavernError) -> None:
        if isinstance(err, CancelledError):
            self._set_status("Cancelled.")

    def _error(self, err: CavernError) -> None:
        if isinstance(err, CancelledError):
            self._set_status("Cancelled.")
            return
        self.status_bar.show_text(str(err), "error")
        self.message.emit(str(err))

    def _input_error(self, err: CavernError) -> None:
        """An error found before any request (no datastack, no id): shown here and, like
        a request's, in the window's status line."""
        self._error(err)
        status_sink.report_error(self, err)
