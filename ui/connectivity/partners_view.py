"""Partners of one cell: inputs and outputs tables, grouping by cell type, histograms.

The fetch (synapses of the cell, then types/depth/proofreading of its partners only) runs
in a worker through services.connectivity.connectivity_queries; the 'known only' / 'proofread only'
toggles filter the fetched table in place, so they answer instantly. The partner rows and
the by-type table export with their provenance (ui/connectivity/partner_exports.py). Until
the panel has listed the context's tables, Show partners waits (ui/connectivity/tables_gate.py).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QSizePolicy, QSplitter, QTableView, QTabWidget, QVBoxLayout,
                               QWidget)

from models.errors import CavernError
from models.ids import parse_id
from services.connectivity.connectivity_partners import partners_by_type
from services.connectivity.connectivity_queries import PartnersResult, fetch_partners
from ui.connectivity.connectivity_plots import PartnerPlots
from ui.connectivity.partner_exports import PartnerExports
from ui.connectivity.tables_gate import TablesGate
from ui.common import styles
from ui.common.table_context_menu import TableContextMenu
from ui.common.request_status_bar import RequestStatusBar
from ui.common.result_table_model import ResultTableModel
from ui.common.workers import RequestRunner
from ui.common.panel_status import PanelStatus
from ui.common.workspace_view import WorkspaceView

SHOWN = ["partner_root_id", "n_synapses", "size_sum", "size_mean", "cell_type", "proofread",
         "depth_um", "n_type_labels", "autapse"]
NO_TYPE_TABLE = "(no cell types)"


def table_view(model) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.verticalHeader().setDefaultSectionSize(22)
    view.horizontalHeader().setStretchLastSection(True)
    view.setMinimumSize(120, 70)  # shrink with the window; the table scrolls, not the page
    return view


class PartnersView(PartnerExports, TablesGate, PanelStatus, WorkspaceView, QWidget):
    inspectCell = Signal("qint64")  # 64-bit root id (Signal(int) would overflow)
    linkRequested = Signal(list)  # root ids: the cell, then the selected partners
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result: PartnersResult | None = None
        self.runner = RequestRunner(self)
        self.status = RequestStatusBar(self.runner)

        self.root_edit = QLineEdit(placeholderText="Root id, e.g. 648518346349538157")
        self.root_edit.setClearButtonEnabled(True)
        self.root_edit.setToolTip("The cell whose input and output partners to list (Return "
                                  "shows them)")
        self.show_button = QPushButton("Show partners")
        self.show_button.setToolTip("Fetch this cell's synapses and group them by partner")
        self.type_combo = QComboBox()
        self.type_combo.setToolTip("Table giving each partner its cell type and soma depth")
        self.known_only = QCheckBox("Known cells only")
        self.known_only.setToolTip("Hide partners that have no row in the cell-type table")
        self.proofread_only = QCheckBox("Proofread only")
        self.proofread_only.setToolTip("Hide partners not in the datastack's proofreading table")
        top = QHBoxLayout()
        top.addWidget(QLabel("Cell:"))
        top.addWidget(self.root_edit, 2)
        top.addWidget(self.show_button)
        top.addSpacing(12)
        top.addWidget(QLabel("Cell types from:"))
        top.addWidget(self.type_combo, 1)
        top.addWidget(self.known_only)
        top.addWidget(self.proofread_only)

        self.models = {d: ResultTableModel(self) for d in ("in", "out")}
        self.views = {d: table_view(m) for d, m in self.models.items()}
        self.tabs = QTabWidget()
        self.tabs.addTab(self.views["in"], "Inputs")
        self.tabs.addTab(self.views["out"], "Outputs")
        self.group_model = ResultTableModel(self)
        self.group_view = table_view(self.group_model)
        self.group_label = QLabel("Partners by cell type (click a row to select them)")
        self.group_export_button = QPushButton("Export by type…")
        self.group_export_button.setToolTip("Write this table (the shown partners grouped by "
                                            "cell type) to CSV or Parquet")
        self.plots = PartnerPlots()
        self.selection_label = QLabel("No partner selected.")
        self.selection_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                           QSizePolicy.Policy.Preferred)
        self.inspect_button = QPushButton("Inspect cell")
        self.inspect_button.setToolTip("Open the selected partner (or this cell) in the cell "
                                       "inspector; double-clicking a row does the same")
        self.link_button = QPushButton("Neuroglancer link")
        self.link_button.setToolTip("A Neuroglancer link of this cell and the selected partners")
        self.export_button = QPushButton("Export partners…")
        self.export_button.setToolTip("Write the selected (or all shown) partners to CSV or "
                                      "Parquet")
        self.autapse_label = QLabel("")
        self.autapse_label.setStyleSheet(styles.NOTE_STYLE)
        self.autapse_label.setWordWrap(True)
        self.autapse_label.setVisible(False)
        actions = QHBoxLayout()
        actions.addWidget(self.selection_label, 1)
        for b in (self.inspect_button, self.link_button, self.export_button):
            actions.addWidget(b)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.tabs)
        group_box = QWidget()
        gl = QVBoxLayout(group_box)
        gl.setContentsMargins(0, 0, 0, 0)
        group_head = QHBoxLayout()
        group_head.addWidget(self.group_label, 1)
        group_head.addWidget(self.group_export_button)
        gl.addLayout(group_head)
        gl.addWidget(self.group_view)
        left.addWidget(group_box)
        left.setSizes([420, 180])
        left.setChildrenCollapsible(False)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.plots)
        split.setSizes([640, 480])
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.autapse_label)
        lay.addWidget(split, 1)
        lay.addLayout(actions)
        lay.addWidget(self.status)

        self.root_edit.returnPressed.connect(self.request)
        self.show_button.clicked.connect(self.request)
        self.type_combo.activated.connect(lambda _i: self.result and self.request())
        self.known_only.toggled.connect(lambda _on: self._refresh())
        self.proofread_only.toggled.connect(lambda _on: self._refresh())
        self.tabs.currentChanged.connect(lambda _i: self._refresh_side())
        self.menus = {}
        for d, v in self.views.items():
            v.selectionModel().selectionChanged.connect(self._selection_changed)
            v.doubleClicked.connect(self._double_clicked)
            self.menus[d] = TableContextMenu(
                v, "partner_root_id", inspect=self.inspectCell.emit,
                link=lambda ids: self.linkRequested.emit([self.result.root_id] + list(ids)),
                export=self._ask_export, message=self.message.emit)
        self.group_view.clicked.connect(self._group_clicked)
        self.group_menu = TableContextMenu(self.group_view, export=self._ask_group_export,
                                           message=self.message.emit)
        self.group_export_button.clicked.connect(self._ask_group_export)
        self.plots.rangePicked.connect(self.select_range)
        self.inspect_button.clicked.connect(self._inspect)
        self.link_button.clicked.connect(self._link)
        self.export_button.clicked.connect(self._ask_export)
        self.runner.failed.connect(self._failed)
        self.gate(self.show_button, self.type_combo)  # they need the listed tables
        self._selection_changed()

    # ---- context ----------------------------------------------------------------------
    def clear_context(self, ws) -> None:
        """A new context: nothing of the old one stays (its root id, tables, titles)."""
        self.runner.cancel(quiet=True)
        self.ws = ws
        self.result = None
        self.root_edit.clear()
        for m in list(self.models.values()) + [self.group_model]:
            m.set_frame(None)
        self.tabs.setTabText(0, "Inputs")
        self.tabs.setTabText(1, "Outputs")
        self.autapse_label.setVisible(False)
        self.plots.set_data([], None, None)
        self._selection_changed()

    def set_context(self, ws, type_tables: list[str]) -> None:
        if ws is not self.ws or self.result is not None:
            self.clear_context(ws)
        datastack = self.datastack
        self.type_combo.clear()
        self.type_combo.addItems(list(type_tables) + [NO_TYPE_TABLE])
        self.status.show_text(f"{datastack}: type a root id to see its partners.")
        self.open_gate()  # a request made while the tables were listed runs now

    @property
    def direction(self) -> str:
        return "in" if self.tabs.currentIndex() == 0 else "out"

    # ---- fetch --------------------------------------------------------------------------
    def show_cell(self, root_id) -> None:
        self.root_edit.setText(str(root_id))
        self.request()

    def request(self) -> None:
        if self.held():  # no datastack, or its tables are being listed (it runs then)
            return
        try:
            root = parse_id(self.root_edit.text(), "root_id", "root id")
        except CavernError as err:
            return self._input_error(err)
        table = self.type_combo.currentText()
        table = None if table in ("", NO_TYPE_TABLE) else table
        self.status.show_text(f"Fetching the synapses of {root}…")
        self.runner.run(fetch_partners, self.ws, root, table,
                        on_result=self._arrived)

    def _arrived(self, result: PartnersResult) -> None:
        self.result = result
        self.proofread_only.setEnabled(result.has_proofreading)
        self.known_only.setEnabled(result.type_table is not None)
        self._refresh()
        text = (f"{result.root_id}: {len(result.inputs):,} input partners "
                f"({int(result.inputs.n_synapses.sum()):,} synapses), "
                f"{len(result.outputs):,} output partners "
                f"({int(result.outputs.n_synapses.sum()):,} synapses).")
        if result.notes:
            text += " " + " ".join(result.notes)
        self_syn = result.outputs.loc[result.outputs.partner_root_id == result.root_id,
                                      "n_synapses"]
        n_auto = int(self_syn.sum()) if len(self_syn) else 0
        self.autapse_label.setText(
            f"Autapses: {n_auto} synapses of this cell are onto itself (its row is flagged "
            "autapse=True in both tables)." if n_auto else "")
        self.autapse_label.setVisible(bool(n_auto))
        self.status.show_text(text)
        self.message.emit(text)

    # ---- shown rows -----------------------------------------------------------------------
    def partners(self, direction: str) -> pd.DataFrame:
        """The partner rows after the 'known' / 'proofread' toggles."""
        if self.result is None:
            return pd.DataFrame(columns=SHOWN)
        df = self.result.inputs if direction == "in" else self.result.outputs
        ids = df["partner_root_id"].to_numpy()
        # id 0 is "no segment" (an unassigned synapse side), not a partner cell
        df = df[ids != 0].assign(autapse=ids[ids != 0] == self.result.root_id)
        if self.known_only.isChecked() and self.known_only.isEnabled():
            df = df[df["known"].astype(bool)]
        if self.proofread_only.isChecked() and self.proofread_only.isEnabled():
            df = df[df["proofread"].astype(bool)]
        return df[[c for c in SHOWN if c in df.columns]].reset_index(drop=True)

    def _refresh(self) -> None:
        for d, name in (("in", "Inputs"), ("out", "Outputs")):
            df = self.partners(d)
            self.models[d].set_frame(df)
            self.views[d].resizeColumnsToContents()
            self.tabs.setTabText(0 if d == "in" else 1,
                                 f"{name} ({len(df):,} cells, {int(df.n_synapses.sum()):,} syn.)")
        self._refresh_side()

    def _synapses_of_shown(self, df: pd.DataFrame) -> pd.DataFrame:
        syn = self.result.synapses
        partner, me = (("pre_pt_root_id", "post_pt_root_id") if self.direction == "in"
                       else ("post_pt_root_id", "pre_pt_root_id"))
        keep = (syn[me] == self.result.root_id) & syn[partner].isin(df["partner_root_id"])
        return syn.loc[keep].rename(columns={partner: "partner_root_id"})

    def _refresh_side(self) -> None:
        df = self.partners(self.direction)
        if self.result is None or df.empty:
            self.group_model.set_frame(None)
            self.plots.set_data([], None, None)
            self._selection_changed()
            return
        self.group_model.set_frame(partners_by_type(df))
        self.group_view.resizeColumnsToContents()
        syn = self._synapses_of_shown(df)
        sizes = syn["size"].to_numpy() if "size" in syn.columns else None
        self.plots.set_data(df["n_synapses"].to_numpy(), sizes, df["depth_um"].to_numpy())
        self._selection_changed()

    # ---- selection ------------------------------------------------------------------------
    def _view_ids(self, direction: str) -> np.ndarray:
        model = self.models[direction]
        frame = model.frame()
        if frame is None or model.rowCount() == 0:
            return np.zeros(0, dtype=np.int64)
        src = model.source_rows(np.arange(model.rowCount()))
        return frame["partner_root_id"].to_numpy()[src]

    def selected_ids(self) -> list[int]:
        view = self.views[self.direction]
        rows = sorted({i.row() for i in view.selectionModel().selectedRows()})
        ids = self._view_ids(self.direction)
        return [int(ids[r]) for r in rows]

    def select_ids(self, ids) -> None:
        """Select these partners in the current table (and scroll to the first)."""
        view = self.views[self.direction]
        model = self.models[self.direction]
        rows = np.flatnonzero(np.isin(self._view_ids(self.direction), np.asarray(list(ids),
                                                                                dtype=np.int64)))
        sel = QItemSelection()
        last = model.columnCount() - 1
        for r in rows:
            sel.select(model.index(int(r), 0), model.index(int(r), last))
        view.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if len(rows):
            view.scrollTo(model.index(int(rows[0]), 0))

    def select_range(self, kind: str, lo: float, hi: float) -> None:
        """Select the partners a histogram bar stands for."""
        df = self.partners(self.direction)
        if df.empty:
            return
        def within(v):
            v = np.asarray(v, dtype=float)
            return (v >= lo) & ((v < hi) | np.isclose(v, hi))  # the last bin includes its top
        if kind == "per_connection":
            ids = df.loc[within(df["n_synapses"]), "partner_root_id"]
        elif kind == "depth":
            ids = df.loc[within(df["depth_um"]), "partner_root_id"]
        else:
            syn = self._synapses_of_shown(df)
            ids = syn.loc[within(syn["size"]), "partner_root_id"].unique()
        self.select_ids(ids)

    def _group_clicked(self, index) -> None:
        frame = self.group_model.frame()
        label = frame["cell_type"].iloc[int(self.group_model.source_rows([index.row()])[0])]
        df = self.partners(self.direction)
        types = df["cell_type"].where(df["cell_type"].notna(), "(no type)").astype(str)
        self.select_ids(df.loc[types == label, "partner_root_id"])

    def _selection_changed(self, *_args) -> None:
        ids = self.selected_ids()
        has_cell = self.result is not None
        self.inspect_button.setEnabled(has_cell)
        self.link_button.setEnabled(has_cell)
        self.export_button.setEnabled(has_cell)
        self.group_export_button.setEnabled(self.group_model.rowCount() > 0)
        self.export_button.setText("Export selected…" if ids else "Export partners…")
        self.inspect_button.setText("Inspect selected" if len(ids) == 1 else "Inspect cell")
        self.selection_label.setText(f"{len(ids):,} partners selected." if ids
                                     else "No partner selected.")

    # ---- actions --------------------------------------------------------------------------
    def _double_clicked(self, index) -> None:
        """Double-clicking a partner (any column of its row) opens it in the inspector."""
        ids = self._view_ids(self.direction)
        if 0 <= index.row() < len(ids):
            self.inspectCell.emit(int(ids[index.row()]))

    def _inspect(self) -> None:
        ids = self.selected_ids()
        self.inspectCell.emit(ids[0] if len(ids) == 1 else self.result.root_id)

    def _link(self) -> None:
        self.linkRequested.emit([self.result.root_id] + self.selected_ids())
