"""The connectivity viewer: partners of one cell, and the matrix of a set of cells.

How the main window wires it (ui/main_window.py):
    panel = ConnectivityPanel(); self.tabs.addTab(panel, "Connectivity")
    window.contextChanged            -> panel.set_context(workspace)
    result_panel.rootIdActivated     -> panel.show_cell(root_id)   (optional: partners of it)
    panel.inspectCell(int)           -> the cell inspector (show that cell)
    panel.linkRequested(list)        -> services/neuroglancer_links (the cell, then partners)
    panel.pairActivated(int, int)    -> optional (pre, post root ids of a clicked matrix cell)
    panel.rowsLinkRequested(frame)   -> a Neuroglancer link of a pair's synapses
    panel.message(str)               -> window status bar (errors are also shown in the panel)

A new context's cell-type and synapse tables are listed in a worker (``runner``); until
they arrive, the views' actions that need them are disabled and a request made meanwhile
runs once they are (ui/connectivity/tables_gate.py), so a caller may build the panel and
ask at once. ``contextReady`` says they have arrived; a failed listing is said in both
views and the next context lists again.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QTabWidget, QVBoxLayout,
                               QWidget)

from models.errors import CancelledError, CavernError
from ui.connectivity.connectivity_matrix_view import ConnectivityMatrixView
from ui.connectivity.partners_view import PartnersView
from ui.common.workers import RequestRunner, as_cavern_error


def list_tables(ws, cancel=None) -> tuple[list[str], list[str]]:
    """The context's cell-type and synapse tables (run in a worker). A failure says whose
    tables could not be listed and how to list them again, and keeps its type (a rejected
    token is still offered a new one by the window)."""
    try:
        return ws.cell_type_table_names(), ws.synapse_tables()
    except CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever failed, said in words
        err = as_cavern_error(exc)
        err.message = f"The tables of {ws.datastack} could not be listed: {err.message}"
        err.hint = ((err.hint + " ") if err.hint else "") + (
            "Choose another version or datastack (and back) to list them again.")
        raise err from None


class ConnectivityPanel(QWidget):
    inspectCell = Signal("qint64")  # 64-bit root id (Signal(int) would overflow)
    linkRequested = Signal(list)
    pairActivated = Signal("qint64", "qint64")
    rowsLinkRequested = Signal(object)  # DataFrame of synapses to show in Neuroglancer
    message = Signal(str)
    contextReady = Signal()  # cell-type tables listed for the new context

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.partners = PartnersView()
        self.matrix = ConnectivityMatrixView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.partners, "Partners of a cell")
        self.tabs.addTab(self.matrix, "Connectivity matrix")
        self.synapse_combo = QComboBox(minimumContentsLength=24)
        self.synapse_combo.setToolTip(
            "The table partners and matrices read synapses from: the datastack's synapse "
            "table, or another with pre_pt_root_id and post_pt_root_id columns")
        self.synapse_combo.currentIndexChanged.connect(self._synapses_picked)
        top = QHBoxLayout()
        top.addWidget(QLabel("Synapses from:"))
        top.addWidget(self.synapse_combo)
        top.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.tabs)
        self.runner = RequestRunner(self)  # lists the cell-type tables off the GUI thread
        self.partners.inspectCell.connect(self.inspectCell)
        self.partners.linkRequested.connect(self.linkRequested)
        self.partners.message.connect(self.message)
        self.matrix.pairActivated.connect(self.pairActivated)
        self.matrix.rowsLinkRequested.connect(self.rowsLinkRequested)
        self.matrix.message.connect(self.message)
        self._context = None  # the Workspace whose cell-type tables are being read
        self._type_tables: list[str] = []  # the context's cell-type tables
        self._synapse_tip = self.synapse_combo.toolTip()

    @property
    def views(self) -> tuple:
        return (self.partners, self.matrix)

    def set_context(self, ws) -> None:
        """Clear what belonged to the old context at once; then list the new tables."""
        self._context = ws
        self.synapse_combo.blockSignals(True)
        self.synapse_combo.clear()
        self.synapse_combo.blockSignals(False)
        for view in self.views:
            view.clear_context(ws)
        if ws is None:
            self.runner.cancel(quiet=True)
            for view in self.views:
                view.open_gate()  # nothing to list: a request says "Open a datastack first"
            return
        text = f"Listing the tables of {ws.datastack}…"
        self._set_synapse_tip(text)
        for view in self.views:
            view.wait_for_tables(text)
        self.runner.run(list_tables, ws, on_result=self._tables_ready,
                        on_error=self._tables_failed)

    @property
    def tables_ready(self) -> bool:
        """The current context's tables are listed (the views' actions are on)."""
        return self._context is not None and self.partners.tables_ready

    def _set_synapse_tip(self, waiting: str | None) -> None:
        self.synapse_combo.setEnabled(waiting is None)
        self.synapse_combo.setToolTip(self._synapse_tip if waiting is None else waiting)

    def _tables_ready(self, listed) -> None:
        tables, synapse_tables = listed
        self._type_tables = tables
        self.synapse_combo.blockSignals(True)
        self.synapse_combo.clear()
        self.synapse_combo.addItems(synapse_tables)
        self.synapse_combo.blockSignals(False)
        self._set_synapse_tip(None)
        self._apply(self._context)

    def _synapses_picked(self, index: int) -> None:
        if index >= 0 and self._context is not None:
            self._apply(self._context.with_synapse_table(self.synapse_combo.currentText()))

    def _apply(self, ws) -> None:
        """The views get the context and its tables (a request that waited runs now)."""
        for view in self.views:
            view.set_context(ws, self._type_tables)
        self.contextReady.emit()

    def _tables_failed(self, err: CavernError) -> None:
        if self._context is None or isinstance(err, CancelledError):
            return  # the listing of a context left meanwhile
        self._set_synapse_tip(str(err))
        for view in self.views:
            view.tables_failed(err)
        self.message.emit(str(err))

    def show_cell(self, root_id: int) -> None:
        """Show the partners of this cell (e.g. double-click on a root id elsewhere); while
        the tables are listed it starts once they are."""
        self.tabs.setCurrentWidget(self.partners)
        self.partners.show_cell(root_id)

    def find_field(self):
        """Ctrl+F (the main window's Find): the cell field of the partners, or the set
        being edited in the matrix (its filters or pasted ids)."""
        if self.tabs.currentWidget() is self.partners:
            return self.partners.root_edit
        return self.matrix.pre_editor.edits.currentWidget()
