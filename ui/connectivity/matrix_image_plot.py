"""The connectivity matrix as a pyqtgraph image: colour bar, type boundaries, hover, click.

The image comes from services.connectivity.connectivity_image.downsample_matrix, so at most about
one image pixel per screen pixel is ever handed to Qt, whatever the matrix size. The
image item spans matrix coordinates (x = column, y = row, rows downwards), so a mouse
position maps straight to a (row, column) cell.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal

from services.connectivity.connectivity_image import MatrixImage, downsample_matrix
from services.connectivity.connectivity_matrix import ConnectivityMatrix

MAX_IMAGE = (1600, 1200)  # width, height: more pixels than the view has is wasted work


def matrix_image(matrix: ConnectivityMatrix, weight: str = "count") -> MatrixImage:
    """The image the plot shows for ``matrix`` (no Qt: a worker may make it)."""
    return downsample_matrix(matrix, MAX_IMAGE[0], MAX_IMAGE[1], weight=weight, reduce="max")
# White for "no connection", then light to dark blue so a single weak synapse is visible.
CMAP = pg.ColorMap([0.0, 1e-6, 1.0], [(255, 255, 255), (158, 202, 225), (8, 48, 107)])
LINE_PEN = pg.mkPen((200, 60, 40), width=1)
HIGHLIGHT_RGBA = (255, 127, 14, 70)  # selected cells' rows and columns: translucent orange
MAX_HIGHLIGHT_RUNS = 2000


class MatrixImagePlot(pg.GraphicsLayoutWidget):
    hovered = Signal(int, int)  # matrix row, column under the mouse (-1: outside)
    cellClicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.plot = self.addPlot()
        self.plot.invertY(True)
        self.plot.showAxis("top")
        self.plot.hideAxis("bottom")
        self.plot.setLabel("left", "presynaptic cells")
        self.plot.setLabel("top", "postsynaptic cells")
        self.plot.getViewBox().setMenuEnabled(False)
        # square cells: a 334 × 334 matrix is a square, whatever the widget's shape
        self.plot.setAspectLocked(True, ratio=1.0)
        self.plot.hideButtons()  # the view's own Reset zoom button replaces pyqtgraph's "A"
        self.setMinimumSize(160, 160)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image_item)
        # the matrix's edge: with square cells the view has room beside it
        from PySide6.QtWidgets import QGraphicsRectItem
        self.frame_item = QGraphicsRectItem(0, 0, 0, 0)
        self.frame_item.setPen(pg.mkPen((150, 150, 150), width=1, cosmetic=True))
        self.plot.addItem(self.frame_item)
        self.empty_text = pg.TextItem("", color="#888", anchor=(0.5, 0.5))
        self.plot.addItem(self.empty_text)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=CMAP, interactive=False)
        self.colorbar.setImageItem(self.image_item, insert_in=self.plot)
        self.matrix: ConnectivityMatrix | None = None
        self.image: MatrixImage | None = None
        self._lines: list = []
        self._highlights: list = []  # shaded rows/columns of the selected cells
        self._highlight_ids = np.zeros(0, np.int64)  # kept across redraws of the matrix
        self.highlighted = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        self.scene().sigMouseMoved.connect(self._moved)
        self.plot.getViewBox().sigResized.connect(self._label_blocks)
        self.scene().sigMouseClicked.connect(self._clicked)
        from ui.common.plot_image_menu import install_plot_menu  # Copy / Export image
        install_plot_menu(self, "connectivity-matrix")

    def set_matrix(self, matrix: ConnectivityMatrix | None, weight: str = "count",
                   image: MatrixImage | None = None) -> None:
        """Show ``matrix``; ``image`` is its :func:`matrix_image` for ``weight`` if already
        made (in a worker)."""
        for line in self._lines:
            self.plot.removeItem(line)
        self._lines = []
        self._remove_highlights()  # the old matrix's rows and columns
        self.matrix = matrix
        if matrix is None or 0 in matrix.shape:
            self.image = None
            self.image_item.clear()
            self.frame_item.setVisible(False)
            # an empty matrix: say so, instead of axes around nothing
            self.empty_text.setText("" if matrix is None else
                                    "No synapses among these cells here.")
            self.empty_text.setPos(0.5, 0.5)
            self.plot.getViewBox().setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            for axis in ("left", "top"):
                self.plot.getAxis(axis).setTicks([[]])
            return
        self.empty_text.setText("")
        n_rows, n_cols = matrix.shape
        self.image = image if image is not None else matrix_image(matrix, weight)
        top = float(self.image.image.max()) or 1.0
        self.image_item.setImage(self.image.image, autoLevels=False, levels=(0.0, top))
        self.image_item.setRect(QRectF(0, 0, n_cols, n_rows))
        self.frame_item.setRect(QRectF(0, 0, n_cols, n_rows))
        self.frame_item.setVisible(True)
        self.colorbar.setLevels((0.0, top))
        self.colorbar.axis.setLabel(weight.replace("_", " "))
        self._draw_blocks(matrix)
        self.reset_zoom()
        self.highlight_cells(self._highlight_ids)  # the selection stays across redraws

    def _remove_highlights(self) -> None:
        for item in self._highlights:
            self.plot.removeItem(item)
        self._highlights = []
        self.highlighted = (np.zeros(0, np.int64), np.zeros(0, np.int64))

    def highlight_cells(self, ids) -> int:
        """Shade the rows and columns of these root ids (the shared cell selection);
        returns how many rows + columns are shaded."""
        self._remove_highlights()
        self._highlight_ids = ids
        m = self.matrix
        if m is None or 0 in m.shape or len(ids) == 0:
            return 0
        ids = np.asarray(ids, dtype=np.int64)
        rows = np.flatnonzero(np.isin(m.row_ids, ids))
        cols = np.flatnonzero(np.isin(m.col_ids, ids))
        n_rows, n_cols = m.shape
        from PySide6.QtWidgets import QGraphicsRectItem
        for idx, horizontal in ((rows, True), (cols, False)):
            if not idx.size:
                continue
            runs = np.split(idx, np.flatnonzero(np.diff(idx) != 1) + 1)
            for run in runs[:MAX_HIGHLIGHT_RUNS]:
                a, b = int(run[0]), int(run[-1]) + 1
                rect = (QGraphicsRectItem(0, a, n_cols, b - a) if horizontal
                        else QGraphicsRectItem(a, 0, b - a, n_rows))
                rect.setBrush(pg.mkBrush(*HIGHLIGHT_RGBA))
                rect.setPen(pg.mkPen(None))
                rect.setZValue(5)
                self.plot.addItem(rect)
                self._highlights.append(rect)
        self.highlighted = (rows, cols)
        return int(rows.size + cols.size)

    def reset_zoom(self) -> None:
        """Show the whole matrix (cells stay square)."""
        if self.matrix is None or 0 in self.matrix.shape:
            return
        n_rows, n_cols = self.matrix.shape
        self.plot.getViewBox().setRange(xRange=(0, n_cols), yRange=(0, n_rows), padding=0.01)

    def cells_per_pixel(self) -> float:
        """Matrix cells per screen pixel at the current zoom (for hover reach)."""
        vb = self.plot.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        w, h = max(vb.width(), 1.0), max(vb.height(), 1.0)
        return max((x1 - x0) / w, (y1 - y0) / h, 0.0)

    def _draw_blocks(self, m: ConnectivityMatrix) -> None:
        """Type boundaries as lines; type names as axis ticks centred on their block."""
        for blocks, angle in ((m.row_blocks, 0), (m.col_blocks, 90)):
            for b in blocks[1:]:
                line = pg.InfiniteLine(pos=b.start, angle=angle, pen=LINE_PEN, movable=False)
                self.plot.addItem(line)
                self._lines.append(line)
        self._label_blocks()

    def _label_blocks(self, *_args) -> None:
        """Label the blocks wide enough for their text; hover names the narrow ones."""
        m = self.matrix
        if m is None or 0 in m.shape:
            return
        vb = self.plot.getViewBox()
        for blocks, axis, n, extent in ((m.row_blocks, "left", m.shape[0], vb.height()),
                                        (m.col_blocks, "top", m.shape[1], vb.width())):
            per_cell = max(extent, 1.0) / max(n, 1)
            ticks = []
            for b in blocks:
                text = f"{b.label} ({b.size})"
                room = b.size * per_cell
                need = 14 if axis == "left" else 7 * len(text)
                if room >= need:
                    ticks.append(((b.start + b.stop) / 2, text))
            self.plot.getAxis(axis).setTicks([ticks] if blocks else None)

    def cell_at(self, x: float, y: float) -> tuple[int, int]:
        if self.matrix is None:
            return -1, -1
        n_rows, n_cols = self.matrix.shape
        row, col = int(np.floor(y)), int(np.floor(x))
        if 0 <= row < n_rows and 0 <= col < n_cols:
            return row, col
        return -1, -1

    def _moved(self, pos) -> None:
        vb = self.plot.getViewBox()
        if self.matrix is None or not vb.sceneBoundingRect().contains(pos):
            return self.hovered.emit(-1, -1)
        p = vb.mapSceneToView(pos)
        self.hovered.emit(*self.cell_at(p.x(), p.y()))

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.matrix is None:
            return
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        row, col = self.cell_at(p.x(), p.y())
        if row >= 0:
            self.cellClicked.emit(row, col)

    def export_figure(self, path: str) -> None:
        """PNG (twice the on-screen size), SVG or PDF (vector, 180 mm wide) of the plot with
        its colour bar, written atomically (a failed export leaves no half file)."""
        from services.results.export import write_file
        from ui.common.plot_image_menu import write_pdf, write_scene_svg
        kind = str(path).lower().rsplit(".", 1)[-1]

        def write(tmp: str) -> None:
            if kind == "svg":
                write_scene_svg(self.scene(), tmp, "Cavern connectivity matrix")
            elif kind == "pdf":
                write_pdf(self, tmp)
            else:
                import pyqtgraph.exporters as ex
                exporter = ex.ImageExporter(self.scene())
                exporter.parameters()["width"] = max(int(self.width() * 2), 800)
                if not exporter.export(toBytes=True).save(tmp, "PNG"):  # temp: .tmp
                    raise OSError(f"Could not write a PNG image to {path}")
        write_file(path, write)
