"""Live queries: live_live_query where the server offers it (annotations added after the
latest version are there), else caveclient's live_query with a note saying what is
missing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from models.query_spec import QuerySpec
from services.cave.cave_source import CaveSource
from tests.cave_server.server import SAMPLES
from tests.e2e.conftest import GOOD_TOKEN

PINKY = "pinky100_sample"
SOMA = pd.read_parquet(SAMPLES / PINKY / "v185" / "soma_valence.parquet")


def _add_new_soma(server) -> int:
    t = server.datastacks[PINKY].newest().tables["soma_valence"]
    row = t.frame().iloc[0].to_dict()
    new_id = int(t.frame()["id"].max()) + 1000
    row["id"] = new_id
    server.add_live_annotation(PINKY, "soma_valence", row,
                               datetime.now(timezone.utc).replace(tzinfo=None)
                               - timedelta(minutes=1))
    return new_id


@pytest.fixture
def server(cave_server):
    yield cave_server
    cave_server.live_additions.clear()


def test_live_live_query_sees_annotations_added_after_the_version(server):
    new_id = _add_new_soma(server)
    src = CaveSource(server.url, GOOD_TOKEN)
    res = src.query(QuerySpec("soma_valence", PINKY, timestamp=datetime.now(timezone.utc)))
    assert new_id in set(res.frame["id"]) and len(res.frame) == len(SOMA) + 1
    assert any("live_live_query" in n and "at that moment" in n for n in res.notes)
    assert any(r.path.endswith(f"/datastack/{PINKY}/query") for r in server.requests)
    src.close()


def test_without_live_live_query_the_note_says_what_is_missing(server):
    new_id = _add_new_soma(server)
    server.set_fault(rf"/datastack/{PINKY}/query$", "not_found", method="POST")
    src = CaveSource(server.url, GOOD_TOKEN)
    res = src.query(QuerySpec("soma_valence", PINKY, timestamp=datetime.now(timezone.utc)))
    assert new_id not in set(res.frame["id"]) and len(res.frame) == len(SOMA)
    note = next(n for n in res.notes if "live_query" in n)
    assert "does not offer live_live_query" in note
    assert "materialized version 185" in note and "not reflected" in note
    # the server is asked once: later live queries go straight to live_query
    server.clear_requests()
    src.query(QuerySpec("soma_valence", PINKY, timestamp=datetime.now(timezone.utc)))
    assert not any(r.path.endswith(f"/datastack/{PINKY}/query") for r in server.requests)
    src.close()
