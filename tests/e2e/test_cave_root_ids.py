"""Root ids at the version read (loopback CAVE server + the real caveclient): pasted ids
that are not roots at that version are refused with their successors, not silently
missing from a matrix or a partner table."""
from __future__ import annotations

import pytest

from models.errors import InvalidInputError
from services.connectivity.connectivity_queries import fetch_partners
from services.connectivity.matrix_queries import CellSetSpec, compute_matrix
from services.workspace import Workspace
from tests.e2e.conftest import BASKET, NEWER

DS = "minnie65_sample"


def test_a_newer_id_is_not_a_root_of_an_old_version(edited_source):
    ws = Workspace(edited_source, DS, 0)  # v0 was materialized in 2020: NEWER did not exist
    with pytest.raises(InvalidInputError, match=str(NEWER)) as err:
        compute_matrix(ws, CellSetSpec(root_ids=(BASKET, NEWER)))
    assert "1 of the pasted root ids are not root ids at v0" in str(err.value)
    with pytest.raises(InvalidInputError, match="not root ids at v0"):
        fetch_partners(ws, NEWER)


def test_ids_of_the_version_pass(edited_source):
    ws = Workspace(edited_source, DS, 0)
    ws.check_root_ids([BASKET])  # BASKET is a root at v0's time
    assert edited_source.stale_root_ids(DS, [BASKET, NEWER], 0) == {NEWER: None}
    # today BASKET is stale and NEWER replaced it
    assert edited_source.stale_root_ids(DS, [BASKET, NEWER]) == {BASKET: NEWER}


def test_local_sources_cannot_tell_and_do_not_refuse(sample_source):
    ws = Workspace(sample_source, DS, 0)
    assert sample_source.stale_root_ids(DS, [NEWER], 0) is None
    ws.check_root_ids([NEWER])


def test_a_query_names_filter_ids_that_are_not_roots_of_its_version(edited_source):
    from models.filters import Filter, Op
    ws = Workspace(edited_source, DS, 0)
    spec = ws.spec("synapses_pni_2", (Filter("post_pt_root_id", Op.IN, (BASKET, NEWER)),),
                   ("id", "post_pt_root_id"))
    result = ws.run(spec)
    assert len(result.frame) == 12424  # the basket cell's inputs; NEWER has none at v0
    assert any(str(NEWER) in n and "not root ids at v0" in n for n in result.notes)
    clean = ws.run(spec.with_(filters=(Filter("post_pt_root_id", Op.EQ, BASKET),)))
    assert not any("not root ids" in n for n in clean.notes)
