"""Slow, trickling and hostile servers: time-outs on every session, a read deadline, a
size limit on decompressed answers, wrongly typed JSON, and Cancel that frees the
worker at once (loopback server faults)."""
from __future__ import annotations

import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import pytest

from models.errors import CancelledError, CavernError, DataSourceError, NetworkError
from models.query_spec import QuerySpec
from services.cave.cave_http import DEFAULT_MAX_RESPONSE_BYTES
from services.cave.cave_source import CaveSource
from services.local.local_source import LocalSource, sample_folders
from services.source import CancelToken
from tests.e2e.conftest import GOOD_TOKEN

PINKY = "pinky100_sample"
QUERY = r"/table/(synapses|soma_valence)/query"


def _src(server, **kw):
    kw.setdefault("max_retries", 0)
    return CaveSource(server.url, GOOD_TOKEN, **kw)


# ---- time-outs and the read deadline ---------------------------------------------------
@pytest.mark.parametrize("service,pattern", [
    ("chunkedgraph", r"/segmentation/api/v1/.*/is_latest_roots"),
    ("state", r"/nglstate/api/v1/post"),
    ("info", r"/info/api/v2/datastacks$"),
])
def test_every_session_has_the_sources_time_out(cave_server, service, pattern):
    src = _src(cave_server, timeout=(2, 0.3))
    src.table_info(PINKY, "synapses")
    cave_server.set_fault(pattern, "slow", delay=1.5)
    t0 = time.monotonic()
    with pytest.raises(NetworkError, match="did not answer in time"):
        if service == "chunkedgraph":
            src.root_id_status(PINKY, 864691135000000001)
        elif service == "state":
            src.upload_state(PINKY, {"layers": []}, "https://spelunker.cave-explorer.org/")
        else:
            src.datastacks()
    assert time.monotonic() - t0 < 1.4
    src.close()


def test_schema_and_new_sessions_get_the_sources_limits(cave_server):
    src = _src(cave_server, timeout=(2, 0.3))
    src.tables(PINKY)
    c = src.client(PINKY)
    for svc in (c.info, c.materialize, src.global_client().schema,
                src._service(PINKY, "chunkedgraph"), src._service(PINKY, "state")):
        assert svc.session._cavern["limits"] is src.limits
    src.close()


def test_a_trickling_answer_hits_the_read_deadline(cave_server):
    src = _src(cave_server, timeout=(2, 5), body_deadline_s=1.0)
    src.table_info(PINKY, "soma_valence")
    # one piece every 0.3 s: each read gets data, so the 5 s read time-out never fires
    cave_server.set_fault(QUERY, "trickle", step=64, interval=0.3)
    t0 = time.monotonic()
    with pytest.raises(NetworkError, match="came too slowly") as err:
        src.query(QuerySpec("soma_valence", PINKY))
    assert time.monotonic() - t0 < 2.5
    assert "narrow the query" in err.value.hint
    cave_server.clear_faults()
    assert len(src.query(QuerySpec("soma_valence", PINKY)).frame) == 456
    src.close()


# ---- a cancelled request frees its worker ---------------------------------------------
def test_cancelled_slow_queries_do_not_hold_the_pool(cave_server):
    local = LocalSource(sample_folders())
    src = _src(cave_server)
    src.table_info(PINKY, "synapses")
    src.table_info(PINKY, "soma_valence")
    cave_server.set_fault(QUERY, "slow", delay=3.0)
    pool = ThreadPoolExecutor(max_workers=2)  # the UI's shared pool, as small as can be
    tokens = [CancelToken(), CancelToken()]
    futures = [pool.submit(src.query, QuerySpec(t, PINKY), tok)
               for t, tok in zip(("synapses", "soma_valence"), tokens)]
    deadline = time.monotonic() + 5
    while sum(r.path.endswith("/query") for r in cave_server.requests) < 2:
        assert time.monotonic() < deadline, "the queries never reached the server"
        time.sleep(0.01)
    t0 = time.monotonic()
    for tok in tokens:
        tok.cancel()
    for f in futures:
        with pytest.raises(CancelledError):
            f.result(timeout=2)
    cancel_latency = time.monotonic() - t0
    third = pool.submit(local.tables, PINKY)
    assert third.result(timeout=2)
    fourth = pool.submit(src.datastacks)  # the same CAVE source still answers
    assert PINKY in fourth.result(timeout=2)
    total = time.monotonic() - t0
    print(f"cancel latency {cancel_latency:.3f}s, third+fourth call done {total:.3f}s")
    assert cancel_latency < 0.5 and total < 1.0, (cancel_latency, total)
    pool.shutdown(wait=True)
    local.close()
    src.close()


# ---- hostile answers ---------------------------------------------------------------------
def test_a_gzip_bomb_is_not_inflated_into_memory(cave_server):
    assert DEFAULT_MAX_RESPONSE_BYTES == 2 * 1024**3
    src = _src(cave_server, max_response_bytes=32 * 1024**2)
    src.table_info(PINKY, "synapses")
    cave_server.set_fault(QUERY, "gzip_bomb", size=2 * 1024**3)  # ~2 MiB on the wire
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(DataSourceError, match="larger than 32 MiB") as err:
            src.query(QuerySpec("synapses", PINKY))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - t0 < 5
    assert peak < 200 * 1024**2, peak
    assert "Narrow the query" in err.value.hint
    src.close()


def test_an_empty_version_answer_does_not_stay_failed(cave_server):
    src = _src(cave_server)
    cave_server.set_fault(r"/datastack/pinky100_sample/metadata$", "json_body", body={},
                          times=1)
    with pytest.raises(DataSourceError, match="versions of 'pinky100_sample'"):
        src.versions(PINKY)
    assert [v.version for v in src.versions(PINKY)] == [185]  # asked again, not cached
    src.close()


@pytest.mark.parametrize("body", [[1, 2, 3], {}, "pinky", None, [None], [""]])
def test_a_wrongly_typed_datastack_list_is_a_typed_error(cave_server, body):
    src = _src(cave_server)
    cave_server.set_fault(r"/info/api/v2/datastacks$", "json_body", body=body)
    with pytest.raises(DataSourceError, match="list of datastacks"):
        src.datastacks()
    src.close()


@pytest.mark.parametrize("pattern,body", [
    (r"/datastack/pinky100_sample/metadata$", [{"version": "185"}]),
    (r"/datastack/pinky100_sample/metadata$", [7]),
    (r"/version/185/tables/metadata$", {"a": 1}),
    (r"/version/185/tables/metadata$", [1, 2]),
])
def test_other_wrongly_typed_answers_are_typed_errors(cave_server, pattern, body):
    src = _src(cave_server)
    cave_server.set_fault(pattern, "json_body", body=body, times=1)
    with pytest.raises(CavernError):
        src.tables(PINKY)
    assert any(t.name == "synapses" for t in src.tables(PINKY))  # no failure is kept
    src.close()
