"""A link too long for browsers offers what works instead: the short link on CAVE, Cavern's
live viewer (which gets every row, no URL involved); a link over Chromium's limit is not
opened."""
import pytest

from models.query_spec import QuerySpec
from services.links import neuroglancer_links as ngl
from services.workspace import Workspace


@pytest.fixture
def controller(qtbot, monkeypatch):
    from ui.neuroglancer.viewer_controller import NeuroglancerController
    monkeypatch.setattr("ui.neuroglancer.viewer_controller.QDesktopServices.openUrl",
                        lambda url: True)
    ctl = NeuroglancerController()
    yield ctl
    ctl.stop()


def test_long_link_offers_the_live_viewer(qtbot, sample_source, controller, monkeypatch):
    from ui.cells.link_dialog import LinkDialog
    ws = Workspace(sample_source, "pinky100_sample", None)
    controller.set_context(ws)
    syn = sample_source.query(QuerySpec("synapses", "pinky100_sample")).frame
    dlg = LinkDialog(ws, syn, viewer=controller)
    qtbot.addWidget(dlg)
    dlg.show()
    with qtbot.waitSignal(dlg.linkReady, timeout=30000) as ready:
        dlg.build()
    link = ready.args[0]
    assert link.is_long and any("live viewer" in n for n in link.notes)
    assert dlg.viewer_button.isVisible() and not dlg.short_button.isVisible()  # local data
    with qtbot.waitSignal(controller.selectionShown, timeout=30000) as shown:
        dlg.viewer_button.click()
    assert controller.running
    rows = next(lay for lay in shown.args[0]["layers"] if lay["name"] == "rows")
    assert len(rows["annotations"]) == len(syn)  # every row: the link capped them

    # over Chromium's limit: not opened, and said so
    monkeypatch.setattr(ngl, "BROWSER_URL_LIMIT", link.length - 1)
    opened = []
    monkeypatch.setattr("ui.cells.link_dialog.QDesktopServices.openUrl",
                        lambda url: opened.append(url) or True)
    dlg._set_link(link)
    assert not dlg.open_button.isEnabled()
    dlg._open(link)
    assert not opened and "browsers refuse" in dlg.status_bar.label.text()


def test_short_link_is_the_default_on_a_state_server(qtbot, sample_source, monkeypatch):
    from ui.cells.link_dialog import LinkDialog
    ws = Workspace(sample_source, "pinky100_sample", None)
    monkeypatch.setattr(type(sample_source), "has_state_server", True)
    syn = sample_source.query(QuerySpec("synapses", "pinky100_sample")).frame
    dlg = LinkDialog(ws, syn)
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.linkReady, timeout=30000):
        dlg.build()
    assert dlg.short_button.isDefault() and dlg.viewer is None
    assert not dlg.viewer_button.isVisibleTo(dlg)
