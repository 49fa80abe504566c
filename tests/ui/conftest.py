"""Fixtures of the Qt tests: panels and windows made ready on the bundled samples, and
screenshots saved to look at."""
import os
from pathlib import Path

import pytest

from services.workspace import Workspace


@pytest.fixture
def screenshot(tmp_path):
    """``screenshot(widget, name, size=None)``: the widget's picture saved as ``name``.png
    in $CAVERN_SCREENSHOTS (else the test's tmp dir); ``size``: (width, height) it must
    have. Returns the file's path."""
    def save(widget, name: str, size=None) -> Path:
        folder = Path(os.environ.get("CAVERN_SCREENSHOTS", tmp_path))
        folder.mkdir(parents=True, exist_ok=True)
        img = widget.grab()
        if size is not None:
            assert (img.width(), img.height()) == tuple(size)
        path = folder / f"{name}.png"
        img.save(str(path))
        return path
    return save


@pytest.fixture
def pinky_window(qtbot, ini_settings, sample_source):
    """The main window on pinky100_sample at 1280x800, its context set."""
    from ui.main_window import MainWindow
    w = MainWindow(sample_source, ini_settings, "pinky100_sample", "test")
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitUntil(lambda: w.workspace is not None, timeout=20000)
    return w


@pytest.fixture
def figures_panel(qtbot):
    """A Figures panel on its own at 1280x800, shown (no context yet)."""
    from ui.figures.figures_panel import FiguresPanel
    p = FiguresPanel()
    qtbot.addWidget(p)
    p.resize(1280, 800)
    p.show()
    return p


@pytest.fixture
def connectivity_panel(qtbot, sample_source):
    """Make a Connectivity panel with a sample datastack's context, its tables listed:
    ``connectivity_panel("minnie65_sample", 343, size=(1200, 700), show=True)``."""
    from ui.connectivity.connectivity_panel import ConnectivityPanel

    def make(datastack: str = "pinky100_sample", version=None, *, size=None, show=False,
             timeout: int = 10000):
        p = ConnectivityPanel()
        qtbot.addWidget(p)
        if size is not None:
            p.resize(*size)
        if show:
            p.show()
        with qtbot.waitSignal(p.contextReady, timeout=timeout):
            p.set_context(Workspace(sample_source, datastack, version))
        return p
    return make
