"""The pyqtgraph canvas of the Morphology view: skeleton by compartment, synapse groups,
soma, legend, scale bar; hover tips, click on a synapse, Shift+drag box selection."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal

from services.morphology.synapse_colouring import COMPARTMENT_COLOURS, compartment_name

PROJECTIONS = {"xy": (0, 1), "zy": (2, 1), "xz": (0, 2)}
AXIS_NAMES = ("x", "y", "z")


class SelectViewBox(pg.ViewBox):
    """Drag pans, wheel zooms; Shift+drag draws a box whose rectangle is emitted."""

    boxSelected = Signal(QRectF)

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() == Qt.MouseButton.LeftButton and \
                ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            ev.accept()
            a, b = self.mapToView(ev.buttonDownPos()), self.mapToView(ev.pos())
            rect = QRectF(QPointF(min(a.x(), b.x()), min(a.y(), b.y())),
                          QPointF(max(a.x(), b.x()), max(a.y(), b.y())))
            if ev.isFinish():
                self.rbScaleBox.hide()
                self.boxSelected.emit(rect)
            else:
                self.updateScaleBox(ev.buttonDownPos(), ev.pos())
            return
        super().mouseDragEvent(ev, axis)


class MorphologyPlot(pg.PlotWidget):
    synapseClicked = Signal(int)  # row index in the synapse frame
    boxSelected = Signal(object)  # numpy array of row indices inside the box

    def __init__(self, parent=None):
        self.vb = SelectViewBox()
        super().__init__(parent, viewBox=self.vb, background="w")
        self.setAspectLocked(True)
        self.showGrid(x=False, y=False)
        self.legend = self.addLegend(offset=(10, 10), labelTextSize="9pt",
                                     labelTextColor="#1a1a1a",  # readable, not pyqtgraph's grey
                                     brush=pg.mkBrush(255, 255, 255, 220))
        self.scale_bar = None
        from ui.common.plot_image_menu import install_plot_menu  # Copy / Export image (PDF too)
        install_plot_menu(self, "morphology")
        self._xy = np.zeros((0, 2))
        self._shown = np.zeros(0, dtype=np.int64)  # rows drawn now
        self.tip = None  # callable(row) -> str
        self.vb.boxSelected.connect(self._box)

    def draw(self, coords, edges, compartment, root, syn_xy, groups, group_of_row,
             projection: str, aligned: bool, vertex_mask=None, shown_rows=None) -> None:
        """Draw everything again (cheap: one item per compartment and per group)."""
        self.clear()
        self.legend.clear()
        i, j = PROJECTIONS[projection]
        p = coords[:, [i, j]]
        keep = np.ones(len(edges), bool) if vertex_mask is None else \
            vertex_mask[edges[:, 0]] & vertex_mask[edges[:, 1]]
        e = edges[keep]
        child_comp = compartment[e[:, 0]] if compartment is not None else np.zeros(len(e), int)
        for code in sorted(set(np.unique(child_comp).tolist())):
            sel = e[child_comp == code]
            seg = p[sel.reshape(-1)]
            colour = COMPARTMENT_COLOURS.get(int(code), "#808080") if compartment is not None \
                else "#404040"
            name = compartment_name(code) if compartment is not None else "skeleton"
            self.addItem(pg.PlotDataItem(seg[:, 0], seg[:, 1], connect="pairs", name=name,
                                         pen=pg.mkPen(colour, width=1.6)))
        soma = pg.ScatterPlotItem([p[root, 0]], [p[root, 1]], size=14, symbol="o",
                                  brush=pg.mkBrush(COMPARTMENT_COLOURS[1]), pen=None,
                                  name="soma (root)")
        soma.setZValue(3)  # above the synapses that crowd around it
        self.addItem(soma)
        self._xy = syn_xy[:, [i, j]] if len(syn_xy) else np.zeros((0, 2))
        rows = np.arange(len(self._xy)) if shown_rows is None else np.asarray(shown_rows)
        rows = rows[np.isfinite(self._xy[rows]).all(axis=1)] if len(rows) else rows
        self._shown = rows
        for name, colour in groups:
            r = rows[group_of_row[rows] == name]
            if not len(r):
                continue
            grey = colour.lower() in ("#b4b4b4",)
            item = pg.ScatterPlotItem(
                self._xy[r, 0], self._xy[r, 1], data=r, size=4 if grey else 5,
                brush=pg.mkBrush(colour), pen=None, hoverable=True, tip=self._tip,
                hoverSize=9, name=f"{name} ({len(r):,})")
            item.setZValue(1 if grey else 2)
            item.sigClicked.connect(self._clicked)
            self.addItem(item)
        self._axes(projection, aligned)
        self._scale_bar(p)

    def _axes(self, projection: str, aligned: bool) -> None:
        i, j = PROJECTIONS[projection]
        names = ["x", "depth" if aligned else "y", "z"]
        self.setLabel("bottom", f"{names[i]} (µm)")
        self.setLabel("left", f"{names[j]} (µm)")
        # depth (y) grows downwards, as in the cortex
        self.getViewBox().invertY(j == 1)

    def _scale_bar(self, p: np.ndarray) -> None:
        if self.scale_bar is not None:
            self.scale_bar.scene() and self.scale_bar.scene().removeItem(self.scale_bar)
        extent = float(np.ptp(p[:, 0])) if len(p) else 100.0
        size = next((s for s in (500, 200, 100, 50, 20, 10, 5, 2, 1) if s <= extent / 4), 1)
        self.scale_bar = pg.ScaleBar(size=size, suffix="", brush=pg.mkBrush("k"),
                                     pen=pg.mkPen("k"))
        self.scale_bar.text.setText(f"{size:g} µm")
        self.scale_bar.text.setColor(pg.mkColor("k"))
        self.scale_bar.setParentItem(self.getViewBox())
        self.scale_bar.anchor((1, 1), (1, 1), offset=(-20, -20))

    def _tip(self, x, y, data):
        return self.tip(int(data)) if self.tip is not None else f"synapse row {int(data)}"

    def _clicked(self, _item, points, _ev=None):
        if len(points):
            self.synapseClicked.emit(int(points[0].data()))

    def _box(self, rect: QRectF) -> None:
        r = self._shown
        if not len(r):
            self.boxSelected.emit(r)
            return
        xy = self._xy[r]
        inside = (xy[:, 0] >= rect.left()) & (xy[:, 0] <= rect.right()) & \
                 (xy[:, 1] >= rect.top()) & (xy[:, 1] <= rect.bottom())
        self.boxSelected.emit(r[inside])
