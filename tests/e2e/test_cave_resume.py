"""Progress through the CancelToken, and a per-page cache that makes a cancelled or failed
fetch resume where it stopped (loopback server with a small row limit)."""
from __future__ import annotations

import pytest

from models.errors import CancelledError, DataSourceError
from models.query_spec import QuerySpec
from services.cave.cave_source import CaveSource
from services.local.local_source import LocalSource, sample_folders
from services.results.result_cache import ResultCache
from services.source import CancelToken
from tests.e2e.conftest import GOOD_TOKEN

PINKY = "pinky100_sample"
QUERY = "/table/synapses/query"


@pytest.fixture(scope="module")
def local():
    s = LocalSource(sample_folders())
    yield s
    s.close()


def _asked(server) -> list[tuple[str, bytes]]:
    """(query string, body) of every query/count request the server got."""
    return [(r.query_string, r.body) for r in server.requests
            if r.method == "POST" and r.path.endswith(QUERY)]


def test_progress_goes_to_the_token(cave_server):
    cave_server.row_limit = 300
    src = CaveSource(cave_server.url, GOOD_TOKEN)
    seen = []
    res = src.query(QuerySpec("synapses", PINKY), CancelToken(on_progress=seen.append))
    assert len(res.frame) == 1961 and not res.truncated
    assert len(seen) >= 7  # 1961 rows at 300 a page
    last = seen[-1]
    assert last.rows == 1961 and last.done == last.total
    assert last.what == f"page {last.done} of {last.total} of synapses"
    assert all(p.total is None or p.done <= p.total for p in seen)
    assert [p.rows for p in seen] == sorted(p.rows for p in seen)
    src.close()


@pytest.mark.parametrize("how", ["cancel", "fault"])
def test_a_stopped_fetch_resumes_where_it_stopped(cave_server, local, tmp_path, how):
    cave_server.row_limit = 150
    spec = QuerySpec("synapses", PINKY)
    truth = local.query(spec).frame
    cache = ResultCache(tmp_path)
    src = CaveSource(cave_server.url, GOOD_TOKEN, cache=cache, max_retries=0)
    src.table_info(PINKY, "synapses")  # the probe is not part of the pages
    cave_server.clear_requests()

    def stop_after_4(p):
        if p.done >= 4:
            if how == "cancel":
                token.cancel()
            else:
                cave_server.set_fault(QUERY, "server_error")
    token = CancelToken(on_progress=stop_after_4)
    with pytest.raises(CancelledError if how == "cancel" else DataSourceError):
        src.query(spec, token)
    first = _asked(cave_server)
    assert len(first) >= 5
    cave_server.clear_faults()
    cave_server.clear_requests()

    res = src.query(spec, CancelToken())
    second = _asked(cave_server)
    failed = first[-1:] if how == "fault" else []  # the request the fault answered
    assert not (set(first) - set(failed)) & set(second), "a kept page was asked again"
    assert any("read from the local cache" in n for n in res.notes)
    assert not res.truncated and res.total_rows == len(truth)
    got = res.frame.sort_values("id").reset_index(drop=True)
    want = truth.sort_values("id").reset_index(drop=True)
    assert list(got["id"]) == list(want["id"])
    for col in ("pre_pt_root_id", "post_pt_root_id", "size"):
        assert list(got[col]) == list(want[col])
    # the whole result is kept now, and its pages are gone
    assert not list(tmp_path.glob("page-*.parquet"))
    cave_server.clear_requests()
    again = src.query(spec)
    assert again.source == "cache" and not _asked(cave_server)
    src.close()


def test_live_queries_keep_no_pages(cave_server, tmp_path):
    from datetime import datetime, timezone
    cave_server.row_limit = 500
    src = CaveSource(cave_server.url, GOOD_TOKEN, cache=ResultCache(tmp_path))
    res = src.query(QuerySpec("synapses", PINKY, timestamp=datetime.now(timezone.utc)))
    assert len(res.frame) == 1961
    assert not list(tmp_path.glob("*.parquet"))
    src.close()


def test_bad_page_files_are_misses_and_removed(cave_server, tmp_path):
    cave_server.row_limit = 500
    cache = ResultCache(tmp_path)
    src = CaveSource(cave_server.url, GOOD_TOKEN, cache=cache)
    token = CancelToken(on_progress=lambda p: p.done >= 2 and token.cancel())
    with pytest.raises(CancelledError):
        src.query(QuerySpec("synapses", PINKY), token)
    pages = sorted(tmp_path.glob("page-*.parquet"))
    assert pages
    pages[0].write_bytes(b"not parquet")
    if len(pages) > 1:  # a page recorded for another table is not this page
        import json
        import pyarrow.parquet as pq
        t = pq.read_table(pages[1])
        meta = json.loads(t.schema.metadata[b"cavern_cache"])
        meta["table"] = "other"
        pq.write_table(t.replace_schema_metadata({b"cavern_cache": json.dumps(meta)}),
                       pages[1])
    res = src.query(QuerySpec("synapses", PINKY))
    assert len(res.frame) == 1961 and not res.truncated
    assert not pages[0].exists()
    src.close()
