"""A query whose id filters keep a few row groups reads just those groups (with the cached
footer) and filters them in DuckDB: the rows, their order of columns and their types are
the same as a scan of the whole file, and the rows are those pandas finds."""
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.filters import Filter, Op
from models.query_spec import QuerySpec
from services.local import local_sql, row_group_stats
from services.local.local_source import LocalSource

N = 30_000


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(7)
    pre = np.sort(864691135000000000 + rng.integers(0, 1_500, N))
    frame = pd.DataFrame({
        "id": np.arange(N, dtype=np.int64),
        "pre_pt_root_id": pre,
        "post_pt_root_id": 864691135000000000 + rng.integers(0, 3_000, N),
        "size": rng.integers(1, 5_000, N),
        "cell_type": pd.Categorical(rng.choice(["23P", "BC", "MC", "4P"], N)),
        "tag": rng.choice(["soma", "spine", None], N),
        "when": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
            rng.integers(0, 1000, N), unit="h"),
    })
    folder = tmp_path_factory.mktemp("pruned")
    table = pa.Table.from_pandas(frame, preserve_index=False).append_column(
        "ctr_pt_position", pa.array([[int(i), int(i) * 2, 7] for i in range(N)]))
    pq.write_table(table, folder / "synapses.parquet", row_group_size=500)
    frame["ctr_pt_position"] = [[i, i * 2, 7] for i in range(N)]
    src = LocalSource([folder])
    yield src, frame
    src.close()


def _query(src, filters, limit=None):
    spec = QuerySpec(table="synapses", datastack=src.datastacks()[0], version=0,
                     filters=tuple(filters), limit=limit)
    return src.query(spec)


def _expected(frame, filters):
    keep = np.ones(len(frame), bool)
    for f in filters:
        col = frame[f.column]
        if f.op is Op.IN:
            keep &= col.isin(f.value).to_numpy()
        elif f.op is Op.EQ:
            keep &= (col == f.value).to_numpy()
        elif f.op is Op.GE:
            keep &= (col >= f.value).to_numpy()
        elif f.op is Op.NE:
            keep &= (col != f.value).to_numpy() & col.notna().to_numpy()
    return frame[keep]


def _spy(monkeypatch):
    """Counts the queries that took the pruned path."""
    seen = []
    real = row_group_stats.read_matching_groups

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        seen.append(out is not None)
        return out
    monkeypatch.setattr(row_group_stats, "read_matching_groups", spy)
    return seen


def test_pruned_and_whole_scans_give_the_same_frame(table, monkeypatch):
    src, frame = table
    ids = tuple(int(i) for i in np.unique(frame.pre_pt_root_id)[[5, 40, 41, 900]])
    filters = [Filter("pre_pt_root_id", Op.IN, ids), Filter("size", Op.GE, 1000)]
    seen = _spy(monkeypatch)
    pruned = _query(src, filters).frame
    assert seen == [True]
    monkeypatch.setattr(local_sql, "PRUNED_MAX_ROWS", 0)  # the whole file instead
    whole = _query(src, filters).frame
    assert seen == [True, False]
    pd.testing.assert_frame_equal(pruned.reset_index(drop=True), whole.reset_index(drop=True))
    want = _expected(frame, filters)
    assert sorted(pruned["id"]) == sorted(want["id"]) and len(want) > 0
    assert pruned.columns.tolist() == frame.columns.tolist()


def test_limit_and_its_total_over_the_pruned_groups(table, monkeypatch):
    src, frame = table
    ids = tuple(int(i) for i in np.unique(frame.pre_pt_root_id)[10:14])
    seen = _spy(monkeypatch)
    res = _query(src, [Filter("pre_pt_root_id", Op.IN, ids)], limit=5)
    assert seen == [True]
    assert len(res.frame) == 5 and res.total_rows == int(frame.pre_pt_root_id.isin(ids).sum())


def test_no_group_holds_the_id(table, monkeypatch):
    src, frame = table
    seen = _spy(monkeypatch)
    res = _query(src, [Filter("pre_pt_root_id", Op.EQ, 1)])
    assert seen == [True] and len(res.frame) == 0
    assert res.frame.columns.tolist() == frame.columns.tolist()


def test_filters_that_keep_most_groups_scan_the_file(table, monkeypatch):
    src, frame = table
    seen = _spy(monkeypatch)
    ids = tuple(int(i) for i in np.unique(frame.pre_pt_root_id)[::2])  # every group
    res = _query(src, [Filter("pre_pt_root_id", Op.IN, ids)])
    assert seen == [False] and len(res.frame) == int(frame.pre_pt_root_id.isin(ids).sum())


def test_a_damaged_file_is_said_not_read_half(tmp_path):
    pq.write_table(pa.table({"id": np.arange(5_000), "pre_pt_root_id": np.arange(5_000)}),
                   tmp_path / "synapses.parquet", row_group_size=100)
    src = LocalSource([tmp_path])
    try:
        ok = _query(src, [Filter("pre_pt_root_id", Op.EQ, 7)]).frame
        assert ok["id"].tolist() == [7]
        raw = bytearray((tmp_path / "synapses.parquet").read_bytes())
        raw[200:4000] = b"\0" * 3800  # the first groups' pages, footer intact
        (tmp_path / "synapses.parquet").write_bytes(bytes(raw))
        from models.errors import CavernError
        with pytest.raises(CavernError):
            _query(src, [Filter("pre_pt_root_id", Op.EQ, 7)])
        # the rest of the file still answers
        assert _query(src, [Filter("pre_pt_root_id", Op.EQ, 4_900)]).frame["id"].tolist() == [4_900]
    finally:
        src.close()


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, 1_499), min_size=1, max_size=30),
       post=st.one_of(st.none(), st.lists(st.integers(0, 2_999), min_size=1, max_size=200)),
       size=st.one_of(st.none(), st.integers(0, 5_000)),
       kind=st.one_of(st.none(), st.sampled_from(["23P", "BC", "nope"])),
       eq=st.booleans())
def test_matches_pandas(table, picks, post, size, kind, eq):
    src, frame = table
    base = 864691135000000000
    filters = [Filter("pre_pt_root_id", Op.EQ, base + picks[0]) if eq else
               Filter("pre_pt_root_id", Op.IN, tuple(base + p for p in picks))]
    if post is not None:
        filters.append(Filter("post_pt_root_id", Op.IN, tuple(base + p for p in post)))
    if size is not None:
        filters.append(Filter("size", Op.GE, size))
    if kind is not None:
        filters.append(Filter("cell_type", Op.NE, kind))
    got = _query(src, filters).frame
    want = _expected(frame, filters)
    assert sorted(got["id"]) == sorted(want["id"])
    row = got.sort_values("id").head(1)
    if len(row):
        i = int(row["id"].iloc[0])
        assert list(row["ctr_pt_position"].iloc[0]) == [i, 2 * i, 7]
        assert str(row["cell_type"].iloc[0]) == frame.cell_type.iloc[i]
        assert row["when"].iloc[0] == frame.when.iloc[i]


def test_counts_read_the_pruned_groups_too(table, monkeypatch):
    src, frame = table
    ids = tuple(int(i) for i in np.unique(frame.pre_pt_root_id)[[1, 2, 700]])
    filters = (Filter("pre_pt_root_id", Op.IN, ids), Filter("size", Op.GE, 2500))
    seen = _spy(monkeypatch)
    n = src.row_count(src.datastacks()[0], "synapses", 0, filters)
    assert seen == [True] and n == len(_expected(frame, filters)) > 0
