"""Fixtures of the Qt tests: panels made ready on the bundled samples."""
import pytest

from services.workspace import Workspace


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
