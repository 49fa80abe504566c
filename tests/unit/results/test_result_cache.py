"""ResultCache on real sample rows: round trip, keys, LRU size limit, corrupt files."""
import os
import time

import numpy as np
import pytest

from models.filters import Filter, Op
from models.query_spec import QueryResult, QuerySpec
from services.results.result_cache import ResultCache, spec_key

SERVER = "https://cave.example.org"


@pytest.fixture(scope="module")
def synapses(sample_source):
    return sample_source.query(QuerySpec("synapses", "pinky100_sample")).frame


def _spec(**kw):
    base = dict(table="synapses", datastack="pinky100", version=185)
    base.update(kw)
    return QuerySpec(**base)


def test_round_trip_keeps_types_and_flags(tmp_path, synapses):
    cache = ResultCache(tmp_path)
    spec = _spec(filters=(Filter("size", Op.GE, 300),))
    frame = synapses[synapses["size"] >= 300].reset_index(drop=True)
    assert cache.get(SERVER, spec) is None
    assert cache.put(SERVER, QueryResult(spec, frame, 1.0, truncated=True, total_rows=9999,
                                         notes=["server note"]))
    hit = cache.get(SERVER, spec)
    assert hit is not None and hit.source == "cache"
    assert hit.truncated and hit.total_rows == 9999 and "server note" in hit.notes
    assert len(hit.frame) == len(frame) > 0
    assert hit.frame.pre_pt_root_id.dtype == np.int64
    assert list(hit.frame.pre_pt_root_id) == list(frame.pre_pt_root_id)
    assert list(hit.frame.ctr_pt_position.iloc[0]) == list(frame.ctr_pt_position.iloc[0])


def test_key_depends_on_server_version_and_spec_not_token(synapses):
    s = _spec()
    assert spec_key(SERVER, s) == spec_key(SERVER + "/", s)
    assert spec_key(SERVER, s) != spec_key("https://other.org", s)
    assert spec_key(SERVER, s) != spec_key(SERVER, s.with_(version=186))
    assert spec_key(SERVER, s) != spec_key(SERVER, s.with_(limit=10))
    assert spec_key(SERVER, s) != spec_key(SERVER, s.with_(filters=(Filter("size", Op.GT, 1),)))
    assert spec_key(SERVER, s) != spec_key(SERVER, s.with_(merge_reference=False))


def test_live_and_unversioned_queries_are_never_cached(tmp_path, synapses):
    from datetime import datetime, timezone
    cache = ResultCache(tmp_path)
    live = _spec(version=None, timestamp=datetime(2024, 1, 1, tzinfo=timezone.utc))
    assert not cache.put(SERVER, QueryResult(live, synapses))
    assert cache.get(SERVER, live) is None
    assert not cache.put(SERVER, QueryResult(_spec(version=None), synapses))
    assert cache.entries() == []


def test_lru_eviction_keeps_recently_used(tmp_path, synapses):
    cache = ResultCache(tmp_path)
    specs = [_spec(limit=n) for n in (100, 200, 300)]
    for i, s in enumerate(specs):
        cache.put(SERVER, QueryResult(s, synapses.head(s.limit)))
        past = time.time() - 100 + i  # distinct, increasing last-use times
        os.utime(_path(cache, s), (past, past))
    assert cache.get(SERVER, specs[0]) is not None  # touch the oldest: now most recent
    sizes = {p.name: size for p, size, _ in cache.entries()}
    keep = sizes[_path(cache, specs[0]).name] + sizes[_path(cache, specs[2]).name]
    cache.max_bytes = keep
    assert cache.evict() == 1
    assert cache.get(SERVER, specs[1]) is None
    assert cache.get(SERVER, specs[0]) is not None and cache.get(SERVER, specs[2]) is not None
    assert cache.size_bytes() <= keep


def _path(cache, spec):
    return cache.folder / f"{spec_key(SERVER, spec)}.parquet"


def test_corrupt_file_is_a_miss_and_removed(tmp_path, synapses):
    cache = ResultCache(tmp_path)
    spec = _spec()
    cache.put(SERVER, QueryResult(spec, synapses))
    path = _path(cache, spec)
    path.write_bytes(b"PAR1 not really parquet")
    assert cache.get(SERVER, spec) is None
    assert not path.exists()


def test_clear(tmp_path, synapses):
    cache = ResultCache(tmp_path)
    cache.put(SERVER, QueryResult(_spec(), synapses))
    assert cache.size_bytes() > 0
    cache.clear()
    assert cache.entries() == []
