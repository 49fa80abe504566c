"""The live Neuroglancer viewer both ways, on loopback and with no browser: Cavern's selection
in the viewer's state, the viewer's selection and its i key back in Cavern on the GUI thread,
and a stop that leaves no server thread behind."""
import threading
import urllib.error
import urllib.request

import neuroglancer
import numpy as np
import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from models.query_spec import QuerySpec
from services.links import neuroglancer_links as ngl
from services.links.live_viewer import INSPECT_ACTION, INSPECT_KEY, Selection
from services.workspace import Workspace
from tests.unit.links.ngl_parse import ann_nm, position_nm, tags_of
from ui.neuroglancer.viewer_controller import NeuroglancerController

BC = 864691135101289504  # minnie65 sample basket cell
OTHER = 864691136362774498


@pytest.fixture
def no_browser(monkeypatch):
    opened = []
    monkeypatch.setattr("ui.neuroglancer.viewer_controller.QDesktopServices.openUrl",
                        lambda url: opened.append(url.toString()) or True)
    return opened


@pytest.fixture
def controller(qtbot, sample_source, no_browser):
    before = {t.ident for t in threading.enumerate()}
    ctl = NeuroglancerController()
    ctl.set_context(Workspace(sample_source, "minnie65_sample", None))
    yield ctl
    ctl.stop()
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not left, f"threads left after stop: {left}"


def _from_another_thread(fn):
    """Run fn on a plain Python thread, as the viewer's server thread would."""
    t = threading.Thread(target=fn)
    t.start()
    t.join()


def test_viewer_on_loopback_shows_cavern_selection_and_reports_back(qtbot, controller,
                                                                    no_browser, sample_source):
    ctl = controller
    url = ctl.open_viewer()
    assert url.startswith("http://127.0.0.1:") and "/v/" in url
    token = url.rstrip("/").rsplit("/", 1)[-1]
    assert len(token) >= 32 and no_browser == [url]  # the package's random token, opened
    assert urllib.request.urlopen(url, timeout=10).status == 200  # the page is served
    viewer = ctl.live.viewer
    ds = sample_source.datastack_info("minnie65_sample")
    state = viewer.state
    assert {lay.name for lay in state.layers} == {"imagery", "segmentation"}
    link = ngl.decode_state(ngl.cells_link(ds, [BC], site="neuroglancer").url)
    link_seg = next(lay for lay in link["layers"] if lay["name"] == "segmentation")
    assert state.layers["segmentation"].source[0].url == link_seg["source"][0]["url"]  # same
    assert viewer.config_state.state.input_event_bindings.viewer[INSPECT_KEY] == INSPECT_ACTION

    from services.cells.cell_inspection import fetch_cell_synapses
    syn = fetch_cell_synapses(ctl.ws, [BC])
    with qtbot.waitSignal(ctl.selectionShown, timeout=20000):
        ctl.show_selection(Selection((BC,), synapses=syn))
    state = viewer.state
    assert [int(s) for s in state.layers["segmentation"].segments] == [BC]
    lay = state.layers["synapses"]
    from services.links.live_viewer import MAX_LIVE_ANNOTATIONS
    n = len(syn.drop_duplicates("id"))
    assert len(lay.annotations) == min(n, MAX_LIVE_ANNOTATIONS)  # capped, and it says so
    assert n <= MAX_LIVE_ANNOTATIONS or any("showing" in t for t in ctl.live.notes)
    assert {t for a in lay.annotations for t in tags_of(lay, a)} == {"input", "output"}
    assert len(state.layers["somas"].annotations) == 1  # looked up in the soma table
    assert np.allclose(position_nm(state), ann_nm(state, "somas")[0])

    # the user double-clicks a segment in the viewer (its server thread changes the state)
    seen = []
    ctl.inspectRequested.connect(lambda rid: seen.append(
        (rid, QThread.currentThread() is QApplication.instance().thread())))

    def select_in_viewer():
        with viewer.txn() as s:
            s.layers["segmentation"].segments.add(OTHER)
    with qtbot.waitSignal(ctl.segmentsSelected, timeout=5000) as sel:
        _from_another_thread(select_in_viewer)
    assert sel.args[0] == [OTHER]
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen == [(OTHER, True)]  # delivered on the GUI thread

    # i over a segment: the package invokes the action handler with the hovered value
    action = {"selectedValues": {"segmentation": {"value": str(BC)}}}
    with qtbot.waitSignal(ctl.inspectRequested, timeout=5000) as ask:
        _from_another_thread(lambda: viewer.actions.invoke(INSPECT_ACTION, action))
    assert ask.args[0] == BC and seen[-1] == (BC, True)

    # Cavern's own pushes are never reported back as viewer selections
    with qtbot.assertNotEmitted(ctl.segmentsSelected, wait=300):
        with qtbot.waitSignal(ctl.selectionShown, timeout=20000):
            ctl.show_selection(Selection((BC, OTHER)))
    ctl.stop()
    assert not ctl.running
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(url, timeout=2)


def test_result_rows_in_nm_are_placed_in_nm(qtbot, controller, sample_source):
    ctl = controller
    ctl.set_context(Workspace(sample_source, "pinky100_sample", None))
    ctl.open_viewer()
    spec = QuerySpec("soma_valence", "pinky100_sample", limit=8, desired_resolution=(1, 1, 1))
    rows = sample_source.query(spec).frame
    with qtbot.waitSignal(ctl.selectionShown, timeout=20000):
        ctl.show_selection(Selection(tuple(int(r) for r in rows.pt_root_id), rows=rows,
                                     rows_resolution=(1, 1, 1), tag_column="cell_type"))
    state = ctl.live.viewer.state
    assert np.allclose(ann_nm(state, "rows"), np.vstack(rows.pt_position.to_numpy()))
    lay = state.layers["rows"]
    tags = [t for a in lay.annotations for t in tags_of(lay, a)]
    assert sorted(tags) == sorted(rows.cell_type.astype(str))


def test_shutdown_stops_the_viewer(qtbot, sample_source, no_browser):
    from ui.common import lifecycle
    before = {t.ident for t in threading.enumerate()}
    ctl = NeuroglancerController()
    ctl.set_context(Workspace(sample_source, "pinky100_sample", None))
    ctl.open_viewer()
    assert ctl.running
    lifecycle.shutdown(())
    assert not ctl.running
    assert not [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]


def test_window_matrix_pair_in_viewer_and_viewer_click_opens_inspector(
        qtbot, ini_settings, sample_source, no_browser, monkeypatch):
    from ui.main_window import MainWindow
    w = MainWindow(sample_source, ini_settings, "pinky100_sample", "test")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.browser.tree.topLevelItemCount() > 0, timeout=10000)
    ctl = w.neuroglancer
    assert ctl.open_action in w.view_menu.actions()
    ctl.open_action.trigger()
    assert ctl.running and no_browser
    view = w.connectivity.matrix
    qtbot.waitUntil(lambda: view.compute_button.isEnabled(), timeout=10000)
    with qtbot.waitSignal(view.runner.succeeded, timeout=15000):
        view.request()
    m = view.result.matrix
    k = int(np.argmax(m.n_synapses))
    pre, post = int(m.row_ids[m.rows[k]]), int(m.col_ids[m.cols[k]])
    with qtbot.waitSignal(ctl.selectionShown, timeout=20000):
        view.activate_cell(int(m.rows[k]), int(m.cols[k]))
    state = ctl.live.viewer.state
    assert {int(s) for s in state.layers["segmentation"].segments} == {pre, post}
    assert len(state.layers["synapses"].annotations) == int(m.n_synapses[k])

    asked = []
    monkeypatch.setattr(w.inspector, "inspect", lambda rid: asked.append(int(rid)))
    other = int(m.row_ids[0]) if int(m.row_ids[0]) not in (pre, post) else int(m.row_ids[1])

    def click():
        with ctl.live.viewer.txn() as s:
            s.layers["segmentation"].segments.add(other)
    _from_another_thread(click)
    qtbot.waitUntil(lambda: asked == [other], timeout=5000)
    assert w.tabs.currentIndex() == 1  # the Cell tab shows it
    w.grab().save("/tmp/cavern_live_viewer_window.png")
    w.close()
    ctl.stop()


def test_link_dialog_carries_the_rows_units(qtbot, sample_source):
    from ui.cells.link_dialog import LinkDialog
    ws = Workspace(sample_source, "pinky100_sample", None)
    spec = QuerySpec("soma_valence", "pinky100_sample", limit=10, desired_resolution=(1, 1, 1))
    rows = sample_source.query(spec).frame
    rows.attrs[ngl.RESOLUTION_ATTR] = (1, 1, 1)
    dlg = LinkDialog(ws, rows, group_by="cell_type")
    qtbot.addWidget(dlg)
    dlg.show()
    with qtbot.waitSignal(dlg.linkReady, timeout=20000) as ready:
        dlg.build()
    state = neuroglancer.parse_url(ready.args[0].url)
    assert np.allclose(ann_nm(state, "rows"), np.vstack(rows.pt_position.to_numpy()))
    assert np.allclose(position_nm(state), rows.pt_position.iloc[0])
    assert [lay.name for lay in state.layers] == ["imagery", "segmentation", "rows"]
    dlg.grab().save("/tmp/cavern_link_dialog.png")
