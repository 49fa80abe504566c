"""Fuzzing the local datastack readers and the result cache with JSON of any shape.

Rule: a user's file gives a typed CavernError (or is a cache miss), never anything else.
Default run: FUZZ_EXAMPLES examples per test (about 10 s for the file). Long run
(>= 50,000 inputs in all)::

    CAVERN_FUZZ=long QT_QPA_PLATFORM=offscreen python3 -m pytest tests/unit/fuzz -q -p no:cacheprovider

CAVERN_FUZZ_EXAMPLES=N sets the count per test directly. Failing inputs are kept below as
``@example`` regression cases.
"""
import atexit
import json
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, example, given, settings, strategies as st

from models.errors import CavernError
from models.query_spec import QueryResult, QuerySpec
from services.local.local_manifest import describe_table, open_datastack
from services.local.local_source import LocalSource
from services.results.result_cache import ResultCache, spec_key

_DEFAULT = 200
FUZZ_EXAMPLES = int(os.environ.get("CAVERN_FUZZ_EXAMPLES")
                    or (12_000 if os.environ.get("CAVERN_FUZZ") == "long" else _DEFAULT))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=FUZZ_EXAMPLES <= _DEFAULT,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

MANIFEST_KEYS = ["name", "description", "voxel_resolution", "image_source", "synapse_table",
                 "cell_type_tables", "transform", "default_version", "versions", "folder",
                 "version", "timestamp", "expires"]
SIDECAR_KEYS = ["description", "schema", "kind", "voxel_resolution", "units", "notice_text",
                "provenance", "reference_table", "classification_system", "id", "size"]

scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70).map(lambda i: i * 10**300)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
           | st.sampled_from(["v1", "../x", "/etc", "v1/../..", "", ".", "table", "view", "1",
                              "2020-01-01T00:00:00", "*", "?", "["]))


def json_values(keys):
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=5)
        | st.dictionaries(st.sampled_from(keys) | st.text(max_size=8), inner, max_size=6),
        max_leaves=25)


def dumps(value) -> str:
    return json.dumps(value, allow_nan=True)


def mutated(base: dict, keys):
    """A valid document with some fields replaced by random JSON (finds more than noise)."""
    return st.dictionaries(st.sampled_from(keys), json_values(keys), max_size=4).map(
        lambda d: {**base, **d})


GOOD_MANIFEST = {"name": "fz", "voxel_resolution": [4, 4, 40], "default_version": 1,
                 "versions": [{"version": 1, "folder": "v1"}]}
manifests = json_values(MANIFEST_KEYS) | mutated(GOOD_MANIFEST, MANIFEST_KEYS) | st.builds(
    lambda vs: {**GOOD_MANIFEST, "versions": vs}, st.lists(json_values(MANIFEST_KEYS), max_size=3))
sidecars = json_values(SIDECAR_KEYS) | mutated({"description": "d", "units": {}}, SIDECAR_KEYS)


def _stack(root: Path) -> Path:
    (root / "v1").mkdir(parents=True)
    pq.write_table(pa.table({"id": [1, 2], "size": [1.0, 2.0]}), root / "v1" / "t.parquet")
    return root


SOURCE = LocalSource()  # one DuckDB for all examples; each folder under a fresh name
atexit.register(SOURCE.close)
_names = iter(range(10**9))


def _use(folder: Path) -> str:
    """Open the folder and touch everything a user could: versions, tables, a query."""
    name = SOURCE.add_folder(folder, name=f"fz{next(_names)}")
    for v in SOURCE.versions(name):
        for t in SOURCE.tables(name, v.version):
            SOURCE.query(QuerySpec(t.name, name, v.version, limit=5))
            SOURCE.row_count(name, t.name, v.version)
    return name


@FUZZ
@given(manifests)
@example([1, 2])
@example({**GOOD_MANIFEST, "default_version": [1]})
@example({**GOOD_MANIFEST, "default_version": {"a": 1}})
@example({**GOOD_MANIFEST, "voxel_resolution": [0, 0, 0]})
@example({**GOOD_MANIFEST, "voxel_resolution": [4, 4]})
@example({**GOOD_MANIFEST, "voxel_resolution": [4, 4, 10 ** 400]})
@example({**GOOD_MANIFEST, "versions": [{"version": 1, "folder": "v1"}] * 2})
@example({**GOOD_MANIFEST, "versions": [{"version": "²"}]})
@example({**GOOD_MANIFEST, "versions": [{"version": 1, "folder": "../x"}]})
@example({**GOOD_MANIFEST, "versions": [{"version": 1, "folder": "v1/../.."}]})
def test_manifest_of_any_shape_gives_only_typed_errors(value):
    with tempfile.TemporaryDirectory() as tmp:
        folder = _stack(Path(tmp) / "ds")
        (folder / "manifest.json").write_text(dumps(value))
        try:
            _use(folder)
        except CavernError:
            pass


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode)
       | st.integers(1, 3000).map(lambda n: b"[" * n) | st.integers(1, 3000).map(lambda n: b'{"a":' * n))
@example(b"\xef\xbb\xbf" + dumps(GOOD_MANIFEST).encode())
@example(b"[" * 100_000)
def test_manifest_of_any_bytes_gives_only_typed_errors(raw):
    with tempfile.TemporaryDirectory() as tmp:
        folder = _stack(Path(tmp) / "ds")
        (folder / "manifest.json").write_bytes(raw)
        try:
            open_datastack(folder)
        except CavernError:
            pass


@FUZZ
@given(sidecars)
@example([1])
@example({"units": [1]})
@example({"kind": ["view"]})
@example({"voxel_resolution": [float("nan"), 1, 1]})
def test_sidecar_of_any_shape_marks_only_its_table(value):
    with tempfile.TemporaryDirectory() as tmp:
        folder = _stack(Path(tmp) / "ds")
        pq.write_table(pa.table({"id": [3]}), folder / "v1" / "good.parquet")
        (folder / "v1" / "t.json").write_text(dumps(value))
        (folder / "manifest.json").write_text(dumps(GOOD_MANIFEST))
        tf = describe_table(folder / "v1" / "t.parquet", "parquet", (4, 4, 40), folder)
        assert isinstance(tf.problem, str)
        name = SOURCE.add_folder(folder, name=f"fz{next(_names)}")
        assert len(SOURCE.query(QuerySpec("good", name)).frame) == 1  # the other table opens
        try:
            SOURCE.query(QuerySpec("t", name))
        except CavernError:
            assert tf.problem


@FUZZ
@given(sidecars.map(lambda v: dumps(v).encode()) | st.binary(max_size=100))
@example(b"[1]")
@example(b"\xff")
def test_parquet_metadata_of_any_shape_is_never_an_untyped_error(meta):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.parquet"
        pq.write_table(pa.table({"id": [1]}).replace_schema_metadata({"cavern": meta}), path)
        tf = describe_table(path, "parquet", (4, 4, 40), Path(tmp))
        assert isinstance(tf.problem, str)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("ab1,;\t|\"\n\r é\x00")), max_size=120)
       | st.binary(max_size=120).map(lambda b: b.decode("latin-1")))
def test_csv_of_any_text_gives_only_typed_errors(text):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "c"
        folder.mkdir()
        (folder / "t.csv").write_bytes(text.encode("latin-1", "replace"))
        try:
            _use(folder)
        except CavernError:
            pass


CACHE_META_KEYS = ["truncated", "total_rows", "notes", "server", "table", "version", "datastack"]
SPEC = QuerySpec(table="t", datastack="d", version=1)
GOOD_META = {"truncated": False, "total_rows": None, "notes": [], "server": "https://s",
             "table": "t", "version": 1, "datastack": "d"}


@FUZZ
@given(json_values(CACHE_META_KEYS) | mutated(GOOD_META, CACHE_META_KEYS))
@example({**GOOD_META, "notes": 5})
@example([1, 2])
@example({**GOOD_META, "table": "other"})
def test_cache_metadata_of_any_shape_is_a_miss_or_a_good_hit(meta):
    with tempfile.TemporaryDirectory() as tmp:
        cache = ResultCache(Path(tmp))
        path = Path(tmp) / f"{spec_key('https://s', SPEC)}.parquet"
        table = pa.table({"id": [1]}).replace_schema_metadata(
            {b"cavern_cache": dumps(meta).encode()})
        pq.write_table(table, path)
        hit = cache.get("https://s", SPEC)
        if hit is None:
            assert not path.exists()  # a bad file is removed, so the next query refetches
        else:
            assert isinstance(hit, QueryResult) and all(isinstance(n, str) for n in hit.notes)
            assert isinstance(hit.truncated, bool)
            assert meta.get("table") == "t" and meta.get("server") == "https://s"
