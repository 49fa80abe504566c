"""`in` / `not in` lists longer than IN_LITERAL_MAX are semi-joins against an Arrow table
registered on the query's cursor: queries, counts, results kept on disk and DuckDB pair
aggregation all give the rows pandas finds, for ints and strings, present and absent
values, and columns with missing values."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.filters import Filter, Op
from models.query_spec import QuerySpec
from services.local.local_sql import IN_LITERAL_MAX
from services.local.local_source import LocalSource
from services.results.disk_result import DiskResult

N = 20_000
BASE = 864691135000000000


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({
        "id": np.arange(N, dtype=np.int64),
        "pre_pt_root_id": BASE + rng.integers(0, 6_000, N),
        "post_pt_root_id": BASE + rng.integers(0, 6_000, N),
        "size": rng.integers(1, 500, N),
        "tag": pd.array(rng.choice([f"t{i}" for i in range(5_000)], N), dtype=object),
    })
    frame.loc[rng.choice(N, 300, replace=False), "tag"] = None
    folder = tmp_path_factory.mktemp("long_in")
    frame.to_parquet(folder / "synapses.parquet", index=False, row_group_size=4_000)
    src = LocalSource([folder])
    yield src, frame
    src.close()


def _expected_ids(frame, filters):
    keep = np.ones(len(frame), bool)
    for f in filters:
        col = frame[f.column]
        hit = col.isin(f.value).to_numpy()
        keep &= hit if f.op is Op.IN else (~hit & col.notna().to_numpy())  # SQL: NULL drops
    return sorted(frame["id"][keep])


def _spec(src, filters, **kw):
    return QuerySpec(table="synapses", datastack=src.datastacks()[0], version=0,
                     filters=tuple(filters), **kw)


def _long(seed: int, share: float, hi: int) -> np.ndarray:
    """A list of distinct values longer than IN_LITERAL_MAX, a ``share`` of them past the
    table's values (absent)."""
    rng = np.random.default_rng(seed)
    n = IN_LITERAL_MAX + 1 + int(share * 3_000)
    present = rng.choice(hi, min(n, hi), replace=False)
    absent = hi + rng.choice(10 * hi, int(n * share), replace=False)
    return np.concatenate([present[: n - len(absent)], absent])


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16), share=st.floats(0, 0.9),
       post=st.booleans(), tags=st.booleans(), pre_not=st.booleans(), tag_not=st.booleans())
def test_long_lists_match_pandas(table, seed, share, post, tags, pre_not, tag_not):
    src, frame = table
    filters = [Filter("pre_pt_root_id", Op.NOT_IN if pre_not else Op.IN,
                      tuple(int(BASE + p) for p in _long(seed, share, 6_000)))]
    if post:
        filters.append(Filter("post_pt_root_id", Op.IN,
                              tuple(int(BASE + p) for p in _long(seed + 1, share, 6_000))))
    if tags:
        filters.append(Filter("tag", Op.NOT_IN if tag_not else Op.IN,
                              tuple(f"t{i}" for i in _long(seed + 2, share, 5_000))))
    want = _expected_ids(frame, filters)
    got = src.query(_spec(src, filters)).frame
    assert sorted(got["id"]) == want
    assert src.row_count(src.datastacks()[0], "synapses", 0, filters) == len(want)


def test_a_result_kept_on_disk_uses_the_same_lists(table, tmp_path):
    src, frame = table
    filters = [Filter("post_pt_root_id", Op.IN, tuple(BASE + np.arange(0, 6_000, 2))),
               Filter("tag", Op.NOT_IN, tuple(f"t{i}" for i in range(0, 5_000, 3)))]
    src.memory_budget = 1_000  # any result stays in DuckDB
    try:
        result = src.query(_spec(src, filters))
        disk = result.frame
        assert isinstance(disk, DiskResult) and "stays on disk" in result.notes[0]
        view = disk.view(None, "", {})
        assert sorted(disk.fetch(view, 0, len(disk)).column("id").to_pylist()) == (
            _expected_ids(frame, filters))
        disk.close()
    finally:
        src.memory_budget = None


def test_pairs_aggregated_by_duckdb_use_the_same_lists(table):
    src, frame = table
    pre = tuple(BASE + np.arange(0, 6_000, 2))
    post = tuple(BASE + np.arange(1, 6_000, 2))
    filters = [Filter("pre_pt_root_id", Op.IN, pre), Filter("post_pt_root_id", Op.IN, post)]
    pairs = src.synapse_pairs(src.datastacks()[0], "synapses", 0, filters)
    sub = frame[frame.pre_pt_root_id.isin(pre) & frame.post_pt_root_id.isin(post)]
    want = sub.groupby(["pre_pt_root_id", "post_pt_root_id"]).agg(
        n_synapses=("id", "size"), size_sum=("size", "sum")).reset_index()
    assert pairs[["pre_pt_root_id", "post_pt_root_id", "n_synapses", "size_sum"]].to_numpy(
        ).tolist() == want.to_numpy().tolist()
