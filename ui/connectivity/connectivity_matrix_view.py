"""Connectivity matrix of a pre and a post cell set: image, summary, block matrix, pair synapses.

Fetching and building run in a worker (services.connectivity.matrix_queries.compute_matrix);
changing the weight only redraws the downsampled image, which is cheap. Show matrix waits
for the panel's table listing (ui/connectivity/tables_gate.py).
"""
from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel,
                               QPushButton, QSizePolicy, QSplitter, QTabWidget, QVBoxLayout,
                               QWidget)

from models.errors import CavernError
from services.connectivity.connectivity_matrix import WEIGHT_FORMULAS, WEIGHTS
from services.connectivity.matrix_queries import (
    MatrixResult, cell_set_spec, compute_matrix, fetch_pair_synapses)
from services.connectivity.matrix_provenance import density_terms
from ui.connectivity.cell_set_editor import CellSetEditor
from ui.connectivity.matrix_exports import MatrixExports
from ui.connectivity.matrix_image_plot import MAX_IMAGE, MatrixImagePlot, matrix_image
from ui.connectivity.partners_view import table_view
from ui.connectivity.tables_gate import TablesGate
from ui.common.request_status_bar import RequestStatusBar
from ui.common.result_table_model import ResultTableModel
from ui.common.table_context_menu import TableContextMenu, rows_frame
from ui.common.workers import RequestRunner
from ui.common.panel_status import PanelStatus
from ui.common.workspace_view import WorkspaceView

ORDER_LABELS = {"type_depth": "cell type, then depth", "id": "root id",
                "degree": "total degree"}
HOVER_HINT = "Hover over the matrix to see a pair; click to list its synapses."
PAIR_HINT = "Click a connected pair in the matrix."
HOVER_REACH_PX = 4  # hover and click find the nearest connected pair this close on screen
WEIGHT_LABELS = {"binary": "binary (connected)", "count": "synapse count",
                 "size_sum": "summed size", "ln_size_sum": "ln(summed size)",
                 "log10_1p_size_sum": "log10(1 + summed size)",
                 "log_size_sum": "log10(1 + summed size)", "size_mean": "mean size"}


def _density(d) -> str:
    return "—" if d is None or d != d else f"{d:.4f}"  # no cell pairs: no density


def density_text(s: dict) -> str:
    """The tutorial's density over the whole cell set beside the connected-cells-only
    variant, each with its formula and numbers (``s``: ConnectivityMatrix.summary with the
    set sizes). The wording is services.connectivity.matrix_provenance's: exports state
    the same formulas."""
    return "<br>".join(f"{html.escape(t['label'])} = {html.escape(t['formula'])} = "
                       f"{t['numbers']} = <b>{_density(t['value'])}</b>"
                       for t in density_terms(s))


def weight_label(weight: str) -> str:
    """The combo's words for a weight (a weight added in services reads as its name)."""
    return WEIGHT_LABELS.get(weight, weight.replace("_", " "))


def _compute(ws, pre_draft, post_draft, order, hide, weight="count", cancel=None):
    pre = cell_set_spec(ws, **pre_draft)
    post = None if post_draft is None else cell_set_spec(ws, **post_draft)
    result = compute_matrix(ws, pre, post, order=order, hide_unconnected=hide,
                            image_size=MAX_IMAGE, cancel=cancel)
    # The summary and the first image are made here, in the worker: on 1.4M pairs they
    # would hold the GUI thread for a few tenths of a second.
    m = result.matrix
    if result.summary is None:
        result.summary = m.summary(len(result.pre.ids), len(result.post.ids))
    result.image = (weight, matrix_image(m, weight))
    if result.blocks is None and m.row_types is not None and m.col_types is not None and m.nnz:
        result.blocks = {weight: m.block_matrix(weight)}  # other weights: when chosen
    return result, (pre, post)  # the specs: what an export's provenance says was asked


class ConnectivityMatrixView(MatrixExports, TablesGate, PanelStatus, WorkspaceView, QWidget):
    pairActivated = Signal("qint64", "qint64")  # pre root id, post root id
    rowsLinkRequested = Signal(object)  # DataFrame of the clicked pair's synapses
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result: MatrixResult | None = None
        # what ``result`` was asked for: (pre CellSetSpec, post one or None, order)
        self.cell_specs: tuple | None = None
        self.summary: dict = {}
        self.runner = RequestRunner(self)
        self.pair_runner = RequestRunner(self)  # a clicked pair's synapses
        self.status = RequestStatusBar(self.runner)

        self.pre_editor = CellSetEditor("Presynaptic cells (rows)")
        self.post_editor = CellSetEditor("Postsynaptic cells (columns)")
        self.same_sets = QCheckBox("Post = pre cells")
        self.same_sets.setToolTip("Use the presynaptic set for the columns too (a square matrix)")
        self.same_sets.setChecked(True)
        self.weight_combo = QComboBox(toolTip="What each matrix cell shows")
        for w in WEIGHTS:
            self.weight_combo.addItem(weight_label(w), w)
            if w in WEIGHT_FORMULAS:
                self.weight_combo.setItemData(self.weight_combo.count() - 1, WEIGHT_FORMULAS[w],
                                              Qt.ItemDataRole.ToolTipRole)
        self.weight_combo.setCurrentIndex(WEIGHTS.index("count"))
        self.order_combo = QComboBox(toolTip="Order of the rows and columns")
        for key, label in ORDER_LABELS.items():
            self.order_combo.addItem(label, key)
        self.hide_unconnected = QCheckBox("Hide unconnected cells")
        self.hide_unconnected.setToolTip("Leave out cells without synapses in this matrix")
        self.hide_unconnected.setChecked(True)
        self.compute_button = QPushButton("Show matrix")
        self.compute_button.setToolTip("Fetch the cells and their synapses and draw the matrix")
        self.compute_button.setDefault(True)
        self.reset_zoom_button = QPushButton("Reset zoom")
        self.reset_zoom_button.setToolTip("Show the whole matrix (the wheel zooms, dragging pans)")
        # Show matrix first: it stays on screen however narrow the window is.
        controls = QHBoxLayout()
        for w in (self.compute_button, QLabel("Weight:"), self.weight_combo, QLabel("Sort by:"),
                  self.order_combo, self.hide_unconnected, self.same_sets):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.reset_zoom_button)
        sets = QHBoxLayout()
        sets.addWidget(self.pre_editor)
        sets.addWidget(self.post_editor)

        self.plot = MatrixImagePlot()
        self.hover_label = QLabel(HOVER_HINT)
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # long ids must not widen the panel: the label is as wide as the plot, no wider
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.block_model = ResultTableModel(self)
        self.block_view = table_view(self.block_model)
        # Column widths from the rows in view, not all ~150 type pairs (0.05 s a matrix)
        self.block_view.horizontalHeader().setResizeContentsPrecision(0)
        self.pair_model = ResultTableModel(self)
        self.pair_view = table_view(self.pair_model)
        self.pair_label = QLabel(PAIR_HINT)
        self.pair_label.setWordWrap(True)
        self.pair_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.export_long_tip = "One row per connected pair: pre, post, weight, synapses"
        self.export_long = QPushButton("Export pairs (long CSV)…")
        self.export_wide = QPushButton("Export matrix (wide CSV)…")
        self.export_fig = QPushButton("Export figure (PNG/SVG/PDF)…")
        self.export_long.setToolTip(self.export_long_tip)
        self.export_wide.setToolTip("Presynaptic cells × postsynaptic cells, zeros included")
        self.export_fig.setToolTip("The matrix image with its colour bar")
        for b in (self.export_long, self.export_wide, self.export_fig):
            b.setMinimumWidth(40)

        summary_page = QWidget()
        sl = QVBoxLayout(summary_page)
        sl.addWidget(self.summary_label)
        blocks_label = QLabel("Type-by-type blocks (probability = connected pairs / cell pairs):")
        blocks_label.setWordWrap(True)
        sl.addWidget(blocks_label)
        sl.addWidget(self.block_view, 1)
        pair_page = QWidget()
        pl = QVBoxLayout(pair_page)
        self.pair_link_button = QPushButton(
            "Neuroglancer link of these synapses…",
            toolTip="A Neuroglancer link of the clicked pair's synapses")
        self.pair_link_button.setEnabled(False)
        self.pair_link_button.clicked.connect(
            lambda: self.rowsLinkRequested.emit(self.pair_model.frame()))
        pl.addWidget(self.pair_label)
        pl.addWidget(self.pair_view, 1)
        pl.addWidget(self.pair_link_button)
        self.side = QTabWidget()
        self.side.addTab(summary_page, "Summary")
        self.side.addTab(pair_page, "Pair synapses")
        exports = QVBoxLayout()
        for b in (self.export_long, self.export_wide, self.export_fig):
            exports.addWidget(b)
        side_box = QWidget()
        sb = QVBoxLayout(side_box)
        sb.setContentsMargins(0, 0, 0, 0)
        sb.addWidget(self.side, 1)
        sb.addLayout(exports)
        plot_box = QWidget()
        pb = QVBoxLayout(plot_box)
        pb.setContentsMargins(0, 0, 0, 0)
        pb.addWidget(self.plot, 1)
        pb.addWidget(self.hover_label)
        side_box.setMinimumWidth(220)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(plot_box)
        split.addWidget(side_box)
        split.setStretchFactor(0, 1)
        split.setChildrenCollapsible(False)
        split.setSizes([700, 360])
        self.splitter = split
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(sets)
        lay.addLayout(controls)
        lay.addWidget(split, 1)
        lay.addWidget(self.status)

        self.same_sets.toggled.connect(lambda on: self.post_editor.setEnabled(not on))
        self.post_editor.setEnabled(False)
        self.compute_button.clicked.connect(self.request)
        self.weight_combo.currentIndexChanged.connect(lambda _i: self._redraw())
        self.order_combo.activated.connect(lambda _i: self.result and self.request())
        self.hide_unconnected.toggled.connect(lambda _on: self.result and self.request())
        self.plot.hovered.connect(self._hovered)
        self.plot.cellClicked.connect(self.activate_cell)
        self.reset_zoom_button.clicked.connect(self.plot.reset_zoom)
        self.pair_menu = TableContextMenu(
            self.pair_view, "pre_pt_root_id", message=self.message.emit,
            link=lambda _ids: self.rowsLinkRequested.emit(rows_frame(self.pair_view)),
            export=lambda: self._ask_export("long"))
        self.block_menu = TableContextMenu(self.block_view, message=self.message.emit)
        self.export_long.clicked.connect(lambda: self._ask_export("long"))
        self.export_wide.clicked.connect(lambda: self._ask_export("wide"))
        self.export_fig.clicked.connect(self._ask_figure)
        self.runner.failed.connect(self._failed)
        self.gate(self.compute_button, self.pre_editor.table_combo, self.post_editor.table_combo)
        self._enable_exports()

    # ---- context -------------------------------------------------------------------------
    def clear_context(self, ws) -> None:
        """A new context: the matrix, its pair, hover text and link belong to the old one."""
        self.runner.cancel(quiet=True)
        self.pair_runner.cancel(quiet=True)  # a clicked pair of the old matrix
        self.ws = ws
        self.result = None
        self.cell_specs = None
        self.summary = {}
        self.plot.set_matrix(None)
        self.block_model.set_frame(None)
        self.pair_model.set_frame(None)
        self.summary_label.setText("")
        self.hover_label.setText(HOVER_HINT)
        self.pair_label.setText(PAIR_HINT)
        self.pair_link_button.setEnabled(False)
        self.side.setCurrentIndex(0)
        self._enable_exports()

    def set_context(self, ws, type_tables: list[str]) -> None:
        if ws is not self.ws or self.result is not None:
            self.clear_context(ws)
        datastack = self.datastack
        self.pre_editor.set_tables(type_tables)
        self.post_editor.set_tables(type_tables)
        self.status.show_text(f"{datastack}: choose the cells and press Show matrix."
                              if type_tables else f"{datastack} has no cell-type table: "
                              "paste root ids.")
        self.open_gate()  # a request made while the tables were listed runs now

    @property
    def weight(self) -> str:
        return self.weight_combo.currentData()

    @property
    def order(self) -> str:
        return self.order_combo.currentData()

    # ---- compute -------------------------------------------------------------------------
    def request(self) -> None:
        if self.held():  # no datastack, or its tables are being listed (it runs then)
            return
        try:
            pre = self.pre_editor.draft()
            post = None if self.same_sets.isChecked() else self.post_editor.draft()
        except CavernError as err:
            return self._input_error(err)
        self.status.show_text("Fetching the cells and their synapses…")
        self.runner.run(_compute, self.ws, pre, post, self.order,
                        self.hide_unconnected.isChecked(), self.weight,
                        on_result=lambda got, order=self.order: self._computed(got, order))

    def _computed(self, got, order: str) -> None:
        """_compute's (result, specs): keep what was asked for the exports' provenance,
        show the result."""
        result, specs = got
        self.cell_specs = (*specs, order)
        self._arrived(result)

    def _arrived(self, result: MatrixResult) -> None:
        self.result = result
        m = result.matrix
        s = result.summary or m.summary(len(result.pre.ids), len(result.post.ids))
        text = (f"<b>{s['n_pre']:,}</b> presynaptic × <b>{s['n_post']:,}</b> postsynaptic "
                f"cells · <b>{s['connected_pairs']:,}</b> connected pairs · "
                f"<b>{s['n_synapses']:,}</b> synapses")
        text += "<br>" + density_text(s)
        if result.n_hidden:
            text += f"<br>{result.n_hidden:,} cells without synapses here are hidden."
        if result.matrix.row_order != self.order:
            text += "<br>Ordered by root id: the pasted cells have no cell types."
        for note in result.notes:
            text += f"<br>{html.escape(note)}"
        self.summary = s  # what the summary says, numbers included
        self.summary_label.setText(text)
        self._redraw()
        self.plot.reset_zoom()
        self.pair_model.set_frame(None)
        self.pair_label.setText(PAIR_HINT)
        self.pair_link_button.setEnabled(False)
        self.hover_label.setText(HOVER_HINT)
        self._enable_exports()
        plain = (f"Matrix: {s['n_pre']:,} x {s['n_post']:,} cells, {s['connected_pairs']:,} "
                 f"pairs, {s['n_synapses']:,} synapses.")
        self.status.show_text(plain)
        self.message.emit(plain)

    def _redraw(self) -> None:
        if self.result is None:
            return
        m = self.result.matrix
        ready = self.result.image  # made in the worker, for the weight chosen then
        image = ready[1] if ready and ready[0] == self.weight else None
        self.plot.set_matrix(m, self.weight, image=image)
        blocks = self.result.blocks or {}  # made in the worker, or by the pass on disk
        if self.weight in blocks:
            self.block_model.set_frame(blocks[self.weight].to_frame())
            self.block_view.resizeColumnsToContents()
        elif m.row_types is not None and m.col_types is not None and m.nnz:
            self.block_model.set_frame(m.block_matrix(self.weight).to_frame())
            self.block_view.resizeColumnsToContents()
        else:
            self.block_model.set_frame(None)

    # ---- hover and click -------------------------------------------------------------------
    def pair_under(self, row: int, col: int, reach: float | None = None
                   ) -> tuple[int, int] | None:
        """The connected pair under (row, col): the strongest in the image pixel holding it,
        else the nearest within ``reach`` cells (by default HOVER_REACH_PX screen pixels),
        so a sparse matrix needs no 1-pixel aim."""
        m, img = self.result.matrix, self.plot.image
        if img is None:
            return None
        py = min(int(row * img.height / m.shape[0]), img.height - 1)
        px = min(int(col * img.width / m.shape[1]), img.width - 1)
        r, c = img.pixel_rows(py), img.pixel_cols(px)
        inside = ((m.rows >= r.start) & (m.rows < r.stop) & (m.cols >= c.start)
                  & (m.cols < c.stop))
        hits = np.flatnonzero(inside)
        if hits.size:
            best = hits[np.argmax(m.pair_weights(self.weight)[hits])]
            return int(m.rows[best]), int(m.cols[best])
        if reach is None:
            reach = HOVER_REACH_PX * self.plot.cells_per_pixel()
        if reach <= 0 or m.nnz == 0:
            return None
        dr = m.rows.astype(float) + 0.5 - (row + 0.5)
        dc = m.cols.astype(float) + 0.5 - (col + 0.5)
        near = np.flatnonzero((np.abs(dr) <= reach + 0.5) & (np.abs(dc) <= reach + 0.5))
        if near.size == 0:
            return None
        best = near[np.argmin(dr[near] ** 2 + dc[near] ** 2)]
        return int(m.rows[best]), int(m.cols[best])

    def describe(self, row: int, col: int) -> str:
        m = self.result.matrix
        pair = self.pair_under(row, col)
        r, c = pair if pair else (row, col)
        def kind(types, i):
            return "" if types is None else f" ({types[i]})"
        text = (f"pre {m.row_ids[r]}{kind(m.row_types, r)} → post {m.col_ids[c]}"
                f"{kind(m.col_types, c)}")
        if pair is None:
            return text + ": not connected"
        k = np.flatnonzero((m.rows == r) & (m.cols == c))[0]
        w = m.pair_weights(self.weight)[k]
        return (text + f": {weight_label(self.weight)} {w:g}, "
                f"{int(m.n_synapses[k])} synapse(s)")

    def _hovered(self, row: int, col: int) -> None:
        if self.result is None or row < 0:
            return
        self.hover_label.setText(self.describe(row, col))

    def activate_cell(self, row: int, col: int) -> None:
        pair = self.pair_under(row, col) if self.result is not None else None
        if pair is None:
            return
        m = self.result.matrix
        pre, post = int(m.row_ids[pair[0]]), int(m.col_ids[pair[1]])
        # the matrix holds pre/post/size only: the pair's full rows are fetched on click
        self.pair_label.setText(f"Fetching the synapses from {pre} onto {post}…")
        self.pair_link_button.setEnabled(False)
        self.side.setCurrentIndex(1)
        self.pair_runner.run(fetch_pair_synapses, self.ws, pre, post,
                             on_result=lambda syn: self._pair_arrived(pre, post, syn))

    def _pair_arrived(self, pre: int, post: int, syn) -> None:
        self.pair_model.set_frame(syn)
        self.pair_view.resizeColumnsToContents()
        self.pair_label.setText(f"{len(syn)} synapse(s) from {pre} onto {post}.")
        self.pair_link_button.setEnabled(len(syn) > 0)
        self.pairActivated.emit(pre, post)
