"""The live viewer in a real browser: headless Chromium opens the viewer's page (served on
loopback, the workspace read from the loopback CAVE server by the real caveclient); the page
loads, shows what Cavern selected (cells, result rows, the cell-type labels' source, which it
fetches), and a segment selected in the page comes back to Cavern on the GUI thread.

Needs Chromium (Debian: ``apt-get install chromium``; .ci/run installs it); skipped with the
reason where there is none. No network is needed: the image and segmentation chunks do not
load, Cavern's own annotation layers and labels are on 127.0.0.1.
"""
from __future__ import annotations

import json
import os
import threading
import time

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from models.query_spec import QuerySpec
from services.cave.cave_source import CaveSource
from services.links.live_viewer import Selection
from services.workspace import Workspace
from tests.e2e.cdp import HeadlessChromium, find_chromium
from tests.e2e.conftest import GOOD_TOKEN
from ui.neuroglancer.viewer_controller import NeuroglancerController

PINKY = "pinky100_sample"
STATE_JS = ("(typeof viewer === 'undefined') ? null : "
            "JSON.stringify(viewer.state.toJSON())")


@pytest.fixture
def chromium():
    binary = find_chromium()
    if binary is None:
        pytest.skip("No Chromium on this computer (Debian: apt-get install chromium): the "
                    "headless-browser test of the live viewer cannot run.")
    return binary


@pytest.fixture
def controller(qtbot, cave_server, monkeypatch):
    monkeypatch.setattr("ui.neuroglancer.viewer_controller.QDesktopServices.openUrl",
                        lambda url: True)
    src = CaveSource(cave_server.url, GOOD_TOKEN)
    before = {t.ident for t in threading.enumerate()}
    ctl = NeuroglancerController()
    ctl.set_context(Workspace(src, PINKY, 185))
    yield ctl
    ctl.stop()
    src.close()
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not left, f"threads left after stop: {left}"


def _page_state(browser, want):
    """The page's state (JSON), once ``want(state)`` holds."""
    seen = {}

    def check():
        text = browser.evaluate(STATE_JS)
        if not text:
            return None
        seen["state"] = json.loads(text)
        return want(seen["state"]) or None
    end = time.monotonic() + 20
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"the page never showed it; last state: "
                                 f"{json.dumps(seen.get('state'))[-1500:]}")
        time.sleep(0.1)
    return seen["state"]


def _layer(state, name):
    return next((lay for lay in state.get("layers", []) if lay.get("name") == name), None)


def test_viewer_page_loads_and_state_round_trips(qtbot, chromium, controller):
    ctl = controller
    ws = ctl.ws
    with qtbot.waitSignal(ctl.labelsShown, timeout=30000):
        url = ctl.open_viewer()
    rows = ws.source.query(QuerySpec("soma_valence", PINKY, version=185, limit=4)).frame
    ids = [int(r) for r in rows.pt_root_id]
    with qtbot.waitSignal(ctl.selectionShown, timeout=20000):
        ctl.show_selection(Selection(tuple(ids[:2]), rows=rows, tag_column="cell_type"))

    try:
        browser = HeadlessChromium(chromium, url)
    except RuntimeError as exc:
        pytest.skip(f"Chromium is installed but could not start here: {exc}")
    try:
        # Cavern -> page: the page's own state has Cavern's cells, rows and labels source
        state = _page_state(browser, lambda s: _layer(s, "rows") is not None)
        seg = _layer(state, "segmentation")
        assert sorted(int(s) for s in seg["segments"]) == sorted(ids[:2])
        page_rows = _layer(state, "rows")  # a layer the client cannot parse is dropped
        assert len(page_rows["annotations"]) == len(rows)
        assert sorted(p["id"] for p in page_rows["annotationProperties"]) == \
            sorted(set(rows.cell_type.astype(str)))  # one tag per type, named by it
        srcs = [x["url"] if isinstance(x, dict) else x for x in seg["source"]]
        assert ctl.live.labels_url in srcs
        qtbot.waitUntil(lambda: ctl.live._props.served > 0, timeout=15000)  # page fetched it

        # page -> Cavern: a segment selected in the page arrives on the GUI thread
        other = ids[2]
        on_gui = []
        ctl.segmentsSelected.connect(lambda got: on_gui.append(
            QThread.currentThread() is QApplication.instance().thread()))
        js = ("(() => { const s = viewer.state.toJSON();"
              " s.layers.find(l => l.name === 'segmentation').segments.push('%d');"
              " viewer.state.restoreState(s); return true; })()" % other)
        with qtbot.waitSignal(ctl.segmentsSelected, timeout=15000) as got:
            assert browser.evaluate(js) is True
        assert got.args[0] == [other] and on_gui == [True]
        assert other in ctl.live.selected_ids()
        # what the user sees (no network here: Cavern's own annotation layers only)
        folder = os.environ.get("CAVERN_SCREENSHOTS")
        if folder:
            browser.screenshot(os.path.join(folder, "live_viewer_page.png"))
    finally:
        browser.stop()
