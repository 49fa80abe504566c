"""Partners of one cell, grouped by type, and the histogram helpers."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.errors import InvalidInputError
from services.connectivity.aggregation import UNKNOWN_TYPE
from services.connectivity.connectivity_partners import (
    PARTNER_COLUMNS, cell_partners, depth_histogram, partners_by_type, synapse_size_histogram,
    synapses_per_connection_histogram)
from tests.unit.connectivity.test_connectivity_aggregation import BIG, random_synapses

PINKY = Path(__file__).resolve().parents[3] / "resources" / "samples" / "pinky100_sample" / "v185"


def reference_partners(df, root, direction):
    me, other = (("post_pt_root_id", "pre_pt_root_id") if direction == "in"
                 else ("pre_pt_root_id", "post_pt_root_id"))
    return (df[df[me] == root].groupby(other)["size"].agg(["count", "sum", "mean"])
            .rename_axis("partner_root_id").reset_index())


@pytest.mark.parametrize("direction", ["in", "out"])
def test_partners_match_groupby(direction):
    df = random_synapses(30, n=4000, n_pre=20, n_post=40)
    root = int(df.post_pt_root_id.iloc[0] if direction == "in" else df.pre_pt_root_id.iloc[0])
    out = cell_partners(df, str(root), direction)
    assert list(out.columns) == list(PARTNER_COLUMNS)
    assert out["partner_root_id"].dtype == np.int64
    ref = reference_partners(df, root, direction).set_index("partner_root_id")
    assert len(out) == len(ref)
    got = out.set_index("partner_root_id")
    np.testing.assert_array_equal(got["n_synapses"], ref.loc[got.index, "count"])
    np.testing.assert_array_equal(got["size_sum"], ref.loc[got.index, "sum"])
    np.testing.assert_allclose(got["size_mean"], ref.loc[got.index, "mean"])
    keys = list(zip(-out.n_synapses, -out.size_sum, out.partner_root_id))
    assert keys == sorted(keys)
    assert out["proofread"].isna().all() and not out["known"].any()


def test_types_proofreading_and_filters():
    df = pd.DataFrame({"pre_pt_root_id": [BIG + 1, BIG + 1, BIG + 2, BIG + 3, BIG + 4, BIG + 9],
                       "post_pt_root_id": [BIG] * 5 + [BIG + 1],
                       "size": [10, 20, 5, 7, 1, 100]})
    types = pd.DataFrame({"pt_root_id": [BIG + 1, BIG + 2, BIG + 2, BIG + 2, BIG + 4],
                          "cell_type": ["e", "i", "e", "i", None]})
    out = cell_partners(df, BIG, "in", cell_types=types, proofread_ids=[BIG + 2, BIG + 3])
    assert out["partner_root_id"].tolist() == [BIG + 1, BIG + 3, BIG + 2, BIG + 4]
    assert out["cell_type"].tolist() == ["e", None, "i", None]
    assert out["n_type_labels"].tolist() == [1, 0, 2, 0]
    assert out["known"].tolist() == [True, False, True, False]
    assert out["proofread"].tolist() == [False, True, True, False]
    known = cell_partners(df, BIG, "in", cell_types=types, known_only=True)
    assert known["partner_root_id"].tolist() == [BIG + 1, BIG + 2]
    proof = cell_partners(df, BIG, "in", cell_types=types, proofread_ids=[BIG + 2, BIG + 3],
                          proofread_only=True, known_only=True)
    assert proof["partner_root_id"].tolist() == [BIG + 2]
    by_type = partners_by_type(out)
    assert by_type["cell_type"].tolist() == ["e", "i", UNKNOWN_TYPE]
    assert by_type["n_partners"].tolist() == [1, 1, 2]
    assert by_type["n_synapses"].tolist() == [2, 1, 2]
    assert by_type["synapse_share"].tolist() == pytest.approx([0.4, 0.2, 0.4])


def test_cell_without_synapses_gives_empty_table():
    df = random_synapses(31, n=100)
    out = cell_partners(df, 1, "out", cell_types=pd.DataFrame({"pt_root_id": [1],
                                                                "cell_type": ["e"]}))
    assert len(out) == 0 and list(out.columns) == list(PARTNER_COLUMNS)
    assert len(partners_by_type(out)) == 0


def test_errors_are_typed():
    df = random_synapses(32, n=100)
    with pytest.raises(InvalidInputError, match="direction"):
        cell_partners(df, BIG, "both")
    with pytest.raises(InvalidInputError):
        cell_partners(df, "not-an-id")
    with pytest.raises(InvalidInputError, match="proofreading"):
        cell_partners(df, BIG, proofread_only=True)
    with pytest.raises(InvalidInputError, match="cell-type"):
        cell_partners(df, BIG, known_only=True)
    with pytest.raises(InvalidInputError, match="pre_pt_root_id"):
        cell_partners(df.drop(columns="pre_pt_root_id"), BIG)
    with pytest.raises(InvalidInputError, match="floating-point"):
        cell_partners(df.astype({"pre_pt_root_id": float}), BIG)


def test_histograms():
    h = synapses_per_connection_histogram([1, 1, 2, 5])
    assert h.counts.tolist() == [2, 1, 0, 0, 1]
    assert h.edges.tolist() == [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]
    sizes = np.array([1, 10, 100, 1000, 0, -3])
    lin = synapse_size_histogram(sizes, bins=4)
    assert lin.counts.sum() == 6 and lin.edges[0] == -3 and lin.edges[-1] == 1000
    log = synapse_size_histogram(sizes, bins=3, log=True)
    np.testing.assert_allclose(log.edges, [1, 10, 100, 1000])
    assert log.counts.tolist() == [1, 1, 2] and log.excluded == 2 and log.log
    dh = depth_histogram([100.0, np.nan, 300.0, 250.0], bins=2, value_range=(0, 400))
    assert dh.counts.tolist() == [1, 2] and dh.excluded == 1
    empty = depth_histogram([np.nan], bins=3)
    assert empty.counts.tolist() == [0, 0, 0] and empty.excluded == 1
    with pytest.raises(InvalidInputError):
        synapse_size_histogram(sizes, bins=0)


@pytest.mark.skipif(not (PINKY / "synapses.parquet").exists(), reason="sample not built")
def test_pinky100_sample_partners():
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    somas = pd.read_parquet(PINKY / "soma_valence.parquet")
    complete = pd.read_parquet(PINKY / "complete_somas.parquet")["pt_root_id"]
    total_in = total_out = 0
    for root in np.union1d(syn.pre_pt_root_id, syn.post_pt_root_id)[:20]:
        ins = cell_partners(syn, root, "in", cell_types=somas, proofread_ids=complete)
        outs = cell_partners(syn, root, "out", cell_types=somas)
        ref = reference_partners(syn, root, "in")
        assert ins["n_synapses"].sum() == ref["count"].sum()
        assert set(ins.partner_root_id) == set(ref.partner_root_id)
        assert ins["known"].all()  # the subgraph is made of typed somas
        total_in += ins["n_synapses"].sum()
        total_out += outs["n_synapses"].sum()
    assert total_in > 0 and total_out > 0
    # over all cells, inputs add up to every synapse of the sample
    all_in = sum(cell_partners(syn, r, "in")["n_synapses"].sum()
                 for r in syn.post_pt_root_id.unique())
    assert all_in == 1961
