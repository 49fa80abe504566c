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
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QTabWidget, QVBoxLayout,
                               QWidget)

from models.errors import CavernError
from ui.connectivity.connectivity_matrix_view import ConnectivityMatrixView
from ui.connectivity.partners_view import PartnersView
from ui.common.workers import RequestRunner


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
        self._pending_root = None  # asked for before the context's tables were listed
        self._type_tables: list[str] = []  # the context's cell-type tables

    def set_context(self, ws) -> None:
        """Clear what belonged to the old context at once; then list the new tables."""
        self._context = ws
        self._pending_root = None
        self.partners.clear_context(ws)
        self.matrix.clear_context(ws)
        if ws is None:
            return
        self.partners.status.show_text(f"Reading the tables of {ws.datastack}…")
        self.synapse_combo.blockSignals(True)
        self.synapse_combo.clear()
        self.synapse_combo.blockSignals(False)
        self.runner.run(lambda cancel=None: (ws.cell_type_table_names(), ws.synapse_tables()),
                        on_result=self._tables_ready, on_error=self._tables_failed)

    def _tables_ready(self, listed) -> None:
        tables, synapse_tables = listed
        self._type_tables = tables
        self.synapse_combo.blockSignals(True)
        self.synapse_combo.clear()
        self.synapse_combo.addItems(synapse_tables)
        self.synapse_combo.blockSignals(False)
        self._apply(self._context)

    def _synapses_picked(self, index: int) -> None:
        if index >= 0 and self._context is not None:
            self._apply(self._context.with_synapse_table(self.synapse_combo.currentText()))

    def _apply(self, ws) -> None:
        tables = self._type_tables
        self.partners.set_context(ws, tables)
        self.matrix.set_context(ws, tables)
        self.contextReady.emit()
        if self._pending_root is not None:
            root, self._pending_root = self._pending_root, None
            self.partners.show_cell(root)

    def _tables_failed(self, err: CavernError) -> None:
        self.partners.status.show_text(str(err), error=True)
        self.message.emit(str(err))

    def show_cell(self, root_id: int) -> None:
        """Show the partners of this cell (e.g. double-click on a root id elsewhere)."""
        self.tabs.setCurrentWidget(self.partners)
        if self.runner.busy:
            self._pending_root = root_id
            self.partners.root_edit.setText(str(root_id))
            return
        self.partners.show_cell(root_id)
