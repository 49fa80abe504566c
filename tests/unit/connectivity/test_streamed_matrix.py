"""The matrix aggregated in one pass over a (pre, post)-sorted table: the same numbers as
the in-memory matrix (pandas groupby checks it too), pairs split across batches counted
once, a file that only looks sorted falls back, exports refuse instead of being partial."""
import json

import numpy as np
import pandas as pd
import pytest

from models.errors import InvalidInputError, NotSortedError
from services.connectivity import matrix_queries as mq
from services.connectivity.connectivity_image import downsample_matrix
from services.connectivity.connectivity_matrix import WEIGHTS
from services.local import sorted_scan
from services.local.local_source import LocalSource
from services.local.table_import import import_table
from services.workspace import Workspace
from tests.bench.synthetic import synthetic_synapses

IMAGE = (60, 40)  # few pixels: each holds many pairs, so the pixel pairs are a real choice


def _stack(tmp_path, syn, cells, sort=True, name="stack"):
    stack = tmp_path / name
    v = stack / "v1"
    v.mkdir(parents=True)
    raw = tmp_path / f"{name}_dump.parquet"
    syn.to_parquet(raw, index=False)
    if sort:
        import_table(raw, v / "synapses.parquet", row_group_rows=2_000)
    else:
        syn.to_parquet(v / "synapses.parquet", index=False, row_group_size=2_000)
    cells.to_parquet(v / "cells.parquet", index=False)
    (stack / "manifest.json").write_text(json.dumps({
        "format": "cavern-datastack/1", "name": name, "voxel_resolution": [4, 4, 40],
        "synapse_table": "synapses", "soma_table": "cells", "cell_type_tables": ["cells"],
        "default_version": 1, "versions": [{"version": 1, "folder": "v1", "timestamp": None}]}))
    return stack


@pytest.fixture(scope="module")
def data():
    syn, cells = synthetic_synapses(seed=3, n_synapses=60_000, n_pre=300, n_post=2_000)
    rng = np.random.default_rng(1)
    cells = pd.DataFrame({"pt_root_id": cells.pt_root_id, "cell_type": cells.cell_type,
                          "pt_position": list(np.column_stack([
                              rng.integers(0, 9_000, len(cells)),
                              (cells.depth_um.to_numpy() * 250).astype(np.int64),
                              rng.integers(0, 900, len(cells))]))})
    # the set leaves some cells out, so membership matters on both axes
    return syn, cells.iloc[: int(len(cells) * 0.8)].reset_index(drop=True)


def _both(ws, spec, monkeypatch, order="type_depth"):
    mem = mq.compute_matrix(ws, spec, order=order, hide_unconnected=False, image_size=IMAGE)
    monkeypatch.setattr(mq, "MATRIX_MEMORY_SYNAPSES", 100)
    disk = mq.compute_matrix(ws, spec, order=order, hide_unconnected=False, image_size=IMAGE)
    monkeypatch.setattr(mq, "MATRIX_MEMORY_SYNAPSES", 40_000_000)
    return mem, disk


def test_streamed_equals_in_memory_and_pandas(tmp_path, data, monkeypatch):
    syn, cells = data
    monkeypatch.setattr(sorted_scan, "BATCH_ROWS", 7_001)  # many pairs straddle batches
    src = LocalSource([_stack(tmp_path, syn, cells)])
    try:
        ws = Workspace(src, "stack")
        spec = mq.CellSetSpec("cells", type_table="cells")
        mem, disk = _both(ws, spec, monkeypatch)
        assert disk.blocks and disk.matrix.pixel_pairs_only and not mem.matrix.pixel_pairs_only
        # independent: pandas groupby over the synapses among the set
        ids = set(cells.pt_root_id)
        among = syn[syn.pre_pt_root_id.isin(ids) & syn.post_pt_root_id.isin(ids)]
        pairs = among.groupby(["pre_pt_root_id", "post_pt_root_id"])["size"].agg(["size", "sum"])
        s = disk.summary
        assert s["connected_pairs"] == len(pairs) and s["n_synapses"] == len(among)
        assert s["n_pre_connected"] == among.pre_pt_root_id.nunique()
        assert s["n_post_connected"] == among.post_pt_root_id.nunique()
        assert s["n_pre_all"] == s["n_post_all"] == len(cells)
        assert s["density_whole_set"] == pytest.approx(len(pairs) / len(cells) ** 2)
        want = mem.matrix.summary(len(mem.pre.ids), len(mem.post.ids))
        assert {k: s[k] for k in want} == want
        assert (disk.matrix.row_ids == mem.matrix.row_ids).all()
        assert [b.label for b in disk.matrix.row_blocks] == [b.label for b in mem.matrix.row_blocks]
        for w in WEIGHTS:
            a = downsample_matrix(mem.matrix, *IMAGE, weight=w)
            b = downsample_matrix(disk.matrix, *IMAGE, weight=w)
            assert np.array_equal(a.image, b.image), w
            ba, bb = mem.matrix.block_matrix(w).to_frame(), disk.blocks[w].to_frame()
            assert ba.drop(columns="mean_weight").equals(bb.drop(columns="mean_weight"))
            assert np.allclose(ba.mean_weight, bb.mean_weight, equal_nan=True), w
            # the pair a pixel shows (hover) is a real pair with the pixel's value
            y, x = np.unravel_index(int(np.argmax(b.image)), b.image.shape)
            k = b.pair_at(int(x), int(y))
            pre, post = disk.matrix.row_ids[disk.matrix.rows[k]], disk.matrix.col_ids[
                disk.matrix.cols[k]]
            assert int(pairs.loc[(pre, post), "size"]) == disk.matrix.n_synapses[k]
        # nothing partial leaves the matrix
        with pytest.raises(InvalidInputError, match="aggregated on disk"):
            mq.matrix_long_frame(disk.matrix, "count")
        with pytest.raises(InvalidInputError, match="aggregated on disk"):
            disk.matrix.block_matrix("count")
        assert any("one pass" in n for n in disk.notes)
        # degree order needs every pair: ordered by id, and the notes say so
        _, by_degree = _both(ws, spec, monkeypatch, order="degree")
        assert by_degree.matrix.row_order == "id"
        assert any("degree" in n for n in by_degree.notes)
    finally:
        src.close()


def test_unsorted_and_falsely_sorted_tables_fall_back(tmp_path, data, monkeypatch):
    syn, cells = data
    spec = mq.CellSetSpec("cells", type_table="cells")
    # a dump in id order: the footer shows overlapping pre ranges, so no stream at all
    src = LocalSource([_stack(tmp_path, syn, cells, sort=False, name="dump")])
    try:
        ws = Workspace(src, "dump")
        assert src.sorted_synapse_scan("dump", "synapses", 1, cells.pt_root_id) is None
        mem, disk = _both(ws, spec, monkeypatch)
        assert disk.blocks is None  # the DuckDB GROUP BY path
        assert disk.matrix.pairs().equals(mem.matrix.pairs())
    finally:
        src.close()
    # sorted by pre only, post shuffled within: the footer looks sorted, the rows are not
    bad = syn.sort_values("pre_pt_root_id", kind="stable").reset_index(drop=True)
    bad = bad.groupby("pre_pt_root_id", group_keys=False).sample(frac=1.0, random_state=0)
    stack = _stack(tmp_path, bad, cells, sort=False, name="liar")
    src = LocalSource([stack])
    try:
        ws = Workspace(src, "liar")
        scan = src.sorted_synapse_scan("liar", "synapses", 1, cells.pt_root_id)
        assert scan is not None
        with pytest.raises(NotSortedError):
            for _ in scan.batches():
                pass
        mem, disk = _both(ws, spec, monkeypatch)
        assert disk.blocks is None and disk.matrix.pairs().equals(mem.matrix.pairs())
    finally:
        src.close()


def test_row_groups_without_a_set_cell_are_not_read(tmp_path, data):
    syn, cells = data
    src = LocalSource([_stack(tmp_path, syn, cells)])
    try:
        few = np.sort(syn.pre_pt_root_id.unique())[:3]
        scan = src.sorted_synapse_scan("stack", "synapses", 1, few)
        assert scan.rows_bound < scan.n_rows
        assert scan.rows_bound >= int(syn.pre_pt_root_id.isin(few).sum())
        read = sum(len(p) for p, _, _ in scan.batches())
        assert read == scan.rows_bound
    finally:
        src.close()


def test_cancel_stops_the_scan(tmp_path, data, monkeypatch):
    from models.errors import CancelledError
    from services.source import CancelToken
    syn, cells = data
    monkeypatch.setattr(sorted_scan, "BATCH_ROWS", 5_000)
    src = LocalSource([_stack(tmp_path, syn, cells)])
    try:
        scan = src.sorted_synapse_scan("stack", "synapses", 1, cells.pt_root_id)
        token = CancelToken()
        got = 0
        with pytest.raises(CancelledError):
            for _ in scan.batches(token):
                got += 1
                token.cancel()
        assert got == 1
    finally:
        src.close()
