"""Every plot exports a PDF (vector, 180 mm wide) atomically, with dark readable text."""
import os
import re

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QFileDialog

from models.errors import ExportError
from services.results import export
from ui.common import plot_image_menu
from ui.connectivity.connectivity_plots import PartnerPlots
from ui.connectivity.matrix_image_plot import MatrixImagePlot
from ui.figures.figure_plots import export_plot, make_plot
from ui.figures.population_view import PopulationView
from ui.figures.soma_map_view import SomaMapView


_KEEP = []  # the containers outlive _plots (their plots are children)


def _plots(qtbot):
    partners = PartnerPlots()
    matrix = MatrixImagePlot()
    figure = make_plot("Synapses per connection", "synapses", "connections")
    soma, population = SomaMapView(), PopulationView()
    for w in (partners, matrix, figure, soma, population):
        qtbot.addWidget(w)
        w.resize(600, 400)
        w.show()
    _KEEP[:] = [partners, soma, population]
    partners.set_data(np.array([1, 2, 2, 3, 5]), np.array([100.0, 200, 300]), None)
    figure.getPlotItem().plot([1, 2, 3], [3, 1, 2])
    return [*partners.plots.values(), matrix, figure, soma.top, soma.coronal,
            *population.plots().values()]


def _page_mm(data: bytes) -> tuple[float, float]:
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    return float(box.group(1)) * 25.4 / 72, float(box.group(2)) * 25.4 / 72


def test_every_plot_exports_a_vector_pdf_180_mm_wide(qtbot, tmp_path, monkeypatch):
    replaced = []
    real = os.replace
    monkeypatch.setattr(export.os, "replace",
                        lambda a, b: (replaced.append((a, b)), real(a, b)))
    plots = _plots(qtbot)
    for i, w in enumerate(plots):
        assert "PDF" in plot_image_menu.FILTERS
        target = tmp_path / f"plot{i}.pdf"
        monkeypatch.setattr(QFileDialog, "getSaveFileName",
                            staticmethod(lambda *a, **k: (str(target), "")))
        w.image_menu.export_action.trigger()
        data = target.read_bytes()
        assert data.startswith(b"%PDF"), type(w)
        assert b"/Font" in data  # the axis text is text, not pixels
        width, height = _page_mm(data)
        assert width == pytest.approx(180.0, abs=0.5)
        view = w.viewport().rect()
        assert height == pytest.approx(180.0 * view.height() / view.width(), rel=0.02)
        assert replaced[-1][1] == target and os.path.dirname(replaced[-1][0]) == str(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"plot{i}.pdf" for i in range(len(plots)))  # no temporary file left


def test_figure_and_matrix_exports_write_pdf(qtbot, tmp_path):
    plots = _plots(qtbot)
    export_plot(plots[4], tmp_path / "figure.pdf")
    plots[3].export_figure(str(tmp_path / "matrix.pdf"))
    for name in ("figure.pdf", "matrix.pdf"):
        assert (tmp_path / name).read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.pdf", "matrix.pdf"]


def test_every_plot_draws_its_axes_in_dark_text(qtbot):
    for w in _plots(qtbot):
        axes = [i for i in w.scene().items() if isinstance(i, pg.AxisItem) and i.isVisible()]
        assert axes, type(w)
        for ax in axes:
            assert ax.textPen().color().lightness() < 80, (type(w), ax.orientation)
            assert ax.pen().color().lightness() < 80
            assert ax.labelStyle.get("color", "").lower() in ("#1a1a1a", "#333333"), ax.labelStyle


def _half_then_fail(_widget, path, *a, **k):
    with open(path, "wb") as f:
        f.write(b"%PDF-1.4 half a file")
    raise OSError("disk full")


def test_a_failed_pdf_write_leaves_no_half_file(qtbot, tmp_path, monkeypatch):
    plots = _plots(qtbot)
    old = tmp_path / "kept.pdf"
    old.write_bytes(b"the previous figure")
    monkeypatch.setattr(plot_image_menu, "write_pdf", _half_then_fail)
    assert plots[0].image_menu.export(str(tmp_path / "x.pdf")) is None
    with pytest.raises(ExportError, match="disk full"):
        export_plot(plots[4], tmp_path / "kept.pdf")
    with pytest.raises(ExportError, match="disk full"):
        plots[3].export_figure(str(tmp_path / "m.pdf"))
    assert [p.name for p in tmp_path.iterdir()] == ["kept.pdf"]
    assert old.read_bytes() == b"the previous figure"  # not replaced by half a file
