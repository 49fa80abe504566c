"""The cell inspector on a CAVE server (loopback test server + the real caveclient):
stale root ids through the chunkedgraph and short links through the state service."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication

from services.cave_source import CaveSource
from services.cell_inspection import facts_dict, inspect_cell
from tests.e2e.conftest import GOOD_TOKEN
from ui.cell_inspector_panel import ERROR_STYLE, CellInspectorPanel

BASKET = 864691135101289504  # minnie65_sample v0
NEWER = 864691135999999001  # the id the test chunkedgraph says replaced BASKET
DS = "minnie65_sample"

@pytest.fixture
def edited_source(make_cave_server):
    server = make_cave_server(root_updates={BASKET: [NEWER]})
    src = CaveSource(server.url, GOOD_TOKEN)
    yield src
    src.close()


class _LocalFactsCaveIds:
    """Tables from the local sample, chunkedgraph and state service from a CAVE server:
    exercises the inspector's CAVE paths independently of CAVE table reads."""
    kind = "cave"

    def __init__(self, local, cave):
        self._local, self._cave = local, cave
        self.server = cave.server

    def client(self, datastack):
        return self._cave.client(datastack)

    def __getattr__(self, name):
        return getattr(self._local, name)


def test_stale_root_id_on_cave(edited_source):
    insp = inspect_cell(edited_source, DS, BASKET, 0)
    assert insp.is_stale and insp.suggested_id == NEWER
    facts = facts_dict(insp)
    assert facts["root_id"] == BASKET and facts["nucleus_id"] == 294749
    assert facts["n_input_synapses"] == 12424 and facts["n_output_synapses"] == 6514
    assert facts["root_id_status"]["suggested_id"] == NEWER


def test_current_root_id_on_cave(cave_server):
    src = CaveSource(cave_server.url, GOOD_TOKEN)
    try:
        insp = inspect_cell(src, DS, "294749", 0)
    finally:
        src.close()
    assert insp.record.root_id == BASKET and not insp.is_stale
    assert insp.status.is_latest is True


def test_real_chunkedgraph_marks_the_id_stale(edited_source, sample_source):
    src = _LocalFactsCaveIds(sample_source, edited_source)
    insp = inspect_cell(src, DS, BASKET, 0)
    assert insp.is_stale and insp.suggested_id == NEWER
    assert str(NEWER) in insp.status.message
    fresh = inspect_cell(src, DS, 864691136362774498, 0)
    assert fresh.status.is_latest is True and not fresh.is_stale


def test_panel_offers_current_id_and_short_link(qtbot, edited_source, sample_source):
    p = CellInspectorPanel()
    qtbot.addWidget(p)
    p.set_context(_LocalFactsCaveIds(sample_source, edited_source), DS, 0)
    errors = []
    p.message.connect(errors.append)
    with qtbot.waitSignal(p.cellShown, timeout=30000):
        p.inspect(BASKET)
    assert not errors
    assert not p.stale_label.isHidden() and str(NEWER) in p.stale_label.text()
    assert not p.use_current_button.isHidden()
    assert not p.short_button.isHidden()
    links = []
    p.linkReady.connect(links.append)
    p.short_button.click()
    qtbot.waitUntil(lambda: len(links) == 2 or p.status.styleSheet() == ERROR_STYLE,
                    timeout=30000)
    assert len(links) == 2, p.status.text()
    assert errors == ["Neuroglancer link copied to the clipboard."]
    long_link, short = links  # the full state first, then the stored one
    assert long_link.url.startswith("https://spelunker.cave-explorer.org/#!%7B")
    assert short.url.startswith("https://spelunker.cave-explorer.org/#!middleauth+"
                                + edited_source.server)
    assert len(short.url) < 200 < long_link.length
    assert QGuiApplication.clipboard().text() == short.url
    assert not p.short_button.isEnabled()
