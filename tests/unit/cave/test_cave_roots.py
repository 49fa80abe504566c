"""Root-id staleness through the chunkedgraph (services.cave.cave_roots), with a test
double that answers like PyChunkedGraph: an id is latest only if it knows it as latest."""
from datetime import datetime, timezone

import numpy as np
import pytest
import requests

from models.errors import NetworkError
from services.cave.cave_roots import root_id_status

BC = 864691135101289504
NEWER = 864691135999999999


class FakeChunkedgraph:
    def __init__(self, latest_ids=(), successor=None, fail=None):
        self.latest_ids, self.successor, self.fail = set(latest_ids), successor, fail
        self.timestamps = []

    def is_latest_roots(self, ids, timestamp=None):
        if self.fail:
            raise self.fail
        self.timestamps.append(timestamp)
        return np.array([int(i) in self.latest_ids for i in ids])

    def suggest_latest_roots(self, rid, timestamp=None):
        self.timestamps.append(timestamp)
        return np.int64(self.successor if self.successor is not None else rid)


class FakeClient:
    def __init__(self, cg):
        self.chunkedgraph = cg


def test_root_id_status_latest_and_stale():
    ok = root_id_status(FakeClient(FakeChunkedgraph({BC})), BC)
    assert ok.is_latest is True and ok.suggested_id == BC
    stale = root_id_status(FakeClient(FakeChunkedgraph({NEWER}, NEWER)), str(BC))
    assert stale.is_latest is False and stale.suggested_id == NEWER
    assert str(NEWER) in stale.message


def test_unknown_id_is_not_latest_and_gets_no_successor():
    # PyChunkedGraph answers False for an id it does not know; its "suggestion" is the
    # id itself, which is not latest either: no successor may be offered
    st = root_id_status(FakeClient(FakeChunkedgraph(set())), BC)
    assert st.is_latest is False and st.suggested_id is None
    assert "no current successor" in st.message


def test_suggestion_that_is_not_latest_is_not_offered():
    st = root_id_status(FakeClient(FakeChunkedgraph(set(), NEWER)), BC)
    assert st.is_latest is False and st.suggested_id is None


def test_checked_at_the_version_timestamp():
    when = datetime(2023, 4, 1, tzinfo=timezone.utc)
    cg = FakeChunkedgraph({NEWER}, NEWER)
    st = root_id_status(FakeClient(cg), BC, timestamp=when)
    assert st.suggested_id == NEWER and cg.timestamps and all(t == when for t in cg.timestamps)
    assert "2023-04-01" in st.message


def test_root_id_status_network_failure_is_typed():
    cg = FakeChunkedgraph({BC}, fail=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(NetworkError):
        root_id_status(FakeClient(cg), BC, "minnie.microns-daf.com")
