"""Right-click "Copy image" and "Export image…" (PNG, SVG or PDF) on a plot widget.

A pyqtgraph plot whose view-box menu is on gets the two actions at the top of that menu
(its axis and mouse options stay); any other widget (the matrix image, whose view-box menu
is off) gets a menu of its own. Exports are written as every export is (services.results.export.write_file):
a temporary file beside the target, then ``os.replace``, so a failed export never leaves
half a file. A PDF is
vector, :data:`PDF_WIDTH_MM` wide (a double-column figure); every plot's axes are drawn in
dark text so an exported figure is readable on paper.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QAction, QGuiApplication, QPainter
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from models.errors import CavernError

FILTERS = "PNG image (*.png);;SVG image (*.svg);;PDF document (*.pdf)"
SUFFIXES = (".png", ".svg", ".pdf")
PDF_WIDTH_MM = 180.0  # a double-column journal figure
DARK_TEXT = "#1a1a1a"


def widget_image(widget: QWidget):
    """The widget as it is drawn on screen (a QPixmap)."""
    return widget.grab()


def write_svg(widget: QWidget, path: str) -> None:
    from PySide6.QtSvg import QSvgGenerator
    gen = QSvgGenerator()
    gen.setFileName(path)
    size = widget.size() if not widget.size().isEmpty() else QSize(640, 480)
    gen.setSize(size)
    gen.setViewBox(QRectF(0, 0, size.width(), size.height()))
    gen.setTitle(widget.objectName() or "Cavern plot")
    painter = QPainter(gen)
    try:
        from PySide6.QtWidgets import QGraphicsView
        if isinstance(widget, QGraphicsView):  # its scene, drawn as vectors
            widget.render(painter, QRectF(0, 0, size.width(), size.height()), widget.viewport().rect())
        else:
            widget.render(painter, QPoint(0, 0))
    finally:
        painter.end()


def write_scene_svg(scene, path: str, title: str = "Cavern figure") -> None:
    """A QGraphicsScene (a pyqtgraph plot's, all of it) as vector SVG. pyqtgraph's own
    SVGExporter fails on this Qt (it parses Qt's SVG output); Qt's generator does not."""
    from PySide6.QtSvg import QSvgGenerator
    rect = scene.sceneRect()
    gen = QSvgGenerator()
    gen.setFileName(path)
    gen.setSize(QSize(int(rect.width()), int(rect.height())))
    gen.setViewBox(rect)
    gen.setTitle(title)
    painter = QPainter(gen)
    try:
        scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    finally:
        painter.end()


def _source_rect(widget: QWidget) -> QRectF:
    from PySide6.QtWidgets import QGraphicsView
    if isinstance(widget, QGraphicsView):
        return QRectF(widget.viewport().rect())
    size = widget.size() if not widget.size().isEmpty() else QSize(640, 480)
    return QRectF(0, 0, size.width(), size.height())


def write_pdf(widget: QWidget, path: str, width_mm: float = PDF_WIDTH_MM) -> None:
    """``widget`` as a one-page vector PDF ``width_mm`` wide, its aspect kept (a pyqtgraph
    view's scene is drawn as vectors, text stays text). Raises OSError if Qt cannot."""
    from PySide6.QtCore import QMarginsF, QSizeF
    from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter
    from PySide6.QtWidgets import QGraphicsView
    source = _source_rect(widget)
    height_mm = width_mm * source.height() / max(source.width(), 1.0)
    writer = QPdfWriter(path)
    # The screen's dpi, not 300: pyqtgraph's axes replay QPictures, which Qt rescales (and
    # misplaces) on a device of another dpi. A PDF is vectors whatever its dpi says.
    writer.setResolution(max(int(widget.logicalDpiX()), 72))
    writer.setCreator("Cavern")
    writer.setTitle(widget.objectName() or "Cavern plot")
    writer.setPageLayout(QPageLayout(
        QPageSize(QSizeF(width_mm, height_mm), QPageSize.Unit.Millimeter, "Cavern figure"),
        QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"Could not start a PDF at {path}")
    try:
        target = QRectF(0, 0, writer.width(), writer.height())
        if isinstance(widget, QGraphicsView):
            widget.render(painter, target, source.toRect())
        else:
            painter.scale(target.width() / source.width(), target.height() / source.height())
            widget.render(painter, QPoint(0, 0))
    finally:
        painter.end()


def export_image(widget: QWidget, path: str) -> str:
    """Write ``widget`` to ``path`` (.svg: SVG, .pdf: PDF, anything else: PNG; a path
    without a suffix gets .png). Atomic (services.results.export.write_file); raises
    ExportError."""
    from services.results.export import write_file
    target = Path(path)
    if target.suffix.lower() not in SUFFIXES:
        target = target.with_name(target.name + ".png")
    kind = target.suffix.lower()

    def write(tmp: str) -> None:
        if kind == ".svg":
            write_svg(widget, tmp)
        elif kind == ".pdf":
            write_pdf(widget, tmp)
        elif not widget_image(widget).save(tmp, "PNG"):
            raise OSError(f"Could not write a PNG image to {target}")
    return str(write_file(target, write))


def darken_text(widget: QWidget) -> None:
    """Draw every light (pyqtgraph's default grey) axis of ``widget``'s scene in dark text:
    grey ticks and labels vanish on paper."""
    import pyqtgraph as pg
    scene = widget.scene() if hasattr(widget, "scene") else None
    if scene is None:
        return
    for item in scene.items():
        if isinstance(item, pg.AxisItem):
            if item.pen().color().lightness() > 100:
                item.setPen(pg.mkPen(DARK_TEXT))
            if item.textPen().color().lightness() > 100:
                item.setTextPen(pg.mkPen(DARK_TEXT))


class PlotImageMenu:
    """The two actions of one plot widget (``copy_action``, ``export_action``)."""

    def __init__(self, widget: QWidget, name: str = "plot",
                 message: Callable[[str], None] | None = None):
        self.widget, self.name = widget, name
        self.message = message or self._report
        self.copy_action = QAction("Copy image", widget)
        self.copy_action.setToolTip("Copy the plot to the clipboard as an image")
        self.copy_action.triggered.connect(self.copy)
        self.export_action = QAction("Export image…", widget)
        self.export_action.setToolTip("Save the plot as a PNG, SVG or PDF file")
        self.export_action.triggered.connect(lambda: self.export())
        self.actions = [self.copy_action, self.export_action]
        vb_menu = _view_box_menu(widget)
        if vb_menu is not None:
            first = vb_menu.actions()[0] if vb_menu.actions() else None
            vb_menu.insertActions(first, self.actions)
            if first is not None:
                vb_menu.insertSeparator(first)
            self.menu = vb_menu
        else:
            self.menu = QMenu(widget)
            self.menu.addActions(self.actions)
            widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            widget.customContextMenuRequested.connect(
                lambda pos: self.menu.popup(widget.mapToGlobal(pos)))

    def _report(self, text: str) -> None:
        from ui.common.status_sink import report_note  # the window's status bar
        report_note(self.widget, text, "error" if text.startswith("Could not") else "")

    def copy(self) -> None:
        QGuiApplication.clipboard().setPixmap(widget_image(self.widget))
        self.message("Plot image copied to the clipboard.")

    def export(self, path: str | None = None) -> str | None:
        if not path:
            path, chosen = QFileDialog.getSaveFileName(self.widget, "Export image",
                                                       f"{self.name}.png", FILTERS)
            if not path:
                return None
            if not Path(path).suffix:
                path += (".svg" if chosen.startswith("SVG") else
                         ".pdf" if chosen.startswith("PDF") else ".png")
        try:
            written = export_image(self.widget, path)
        except (CavernError, RuntimeError) as exc:
            self.message(f"Could not export the image: {exc}")
            return None
        self.message(f"Image saved to {written}.")
        return written


def _view_box_menu(widget) -> QMenu | None:
    """The view-box menu of a pyqtgraph PlotWidget when it is enabled."""
    get = getattr(widget, "getPlotItem", None)
    if get is None:
        return None
    vb = get().getViewBox()
    if not vb.menuEnabled():
        return None
    return vb.menu


def install_plot_menu(widget: QWidget, name: str = "plot",
                      message: Callable[[str], None] | None = None) -> PlotImageMenu:
    widget.image_menu = PlotImageMenu(widget, name, message)
    darken_text(widget)
    return widget.image_menu
