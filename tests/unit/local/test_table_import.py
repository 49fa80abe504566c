"""Big tables come in sorted, in small row groups, and one cell is found by pruning."""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models.errors import InvalidInputError
from models.filters import Filter, Op
from services.local.local_sql import IN_LITERAL_MAX, build_where
from services.local.table_import import import_table, row_group_ranges


def test_import_sorts_and_groups(tmp_path):
    rng = np.random.default_rng(0)
    n = 50_000
    pq.write_table(pa.table({"id": np.arange(n), "pre_pt_root_id": rng.integers(0, 500, n),
                             "post_pt_root_id": rng.integers(0, 500, n)}), tmp_path / "d.parquet")
    out = import_table(tmp_path / "d.parquet", tmp_path / "s.parquet", row_group_rows=4096)
    assert out["rows"] == n and out["row_groups"] >= 12
    ranges = row_group_ranges(tmp_path / "s.parquet", "pre_pt_root_id")
    assert all(a <= b for a, b in ranges) and all(
        ranges[i][1] <= ranges[i + 1][0] for i in range(len(ranges) - 1))
    t = pq.read_table(tmp_path / "s.parquet")
    assert sorted(t["id"].to_pylist()) == list(range(n))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cavern")]
    with pytest.raises(InvalidInputError):
        import_table(tmp_path / "d.parquet", tmp_path / "x.parquet", sort_by=("nope",))


def test_long_in_lists_have_no_limit():
    from models.datastack import ColumnInfo, TableInfo  # noqa: F401 (shape of the info)
    class Info:
        kinds = {"a": "int"}
    short, p1, t1 = build_where([Filter("a", Op.IN, tuple(range(3)))], Info())
    long, p2, t2 = build_where([Filter("a", Op.IN, tuple(range(IN_LITERAL_MAX + 1)))], Info())
    assert short.count("?") == 3 and not t1
    # the long list is an Arrow table to register on the cursor, not a bound parameter
    (name, table), = t2.items()
    assert name in long and not p2 and table.column(0).to_pylist() == list(range(IN_LITERAL_MAX + 1))
