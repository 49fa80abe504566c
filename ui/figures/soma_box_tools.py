"""Box and lasso selection on the soma map: a rectangle (or a free shape dragged with the
lasso) on the top-down or coronal view selects the somas inside it (the shared cell selection, ui.common.cell_selection), highlighted on both
views; the boxed cells become a matrix cell set, an export, a Neuroglancer link, or a
``within`` filter in the query builder in the table's voxels (services.connectivity.soma_box).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton

from models.errors import CavernError
from services.connectivity.soma_box import (VoxelBox, box_in_voxels, somas_in_box,
                                            somas_in_polygon)
from services.results.export import export_frame

HIGHLIGHT = "#ff7f0e"
MAX_HIGHLIGHT = 50_000  # more selected somas than this: highlight the first ones only


class SomaBoxTools(QObject):
    matrixRequested = Signal(list)  # root ids: the matrix of these cells
    linkRequested = Signal(list)  # root ids: a Neuroglancer link
    filterRequested = Signal(str, object)  # table, VoxelBox: a within filter in the builder
    boxed = Signal(list)  # root ids inside the box, each time it is moved

    def __init__(self, view):
        super().__init__(view)
        self.view = view  # the SomaMapView
        self.selection = None
        self.roi: pg.RectROI | None = None
        self.which = "top"
        self.box_button = QPushButton("Box select", checkable=True, toolTip=(
            "Draw a box on the map: the somas in it are selected in every view (drag the "
            "box to move it, its corner to resize)"))
        self.lasso_button = QPushButton("Lasso", checkable=True, toolTip=(
            "Drag a free shape on either view: the somas inside it are selected in every "
            "view (the map does not pan while the lasso is on)"))
        self.lasso: tuple[str, list] | None = None  # (view, polygon) of the last lasso
        self._path: list = []
        self._lasso_item: pg.PlotCurveItem | None = None
        self.view_combo = QComboBox(toolTip="The view the box is drawn on")
        self.view_combo.addItem("on top-down (x–z)", "top")
        self.view_combo.addItem("on coronal (x–y)", "coronal")
        self.count_label = QLabel("")
        self.count_label.setMinimumWidth(
            self.count_label.fontMetrics().horizontalAdvance("000,000 cells selected") + 6)
        self.matrix_button = QPushButton("Matrix of these cells", toolTip=(
            "Open the connectivity matrix of the boxed cells (Connectivity tab)"))
        self.export_button = QPushButton("Export cells…", toolTip=(
            "Write the boxed cells (root id, position in µm, colour label) to CSV or Parquet"))
        self.link_button = QPushButton("Neuroglancer link…", toolTip=(
            "A Neuroglancer link showing the boxed cells"))
        self.filter_button = QPushButton("Box filter in the query", toolTip=(
            "Put the box (not a lasso), in the table's voxels, as a 'within' filter in the "
            "query builder"))
        self.actions = (self.matrix_button, self.export_button, self.link_button,
                        self.filter_button)
        self.row = QHBoxLayout()
        for w in (self.box_button, self.view_combo, self.lasso_button, self.count_label,
                  *self.actions):
            self.row.addWidget(w)
        self.row.addStretch(1)
        self.box_button.toggled.connect(self._toggled)
        self.lasso_button.toggled.connect(self._lasso_toggled)
        for name, plot in (("top", view.top), ("coronal", view.coronal)):
            self._hook_drag(name, plot.getPlotItem().getViewBox())
        self.view_combo.currentIndexChanged.connect(lambda _i: self._toggled(
            self.box_button.isChecked()))
        self.matrix_button.clicked.connect(lambda: self.matrixRequested.emit(self.ids()))
        self.link_button.clicked.connect(lambda: self.linkRequested.emit(self.ids()))
        self.export_button.clicked.connect(self._ask_export)
        self.filter_button.clicked.connect(self._request_filter)
        self._overlays: dict[str, pg.ScatterPlotItem] = {}
        self.map_cleared()

    # ---- the shared selection ------------------------------------------------------
    def bind(self, selection) -> None:
        self.selection = selection
        selection.changed.connect(lambda _ids, _src: self.highlight())

    def ids(self) -> list[int]:
        return [] if self.selection is None else sorted(self.selection.ids())

    def selected_rows(self) -> pd.DataFrame:
        frame = self.view.frame
        if frame is None or self.selection is None:
            return pd.DataFrame()
        return frame[frame["pt_root_id"].isin(self.selection.id_array())]

    # ---- the map's life ------------------------------------------------------------
    def map_cleared(self) -> None:
        """The plots were cleared (their items are gone)."""
        self.roi, self._overlays, self._lasso_item = None, {}, None
        self.box_button.setEnabled(self.view.frame is not None)
        self.lasso_button.setEnabled(self.view.frame is not None)
        self._enable()

    def map_drawn(self) -> None:
        self.box_button.setEnabled(True)
        self.lasso_button.setEnabled(True)
        for name, plot in (("top", self.view.top), ("coronal", self.view.coronal)):
            item = pg.ScatterPlotItem(size=9, pen=pg.mkPen(HIGHLIGHT, width=2), brush=None)
            item.setZValue(10)
            plot.addItem(item)
            self._overlays[name] = item
        if self.box_button.isChecked():
            self._toggled(True)
        self.highlight()

    def highlight(self) -> None:
        """Ring the selected somas on both views."""
        rows = self.selected_rows().head(MAX_HIGHLIGHT)
        for name, ycol in (("top", "z_um"), ("coronal", "y_um")):
            item = self._overlays.get(name)
            if item is not None:
                item.setData(rows["x_um"].to_numpy() if len(rows) else [],
                             rows[ycol].to_numpy() if len(rows) else [])
        self.count_label.setText(f"{len(self.ids()):,} cells selected" if self.ids() else "")
        self._enable()

    def _enable(self) -> None:
        has = bool(self.ids()) and self.view.frame is not None
        for b in self.actions:
            b.setEnabled(has)
        self.filter_button.setEnabled(self.roi is not None and self.view.frame is not None)

    # ---- the box ----------------------------------------------------------------------
    def _plot(self, which: str):
        return self.view.top if which == "top" else self.view.coronal

    def _toggled(self, on: bool) -> None:
        if on and self.lasso_button.isChecked():
            self.lasso_button.setChecked(False)
        if self.roi is not None:
            self._plot(self.which).removeItem(self.roi)
            self.roi = None
        self.which = self.view_combo.currentData()
        if on and self.view.frame is not None:
            (x0, x1), (y0, y1) = self._plot(self.which).getPlotItem().getViewBox().viewRange()
            self.set_box((x0 + (x1 - x0) / 3, x0 + 2 * (x1 - x0) / 3),
                         (y0 + (y1 - y0) / 3, y0 + 2 * (y1 - y0) / 3))
        self._enable()

    def set_box(self, h_range, v_range, which: str | None = None) -> list[int]:
        """Place the box (µm, on ``which`` view) and select the somas in it."""
        if which is not None and which != self.which:
            self.view_combo.setCurrentIndex(self.view_combo.findData(which))
        if self.roi is None:
            self.roi = pg.RectROI((0, 0), (1, 1), pen=pg.mkPen(HIGHLIGHT, width=2))
            self.roi.sigRegionChangeFinished.connect(lambda _r: self._box_moved())
            self._plot(self.which).addItem(self.roi)
            if not self.box_button.isChecked():
                self.box_button.blockSignals(True)
                self.box_button.setChecked(True)
                self.box_button.blockSignals(False)
        (h0, h1), (v0, v1) = sorted(h_range), sorted(v_range)
        self.roi.setPos((h0, v0), finish=False)
        self.roi.setSize((h1 - h0, v1 - v0), finish=False)
        return self._box_moved()

    def box_ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        pos, size = self.roi.pos(), self.roi.size()
        return (pos.x(), pos.x() + size.x()), (pos.y(), pos.y() + size.y())

    def _box_moved(self) -> list[int]:
        if self.roi is None or self.view.frame is None:
            return []
        h, v = self.box_ranges()
        ids = [int(i) for i in somas_in_box(self.view.frame, self.which, h, v)]
        if self.selection is not None:
            self.selection.set(ids, source=self)
        self.boxed.emit(ids)
        self.highlight()
        return ids

    # ---- the lasso --------------------------------------------------------------------
    def _lasso_toggled(self, on: bool) -> None:
        if on and self.box_button.isChecked():
            self.box_button.setChecked(False)  # one shape at a time
        if not on:
            self._remove_lasso()

    def _remove_lasso(self) -> None:
        if self._lasso_item is not None and self.lasso is not None:
            self._plot(self.lasso[0]).removeItem(self._lasso_item)
        self._lasso_item = None

    def _hook_drag(self, name: str, vb) -> None:
        """While the lasso is on, a left drag on the view draws it (else pan as usual)."""
        original = vb.mouseDragEvent

        def drag(ev, axis=None):
            if not self.lasso_button.isChecked() or ev.button() != Qt.MouseButton.LeftButton:
                return original(ev, axis)
            ev.accept()
            p = vb.mapSceneToView(ev.scenePos())
            if ev.isStart() or not self._path:
                self._path = []
            self._path.append((p.x(), p.y()))
            self._draw_lasso(name, self._path)
            if ev.isFinish():
                self.set_lasso(self._path, name)
        vb.mouseDragEvent = drag

    def _draw_lasso(self, name: str, points) -> None:
        self._remove_lasso()
        self.lasso = (name, list(points))
        pts = np.asarray(list(points) + list(points[:1]), dtype=float)
        self._lasso_item = pg.PlotCurveItem(pts[:, 0], pts[:, 1],
                                            pen=pg.mkPen(HIGHLIGHT, width=2))
        self._lasso_item.setZValue(11)
        self._plot(name).addItem(self._lasso_item)

    def set_lasso(self, polygon, which: str = "top") -> list[int]:
        """Select the somas inside ``polygon`` ((h, v) points in µm on ``which`` view)."""
        if self.view.frame is None:
            return []
        self._draw_lasso(which, polygon)
        ids = [int(i) for i in somas_in_polygon(self.view.frame, which, polygon)]
        if self.selection is not None:
            self.selection.set(ids, source=self)
        self.boxed.emit(ids)
        self.highlight()
        return ids

    def voxel_box(self) -> VoxelBox:
        """The box in the table's voxels (exact where the map is not rotated)."""
        ws, table = self.view.ws, self.view.table_combo.currentText()
        res = ws.table(table).info.voxel_resolution
        h, v = self.box_ranges()
        return box_in_voxels(self.view.frame, self.which, h, v, ws.info.transform, res)

    def _request_filter(self) -> None:
        try:
            box = self.voxel_box()
        except CavernError as err:
            return self.view._say(str(err), True)
        self.view._say(f"Box filter for {self.view.table_combo.currentText()}: "
                       f"{box.text()} vx. {box.note}")
        self.filterRequested.emit(self.view.table_combo.currentText(), box)

    # ---- export ------------------------------------------------------------------------
    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.view, "Export the boxed cells",
                                              "boxed_cells.csv",
                                              "CSV (*.csv);;Parquet (*.parquet)")
        if path:
            self.export_selected(path)

    def export_selected(self, path: str) -> int:
        rows = self.selected_rows().reset_index(drop=True)
        try:
            export_frame(rows, path)
        except (CavernError, OSError) as err:
            self.view._say(f"Could not export: {err}", True)
            return 0
        self.view._say(f"Wrote {len(rows):,} cells to {path}.")
        return len(rows)
