"""The matrix path at scale: out-of-core aggregation, pair on click, O(1) hover."""
import numpy as np

from services.connectivity import matrix_queries as mq
from services.connectivity.aggregation import aggregate_pairs
from services.connectivity.connectivity_image import best_pair_per_pixel, downsample_coo
from services.workspace import Workspace

PINKY = "pinky100_sample"


def test_out_of_core_aggregation_matches_in_memory(sample_source, monkeypatch):
    spec = mq.CellSetSpec("soma_valence", type_table="soma_valence")
    ws = Workspace(sample_source, PINKY)
    mem = mq.compute_matrix(ws, spec)
    monkeypatch.setattr(mq, "MATRIX_MEMORY_SYNAPSES", 0)
    disk = mq.compute_matrix(ws, spec)
    assert disk.synapses.empty and disk.n_hidden == mem.n_hidden
    a, b = mem.matrix.pairs(), disk.matrix.pairs()
    assert a.equals(b)
    assert (mem.matrix.row_ids == disk.matrix.row_ids).all()


def test_source_pairs_equal_numpy_aggregation(sample_source):
    ws = Workspace(sample_source, PINKY)
    role = ws.synapse_table()
    syn = ws.complete_frame(role, (), ["pre_pt_root_id", "post_pt_root_id", "size"])
    want = aggregate_pairs(syn.pre_pt_root_id, syn.post_pt_root_id, syn["size"])
    got = sample_source.synapse_pairs(PINKY, role.name, role.version)
    assert want[["pre_pt_root_id", "post_pt_root_id", "n_synapses", "size_sum"]].equals(
        got[["pre_pt_root_id", "post_pt_root_id", "n_synapses", "size_sum"]])


def test_pair_synapses_fetched_on_click(sample_source):
    spec = mq.CellSetSpec("soma_valence", type_table="soma_valence")
    ws = Workspace(sample_source, PINKY)
    res = mq.compute_matrix(ws, spec)
    assert set(res.synapses.columns) <= {"pre_pt_root_id", "post_pt_root_id", "size"}
    pairs = res.matrix.pairs()
    k = int(pairs.n_synapses.to_numpy().argmax())
    pre, post = int(pairs.pre_pt_root_id[k]), int(pairs.post_pt_root_id[k])
    one = mq.fetch_pair_synapses(ws, pre, post)
    assert len(one) == pairs.n_synapses[k] and "ctr_pt_position" in one.columns
    syn = res.synapses
    assert ((syn.pre_pt_root_id == pre) & (syn.post_pt_root_id == post)).sum() == len(one)


def test_best_pair_per_pixel_is_the_max_and_o1():
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 100, 5000), rng.integers(0, 300, 5000)
    vals = rng.random(5000)
    img = downsample_coo(rows, cols, vals, (100, 300), 30, 10)
    flat = (rows * 10 // 100) * 30 + cols * 30 // 300
    for p in range(300):
        inside = np.flatnonzero(flat == p)
        k = img.pair_at(p % 30, p // 30)
        assert (k == -1) == (len(inside) == 0)
        if len(inside):
            assert vals[k] == vals[inside].max()
            assert np.float32(vals[k]) == img.image[p // 30, p % 30]
    assert img.pair_at(-1, 0) == -1 and best_pair_per_pixel(np.zeros(0, np.int64),
                                                             np.zeros(0), 4).tolist() == [-1] * 4
