"""Shared look and export of the tutorial figures: white background, dark readable text,
a categorical palette, and PNG/SVG/PDF written atomically (temporary file + os.replace)."""
from __future__ import annotations

import os
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtGui import QFont

TEXT = "#1a1a1a"
#: Tableau-10: distinguishable on white and for most colour-blind readers.
PALETTE = ("#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948",
           "#ff9da7", "#9c755f", "#bab0ac")
GREY = "#9a9a9a"


def colour_for(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def make_plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    """A PlotWidget with dark axes and labels on white (readable when exported)."""
    w = pg.PlotWidget(background="w")
    p = w.getPlotItem()
    p.setTitle(title, color=TEXT, size="11pt")
    font = QFont()
    font.setPointSize(9)
    for name in ("left", "bottom"):
        ax = p.getAxis(name)
        ax.setPen(pg.mkPen(TEXT))
        ax.setTextPen(pg.mkPen(TEXT))
        ax.setTickFont(font)
    p.getAxis("left").setWidth(62)  # room for 4-digit ticks beside the label
    p.setLabel("bottom", x_label, color=TEXT)
    p.setLabel("left", y_label, color=TEXT)
    p.showGrid(x=True, y=True, alpha=0.15)
    from ui.common.plot_image_menu import install_plot_menu  # in the view's right-click menu
    install_plot_menu(w, "".join(c if c.isalnum() else "-" for c in title).strip("-").lower())
    return w


def add_legend(plot: pg.PlotWidget) -> pg.LegendItem:
    legend = plot.getPlotItem().addLegend(offset=(-10, 10), labelTextColor=TEXT,
                                          brush=pg.mkBrush(255, 255, 255, 220),
                                          pen=pg.mkPen("#888888"))
    return legend


def export_plot(widget, path: str | os.PathLike, width: int = 1600) -> Path:
    """PNG (``width`` px wide, publication size), SVG or PDF (vector, 180 mm wide) of
    ``widget``'s scene, written to a temporary file beside ``path`` and moved over it: a
    failed export leaves no half file (ExportError)."""
    from services.results.export import write_file
    from ui.common.plot_image_menu import write_pdf, write_scene_svg
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".png", ".svg", ".pdf"):
        raise ValueError(f"Export as .png, .svg or .pdf, not '{suffix or 'no extension'}'.")

    def write(tmp: str) -> None:
        scene = widget.scene()
        if suffix == ".pdf":
            write_pdf(widget, tmp)
        elif suffix == ".png":
            import pyqtgraph.exporters as ex
            item = widget.getPlotItem() if hasattr(widget, "getPlotItem") else scene
            exporter = ex.ImageExporter(item)
            exporter.parameters()["width"] = int(width)
            if not exporter.export(toBytes=True).save(tmp, "PNG"):  # the temp ends in .tmp
                raise OSError(f"Could not write a PNG image to {target}")
        else:
            write_scene_svg(scene, tmp, "Cavern figure")
    return write_file(target, write)


def bar_histogram(plot: pg.PlotWidget, x, heights, colour: str, name: str | None = None,
                  width: float = 0.8) -> pg.BarGraphItem:
    """Discrete bins: one bar per integer, integer ticks on x."""
    bars = pg.BarGraphItem(x=x, height=heights, width=width, brush=colour,
                           pen=pg.mkPen("#333333", width=0.5), name=name)
    plot.addItem(bars)
    top = int(max(x)) if len(x) else 1
    step = max(1, int(round(top / 10)))
    plot.getPlotItem().getAxis("bottom").setTickSpacing(major=step, minor=step)
    return bars
