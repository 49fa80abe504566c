"""Root ids of a long filter list are checked in batches (one request of 100,000 ids
would be refused or time out on a real chunkedgraph), and an answer of the wrong length
is an error, not a silent zip."""
import pytest

from models.errors import DataSourceError
from services.cave import cave_roots


class FakeChunkedgraph:
    def __init__(self, stale, short=False):
        self.stale, self.short, self.calls = set(stale), short, []

    def is_latest_roots(self, ids, **kw):
        self.calls.append(len(ids))
        out = [i not in self.stale for i in ids]
        return out[:-1] if self.short else out

    def suggest_latest_roots(self, rid, **kw):
        return rid + 1


class FakeClient:
    def __init__(self, cg):
        self.chunkedgraph = cg


def test_long_lists_are_checked_in_batches():
    ids = list(range(10**17, 10**17 + 25_000))
    cg = FakeChunkedgraph(stale={ids[3], ids[24_999]})
    got = cave_roots.stale_root_ids(FakeClient(cg), ids)
    assert cg.calls[:3] == [10_000, 10_000, 5_000]  # then one check per suggested successor
    assert got == {ids[3]: ids[4], ids[24_999]: ids[24_999] + 1}


def test_an_answer_of_the_wrong_length_is_an_error():
    cg = FakeChunkedgraph(stale=(), short=True)
    with pytest.raises(DataSourceError, match="answered 9,999 root-id checks for 10,000"):
        cave_roots.stale_root_ids(FakeClient(cg), list(range(1, 10_001)))
