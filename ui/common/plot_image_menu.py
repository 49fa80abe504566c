"""Right-click "Copy image" and "Export image…" (PNG or SVG) on a plot widget.

A pyqtgraph plot whose view-box menu is on gets the two actions at the top of that menu
(its axis and mouse options stay); any other widget (the matrix image, whose view-box menu
is off) gets a menu of its own. Exports are written atomically: a temporary file beside
the target, then ``os.replace``, so a failed export never leaves half a file.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QAction, QGuiApplication, QPainter
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

FILTERS = "PNG image (*.png);;SVG image (*.svg)"


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


def export_image(widget: QWidget, path: str) -> str:
    """Write ``widget`` to ``path`` (.svg: SVG, anything else: PNG; a path without a
    suffix gets .png). Atomic: a temporary file beside it, then os.replace. Raises OSError."""
    target = Path(path)
    if target.suffix.lower() not in (".png", ".svg"):
        target = target.with_name(target.name + ".png")
    svg = target.suffix.lower() == ".svg"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix,
                               dir=str(target.parent))
    os.close(fd)
    try:
        if svg:
            write_svg(widget, tmp)
            if os.path.getsize(tmp) == 0:
                raise OSError(f"Could not write an SVG image to {target}")
        elif not widget_image(widget).save(tmp, "PNG"):
            raise OSError(f"Could not write a PNG image to {target}")
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return str(target)


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
        self.export_action.setToolTip("Save the plot as a PNG or SVG file")
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
                path += ".svg" if chosen.startswith("SVG") else ".png"
        try:
            written = export_image(self.widget, path)
        except OSError as exc:
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
    return widget.image_menu
