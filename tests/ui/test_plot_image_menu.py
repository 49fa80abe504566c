"""Right-click menus on the plots (issue 16): the partner histograms, the matrix image and
the figures' plots offer Copy image and Export image… (PNG or SVG, written atomically)."""
import os

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from services.results import export
from ui.common import plot_image_menu
from ui.connectivity.connectivity_plots import PartnerPlots
from ui.connectivity.matrix_image_plot import MatrixImagePlot
from ui.figures.figure_plots import make_plot


def _plots(qtbot):
    partners = PartnerPlots()
    matrix = MatrixImagePlot()
    figure = make_plot("Synapses per connection", "synapses", "connections")
    for w in (partners, matrix, figure):
        qtbot.addWidget(w)
        w.resize(400, 300)
        w.show()
    partners.set_data(np.array([1, 2, 2, 3, 5]), np.array([100.0, 200, 300]), None)
    return [*partners.plots.values(), matrix, figure]


def _texts(menu):
    return [a.text() for a in menu.actions()]


def test_every_plot_has_copy_and_export_in_its_right_click_menu(qtbot):
    for w in _plots(qtbot):
        menu = w.image_menu.menu
        assert {"Copy image", "Export image…"} <= set(_texts(menu)), type(w)
        if w.image_menu.menu.parent() is w:  # its own menu: shown on right-click
            assert w.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu
    # a figure keeps pyqtgraph's view menu (axes, mouse) with the two actions on top
    figure = _plots(qtbot)[-1]
    assert _texts(figure.image_menu.menu)[:2] == ["Copy image", "Export image…"]
    assert figure.image_menu.menu is figure.getPlotItem().getViewBox().menu


def test_right_click_on_the_matrix_opens_its_menu(qtbot):
    matrix = _plots(qtbot)[3]
    with qtbot.waitSignal(matrix.customContextMenuRequested, timeout=2000):
        matrix.customContextMenuRequested.emit(matrix.rect().center())
    qtbot.waitUntil(matrix.image_menu.menu.isVisible, timeout=2000)
    matrix.image_menu.menu.close()


def test_copy_image_puts_the_plot_on_the_clipboard(qtbot):
    QApplication.clipboard().clear()
    for w in _plots(qtbot):
        QApplication.clipboard().clear()
        w.image_menu.copy_action.trigger()
        image = QApplication.clipboard().image()
        assert not image.isNull() and image.width() >= 300, type(w)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_export_image_writes_png_or_svg_atomically(qtbot, tmp_path, monkeypatch, suffix):
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(export.os, "replace",  # the one writer of every export
                        lambda a, b: (replaced.append((a, b)), real_replace(a, b)))
    for i, w in enumerate(_plots(qtbot)):
        target = tmp_path / f"plot{i}{suffix}"
        monkeypatch.setattr(QFileDialog, "getSaveFileName",
                            staticmethod(lambda *a, **k: (str(target), "")))
        w.image_menu.export_action.trigger()
        assert target.is_file(), type(w)
        head = target.read_bytes()[:200]
        assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in head or b"<?xml" in head
        assert replaced[-1][1] == target and os.path.dirname(replaced[-1][0]) == str(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"plot{i}{suffix}" for i in range(len(replaced)))  # no temporary file left


def test_a_failed_export_leaves_no_file(qtbot, tmp_path, monkeypatch):
    w = _plots(qtbot)[0]
    monkeypatch.setattr(plot_image_menu, "widget_image",
                        lambda _w: type("P", (), {"save": lambda *a: False})())
    assert w.image_menu.export(str(tmp_path / "x.png")) is None
    assert list(tmp_path.iterdir()) == []
