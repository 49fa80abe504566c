"""Qt-free fetching of the connectivity matrix of two cell sets, on the bundled samples."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.errors import InvalidInputError
from models.filters import Op
from services.connectivity import connectivity_queries as cq
from services.connectivity import matrix_queries as mq
from services.workspace import Workspace
from tests.unit.connectivity.test_connectivity_queries import CELL, PINKY, RecordingSource

BIG = 864691135000000000


def test_matrix_of_table_set_pushes_in_filters(sample_source):
    src = RecordingSource(sample_source)
    spec = mq.CellSetSpec("soma_valence", type_table="soma_valence")
    res = mq.compute_matrix(Workspace(src, PINKY), spec)
    syn = next(s for s in src.specs if s.table == "synapses")
    assert {f.column for f in syn.filters} == {"pre_pt_root_id", "post_pt_root_id"}
    assert all(f.op is Op.IN for f in syn.filters)
    s = res.matrix.summary()
    assert (s["n_pre"], s["n_post"], s["n_synapses"], s["connected_pairs"]) == (334, 334, 1961, 1736)
    assert res.n_hidden == 453 - 334
    full = mq.compute_matrix(Workspace(sample_source, PINKY), spec, hide_unconnected=False)
    assert full.matrix.shape == (453, 453)
    assert [b.label for b in full.matrix.row_blocks] == ["e", "g", "i", "uncertain"]


def test_matrix_pasted_ids_pre_differs_from_post(sample_source):
    syn = cq.fetch_partners(Workspace(sample_source, PINKY), CELL).synapses
    post = syn.loc[syn.pre_pt_root_id == CELL, "post_pt_root_id"].unique()[:10]
    pre_spec = mq.CellSetSpec(root_ids=(CELL,))
    post_spec = mq.CellSetSpec(root_ids=tuple(int(x) for x in post), type_table="soma_valence")
    res = mq.compute_matrix(Workspace(sample_source, PINKY), pre_spec, post_spec,
                            hide_unconnected=False)
    assert res.matrix.shape == (1, 10) and res.matrix.row_order == "id"
    assert res.matrix.nnz == 10
    long = mq.matrix_long_frame(res.matrix, "count")
    assert (long["pre_pt_root_id"] == CELL).all()
    wide = mq.matrix_wide_frame(res.matrix, "count")
    assert wide.shape == (1, 11) and wide.iloc[0, 1:].sum() == long["n_synapses"].sum()
    one = mq.fetch_pair_synapses(Workspace(sample_source, PINKY), CELL, int(post[0]))
    assert len(one) == long.set_index("post_pt_root_id").loc[int(post[0]), "n_synapses"]


def test_empty_sets(sample_source):
    info = sample_source.table_info(PINKY, "soma_valence")
    flt = mq.parse_filters(["cell_type=zzz", ""], info)
    assert len(flt) == 1
    with pytest.raises(InvalidInputError, match="empty"):
        mq.compute_matrix(Workspace(sample_source, PINKY), mq.CellSetSpec("soma_valence", flt))


@settings(max_examples=80, deadline=None, derandomize=True)
@given(pre=st.sets(st.integers(0, 60), max_size=25), post=st.sets(st.integers(0, 60), max_size=40),
       pair_pre=st.sets(st.integers(0, 70), max_size=10),
       pair_post=st.sets(st.integers(0, 70), max_size=30), seed=st.integers(0, 99))
def test_connected_cells_match_set_arithmetic(pre, post, pair_pre, pair_post, seed):
    from services.connectivity.matrix_queries import _connected
    rng = np.random.default_rng(seed)
    pre_ids = rng.permutation(np.array(sorted(pre), dtype=np.int64) + BIG)
    post_ids = rng.permutation(np.array(sorted(post), dtype=np.int64) + BIG)
    p_pre = np.array(sorted(pair_pre), dtype=np.int64) + BIG  # may hold ids of neither set
    p_post = np.array(sorted(pair_post), dtype=np.int64) + BIG
    got_pre, got_post, hidden = _connected(pre_ids, post_ids, p_pre, p_post)
    active = set(p_pre) | set(p_post)
    assert got_pre.tolist() == [i for i in pre_ids.tolist() if i in active]  # order kept
    assert got_post.tolist() == [i for i in post_ids.tolist() if i in active]
    assert hidden == len(set(pre_ids) | set(post_ids)) - len(
        set(got_pre.tolist()) | set(got_post.tolist()))
