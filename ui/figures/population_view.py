"""Figures 3–5 of the MICrONS tutorial over one population of connections:
synapses per connection (discrete bins), the same split by broad type (two groups side
by side, E→E beside I→E by default) and summed synapse size per connection (linear or
log x, optional density curve). The population is all pairs of the matrix of a cell
table, every connection of a synapse table, or one cell's partners (its inputs or
outputs in a synapse table), typed by a per-synapse type column and/or a cell-type
table. The broad-type mapping is stated and editable."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGridLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from models.errors import CavernError, InvalidInputError
from services.connectivity import populations as pop
from services.connectivity.partner_population import partner_population
from services.connectivity.population_queries import set_connections, table_connections
from services.workspace import Workspace
from ui.common.styles import ERROR_STYLE, MUTED_STYLE
from ui.common.workers import RequestRunner
from ui.figures.compartment_controls import (CompartmentControls, compartment_population,
                                             list_compartments)
from ui.figures.figure_plots import TEXT, bar_histogram, colour_for, export_plot, make_plot

MATRIX, SYNAPSES, PARTNERS = "matrix", "synapses", "partners"


def _list_populations(ws: Workspace, cancel=None):
    tables = ws.tables()
    syn = [n for n, t in sorted(tables.items())
           if "pre_pt_root_id" in t.kinds and "post_pt_root_id" in t.kinds]
    cells = [n for n, t in sorted(tables.items()) if n not in syn and (
        "pt_root_id" in t.kinds)]
    typed = {n: [c for c, k in tables[n].kinds.items() if k == "string" and "type" in c]
             for n in syn}
    return {"synapse_tables": syn, "cell_tables": cells, "type_cols": typed,
            "default_synapse": ws.info.synapse_table,
            "cell_types": [r.name for r in ws.cell_type_tables() if r.version == ws.version],
            "compartments": list_compartments(ws)}


def _parse_mapping(text: str) -> dict[str, str]:
    """'E: 23P, 4P; I: BC, MC' -> {'23P': 'E', ...} (the edited broad-type mapping)."""
    out: dict[str, str] = {}
    for part in text.split(";"):
        if ":" not in part:
            continue
        group, types = part.split(":", 1)
        group = group.strip()
        if group == "others":
            continue
        for t in types.split(","):
            if t.strip():
                out[t.strip()] = group
    if not out:
        raise InvalidInputError("The broad-type mapping is empty.",
                                hint="Write it as 'E: 23P, 4P; I: BC, MC'.")
    return out


class PopulationView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.ws: Workspace | None = None
        self.connections: pd.DataFrame | None = None
        self.runner = RequestRunner(self)
        self._listing: dict = {}
        self.kind_combo = QComboBox(toolTip="Which connections make the population")
        self.kind_combo.addItem("all pairs of a cell table's matrix", MATRIX)
        self.kind_combo.addItem("every connection of a synapse table", SYNAPSES)
        self.kind_combo.addItem("a cell's partners", PARTNERS)
        self.root_edit = QLineEdit(placeholderText="root id", toolTip=(
            "The cell whose partners make the population: one connection per partner"))
        self.root_edit.setMinimumWidth(150)
        self.direction_combo = QComboBox(toolTip="Its presynaptic partners (inputs) or "
                                                 "its postsynaptic partners (outputs)")
        self.direction_combo.addItem("inputs", "in")
        self.direction_combo.addItem("outputs", "out")
        self.table_combo = QComboBox(toolTip="Cell table (matrix) or synapse table")
        self.pre_type_combo = QComboBox(toolTip="Per-synapse presynaptic type column")
        self.type_table_combo = QComboBox(toolTip="Cell-type table looked up for the cells")
        for combo in (self.table_combo, self.pre_type_combo, self.type_table_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setMinimumContentsLength(12)
        self.load_button = QPushButton("Load", toolTip="Read the population's connections "
                                                       "(and the cell types) for the plots")
        self.group_a = QComboBox(editable=True, toolTip="First group (pre→post)")
        self.group_b = QComboBox(editable=True, toolTip="Second group (pre→post)")
        self.mapping_edit = QLineEdit(pop.describe_mapping(), toolTip=(
            "Broad type of each cell type (edit, then Redraw). A cell-type table's "
            "classification (excitatory/inhibitory) is not needed: types are mapped."))
        self.log_x = QCheckBox("log x", toolTip="Summed size on a log axis (log-spaced bins)")
        self.density = QCheckBox("density curve", toolTip="Overlay a kernel density estimate "
                                                          "of the summed sizes")
        self.redraw_button = QPushButton("Redraw", toolTip="Draw again with the groups and the "
                                                           "broad-type mapping as edited")
        self.export_button = QPushButton("Export…", enabled=False,
                                         toolTip="Save the plots as PNG, SVG and PDF")
        self.status = QLabel(wordWrap=True)
        row1 = QHBoxLayout()
        self.root_label = QLabel("of")
        for w in (self.root_edit, self.direction_combo, self.root_label):
            w.setVisible(False)  # a cell's partners only
        for w in (QLabel("Population:"), self.kind_combo, self.direction_combo,
                  self.root_label, self.root_edit, self.table_combo):
            row1.addWidget(w)
        row1.addStretch(1)
        # the types on a row of their own: long table names fit at 1280 px
        row_types = QHBoxLayout()
        for w in (QLabel("Types: pre type column"), self.pre_type_combo,
                  QLabel("cell types from"), self.type_table_combo, self.load_button):
            row_types.addWidget(w)
        row_types.addStretch(1)
        row2 = QHBoxLayout()
        for w in (QLabel("Groups:"), self.group_a, QLabel("beside"), self.group_b,
                  QLabel("Broad types:"), self.mapping_edit, self.log_x, self.density,
                  self.redraw_button, self.export_button):
            row2.addWidget(w)
        self.mapping_edit.setMinimumWidth(320)
        self.hist_all = make_plot("Synapses per connection", "synapses per connection",
                                  "connections")
        self.hist_a = make_plot("E→E", "synapses per connection", "connections")
        self.hist_b = make_plot("I→E", "synapses per connection", "connections")
        self.size_plot = make_plot("Summed synapse size per connection",
                                   "Σ size per connection", "connections")
        grid = QGridLayout()
        grid.addWidget(self.hist_all, 0, 0)
        grid.addWidget(self.hist_a, 0, 1)
        grid.addWidget(self.hist_b, 0, 2)
        grid.addWidget(self.size_plot, 1, 0, 1, 3)
        lay = QVBoxLayout(self)
        lay.addLayout(row1)
        lay.addLayout(row_types)
        self.compartments = CompartmentControls()  # count only spine (shaft, ...) synapses
        lay.addLayout(self.compartments.row)
        lay.addLayout(row2)
        lay.addLayout(grid, 1)
        lay.addWidget(self.status)
        self.kind_combo.currentIndexChanged.connect(self._fill_tables)
        self.table_combo.currentIndexChanged.connect(self._fill_type_cols)
        self.load_button.clicked.connect(self.load)
        self.root_edit.returnPressed.connect(self.load)
        for sig in (self.redraw_button.clicked, self.log_x.toggled, self.density.toggled):
            sig.connect(lambda *_: self.redraw())
        self.export_button.clicked.connect(self._ask_export)

    def plots(self) -> dict[str, pg.PlotWidget]:
        return {"synapses_per_connection": self.hist_all, "group_a": self.hist_a,
                "group_b": self.hist_b, "summed_size": self.size_plot}

    # ---- context ---------------------------------------------------------------------
    def set_workspace(self, ws: Workspace | None) -> None:
        self.ws, self.connections = ws, None
        for p in self.plots().values():
            p.getPlotItem().clear()
        self.export_button.setEnabled(False)
        if ws is not None:
            self._say("Listing the tables…")
            self.runner.run(_list_populations, ws, on_result=self._listed,
                            on_error=self._failed)

    def _listed(self, listing) -> None:
        self._listing = listing
        self.compartments.set_listing(listing.get("compartments", {}))
        self.type_table_combo.clear()
        self.type_table_combo.addItem("(none)", None)
        for n in listing["cell_tables"]:
            self.type_table_combo.addItem(n, n)
        # a synapse table that carries presynaptic types is the tutorial's I→E input
        typed = [n for n, cols in listing["type_cols"].items() if cols]
        self.kind_combo.setCurrentIndex(1 if typed else 0)
        self._fill_tables()
        if typed:
            self.table_combo.setCurrentText(typed[0])
        for pick in listing["cell_types"]:
            self.type_table_combo.setCurrentText(pick)
            break
        self._say("Choose the population, then Load.")

    def _fill_tables(self) -> None:
        kind = self.kind_combo.currentData()
        for w in (self.root_edit, self.direction_combo, self.root_label):
            w.setVisible(kind == PARTNERS)
        names = (self._listing.get("synapse_tables", []) if kind in (SYNAPSES, PARTNERS)
                 else self._listing.get("cell_tables", []))
        self.table_combo.blockSignals(True)
        self.table_combo.clear()
        self.table_combo.addItems(names)
        self.table_combo.blockSignals(False)
        if self.kind_combo.currentData() == MATRIX:
            for pick in self._listing.get("cell_types", []):
                if pick in names:
                    self.table_combo.setCurrentText(pick)
                    break
        elif kind == PARTNERS and self._listing.get("default_synapse") in names:
            self.table_combo.setCurrentText(self._listing["default_synapse"])
        self._fill_type_cols()

    def _fill_type_cols(self) -> None:
        self.pre_type_combo.clear()
        self.pre_type_combo.addItem("(none)", None)
        synapses = self.kind_combo.currentData() in (SYNAPSES, PARTNERS)
        for c in self._listing.get("type_cols", {}).get(self.table_combo.currentText(), []):
            self.pre_type_combo.addItem(c, c)
        if self.pre_type_combo.count() > 1:
            self.pre_type_combo.setCurrentIndex(1)
        self.pre_type_combo.setEnabled(synapses)
        self.type_table_combo.setEnabled(synapses)

    # ---- loading ---------------------------------------------------------------------
    def load(self) -> None:
        if self.ws is not None and self.compartments.table() is not None:
            return self._load_compartment()
        if self.ws is None or not self.table_combo.currentText():
            return
        self._say("Reading the connections…")
        if self.kind_combo.currentData() == MATRIX:
            self.runner.run(set_connections, self.ws, self.table_combo.currentText(),
                            on_result=self.show_connections, on_error=self._failed)
        elif self.kind_combo.currentData() == PARTNERS:
            if not self.root_edit.text().strip():
                return self._say("Type the root id of the cell whose partners to plot.", True)
            self.runner.run(partner_population, self.ws, self.root_edit.text().strip(),
                            self.direction_combo.currentData(), self.table_combo.currentText(),
                            pre_type_col=self.pre_type_combo.currentData(),
                            type_table=self.type_table_combo.currentData(),
                            on_result=self.show_connections, on_error=self._failed)
        else:
            self.runner.run(table_connections, self.ws, self.table_combo.currentText(),
                            pre_type_col=self.pre_type_combo.currentData(),
                            type_table=self.type_table_combo.currentData(),
                            on_result=self.show_connections, on_error=self._failed)

    def _load_compartment(self) -> None:
        kind, ctl = self.kind_combo.currentData(), self.compartments
        if kind == MATRIX:
            return self._say("A synapse compartment applies to a synapse table's connections "
                             "or a cell's partners: choose one of those.", True)
        if not ctl.tags():
            return self._say("Type the tags to count (e.g. spine), or choose "
                             "'(every synapse)'.", True)
        self._say("Reading the tagged synapses…")
        if self.table_combo.currentText() != self.ws.synapse_table_name:
            return self._say(f"'{ctl.table()}' tags the synapses of "
                             f"'{self.ws.synapse_table_name}': choose that synapse table.", True)
        root = self.root_edit.text().strip() if kind == PARTNERS else None
        if kind == PARTNERS and not root:
            return self._say("Type the root id of the cell whose partners to plot.", True)
        self.runner.run(compartment_population, self.ws, ctl.table(), ctl.tags(), root,
                        self.direction_combo.currentData(),
                        self.pre_type_combo.currentData(), self.type_table_combo.currentData(),
                        on_result=self.show_connections, on_error=self._failed)

    def show_connections(self, conns: pd.DataFrame) -> None:
        self.connections = conns
        self._fill_groups()
        self.redraw()

    def _fill_groups(self) -> None:
        present = []
        try:
            present = pop.label_groups(self.connections, mapping=self._mapping())[
                "group"].value_counts().index.tolist()
        except InvalidInputError:
            pass
        wanted = ["E→E", "I→E"]
        for combo, default in ((self.group_a, wanted[0]), (self.group_b, wanted[1])):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(list(dict.fromkeys(wanted + present)))
            combo.setCurrentText(default)
            combo.blockSignals(False)

    def _mapping(self) -> dict[str, str]:
        return _parse_mapping(self.mapping_edit.text())

    # ---- drawing ---------------------------------------------------------------------
    def redraw(self) -> None:
        conns = self.connections
        if conns is None:
            return
        for p in self.plots().values():
            p.getPlotItem().clear()
        try:
            self._draw(conns)
        except InvalidInputError as err:
            self._say(str(err), True)

    def _draw(self, conns: pd.DataFrame) -> None:
        h = pop.synapses_per_connection(conns)
        bar_histogram(self.hist_all, h["n_synapses"], h["n_connections"], colour_for(0))
        self.hist_all.getPlotItem().setTitle(
            f"Synapses per connection ({len(conns):,} connections)", color=TEXT)
        notes, self.split = [], None
        if "pre_type" in conns.columns and "post_type" in conns.columns:
            grouped = pop.label_groups(conns, mapping=self._mapping())
            groups = [self.group_a.currentText(), self.group_b.currentText()]
            self.split = pop.split_by_group(grouped, groups)
            for i, (plot, g) in enumerate(((self.hist_a, groups[0]), (self.hist_b, groups[1]))):
                part = self.split[self.split.group == g]
                bar_histogram(plot, part["n_synapses"], part["n_connections"],
                              colour_for(i + 1))
                plot.getPlotItem().setTitle(f"{g} ({int(part['n_connections'].sum()):,} "
                                            "connections)", color=TEXT)
        else:
            notes.append("Split by broad type needs pre and post cell types: choose a "
                         "per-synapse type column and a cell-type table (or a typed cell "
                         "table for the matrix).")
        self._draw_sizes(conns, notes)
        self.export_button.setEnabled(True)
        extra = conns.attrs.get("notes", [])
        self._say(" · ".join([f"{len(conns):,} connections, {int(conns['n_synapses'].sum()):,}"
                              f" synapses from {conns.attrs.get('table', '?')}",
                              *notes, *extra]), bool(notes))

    def _draw_sizes(self, conns: pd.DataFrame, notes: list[str]) -> None:
        plot = self.size_plot.getPlotItem()
        plot.setTitle("Summed synapse size per connection", color=TEXT)
        log_x = self.log_x.isChecked()
        plot.setLogMode(x=log_x, y=False)
        try:
            self.size_hist = pop.size_histogram(conns, bins=40, log_x=log_x)
        except InvalidInputError:
            self.size_hist = None
            why = ("Summed size needs a synapse table with a size column (e.g. "
                   "synapses_pni_2 'size').")
            notes.append(why)
            # said where the plot would be, not only in the status line
            plot.setTitle(f"Summed synapse size per connection: {why}", color=TEXT)
            return
        e = self.size_hist.edges
        x = np.log10(e) if log_x else e
        # log x: pyqtgraph's log mode plots log10(x), so the edges are given as log10
        plot.addItem(pg.PlotCurveItem(x, self.size_hist.counts, stepMode="center",
                                      fillLevel=0, brush=pg.mkBrush(colour_for(0)),
                                      pen=pg.mkPen("#333333", width=0.5)))
        plot.setLabel("bottom", "Σ size per connection" + (" (log scale)" if log_x else ""),
                      color=TEXT)
        if self.density.isChecked():
            gx, dens = pop.density_curve(conns, log_x=log_x)
            if len(gx):
                # the KDE is over the plotted coordinate (log10 size on log x), whose bins
                # are equally wide: counts per bin = density x total x bin width
                scale = self.size_hist.counts.sum() * np.diff(x).mean()
                gxx = np.log10(gx) if log_x else gx
                plot.addItem(pg.PlotCurveItem(gxx, dens * scale,
                                              pen=pg.mkPen(colour_for(1), width=2)))

    # ---- export ----------------------------------------------------------------------
    def _ask_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the four plots (PNG, SVG and PDF)")
        if folder:
            self.export_all(folder)

    def export_all(self, folder: str) -> list[str]:
        written = []
        try:
            for name, plot in self.plots().items():
                for ext in ("png", "svg", "pdf"):
                    written.append(str(export_plot(plot, f"{folder}/{name}.{ext}")))
            self._say(f"Wrote {len(written)} files to {folder}.")
        except (CavernError, RuntimeError, ValueError) as exc:
            self._say(f"Could not export: {exc}", True)
        return written

    def _failed(self, err) -> None:
        self._say(str(err), True)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else MUTED_STYLE)
        # every wrapped line stays on screen: the plots above give way, not the text
        width = max(self.status.width(), self.width() - 24, 200)
        self.status.setMinimumHeight(self.status.heightForWidth(width))
