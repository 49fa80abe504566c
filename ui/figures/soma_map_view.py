"""Figure 1 of the MICrONS tutorial: soma positions, top-down (x–z) and coronal (x–y,
depth down), in transformed um where the datastack has a transform, coloured by any
column of the cell table or by membership of another table, with a legend and equal
aspect. Data come from services.connectivity.soma_positions in a worker."""
from __future__ import annotations

import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from models.errors import CavernError
from services.connectivity.soma_positions import soma_map
from services.workspace import Workspace
from ui.common.styles import ERROR_STYLE, MUTED_STYLE
from ui.common.workers import RequestRunner
from ui.figures.figure_plots import (GREY, add_legend, colour_for, export_plot, make_plot)

NONE = "(single colour)"
MAX_LEGEND = 12  # more labels than this: the rarest share one grey "other" entry


def _list_tables(ws: Workspace, cancel=None):
    tables = ws.tables()
    positioned = [n for n, t in sorted(tables.items()) if t.position_columns]
    return {"positioned": positioned, "all": sorted(tables),
            "columns": {n: [c for c, k in tables[n].kinds.items()
                            if k in ("string", "bool", "int") and not c.endswith("_id")
                            and c != "id"] for n in positioned},
            "soma": ws.info.soma_table, "cell_types": ws.info.cell_type_tables,
            "proofreading": ws.info.proofreading_table}


class SomaMapView(QWidget):
    """Two scatter plots of one cell table's somas, sharing a colour legend."""

    mapShown = Signal(object)  # the soma_map frame drawn

    def __init__(self, parent=None):
        super().__init__(parent)
        self.ws: Workspace | None = None
        self.frame: pd.DataFrame | None = None
        self.runner = RequestRunner(self)
        self.table_combo = QComboBox(toolTip="Cell table with soma positions")
        self.colour_combo = QComboBox(toolTip="Colour by a column of the cell table")
        self.member_combo = QComboBox(toolTip="Or colour by membership of another table "
                                              "(matched on pt_root_id)")
        for combo in (self.table_combo, self.colour_combo, self.member_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setMinimumContentsLength(14)
        self.draw_button = QPushButton("Draw", toolTip="Read the cells' soma positions and "
                                                       "draw both views")
        self.export_button = QPushButton("Export…", enabled=False,
                                         toolTip="Save both views as PNG, SVG or PDF")
        self.status = QLabel(wordWrap=True)
        self.status.setStyleSheet(MUTED_STYLE)
        controls = QHBoxLayout()
        for w in (QLabel("Cells:"), self.table_combo, QLabel("Colour by:"), self.colour_combo,
                  QLabel("or in table:"), self.member_combo, self.draw_button,
                  self.export_button):
            controls.addWidget(w)
        controls.addStretch(1)
        self.top = make_plot("Top-down (x–z)", "x (µm)", "z (µm)")
        self.coronal = make_plot("Coronal (x–y), depth down", "x (µm)", "depth y (µm)")
        self.coronal.getPlotItem().invertY(True)
        for p in (self.top, self.coronal):
            p.getPlotItem().setAspectLocked(True)
        plots = QHBoxLayout()
        plots.addWidget(self.top, 1)
        plots.addWidget(self.coronal, 1)
        from ui.figures.soma_box_tools import SomaBoxTools  # box selection and its uses
        self.box = SomaBoxTools(self)
        lay = QVBoxLayout(self)
        lay.addLayout(controls)
        lay.addLayout(self.box.row)
        lay.addLayout(plots, 1)
        lay.addWidget(self.status)
        self._columns: dict[str, list[str]] = {}
        self.table_combo.currentIndexChanged.connect(self._fill_colours)
        self.draw_button.clicked.connect(self.draw)
        self.export_button.clicked.connect(self._ask_export)

    # ---- context -------------------------------------------------------------------
    def set_workspace(self, ws: Workspace | None) -> None:
        self.ws, self.frame = ws, None
        self._clear()
        self.table_combo.clear()
        if ws is None:
            return
        self._say("Listing the tables…")
        self.runner.run(_list_tables, ws, on_result=self._tables_listed,
                        on_error=self._failed)

    def _tables_listed(self, listing) -> None:
        self._columns = listing["columns"]
        self.table_combo.blockSignals(True)
        self.table_combo.clear()
        self.table_combo.addItems(listing["positioned"])
        self.table_combo.blockSignals(False)
        self.member_combo.clear()
        self.member_combo.addItem("(none)", None)
        for n in listing["all"]:
            self.member_combo.addItem(n, n)
        if not listing["positioned"]:
            self._say("No table of this version has soma positions: the soma map needs a "
                      "table with a pt_position column (a soma or cell-type table).", True)
            return
        for pick in (listing["soma"], *listing["cell_types"]):
            if pick in listing["positioned"]:
                self.table_combo.setCurrentText(pick)
                break
        self._fill_colours()
        self._say("Choose a colour, then Draw.")

    def _fill_colours(self) -> None:
        self.colour_combo.clear()
        self.colour_combo.addItem(NONE, None)
        cols = self._columns.get(self.table_combo.currentText(), [])
        for c in cols:
            self.colour_combo.addItem(c, c)
        if "cell_type" in cols:
            self.colour_combo.setCurrentText("cell_type")

    # ---- drawing ---------------------------------------------------------------------
    def draw(self) -> None:
        if self.ws is None or not self.table_combo.currentText():
            return
        self._say("Reading soma positions…")
        self.runner.run(soma_map, self.ws, self.table_combo.currentText(),
                        self.colour_combo.currentData(), self.member_combo.currentData(),
                        on_result=self.show_frame, on_error=self._failed)

    def show_frame(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._clear()
        legend = add_legend(self.top)
        counts = frame["colour"].value_counts()
        labels = list(counts.index)
        main, rest = labels[:MAX_LEGEND], labels[MAX_LEGEND:]
        groups = [(lab, frame["colour"].to_numpy() == lab, colour_for(i))
                  for i, lab in enumerate(main)]
        if rest:
            groups.append((f"other ({len(rest)} labels)",
                           frame["colour"].isin(rest).to_numpy(), GREY))
        size = 5 if len(frame) < 5000 else 2
        for lab, mask, col in groups:
            n = int(mask.sum())
            for plot, ycol in ((self.top, "z_um"), (self.coronal, "y_um")):
                # no name: the legend gets each label once, explicitly, below
                item = pg.ScatterPlotItem(frame["x_um"].to_numpy()[mask],
                                          frame[ycol].to_numpy()[mask], size=size,
                                          pen=None, brush=pg.mkBrush(col))
                plot.addItem(item)
                if plot is self.top:
                    legend.addItem(item, f"{lab} ({n:,})")
        for p in (self.top, self.coronal):
            p.getPlotItem().autoRange()
        miss = frame.attrs.get("n_missing", 0)
        self._say(f"{len(frame):,} somas · {frame.attrs.get('frame', '')} · colour: "
                  f"{frame.attrs.get('colour', '')}"
                  + (f" · {miss:,} without a position left out" if miss else ""))
        self.export_button.setEnabled(True)
        self.box.map_drawn()
        self.mapShown.emit(frame)

    def legend_counts(self) -> dict[str, int]:
        """Label -> somas drawn with it (what the legend says)."""
        return {} if self.frame is None else self.frame["colour"].value_counts().to_dict()

    def _clear(self) -> None:
        for p in (self.top, self.coronal):
            item = p.getPlotItem()
            item.clear()
            if item.legend is not None:
                item.legend.scene() and item.legend.scene().removeItem(item.legend)
                item.legend = None
        self.export_button.setEnabled(False)
        self.box.map_cleared()

    # ---- export ----------------------------------------------------------------------
    def export(self, path: str, which: str = "top") -> None:
        export_plot(self.top if which == "top" else self.coronal, path)

    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export soma map (top-down and coronal: "
                                              "two files)", "soma_map.png",
                                              "PNG (*.png);;SVG (*.svg);;PDF (*.pdf)")
        if not path:
            return
        stem, dot, ext = path.rpartition(".")
        try:
            for which in ("top", "coronal"):
                self.export(f"{stem}_{which}.{ext}" if dot else f"{path}_{which}.png", which)
            self._say(f"Wrote {stem}_top.{ext} and {stem}_coronal.{ext}.")
        except (CavernError, RuntimeError, ValueError) as exc:
            self._say(f"Could not export: {exc}", True)

    def _failed(self, err) -> None:
        self._say(str(err), True)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else MUTED_STYLE)
