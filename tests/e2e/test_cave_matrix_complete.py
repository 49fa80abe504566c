"""Connectivity matrices through a CAVE server with a row limit (loopback server that
cuts answers as the real one does, the real caveclient) equal the local ones exactly:
the pinky100 soma subgraph under small limits, and a synthetic table of the MICrONS
tutorial's size (2,088,830 synapses from 2,275 cells onto 63,718) under the real default
limit of 200,000 rows."""
from __future__ import annotations

import numpy as np
import pytest

from services.cave.cave_source import CaveSource
from services.connectivity.matrix_queries import CellSetSpec, compute_matrix
from services.local.local_source import LocalSource
from services.workspace import Workspace
from tests.bench.synthetic import N_POST, N_PRE, N_SYNAPSES, synthetic_synapses
from tests.cave_server import CaveTestServer
from tests.cave_server.datastack_writer import write_datastack
from tests.e2e.conftest import GOOD_TOKEN


def _same_matrix(a, b):
    ma, mb = a.matrix, b.matrix
    assert ma.shape == mb.shape
    assert np.array_equal(ma.row_ids, mb.row_ids) and np.array_equal(ma.col_ids, mb.col_ids)
    pa, pb = ma.pairs(), mb.pairs()
    for col in ("pre_pt_root_id", "post_pt_root_id", "n_synapses", "size_sum"):
        assert np.array_equal(pa[col].to_numpy(), pb[col].to_numpy()), col


@pytest.mark.parametrize("limit", [500, 5000])
def test_pinky_soma_matrix_is_complete_under_a_row_limit(cave_server, sample_source, limit):
    cave_server.row_limit = limit
    src = CaveSource(cave_server.url, GOOD_TOKEN)
    try:
        spec = CellSetSpec("soma_valence", type_table="soma_valence")
        cave = compute_matrix(Workspace(src, "pinky100_sample", 185), spec, order="id")
    finally:
        src.close()
    local = compute_matrix(Workspace(sample_source, "pinky100_sample", 185), spec, order="id")
    _same_matrix(cave, local)
    assert cave.matrix.summary()["n_synapses"] == 1961  # every synapse among the somas


@pytest.mark.slow
def test_tutorial_size_matrix_is_complete_past_the_default_row_limit(tmp_path):
    syn, _cells = synthetic_synapses()
    assert len(syn) == N_SYNAPSES
    pre = np.unique(syn.pre_pt_root_id.to_numpy())
    post = np.unique(syn.post_pt_root_id.to_numpy())
    assert (len(pre), len(post)) == (N_PRE, N_POST)
    folder = write_datastack(tmp_path / "tutorial", "tutorial", {
        1: {"synapses": (syn, {"schema": "synapse", "description": "synthetic"})}})
    pre_spec = CellSetSpec(root_ids=tuple(int(i) for i in pre))
    post_spec = CellSetSpec(root_ids=tuple(int(i) for i in post))
    with CaveTestServer(datastack_dirs=[folder], tokens={GOOD_TOKEN},
                        row_limit=200_000) as srv:
        src = CaveSource(srv.url, GOOD_TOKEN)
        try:
            cave = compute_matrix(Workspace(src, "tutorial", 1), pre_spec, post_spec,
                                  order="id", hide_unconnected=False)
        finally:
            src.close()
        pages = sum(1 for r in srv.requests if "/query" in r.url)
    local_src = LocalSource([folder])
    try:
        local = compute_matrix(Workspace(local_src, "tutorial", 1), pre_spec, post_spec,
                               order="id", hide_unconnected=False)
    finally:
        local_src.close()
    _same_matrix(cave, local)
    assert int(cave.matrix.n_synapses.sum()) == N_SYNAPSES
    assert pages >= 11  # 2,088,830 rows at 200,000 per answer
