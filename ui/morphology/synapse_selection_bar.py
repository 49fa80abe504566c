"""What the Morphology view does with box-selected synapses: show them in the results
table, make a Neuroglancer link of them, export them. Hidden until a box selects some.

``resultRequested`` (QueryResult) goes to the main window's results table; the link
dialog is the one result rows use (positions in nm, the rows' units); the export is
services.results.export's atomic write with the selection's provenance, in a worker.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QPushButton, QWidget

from models.errors import CancelledError, CavernError
from services.morphology.synapse_selection import selection_result
from ui.common.workers import RequestRunner
from ui.common.table_file_dialog import ask_table_path



class SynapseSelectionBar(QWidget):
    resultRequested = Signal(object)  # QueryResult of the selected synapses
    message = Signal(str)  # one line for the view's status bar
    exported = Signal(str)  # path written

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.ws = None
        self.result = None  # QueryResult of the current selection
        self.link_dialog = None
        self._export_dir = str(Path.home())
        self.export_runner = RequestRunner(self)
        self.label = QLabel()
        self.results_button = QPushButton("Show in results")
        self.results_button.setToolTip("Open the selected synapses as a table in Results")
        self.link_button = QPushButton("Neuroglancer link…")
        self.link_button.setToolTip("A Neuroglancer link with the selected synapses as points")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write the selected synapses to CSV, TSV or Parquet")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Forget the selection")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label, 1)
        for b in (self.results_button, self.link_button, self.export_button, self.clear_button):
            lay.addWidget(b)
        self.results_button.clicked.connect(self.show_in_results)
        self.link_button.clicked.connect(self.open_link)
        self.export_button.clicked.connect(self._ask_export)
        self.clear_button.clicked.connect(self.clear)
        self.hide()

    def set_selection(self, ws, synapses, root_id: int, synapse_table: str = "") -> None:
        """The box's synapse rows (the view's frame); an empty box clears the selection."""
        self.ws = ws
        if synapses is None or len(synapses) == 0:
            self.clear()
            self.message.emit("No synapses in the box.")
            return
        self.result = selection_result(ws, synapses, root_id, synapse_table or None)
        f = self.result.frame
        n_in = int((f["direction"] != "output").sum())
        self.label.setText(f"{len(f):,} synapses selected ({n_in:,} inputs, "
                           f"{len(f) - n_in:,} outputs)")
        self.show()

    def clear(self) -> None:
        self.result = None
        self.hide()

    # ---- the three destinations ----------------------------------------------------
    def show_in_results(self) -> None:
        if self.result is not None:
            self.resultRequested.emit(self.result)
            self.message.emit(f"{len(self.result.frame):,} synapses sent to Results.")

    def open_link(self):
        from ui.cells.link_dialog import LinkDialog
        if self.result is None:
            return None
        dlg = LinkDialog(self.ws, self.result.frame, group_by="direction", parent=self)
        dlg.message.connect(self.message)
        self.link_dialog = dlg
        dlg.show()
        return dlg

    def _ask_export(self) -> None:
        if self.result is None:
            return
        name = f"synapses_{self.result.frame.attrs.get('morphology_of', 'cell')}.csv"
        path = ask_table_path(self, "Export selected synapses",
                              os.path.join(self._export_dir, name))
        if not path:
            return
        self._export_dir = str(Path(path).parent)
        self.export_to(path)

    def export_to(self, path: str) -> None:
        """Write the selection to ``path`` (format from its suffix) in a worker."""
        from services.results.export import export_frame
        from services.results.provenance import result_provenance
        result = self.result
        if result is None:
            return
        server = getattr(self.ws.source, "server", "") if self.ws is not None else ""
        prov = result_provenance(result, server, None, QApplication.applicationVersion())

        def work(cancel):
            return str(export_frame(result.frame, path, cancel=cancel, provenance=prov))

        self.message.emit(f"Exporting {len(result.frame):,} synapses to {Path(path).name}…")
        self.export_runner.run(work, await_outcome=True, on_result=self._exported,
                               on_error=self._export_failed)

    def _exported(self, path: str) -> None:
        self.message.emit(f"Exported {len(self.result.frame) if self.result is not None else 0:,}"
                          f" synapses to {path}")
        self.exported.emit(path)

    def _export_failed(self, err: CavernError) -> None:
        self.message.emit("Export cancelled; no file was written." if isinstance(
            err, CancelledError) else f"Export failed: {err}")
