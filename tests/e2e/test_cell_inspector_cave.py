"""The cell inspector on a CAVE server (loopback test server + the real caveclient):
stale root ids through the chunkedgraph and short links through the state service."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication

from services.cave.cave_source import CaveSource
from services.cells.cell_inspection import facts_dict, inspect_cell
from services.workspace import Workspace
from tests.e2e.conftest import BASKET, GOOD_TOKEN, NEWER
from ui.cells.cell_inspector_panel import ERROR_STYLE, CellInspectorPanel

DS = "minnie65_sample"

class _LocalFactsCaveIds:
    """Tables from the local sample, chunkedgraph and state service from a CAVE server:
    exercises the inspector's CAVE paths independently of CAVE table reads."""
    kind = "cave"

    def __init__(self, local, cave):
        self._local, self._cave = local, cave
        self.server = cave.server

    has_state_server = True

    def root_id_status(self, datastack, root_id, version=None, timestamp=None):
        return self._cave.root_id_status(datastack, root_id, version, timestamp)

    def state_server_name(self):
        return self._cave.state_server_name()

    def upload_state(self, datastack, state, base_url):
        return self._cave.upload_state(datastack, state, base_url)

    def __getattr__(self, name):
        return getattr(self._local, name)


def test_stale_root_id_on_cave(edited_source):
    # The test chunkedgraph replaced BASKET in 2024; v0 was materialized in 2020. At v0's
    # time BASKET is the right id (its tables use it); today's id is only reported.
    insp = inspect_cell(Workspace(edited_source, DS, 0), BASKET)
    assert not insp.is_stale and insp.status.edited_since == NEWER
    facts = facts_dict(insp)
    assert facts["root_id"] == BASKET and facts["nucleus_id"] == 294749
    assert facts["n_input_synapses"] == 12424 and facts["n_output_synapses"] == 6514
    assert facts["root_id_status"]["edited_since"] == NEWER


def test_root_ids_checked_at_the_time_asked(edited_source):
    from datetime import datetime, timezone
    from services.cave.cave_roots import root_id_status
    client = edited_source.client(DS)
    now = datetime.now(timezone.utc)
    stale = root_id_status(client, BASKET, edited_source.server, now)
    assert stale.is_latest is False and stale.suggested_id == NEWER
    past = datetime(2021, 1, 1, tzinfo=timezone.utc)
    assert root_id_status(client, BASKET, edited_source.server, past).is_latest is True
    # the newer id did not exist yet in 2021: not a root then, and no successor offered
    before = root_id_status(client, NEWER, edited_source.server, past)
    assert before.is_latest is False and before.suggested_id != NEWER


def test_current_root_id_on_cave(cave_server):
    src = CaveSource(cave_server.url, GOOD_TOKEN)
    try:
        insp = inspect_cell(Workspace(src, DS, 0), "294749")
    finally:
        src.close()
    assert insp.record.root_id == BASKET and not insp.is_stale
    assert insp.status.is_latest is True


def test_real_chunkedgraph_marks_the_id_stale(edited_source, sample_source):
    src = _LocalFactsCaveIds(sample_source, edited_source)
    insp = inspect_cell(Workspace(src, DS, 0), BASKET)
    assert not insp.is_stale and insp.status.edited_since == NEWER
    assert str(NEWER) in insp.status.message
    fresh = inspect_cell(Workspace(src, DS, 0), 864691136362774498)
    assert fresh.status.is_latest is True and not fresh.is_stale


def test_panel_offers_current_id_and_short_link(qtbot, edited_source, sample_source):
    p = CellInspectorPanel()
    qtbot.addWidget(p)
    p.set_context(Workspace(_LocalFactsCaveIds(sample_source, edited_source), DS, 0))
    errors = []
    p.message.connect(errors.append)
    with qtbot.waitSignal(p.cellShown, timeout=30000):
        p.inspect(BASKET)
    assert not errors
    assert not p.stale_label.isHidden() and str(NEWER) in p.stale_label.text()
    assert p.use_current_button.isHidden()  # BASKET is right for v0: nothing to switch to
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
