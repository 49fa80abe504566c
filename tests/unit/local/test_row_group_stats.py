"""The footer's bound on an id filter: never below the true count, close to it on a sorted
table, and it spares a query on a big sorted table its extra count pass."""
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from models.filters import Filter, Op
from models.query_spec import QuerySpec
from services.local.local_source import LocalSource
from services.local.row_group_stats import rows_bound


def _table(tmp_path, sort: bool):
    rng = np.random.default_rng(4)
    n = 40_000
    pre = 864691135000000000 + rng.integers(0, 2_000, n)
    frame = pd.DataFrame({"id": np.arange(n, dtype=np.int64), "pre_pt_root_id": pre,
                          "cell_type": rng.choice(["a", "b"], n)})
    if sort:
        frame = frame.sort_values("pre_pt_root_id", kind="stable")
    path = tmp_path / ("sorted" if sort else "dump") / "synapses.parquet"
    path.parent.mkdir()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=1_000)
    return path, frame


def test_bound_is_safe_and_tight_on_sorted_tables(tmp_path):
    path, frame = _table(tmp_path, sort=True)
    ids = tuple(int(i) for i in np.sort(frame.pre_pt_root_id.unique())[[3, 500, 1500]])
    true = int(frame.pre_pt_root_id.isin(ids).sum())
    bound = rows_bound(path, [Filter("pre_pt_root_id", Op.IN, ids)])
    assert true <= bound <= 6_000 < len(frame)  # at most two row groups per id
    assert rows_bound(path, [Filter("pre_pt_root_id", Op.EQ, ids[0])]) >= \
        int((frame.pre_pt_root_id == ids[0]).sum())
    assert rows_bound(path, [Filter("cell_type", Op.EQ, "a")]) is None  # text: no judge
    assert rows_bound(path, [Filter("pre_pt_root_id", Op.GT, 1)]) is None
    # two filters ANDed: never more than either alone
    both = rows_bound(path, [Filter("pre_pt_root_id", Op.IN, ids),
                             Filter("id", Op.IN, tuple(range(0, 40_000, 7)))])
    assert both <= bound


def test_unsorted_bound_is_the_whole_table(tmp_path):
    path, frame = _table(tmp_path, sort=False)
    ids = tuple(int(i) for i in frame.pre_pt_root_id.unique()[:3])
    assert rows_bound(path, [Filter("pre_pt_root_id", Op.IN, ids)]) == len(frame)


def test_a_sorted_query_that_fits_is_not_counted_first(tmp_path, monkeypatch):
    path, frame = _table(tmp_path, sort=True)
    src = LocalSource([path.parent])
    try:
        src.memory_budget = 100_000  # the table (40k rows x ~24 B) is "bigger than memory"
        ds = src.datastacks()[0]
        ids = tuple(int(i) for i in np.sort(frame.pre_pt_root_id.unique())[:2])
        monkeypatch.setattr(src, "row_count", lambda *a, **k: (_ for _ in ()).throw(
            AssertionError("counted although the footer showed it fits")))
        got = src.query(QuerySpec(table="synapses", datastack=ds, version=0,
                                  filters=(Filter("pre_pt_root_id", Op.IN, ids),))).frame
        assert sorted(got["id"]) == sorted(frame.id[frame.pre_pt_root_id.isin(ids)])
    finally:
        src.close()
