"""On-disk results (DuckDB): the same rows, order and filter as pandas computes, paged."""
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models.filters import Filter, Op
from models.query_spec import QuerySpec
from services.local.local_source import LocalSource
from services.results.disk_result import DiskResult, memory_budget
from services.results.disk_rows import DiskRows
from services.results.export import export_disk_rows
from services.results.result_rows import ResultRows
from tests.bench.synthetic import write_synapse_parquet

N = 20_000


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    write_synapse_parquet(folder / "synapses.parquet", N, seed=3)
    frame = pq.read_table(folder / "synapses.parquet").to_pandas()
    return folder, frame


def disk_rows(folder, budget=1000, **spec):
    src = LocalSource([folder])
    src.memory_budget = budget
    res = src.query(QuerySpec(table="synapses", datastack=src.datastacks()[0], version=0,
                              **spec))
    assert isinstance(res.frame, DiskResult) and res.frame.on_disk
    assert "stays on disk" in res.notes[0]
    return DiskRows(res.frame, page_rows=256, max_pages=4), src


def column_of(rows, name):
    c = rows.names.index(name)
    return [rows.text(r, c) for r in range(rows.n_rows)]


def test_under_budget_stays_in_memory(table):
    src = LocalSource([table[0]])
    src.memory_budget = 10 ** 12
    res = src.query(QuerySpec(table="synapses", datastack=src.datastacks()[0], version=0))
    assert isinstance(res.frame, pd.DataFrame) and len(res.frame) == N


def test_cells_and_root_ids_exact(table):
    rows, _src = disk_rows(table[0])
    frame = table[1]
    assert rows.n_rows == N and rows.kinds[1] == "int" and rows.kinds[4] == "list"
    for r in (0, 255, 256, 12_345, N - 1):
        assert rows.text(r, 1) == str(frame.pre_pt_root_id[r])
        assert rows.value(r, 2) == frame.post_pt_root_id[r]
        x, y, z = frame.ctr_pt_position[r]
        assert rows.text(r, 4) == f"[{x}, {y}, {z}]"
    assert rows.peak_rows_held <= 256 * 4


@pytest.mark.parametrize("descending", [False, True])
def test_sort_matches_pandas(table, descending):
    rows, _src = disk_rows(table[0])
    frame = table[1]
    rows.sort(rows.names.index("size"), descending)
    want = frame.sort_values("size", ascending=not descending, kind="stable")
    assert column_of(rows, "id") == [str(v) for v in want["id"]]
    # and the same order as the in-memory model
    mem = ResultRows(frame)
    mem.sort(3, descending)
    assert [str(v) for v in frame["id"].to_numpy()[mem.source_rows(range(N))]] == \
        [str(v) for v in want["id"]]
    assert rows.source_row(0) == int(want.index[0])
    assert rows.peak_rows_held <= 256 * 4


def test_filter_and_sort_match_pandas(table):
    rows, _src = disk_rows(table[0])
    frame = table[1]
    needle = str(frame.pre_pt_root_id[17])[-7:]
    rows.set_filter(needle)
    hit = (frame.pre_pt_root_id.astype(str).str.contains(needle)
           | frame.post_pt_root_id.astype(str).str.contains(needle)
           | frame.id.astype(str).str.contains(needle)
           | frame["size"].astype(str).str.contains(needle))
    want = frame[hit]
    assert 0 < rows.n_rows == len(want)
    assert column_of(rows, "id") == [str(v) for v in want["id"]]
    mem = ResultRows(frame)
    mem.set_filter(needle)
    assert mem.n_rows == len(want)
    rows.sort(rows.names.index("pre_pt_root_id"), True)
    want = want.sort_values("pre_pt_root_id", ascending=False, kind="stable")
    assert column_of(rows, "id") == [str(v) for v in want["id"]]
    rows.set_filter("")
    assert rows.n_rows == N
    pos = "[" + ", ".join(str(v) for v in frame.ctr_pt_position[5]) + "]"
    rows.set_filter(pos[:12])
    assert rows.n_rows >= 1


def test_filtered_query_is_materialised_and_exported(table, tmp_path):
    frame = table[1]
    ids = tuple(int(v) for v in frame.pre_pt_root_id.unique()[:50])
    rows, _src = disk_rows(table[0], filters=(Filter("pre_pt_root_id", Op.IN, ids),))
    want = frame[frame.pre_pt_root_id.isin(ids)]
    assert column_of(rows, "id") == [str(v) for v in want["id"]]
    rows.sort(rows.names.index("size"))
    want = want.sort_values("size", kind="stable")
    out = tmp_path / "out.csv"
    export_disk_rows(rows, out)
    got = pd.read_csv(out)
    assert got["id"].tolist() == want["id"].tolist()
    assert got["pre_pt_root_id"].tolist() == want["pre_pt_root_id"].tolist()  # exact int64
    assert got["ctr_pt_position"][0] == "[" + ", ".join(
        str(v) for v in want.ctr_pt_position.iloc[0]) + "]"
    export_disk_rows(rows, tmp_path / "sel.parquet", view_rows=[0, 2])
    sel = pd.read_parquet(tmp_path / "sel.parquet")
    assert sel["id"].tolist() == want["id"].iloc[[0, 2]].tolist()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".cavern")] == []
    assert rows.frame_rows([2, 0])["id"].tolist() == want["id"].iloc[[2, 0]].tolist()


def test_cancelled_export_leaves_old_file(table, tmp_path):
    from models.errors import CancelledError
    from services.source import CancelToken
    rows, _src = disk_rows(table[0])
    out = tmp_path / "out.csv"
    out.write_text("old")
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        export_disk_rows(rows, out, cancel=token)
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_close_removes_temporary_database(table):
    import os
    rows, _src = disk_rows(table[0])
    rows.sort(3)
    folder = rows.result.dir
    assert os.path.isdir(folder)
    rows.close()
    assert not os.path.exists(folder)


def test_budget_from_environment(monkeypatch):
    monkeypatch.setenv("CAVERN_MEMORY_BUDGET", "2MB")
    assert memory_budget() == 2 << 20
    monkeypatch.setenv("CAVERN_MEMORY_BUDGET", "")
    assert memory_budget() == 1 << 30
