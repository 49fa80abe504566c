"""Histograms next to a cell's partner table: synapses per connection, synapse size, depth.

Each plot is a pyqtgraph bar chart of a services.connectivity.connectivity_partners.Histogram. Clicking
a bar emits the bin's value range, so the partners view can select the partners in it.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from services.connectivity.connectivity_partners import (
    Histogram, depth_histogram, synapse_size_histogram, synapses_per_connection_histogram)
from ui.common import styles

BAR_BRUSH = pg.mkBrush(70, 130, 180)
PICKED_BRUSH = pg.mkBrush(230, 126, 34)

# kind of plot -> (title, x label)
PLOTS = {
    "per_connection": ("Synapses per connection", "synapses in the connection"),
    "size": ("Synapse size", "size (vx)"),
    "depth": ("Partner soma depth", "depth (µm)"),
}


class HistogramPlot(pg.PlotWidget):
    """One bar chart; ``barClicked(kind, lo, hi)`` says which bin was clicked."""

    barClicked = Signal(str, float, float)

    def __init__(self, kind: str, parent: QWidget | None = None):
        super().__init__(parent, background="w")
        self.kind = kind
        title, xlabel = PLOTS[kind]
        self.setTitle(title, color="#333", size="10pt")
        self.setLabel("bottom", xlabel)
        self.setLabel("left", "partners" if kind != "size" else "synapses")
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMinimumHeight(90)  # three fit beside the tables at 1024×700
        self.hist: Histogram | None = None
        self._bars: pg.BarGraphItem | None = None
        self._x0 = np.zeros(0)
        self._x1 = np.zeros(0)
        self.note = pg.TextItem("", color="#888", anchor=(1, 0))
        self.scene().sigMouseClicked.connect(self._clicked)
        # right-click: Copy image / Export image… (pyqtgraph's view menu has nothing to
        # offer a plot that neither pans nor zooms)
        self.getPlotItem().getViewBox().setMenuEnabled(False)
        from ui.common.plot_image_menu import install_plot_menu
        install_plot_menu(self, kind)

    def wheelEvent(self, event) -> None:
        """The plots do not zoom: the wheel goes to whatever holds them."""
        event.ignore()

    def set_histogram(self, hist: Histogram | None) -> None:
        self.clear()
        self.hist = hist
        self._bars = None
        if hist is None or hist.counts.sum() == 0:
            why = " (no soma positions)" if self.kind == "depth" else " (no data)"
            self.setTitle(PLOTS[self.kind][0] + why, color="#888", size="10pt")
            return
        self.setTitle(PLOTS[self.kind][0], color="#333", size="10pt")
        edges = np.log10(hist.edges) if hist.log else hist.edges  # log axis shows 10^x ticks
        self._x0, self._x1 = edges[:-1], edges[1:]
        axis = self.getPlotItem().getAxis("bottom")
        if hist.log:  # ticks at powers of ten only: pyqtgraph's log minor labels overlap
            lo, hi = int(np.floor(edges[0])), int(np.ceil(edges[-1]))
            axis.setTicks([[(k, f"{10.0 ** k:g}") for k in range(lo, hi + 1)],
                           [(np.log10(m * 10.0 ** k), "") for k in range(lo, hi)
                            for m in range(2, 10)]])
        else:
            axis.setTicks(None)
        self._bars = pg.BarGraphItem(x0=self._x0, x1=self._x1, height=hist.counts,
                                     brush=BAR_BRUSH, pen=pg.mkPen("w", width=0.5))
        self.addItem(self._bars)
        if hist.excluded:
            self.note.setText(f"{hist.excluded} not shown")
            self.addItem(self.note)
            self.note.setPos(self._x1[-1], float(hist.counts.max()))
        self.enableAutoRange()

    def highlight(self, index: int | None) -> None:
        if self._bars is None:
            return
        brushes = [PICKED_BRUSH if i == index else BAR_BRUSH for i in range(len(self._x0))]
        self._bars.setOpts(brushes=brushes)

    def bin_at(self, x: float) -> int | None:
        hits = np.flatnonzero((self._x0 <= x) & (x < self._x1))
        return int(hits[0]) if hits.size else None

    def _clicked(self, event) -> None:
        if self._bars is None or event.button() != Qt.MouseButton.LeftButton:
            return
        vb = self.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        self.click_value(p.x(), p.y())

    def click_value(self, x: float, y: float = 0.0) -> None:
        """Act as if the bar at data x (log10 x on a log axis) was clicked."""
        i = self.bin_at(x)
        if i is None or self.hist is None or y > self.hist.counts[i] * 1.05 + 0.5:
            return
        self.highlight(i)
        lo, hi = float(self.hist.edges[i]), float(self.hist.edges[i + 1])
        self.barClicked.emit(self.kind, lo, hi)


class PartnerPlots(QWidget):
    """The three histograms of the partners shown; ``rangePicked(kind, lo, hi)``."""

    rangePicked = Signal(str, float, float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plots = {k: HistogramPlot(k) for k in PLOTS}
        self.log_size = QCheckBox("Log size axis")
        self.log_size.setToolTip("Synapse sizes span orders of magnitude: bin them on a log axis.")
        self.hint = QLabel("Click a bar to select those partners.")
        self.hint.setStyleSheet(styles.MUTED_STYLE)
        top = QHBoxLayout()
        top.addWidget(self.hint, 1)
        top.addWidget(self.log_size)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        for p in self.plots.values():
            self.splitter.addWidget(p)
            p.barClicked.connect(self.rangePicked)
        lay.addWidget(self.splitter, 1)
        self._n_syn = self._sizes = self._depths = None
        self.log_size.toggled.connect(lambda _on: self._draw_size())

    def set_data(self, n_synapses, synapse_sizes, depths) -> None:
        """Per-partner synapse counts, per-synapse sizes (None: no size column), depths."""
        self._n_syn, self._sizes, self._depths = n_synapses, synapse_sizes, depths
        self.plots["per_connection"].set_histogram(
            synapses_per_connection_histogram(n_synapses) if len(n_synapses) else None)
        self._draw_size()
        has_depth = depths is not None and np.isfinite(np.asarray(depths, dtype=float)).any()
        self.plots["depth"].set_histogram(depth_histogram(depths, bins=30) if has_depth else None)

    def _draw_size(self) -> None:
        sizes = self._sizes
        if sizes is None or len(sizes) == 0:
            self.plots["size"].set_histogram(None)
            return
        self.plots["size"].set_histogram(
            synapse_size_histogram(sizes, bins=40, log=self.log_size.isChecked()))
