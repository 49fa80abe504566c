"""The Workspace: one rule finds a context's tables, so the inspector, partners and links
agree on the synapse table they read (issue 9: on minnie65_sample v1718 the inspector read
synapses_pni_2 at v795 while partners and links raised NotFoundError)."""
import pytest

from models.errors import NotFoundError
from services.cells.cell_inspection import cell_link, fetch_cell_synapses, inspect_cell
from services.connectivity.connectivity_queries import fetch_partners
from services.workspace import Workspace

CELL = 864691136040432126  # its synapses_pni_2 rows are of v795 (pcg_skel test data)


def test_inspector_partners_and_links_read_the_same_synapse_table(sample_source):
    ws = Workspace(sample_source, "minnie65_sample", 1718)
    role = ws.synapse_table()
    assert (role.name, role.version, role.fallback) == ("synapses_pni_2", 795, True)
    assert "not in v1718" in role.note and "v795" in role.note
    facts = inspect_cell(ws, CELL).record
    assert facts.synapse_table == "synapses_pni_2 (v795)"
    partners = fetch_partners(ws, CELL)
    assert int(partners.inputs.n_synapses.sum()) == facts.n_input_synapses == 2165
    assert int(partners.outputs.n_synapses.sum()) == facts.n_output_synapses
    assert any("v795" in n for n in partners.notes)
    syn = fetch_cell_synapses(ws, [CELL])
    assert syn.attrs["table"] == "synapses_pni_2 (v795)"
    link = cell_link(ws, facts, "both")
    assert link.n_annotations + link.n_dropped == len(syn)  # long links are thinned, and say so
    assert any("v795" in n for n in link.notes)


def test_a_table_in_no_version_is_not_found(sample_source):
    ws = Workspace(sample_source, "minnie65_sample", 1718)
    assert ws.find("no_such_table") is None
    with pytest.raises(NotFoundError):
        ws.table("no_such_table")


def test_the_asked_version_wins_over_the_fallback(sample_source):
    ws = Workspace(sample_source, "minnie65_sample", 795)
    role = ws.synapse_table()
    assert role.version == 795 and not role.fallback and role.note == ""
    assert role.label == "synapses_pni_2"


def test_same_context(sample_source):
    a = Workspace(sample_source, "pinky100_sample", 185)
    assert a.same_context(Workspace(sample_source, "pinky100_sample", 185))
    assert not a.same_context(Workspace(sample_source, "pinky100_sample", None))
    assert not a.same_context(Workspace(sample_source, "minnie65_sample", 185))
    assert not a.same_context(None)


def test_an_unreadable_synapse_table_says_why(tmp_path):
    """A synapse file linked from outside the folder is refused; the matrix says so, not
    'has no column pre_pt_root_id'."""
    import json
    import os

    import pandas as pd
    import pytest

    from models.errors import DataSourceError
    from services.local.local_source import LocalSource
    outside = tmp_path / "elsewhere.parquet"
    pd.DataFrame({"pre_pt_root_id": [1], "post_pt_root_id": [2]}).to_parquet(outside)
    stack = tmp_path / "stack"
    (stack / "v1").mkdir(parents=True)
    os.symlink(outside, stack / "v1" / "synapses.parquet")
    (stack / "manifest.json").write_text(json.dumps({
        "format": "cavern-datastack/1", "name": "linked", "voxel_resolution": [4, 4, 40],
        "synapse_table": "synapses", "default_version": 1,
        "versions": [{"version": 1, "folder": "v1", "timestamp": None}]}))
    src = LocalSource([stack])
    try:
        with pytest.raises(DataSourceError, match="cannot be read.*outside the datastack"):
            Workspace(src, "linked").synapse_table()
    finally:
        src.close()
