"""Pair aggregation and cell-type resolution, checked against plain pandas groupby."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.errors import InvalidInputError
from services.connectivity.aggregation import (
    aggregate_pairs, aggregate_pairs_indexed, aggregate_synapse_table, as_root_ids,
    factorize_ids,
    order_by_degree, order_by_type_depth, resolve_cell_types, type_rank,
    UNKNOWN_TYPE)

ROOT = Path(__file__).resolve().parents[3]
PINKY = ROOT / "resources" / "samples" / "pinky100_sample" / "v185"
BIG = 864691135774053371  # 18 digits: float64 would round it


def random_synapses(seed=0, n=5000, n_pre=40, n_post=300, size_dtype=np.int64):
    rng = np.random.default_rng(seed)
    pre = BIG + rng.integers(0, n_pre, n) * 7  # ids differ in the last digits only
    post = BIG + 1_000_000 + rng.integers(0, n_post, n) * 3
    size = rng.lognormal(5, 1, n).astype(size_dtype)
    return pd.DataFrame({"id": np.arange(n), "pre_pt_root_id": pre,
                         "post_pt_root_id": post, "size": size})


def reference_pairs(df):
    return (df.groupby(["pre_pt_root_id", "post_pt_root_id"], sort=True)["size"]
            .agg(["count", "sum", "mean"]).reset_index())


def assert_equal_to_groupby(pairs, df):
    ref = reference_pairs(df)
    assert list(pairs.columns) == ["pre_pt_root_id", "post_pt_root_id", "n_synapses",
                                   "size_sum", "size_mean"]
    assert pairs["pre_pt_root_id"].dtype == np.int64
    assert pairs["post_pt_root_id"].dtype == np.int64
    np.testing.assert_array_equal(pairs["pre_pt_root_id"], ref["pre_pt_root_id"])
    np.testing.assert_array_equal(pairs["post_pt_root_id"], ref["post_pt_root_id"])
    np.testing.assert_array_equal(pairs["n_synapses"], ref["count"])
    np.testing.assert_allclose(pairs["size_sum"], ref["sum"], rtol=1e-12)
    np.testing.assert_allclose(pairs["size_mean"], ref["mean"], rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_integer_sizes_match_groupby(seed):
    df = random_synapses(seed)
    pairs = aggregate_synapse_table(df)
    assert_equal_to_groupby(pairs, df)
    assert pairs["size_sum"].dtype == np.int64
    assert pairs["n_synapses"].sum() == len(df)


@pytest.mark.parametrize("dtype", [np.uint64, np.uint32, np.int32])
def test_other_integer_size_dtypes(dtype):
    df = random_synapses(2, size_dtype=dtype)
    assert_equal_to_groupby(aggregate_synapse_table(df), df)


def test_float_sizes_take_the_general_path():
    df = random_synapses(3, size_dtype=np.float64)
    df["size"] += 0.25
    assert_equal_to_groupby(aggregate_synapse_table(df), df)


def test_negative_and_huge_sizes_are_not_packed_but_still_exact():
    df = random_synapses(4)
    df.loc[::7, "size"] = -5
    df.loc[::11, "size"] = 2**40
    assert_equal_to_groupby(aggregate_synapse_table(df), df)


def test_wide_id_span_takes_the_factorized_path():
    # ids from 1 to 2^62 cannot be packed as offsets next to a pre code and sizes
    df = random_synapses(6)
    df.loc[::3, "post_pt_root_id"] = 1
    df.loc[1::5, "post_pt_root_id"] = 2**62 + 17
    indexed = aggregate_pairs_indexed(df.pre_pt_root_id, df.post_pt_root_id, df["size"])
    assert indexed._post is not None  # post ids were factorized, not offset-packed
    assert_equal_to_groupby(indexed.pairs, df)
    narrow = aggregate_pairs_indexed(*(random_synapses(6)[c] for c in
                                       ("pre_pt_root_id", "post_pt_root_id", "size")))
    assert narrow._post is None  # offset path; its post index is built on demand
    uniq, code = narrow.post_index()
    np.testing.assert_array_equal(uniq[code], narrow.pairs["post_pt_root_id"])


@pytest.mark.parametrize("ids", [
    np.array([BIG + 5, BIG, BIG + 5, BIG + 2, BIG], dtype=np.int64),
    np.array([2**63 - 1, -(2**63), 0, 2**63 - 1], dtype=np.int64),  # span too wide: pandas
    np.zeros(0, dtype=np.int64)])
def test_factorize_ids_matches_pandas(ids):
    codes, uniq = factorize_ids(ids)
    ref_codes, ref_uniq = pd.factorize(ids, sort=True)
    np.testing.assert_array_equal(codes, ref_codes)
    np.testing.assert_array_equal(uniq, ref_uniq)
    assert uniq.dtype == np.int64


def test_without_sizes_counts_only():
    df = random_synapses(5)
    pairs = aggregate_pairs(df.pre_pt_root_id, df.post_pt_root_id)
    ref = reference_pairs(df)
    np.testing.assert_array_equal(pairs["n_synapses"], ref["count"])
    assert pairs["size_mean"].isna().all()


def test_ids_stay_exact_near_int64_limit():
    pre = np.array([2**63 - 1, 2**63 - 1, 2**63 - 2], dtype=np.int64)
    post = np.array([2**63 - 3, 2**63 - 3, 2**63 - 1], dtype=np.int64)
    pairs = aggregate_pairs(pre, post, np.array([1, 2, 3]))
    assert pairs["pre_pt_root_id"].tolist() == [2**63 - 2, 2**63 - 1]
    assert pairs["post_pt_root_id"].tolist() == [2**63 - 1, 2**63 - 3]
    assert pairs["n_synapses"].tolist() == [1, 2]
    assert pairs["size_sum"].tolist() == [3, 3]


def test_empty_table():
    pairs = aggregate_pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    assert len(pairs) == 0 and pairs["pre_pt_root_id"].dtype == np.int64


def test_float_ids_are_refused():
    with pytest.raises(InvalidInputError, match="floating-point"):
        aggregate_pairs(np.array([1.0, 2.0]), np.array([1, 2]))


def test_object_and_string_ids_are_converted_exactly():
    ids = as_root_ids(np.array([BIG, str(BIG + 1)], dtype=object))
    assert ids.dtype == np.int64 and ids.tolist() == [BIG, BIG + 1]
    with pytest.raises(InvalidInputError):
        as_root_ids(pd.Series([BIG, None], dtype=object))
    with pytest.raises(InvalidInputError):
        as_root_ids(np.array(["12a"], dtype=object))


def test_length_mismatch_and_missing_columns():
    with pytest.raises(InvalidInputError):
        aggregate_pairs(np.array([1, 2]), np.array([1]))
    with pytest.raises(InvalidInputError):
        aggregate_pairs(np.array([1, 2]), np.array([1, 2]), np.array([1]))
    with pytest.raises(InvalidInputError, match="missing"):
        aggregate_pairs(np.array([1, 2]), np.array([1, 2]), pd.Series([1, None], dtype="Int64"))
    with pytest.raises(InvalidInputError, match="numbers"):
        aggregate_pairs(np.array([1, 2]), np.array([1, 2]), np.array(["a", "b"]))
    with pytest.raises(InvalidInputError, match="post_pt_root_id"):
        aggregate_synapse_table(pd.DataFrame({"pre_pt_root_id": [1]}))


def test_resolve_cell_types_rule():
    table = pd.DataFrame({
        "pt_root_id": [1, 1, 1, 2, 2, 3, 3, 4],
        "cell_type": ["b", "a", "b", "z", "y", None, "x", None]})
    out = resolve_cell_types(table)
    assert out.loc[1, "cell_type"] == "b"      # most frequent
    assert out.loc[2, "cell_type"] == "y"      # tie: alphabetical
    assert out.loc[3, "cell_type"] == "x"      # missing labels ignored
    assert 4 not in out.index                  # no label at all
    assert out.loc[1, "n_type_labels"] == 2 and out.loc[3, "n_type_labels"] == 1
    # independent of row order
    shuffled = resolve_cell_types(table.sample(frac=1, random_state=3))
    pd.testing.assert_frame_equal(out, shuffled)


def test_type_rank_and_type_depth_order():
    ids = np.array([50, 40, 30, 20, 10], dtype=np.int64)
    types = np.array(["i", None, "e", "e", "i"], dtype=object)
    depth = np.array([5.0, 1.0, np.nan, 3.0, 2.0])
    ranks, labels = type_rank(types, type_order=["i"])
    assert labels == ["i", "e", UNKNOWN_TYPE]
    perm = order_by_type_depth(ids, types, depth, type_order=["i"])
    assert ids[perm].tolist() == [10, 50, 20, 30, 40]
    perm = order_by_type_depth(ids, types)  # alphabetical, ties by id
    assert ids[perm].tolist() == [20, 30, 10, 50, 40]


def test_degree_order_ties_by_id():
    ids = np.array([3, 1, 2], dtype=np.int64)
    assert ids[order_by_degree(ids, [5, 5, 9])].tolist() == [2, 1, 3]


@pytest.mark.skipif(not (PINKY / "synapses.parquet").exists(), reason="sample not built")
def test_pinky100_sample_pairs():
    df = pd.read_parquet(PINKY / "synapses.parquet")
    pairs = aggregate_synapse_table(df)
    assert_equal_to_groupby(pairs, df)
    assert pairs["n_synapses"].sum() == 1961
    cells = np.union1d(pairs.pre_pt_root_id, pairs.post_pt_root_id)
    assert len(cells) == 334


@pytest.mark.parametrize("seed", range(6))
def test_post_index_from_the_cell_set_equals_the_sorted_one(seed):
    rng = np.random.default_rng(seed)
    df = random_synapses(seed)
    cells = np.unique(df.post_pt_root_id)
    extra = BIG + 10**9 + rng.choice(10**6, 50, replace=False)  # cells without synapses
    cells = rng.permutation(np.r_[cells, extra])
    got = aggregate_pairs_indexed(df.pre_pt_root_id, df.post_pt_root_id, df["size"])
    want = aggregate_pairs_indexed(df.pre_pt_root_id, df.post_pt_root_id, df["size"])
    assert got.index_posts_within(cells)
    for a, b in zip(got.post_index(), want.post_index()):
        np.testing.assert_array_equal(a, b)
    # a pair whose post id is not in the set: the index is left to be made as before
    short = aggregate_pairs_indexed(df.pre_pt_root_id, df.post_pt_root_id, df["size"])
    assert not short.index_posts_within(cells[cells != df.post_pt_root_id.iloc[0]])
    np.testing.assert_array_equal(short.post_index()[0], want.post_index()[0])
