"""The live viewer follows the one cell selection: cells boxed on the soma map appear in
the viewer; a segment selected in the viewer becomes the selection every view highlights,
without being pushed back to the viewer."""
import threading

import pytest

from tests.ui.test_live_viewer import no_browser  # noqa: F401 (fixture)


def _from_another_thread(fn):
    t = threading.Thread(target=fn)
    t.start()
    t.join()


def test_soma_map_selection_in_viewer_and_back(qtbot, ini_settings, sample_source,
                                               no_browser, monkeypatch):  # noqa: F811
    from ui.main_window import MainWindow
    w = MainWindow(sample_source, ini_settings, "pinky100_sample", "test")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.browser.tree.topLevelItemCount() > 0, timeout=10000)
    ctl = w.neuroglancer
    ctl.open_action.trigger()
    assert ctl.running
    somas = sample_source.query(w.workspace.spec("soma_valence", (), ("pt_root_id",))).frame
    ids = [int(i) for i in somas.pt_root_id[:3]]
    box = w.figures.soma_map.box
    with qtbot.waitSignal(ctl.selectionShown, timeout=20000) as shown:
        w.cell_selection.set(ids, source=box)  # what a box on the soma map does
    state = ctl.live.viewer.state
    assert sorted(int(s) for s in state.layers["segmentation"].segments) == sorted(ids)
    assert shown.args[0]  # the state pushed
    # a selection the matrix made is pushed by the matrix's own hook, not twice
    with qtbot.assertNotEmitted(ctl.selectionShown, wait=400):
        w.cell_selection.set(ids[:1], source=w.selection_links[2])

    # rows in Results: the viewer's selection selects them there, and that must not echo
    w.show_result(sample_source.query(w.workspace.spec("soma_valence", (), ())))
    qtbot.waitUntil(lambda: w.results.view.model().rowCount() > 0, timeout=5000)
    asked = []
    monkeypatch.setattr(w.inspector, "inspect", lambda rid: asked.append(int(rid)))
    other = int(somas.pt_root_id[10])

    def click():
        with ctl.live.viewer.txn() as s:
            s.layers["segmentation"].segments.add(other)
    with qtbot.assertNotEmitted(ctl.selectionShown, wait=600):
        _from_another_thread(click)
        qtbot.waitUntil(lambda: other in w.cell_selection, timeout=5000)
    assert w.cell_selection.source is ctl and asked == [other]
    assert w.results.view.selectionModel().selectedRows()  # the results follow
    w.close()
    ctl.stop()
