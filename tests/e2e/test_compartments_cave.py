"""Synapse compartments on the loopback CAVE server through the real caveclient: a small,
clearly test-only reference table on the synapse table (tests.unit.connectivity
.test_synapse_compartments), served as CAVE has it (its own columns only, joined to the
synapses by the engine); counts per tag checked against pandas, and equal to local."""
import pytest

from services.cave.cave_source import CaveSource
from services.connectivity import synapse_compartments as sc
from services.workspace import Workspace
from tests.cave_server.datastack_writer import cave_shaped_copy
from tests.e2e.conftest import GOOD_TOKEN
from tests.unit.connectivity.test_synapse_compartments import (
    DS, TAGS, TARGET, expected_counts, write_compartment_datastack)


@pytest.fixture
def cave_ws(tmp_path, make_cave_server):
    local = tmp_path / "local"
    syn, tags = write_compartment_datastack(local)
    served = cave_shaped_copy(local, tmp_path / "served")
    server = make_cave_server(datastack_dirs=[served])
    src = CaveSource(server.url, GOOD_TOKEN)
    yield Workspace(src, DS, 1), syn, tags, local, server
    src.close()


def test_served_tag_table_has_only_its_own_columns(cave_ws):
    ws, *_ = cave_ws
    assert sc.compartment_tables(ws) == [sc.CompartmentTable(TAGS, "tag", "synapses")]
    join = ws.source.reference_join(DS, TAGS, 1)
    assert join.owner("post_pt_root_id") == ("synapses", "post_pt_root_id")


def test_inputs_per_tag_on_cave_equal_pandas_and_local(cave_ws):
    ws, syn, tags, local, server = cave_ws
    server.clear_requests()
    tagged = sc.tagged_synapses(ws, TAGS, root_id=TARGET, direction="in")
    j, ref = expected_counts(syn, tags, TARGET)
    assert len(tagged) == len(j)
    counts = sc.compartment_counts(tagged).set_index("tag")["n_synapses"]
    assert counts.astype(int).to_dict() == ref.to_dict()
    assert set(tagged.post_pt_root_id) == {TARGET}
    # the filter on the synapse's column went to the server keyed by the synapse table
    import json
    joined = [json.loads(r.body) for r in server.requests
              if r.path.endswith(f"/datastack/{DS}/version/1/query") and r.body]
    assert any(b.get("filter_equal_dict") == {"synapses": {"post_pt_root_id": TARGET}}
               for b in joined)
    from services.local.local_source import LocalSource
    lsrc = LocalSource([local])
    try:
        here = sc.tagged_synapses(Workspace(lsrc, DS, 1), TAGS, root_id=TARGET)
    finally:
        lsrc.close()
    assert sorted(here.target_id) == sorted(tagged.target_id)


def test_shaft_connections_on_cave(cave_ws):
    ws, syn, tags, *_ = cave_ws
    conns = sc.compartment_connections(ws, TAGS, ["shaft", "soma"])
    j, _ = expected_counts(syn, tags)
    ref = j[j.tag.isin(["shaft", "soma"])].groupby(["pre_pt_root_id", "post_pt_root_id"]
                                                   ).size()
    got = conns.set_index(["pre_pt_root_id", "post_pt_root_id"])["n_synapses"]
    assert got.sort_index().to_dict() == ref.sort_index().to_dict()
