"""Cell facts from the bundled samples, checked against counts DuckDB computes directly."""
from pathlib import Path

import duckdb
import numpy as np
import pytest

from models.errors import InvalidInputError, NotFoundError
from services.cells.cell_facts import gather_cell_facts, local_root_id_status
from services.cells.cell_inspection import fetch_cell_synapses
from services.source import DataSource
from services.workspace import Workspace

BC = 864691135101289504  # V1-column basket cell, nucleus 294749
PT = 864691136362774498  # layer-5 PT cell, nucleus 303046
PINKY = 648518346349540057  # soma 17 in pinky100's soma_valence
SAMPLES = Path(__file__).resolve().parents[3] / "resources" / "samples"


def direct_counts(path: Path, rid: int) -> tuple[int, int, int, int]:
    """(inputs, outputs, input partners, output partners) straight from the Parquet file."""
    return duckdb.sql(
        f"SELECT count(*) FILTER (WHERE post_pt_root_id = {rid}),"
        f" count(*) FILTER (WHERE pre_pt_root_id = {rid}),"
        f" count(DISTINCT pre_pt_root_id) FILTER (WHERE post_pt_root_id = {rid}),"
        f" count(DISTINCT post_pt_root_id) FILTER (WHERE pre_pt_root_id = {rid})"
        f" FROM read_parquet('{path}')").fetchall()[0]


class SpySource(DataSource):
    """Wraps a source and records every query, to check each one is filtered."""

    def __init__(self, inner, kind="local"):
        self.inner, self.kind, self.specs = inner, kind, []

    def datastacks(self):
        return self.inner.datastacks()

    def datastack_info(self, d):
        return self.inner.datastack_info(d)

    def versions(self, d):
        return self.inner.versions(d)

    def default_version(self, d):
        return self.inner.default_version(d)

    def tables(self, d, v=None):
        return self.inner.tables(d, v)

    def row_count(self, d, t, v=None):
        raise AssertionError("cell facts must not count whole tables")

    def query(self, spec, cancel=None):
        self.specs.append(spec)
        return self.inner.query(spec, cancel)


# ----------------------------------------------------------------------------- minnie65
def test_basket_cell_facts(sample_source):
    spy = SpySource(sample_source)
    rec = gather_cell_facts(Workspace(spy, "minnie65_sample"), BC)
    assert rec.root_id == BC and rec.nucleus_id == 294749 and rec.version == 0
    assert [(c.classification_system, c.cell_type) for c in rec.cell_types] == \
        [("", "BC")]  # the source CSV names no classification system
    got = (rec.n_input_synapses, rec.n_output_synapses, rec.n_input_partners,
           rec.n_output_partners)
    assert got == direct_counts(SAMPLES / "minnie65_sample/v0/synapses_pni_2.parquet", BC)
    assert got[0] == 12424 and got[1] == 6514  # the MeshParty test data's row counts
    # the soma position comes from the cell's pcg_skel skeleton (766848, 547712, 899480 nm)
    assert rec.soma_position_nm == (766848.0, 547712.0, 899480.0)
    assert rec.depth_um == pytest.approx(215.79, abs=0.01)  # layer 2/3
    assert spy.specs and all(s.filters for s in spy.specs)  # never a whole table


def test_pt_cell_by_nucleus_id_reads_types_across_versions(sample_source):
    rec = gather_cell_facts(Workspace(sample_source, "minnie65_sample"), "303046")
    assert rec.root_id == PT and rec.nucleus_id == 303046
    labels = {(c.table, c.cell_type) for c in rec.cell_types}
    assert ("allen_v1_column_types_slanted_ref", "5P-PT") in labels
    assert ("proofread_cells_morphology_qc (v1718)", "5PET") in labels
    assert (rec.n_input_synapses, rec.n_output_synapses) == (4944, 149)
    rows = dict(rec.as_rows())
    assert rows["root id"] == str(PT) and rows["input synapses"] == "4,944"


def test_a_cave_source_reads_only_the_asked_version(sample_source):
    rec = gather_cell_facts(Workspace(SpySource(sample_source, kind="cave"), "minnie65_sample"), PT)
    assert [c.cell_type for c in rec.cell_types] == ["5P-PT"]


def test_unknown_nucleus_is_not_found(sample_source):
    with pytest.raises(NotFoundError):
        gather_cell_facts(Workspace(sample_source, "minnie65_sample"), 12345)


def test_a_cell_without_rows_gets_zero_counts_and_notes(sample_source):
    rec = gather_cell_facts(Workspace(sample_source, "minnie65_sample"), 864691135000000001)
    assert rec.cell_types == [] and rec.proofreading == []
    assert rec.n_input_synapses == 0 and rec.n_output_partners == 0
    assert any("local table" in n for n in rec.notes)
    # the tutorial's L2/3 cell is typed only in the v1718 table
    tut = gather_cell_facts(Workspace(sample_source, "minnie65_sample"), 864691135774053371)
    assert [(c.table, c.cell_type) for c in tut.cell_types] == \
        [("proofread_cells_morphology_qc (v1718)", "23P")]


# ----------------------------------------------------------------------------- pinky100
def test_pinky_cell_facts_with_soma_depth_and_proofreading(sample_source):
    rec = gather_cell_facts(Workspace(sample_source, "pinky100_sample"), PINKY)
    soma = duckdb.sql("SELECT id, cell_type, pt_position FROM read_parquet("
                      f"'{SAMPLES / 'pinky100_sample/v185/soma_valence.parquet'}') "
                      f"WHERE pt_root_id = {PINKY}").fetchall()[0]
    assert rec.nucleus_id == soma[0] == 17
    assert [c.cell_type for c in rec.cell_types] == [soma[1]]
    assert rec.cell_types[0].classification_system == "valence"
    assert rec.soma_position_vx == tuple(float(v) for v in soma[2])
    assert rec.soma_position_nm == (soma[2][0] * 4.0, soma[2][1] * 4.0, soma[2][2] * 40.0)
    assert rec.depth_um == pytest.approx(soma[2][1] * 4 / 1000)  # linear y, pia at 0
    assert rec.is_proofread and rec.proofreading[0].status == "complete"
    got = (rec.n_input_synapses, rec.n_output_synapses, rec.n_input_partners,
           rec.n_output_partners)
    assert got == direct_counts(SAMPLES / "pinky100_sample/v185/synapses.parquet", PINKY)


def test_pinky_cell_by_soma_id(sample_source):
    assert gather_cell_facts(Workspace(sample_source, "pinky100_sample"), 17).root_id == PINKY


def test_bad_id_and_unknown_datastack(sample_source):
    with pytest.raises(InvalidInputError):
        gather_cell_facts(Workspace(sample_source, "pinky100_sample"), "not an id")
    with pytest.raises(NotFoundError):
        gather_cell_facts(Workspace(sample_source, "nowhere"), PINKY)


# ----------------------------------------------------------------------------- staleness
def test_local_root_id_status_names_versions(sample_source):
    st = local_root_id_status(Workspace(sample_source, "minnie65_sample"), PT)
    assert st.is_latest is None and st.versions == (0, 1718)
    assert "v0, v1718" in st.message
    none = local_root_id_status(Workspace(sample_source, "pinky100_sample"), BC)
    assert none.versions == () and "none of" in none.message


def test_fetch_cell_synapses_filters_and_dedupes(sample_source):
    spy = SpySource(sample_source)
    frame = fetch_cell_synapses(Workspace(spy, "minnie65_sample"), [BC])
    notes = frame.attrs["notes"]
    ins, outs, _, _ = direct_counts(SAMPLES / "minnie65_sample/v0/synapses_pni_2.parquet", BC)
    autapses = int(((frame.pre_pt_root_id == BC) & (frame.post_pt_root_id == BC)).sum())
    assert len(frame) == ins + outs - autapses and frame.id.is_unique
    assert frame.pre_pt_root_id.dtype == np.int64 and notes == []
    assert len(spy.specs) == 2 and all(s.filters for s in spy.specs)
    only_in = fetch_cell_synapses(Workspace(sample_source, "minnie65_sample"), [BC],
                                  outputs=False)
    assert len(only_in) == ins
