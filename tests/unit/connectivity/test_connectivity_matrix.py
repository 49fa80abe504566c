"""Sparse connectivity matrix: weights, cell sets, orderings, summary, type blocks."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.errors import InvalidInputError
from services.connectivity.aggregation import (
    UNKNOWN_TYPE, aggregate_synapse_table, resolve_cell_types)
from services.cells.cortical_depth import depth_um
from services.connectivity.connectivity_matrix import WEIGHTS, build_matrix, synapse_matrix, type_blocks
from tests.unit.connectivity.test_connectivity_aggregation import BIG, random_synapses

PINKY = Path(__file__).resolve().parents[3] / "resources" / "samples" / "pinky100_sample" / "v185"


def dense_reference(df, pre_ids, post_ids, weight):
    """Plain pandas: groupby, then a dense frame reindexed to the cell sets (small data)."""
    g = df.groupby(["pre_pt_root_id", "post_pt_root_id"])["size"]
    value = {"binary": g.size().clip(upper=1), "count": g.size(), "size_sum": g.sum(),
             "ln_size_sum": np.log(g.sum()),
             "log10_1p_size_sum": np.log10(1 + g.sum()), "size_mean": g.mean()}[weight]
    dense = value.unstack(fill_value=0).reindex(index=pre_ids, columns=post_ids, fill_value=0)
    return dense.to_numpy(dtype=np.float64)


@pytest.mark.parametrize("weight", WEIGHTS)
def test_weights_match_dense_reference(weight):
    df = random_synapses(7, n=3000, n_pre=30, n_post=80)
    m = build_matrix(aggregate_synapse_table(df))
    assert m.shape == (30, 80)
    ref = dense_reference(df, m.row_ids, m.col_ids, weight)
    np.testing.assert_allclose(m.to_csr(weight).toarray(), ref, rtol=1e-12)


def test_rectangular_subsets_drop_outside_pairs_and_keep_empty_cells():
    df = random_synapses(8, n=2000, n_pre=20, n_post=60)
    pre_ids = np.r_[np.unique(df.pre_pt_root_id)[::2], 12345]  # 12345: no synapses at all
    post_ids = np.unique(df.post_pt_root_id)[5:40]
    m = synapse_matrix(df.pre_pt_root_id, df.post_pt_root_id, df["size"], pre_ids, post_ids)
    assert m.shape == (len(pre_ids), len(post_ids))
    assert m.row_ids.tolist() == sorted(pre_ids.tolist())
    ref = dense_reference(df, m.row_ids, m.col_ids, "count")
    np.testing.assert_array_equal(m.to_csr("count").toarray(), ref)
    s = m.summary()
    assert s["n_synapses"] == int(ref.sum())
    assert s["connected_pairs"] == int((ref > 0).sum())
    assert s["density"] == pytest.approx((ref > 0).sum() / ref.size)


def test_duplicate_cell_ids_are_dropped():
    df = random_synapses(9, n=500, n_pre=5, n_post=10)
    ids = np.unique(df.pre_pt_root_id)
    m = build_matrix(aggregate_synapse_table(df), np.r_[ids, ids], None)
    assert m.shape[0] == len(ids)


def test_type_depth_order_blocks_and_block_matrix():
    df = random_synapses(10, n=4000, n_pre=30, n_post=50)
    pairs = aggregate_synapse_table(df)
    pre_ids = np.unique(df.pre_pt_root_id)
    post_ids = np.unique(df.post_pt_root_id)
    rng = np.random.default_rng(1)
    cells = np.union1d(pre_ids, post_ids)
    types = pd.Series(rng.choice(np.array(["e", "i", None], dtype=object), cells.size),
                      index=cells)
    depth = pd.Series(rng.random(cells.size) * 100, index=cells)
    m = build_matrix(pairs, pre_ids, post_ids, row_order="type_depth",
                     col_order="type_depth", pre_types=types, post_types=types,
                     pre_depth=depth, post_depth=depth, type_order=["i"])
    # rows sorted by (type rank, depth), untyped last
    rank = {"i": 0, "e": 1, UNKNOWN_TYPE: 2}
    keys = [(rank[t], depth[i]) for t, i in zip(m.row_types, m.row_ids)]
    assert keys == sorted(keys)
    assert [b.label for b in m.row_blocks] == [t for t in ["i", "e", UNKNOWN_TYPE]
                                               if t in set(m.row_types)]
    assert sum(b.size for b in m.col_blocks) == len(post_ids)
    # same connections as id order, just permuted
    ref = dense_reference(df, m.row_ids, m.col_ids, "count")
    np.testing.assert_array_equal(m.to_csr("count").toarray(), ref)
    # block matrix against a pandas computation
    bm = m.block_matrix("size_sum").to_frame()
    p = pairs.assign(pre_type=types.reindex(pairs.pre_pt_root_id).fillna(UNKNOWN_TYPE).values,
                     post_type=types.reindex(pairs.post_pt_root_id).fillna(UNKNOWN_TYPE).values)
    agg = p.groupby(["pre_type", "post_type"]).agg(n=("n_synapses", "size"),
                                                   syn=("n_synapses", "sum"),
                                                   w=("size_sum", "mean"))
    n_row = pd.Series(m.row_types).value_counts()
    n_col = pd.Series(m.col_types).value_counts()
    for row in bm.itertuples():
        key = (row.pre_type, row.post_type)
        n = agg.loc[key, "n"] if key in agg.index else 0
        assert row.n_pairs == n
        assert row.probability == pytest.approx(n / (n_row[row.pre_type] * n_col[row.post_type]))
        if n:
            assert row.mean_weight == pytest.approx(agg.loc[key, "w"])
            assert row.n_synapses == agg.loc[key, "syn"]
        else:
            assert np.isnan(row.mean_weight)


def test_block_matrix_without_type_order_groups_labels():
    df = random_synapses(11, n=500, n_pre=6, n_post=12)
    ids = np.unique(np.r_[df.pre_pt_root_id, df.post_pt_root_id])
    types = pd.Series(np.where(np.arange(ids.size) % 2, "a", "b"), index=ids)
    m = build_matrix(aggregate_synapse_table(df), pre_types=types, post_types=types)
    bm = m.block_matrix("count")
    assert bm.row_labels == ["a", "b"] and bm.n_pairs.sum() == m.nnz


def test_degree_order():
    pairs = pd.DataFrame({"pre_pt_root_id": [1, 1, 1, 2, 3], "post_pt_root_id": [2, 3, 4, 3, 1],
                          "n_synapses": [1, 1, 1, 1, 1], "size_sum": [1, 1, 1, 1, 1]})
    m = build_matrix(pairs, [1, 2, 3], [1, 2, 3, 4], row_order="degree", col_order="degree")
    # total degree: 1 -> out 3 + in 1 = 4; 2 -> 1 + 1 = 2; 3 -> 1 + 2 = 3; 4 -> in 1
    assert m.row_ids.tolist() == [1, 3, 2]
    assert m.col_ids.tolist() == [1, 3, 2, 4]
    ref = pd.DataFrame(m.to_csr("binary").toarray(), index=m.row_ids, columns=m.col_ids)
    assert ref.loc[1, 4] == 1 and ref.loc[3, 1] == 1 and ref.loc[2, 1] == 0


def test_type_blocks_runs():
    blocks = type_blocks(["a", "a", "b", UNKNOWN_TYPE])
    assert [(b.label, b.start, b.stop) for b in blocks] == [("a", 0, 2), ("b", 2, 3),
                                                            (UNKNOWN_TYPE, 3, 4)]
    assert type_blocks([]) == []


def test_errors_are_typed():
    pairs = aggregate_synapse_table(random_synapses(12, n=50))
    with pytest.raises(InvalidInputError, match="weight"):
        build_matrix(pairs).to_csr("bogus")
    with pytest.raises(InvalidInputError, match="order"):
        build_matrix(pairs, row_order="random")
    with pytest.raises(InvalidInputError, match="cell-type"):
        build_matrix(pairs, row_order="type_depth")
    with pytest.raises(InvalidInputError, match="cell types"):
        build_matrix(pairs).block_matrix()
    with pytest.raises(InvalidInputError, match="values"):
        build_matrix(pairs, [BIG, BIG + 7], None, pre_types=["e"])
    with pytest.raises(InvalidInputError, match="column"):
        build_matrix(pairs.drop(columns="size_sum"))


@pytest.mark.skipif(not (PINKY / "synapses.parquet").exists(), reason="sample not built")
def test_pinky100_sample_matrix():
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    somas = pd.read_parquet(PINKY / "soma_valence.parquet")
    types = resolve_cell_types(somas)["cell_type"]
    depth = pd.Series(depth_um(np.vstack(somas.pt_position), {"kind": "linear", "axis": "y"}),
                      index=somas.pt_root_id)
    cells = np.union1d(syn.pre_pt_root_id, syn.post_pt_root_id)
    m = synapse_matrix(syn.pre_pt_root_id, syn.post_pt_root_id, syn["size"], cells, cells,
                       row_order="type_depth", col_order="type_depth", pre_types=types,
                       post_types=types, pre_depth=depth, post_depth=depth)
    s = m.summary()
    assert (s["n_pre"], s["n_post"], s["n_synapses"]) == (334, 334, 1961)
    assert s["connected_pairs"] == len(syn.groupby(["pre_pt_root_id", "post_pt_root_id"]))
    # every cell of this subgraph is a typed soma, ordered by depth within its type
    assert UNKNOWN_TYPE not in set(m.row_types)
    d = depth[~depth.index.duplicated()].reindex(m.row_ids).to_numpy()  # glia repeat ids
    for b in m.row_blocks:
        assert np.all(np.diff(d[b.start:b.stop]) >= 0)
    ref = dense_reference(syn, m.row_ids, m.col_ids, "size_sum")
    np.testing.assert_array_equal(m.to_csr("size_sum").toarray(), ref)
    bm = m.block_matrix("count")
    assert bm.n_synapses.sum() == 1961


@pytest.mark.parametrize("order", ["id", "degree", "type_depth"])
def test_synapse_matrix_equals_build_from_pair_table(order):
    df = random_synapses(13, n=3000, n_pre=25, n_post=60)
    cells = np.union1d(df.pre_pt_root_id, df.post_pt_root_id)
    types = pd.Series(np.where(cells % 3 == 0, "a", None), index=cells)
    pre_ids = np.r_[np.unique(df.pre_pt_root_id)[3:], 99]
    post_ids = np.unique(df.post_pt_root_id)[::2]
    opts = dict(row_order=order, col_order=order, pre_types=types, post_types=types)
    a = synapse_matrix(df.pre_pt_root_id, df.post_pt_root_id, df["size"], pre_ids, post_ids,
                       **opts)
    b = build_matrix(aggregate_synapse_table(df), pre_ids, post_ids, **opts)
    np.testing.assert_array_equal(a.row_ids, b.row_ids)
    np.testing.assert_array_equal(a.col_ids, b.col_ids)
    assert (a.to_csr("size_sum") != b.to_csr("size_sum")).nnz == 0
    assert a.row_blocks == b.row_blocks and a.summary() == b.summary()
