"""Qt-free fetching for the partners view (cell types, partners), on the bundled samples."""
import numpy as np
import pandas as pd
import pytest

from models.errors import InvalidInputError, NotFoundError
from models.filters import Op
from services.connectivity import connectivity_queries as cq
from services.workspace import Workspace

PINKY = "pinky100_sample"
CELL = 648518346349538157


class RecordingSource:
    """Wraps a source and records every query spec (to check what is pushed down)."""

    def __init__(self, inner):
        self.inner, self.specs = inner, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def query(self, spec, cancel=None):
        self.specs.append(spec)
        return self.inner.query(spec, cancel)


def test_cell_type_tables_from_manifest_and_schema(sample_source):
    assert Workspace(sample_source, PINKY, None).cell_type_table_names() == ["soma_valence"]
    tables = Workspace(sample_source, "minnie65_sample", 0).cell_type_table_names()
    assert tables[0] == "allen_v1_column_types_slanted_ref"
    # one rule with the inspector: tables of v343 first, then the nearest version's, noted
    at_343 = Workspace(sample_source, "minnie65_sample", 343).cell_type_tables()
    assert at_343[0].name == "aibs_soma_nuc_metamodel_preds_v117" and not at_343[0].fallback
    assert all(r.fallback and r.note for r in at_343[1:])


def test_partners_pushes_root_filter_down_and_annotates(sample_source):
    src = RecordingSource(sample_source)
    res = cq.fetch_partners(Workspace(src, PINKY), str(CELL), "soma_valence")
    syn_specs = [s for s in src.specs if s.table == "synapses"]
    assert len(syn_specs) == 2
    assert all(len(s.filters) == 1 and s.filters[0].op is Op.EQ and s.filters[0].value == CELL
               for s in syn_specs)
    type_spec = next(s for s in src.specs if s.table == "soma_valence")
    wanted = set(res.inputs.partner_root_id) | set(res.outputs.partner_root_id) | {CELL}
    assert type_spec.filters[0].op is Op.IN and set(type_spec.filters[0].value) == wanted
    assert res.inputs["n_synapses"].sum() == 5 and res.outputs["n_synapses"].sum() == 79
    assert res.outputs["partner_root_id"].dtype == np.int64
    assert res.outputs["depth_um"].notna().all()
    assert res.has_proofreading and res.outputs["proofread"].dtype == bool


def test_partner_depth_uses_y_axis_in_um(sample_source):
    res = cq.fetch_partners(Workspace(sample_source, PINKY), CELL, "soma_valence")
    soma = pd.read_parquet(next(p for p in __import__("services.local.local_source", fromlist=["x"])
                                .sample_folders() if p.name == PINKY) / "v185/soma_valence.parquet")
    pid = int(res.outputs["partner_root_id"].iloc[0])
    y = soma.loc[soma.pt_root_id == pid, "pt_position"].iloc[0][1]
    assert res.outputs["depth_um"].iloc[0] == pytest.approx(y * 4 / 1000)


def test_partners_filters_and_errors(sample_source):
    res = cq.fetch_partners(Workspace(sample_source, PINKY), CELL, "soma_valence",
                            proofread_only=True)
    assert res.outputs["proofread"].all() and 0 < len(res.outputs) < 70
    with pytest.raises(InvalidInputError):
        cq.fetch_partners(Workspace(sample_source, PINKY), "12x", "soma_valence")
    with pytest.raises(NotFoundError):
        cq.fetch_partners(Workspace(sample_source, PINKY), CELL, "no_table")
    empty = cq.fetch_partners(Workspace(sample_source, PINKY), 1, "soma_valence")
    assert empty.inputs.empty and empty.outputs.empty and empty.notes


def test_group_partners_generic_column(sample_source):
    res = cq.fetch_partners(Workspace(sample_source, PINKY), CELL, "soma_valence")
    g = cq.group_partners(res.outputs, "proofread")
    assert g["n_partners"].sum() == 70 and g["synapse_share"].sum() == pytest.approx(1)
    with pytest.raises(InvalidInputError):
        cq.group_partners(res.outputs, "nope")
