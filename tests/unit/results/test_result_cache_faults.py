"""ResultCache with hostile files: wrong metadata types, folders, another key's file."""
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models.query_spec import QueryResult, QuerySpec
from services.results.result_cache import ResultCache, spec_key

SERVER = "https://cave.example.org"
SPEC = QuerySpec(table="synapses", datastack="pinky100", version=185)
GOOD = {"truncated": False, "total_rows": None, "notes": [], "server": SERVER,
        "table": "synapses", "version": 185, "datastack": "pinky100", "stored": 0}


def _write(cache, meta_bytes, spec=SPEC):
    cache.folder.mkdir(parents=True, exist_ok=True)
    path = cache.folder / f"{spec_key(SERVER, spec)}.parquet"
    table = pa.table({"id": [1, 2, 3]})
    if meta_bytes is not None:
        table = table.replace_schema_metadata({b"cavern_cache": meta_bytes})
    pq.write_table(table, path)
    return path


def test_good_file_is_a_hit(tmp_path):
    cache = ResultCache(tmp_path)
    _write(cache, json.dumps(GOOD).encode())
    hit = cache.get(SERVER, SPEC)
    assert hit is not None and list(hit.frame["id"]) == [1, 2, 3]


@pytest.mark.parametrize("meta", [
    {**GOOD, "notes": 5}, {**GOOD, "notes": "text"}, {**GOOD, "notes": [1, {}]},
    {**GOOD, "notes": {"a": 1}}, {**GOOD, "truncated": "yes"}, {**GOOD, "total_rows": "9"},
    {**GOOD, "total_rows": -1}, [1, 2], "text", 7, None,
    {**GOOD, "table": "other"}, {**GOOD, "version": 186}, {**GOOD, "version": "185"},
    {**GOOD, "server": "https://elsewhere.org"}, {**GOOD, "datastack": "minnie"},
    {k: v for k, v in GOOD.items() if k != "table"},
], ids=lambda m: json.dumps(m)[:40])
def test_bad_metadata_is_a_miss_and_removed(tmp_path, meta):
    cache = ResultCache(tmp_path)
    path = _write(cache, json.dumps(meta).encode())
    assert cache.get(SERVER, SPEC) is None
    assert not path.exists()


@pytest.mark.parametrize("raw", [b"[" * 100_000, b"\xff\xfe", b"not json", None])
def test_unparsable_metadata_is_a_miss_and_removed(tmp_path, raw):
    cache = ResultCache(tmp_path)
    path = _write(cache, raw)
    assert cache.get(SERVER, SPEC) is None
    assert not path.exists()


def test_a_folder_at_the_cache_path_is_not_a_zero_row_result(tmp_path):
    cache = ResultCache(tmp_path)
    path = cache.folder / f"{spec_key(SERVER, SPEC)}.parquet"
    path.mkdir(parents=True)
    pq.write_table(pa.table({"id": pa.array([], pa.int64())}), path / "part.parquet")
    assert cache.get(SERVER, SPEC) is None
    assert not path.exists()
    # and the next put stores a real file there
    assert cache.put(SERVER, QueryResult(SPEC, pd.DataFrame({"id": [4]})))
    assert list(cache.get(SERVER, SPEC).frame["id"]) == [4]
