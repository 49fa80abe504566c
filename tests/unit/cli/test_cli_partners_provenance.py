"""`cavern partners` writes the partner export's provenance: a sidecar beside a CSV, the
Parquet file's metadata, with the cell, direction, tables, grouping, counts and filters
(the counts checked against the sample's synapse table read by hand)."""
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from services.cli.app_info import app_version
from services.cli.cli_commands import cli_main
from services.results.provenance import KEY, SIDECAR_SUFFIX
from tests.unit.connectivity.test_connectivity_matrix import PINKY

CELL = 648518346349538157  # 5 input partners, 70 output partners (79 synapses)


def _read(out):
    if out.suffix == ".csv":
        return pd.read_csv(out), json.loads(out.with_name(out.name + SIDECAR_SUFFIX).read_text())
    assert not out.with_name(out.name + SIDECAR_SUFFIX).exists()
    return pd.read_parquet(out), json.loads(pq.read_schema(out).metadata[KEY])


@pytest.mark.parametrize("name", ["p.csv", "p.parquet"])
def test_partners_command_writes_provenance(tmp_path, name):
    out = tmp_path / name
    assert cli_main(["partners", str(CELL), "--direction", "out", "--csv", str(out)]) == 0
    frame, prov = _read(out)
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    mine = syn[syn.pre_pt_root_id == CELL]
    assert prov["exported_by"] == f"Cavern {app_version()}"
    assert prov["datastack"] == "pinky100_sample" and prov["server"] == "local"
    assert prov["materialization_version"] == 185 and prov["live_timestamp"] is None
    assert prov["export"] == "partners of a cell" and prov["grouped_by"] is None
    assert prov["synapse_table"] == "synapses" and prov["synapse_table_version"] == 185
    assert prov["cell"] == {"root_id": CELL} and prov["direction"] == "outputs"
    assert prov["cell_type_table"] == "soma_valence" and prov["cell_type_column"] == "cell_type"
    assert prov["cell_type_table_version"] == 185
    assert prov["proofreading_table"] == "complete_somas"
    counts = prov["counts"]
    assert counts["partners"] == mine.post_pt_root_id.nunique() == len(frame) == 70
    assert counts["synapses"] == len(mine) == frame["n_synapses"].sum() == 79
    assert counts["before_filters"] == {"partners": 70, "synapses": 79}
    assert prov["rows"] == len(frame) and prov["columns"] == list(frame.columns)
    assert prov["filters"] == [] and prov["notes"] == []


def test_grouped_and_filtered_partners_state_it(tmp_path):
    out = tmp_path / "g.parquet"
    assert cli_main(["partners", str(CELL), "--direction", "out", "--proofread-only",
                     "--group-by", "cell_type", "--csv", str(out)]) == 0
    frame, prov = _read(out)
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    proof = pd.read_parquet(PINKY / "complete_somas.parquet")["pt_root_id"]
    mine = syn[syn.pre_pt_root_id == CELL]
    kept = mine[mine.post_pt_root_id.isin(proof)]
    assert 0 < len(kept) < len(mine)
    assert prov["export"] == "partners of a cell, grouped by cell type"
    assert prov["grouped_by"] == "cell_type" and prov["grouping"]["table"] == "partners by cell type"
    assert prov["grouping"]["cell_type_table"] == "soma_valence"
    assert prov["rows"] == len(frame) and prov["columns"][0] == "cell_type"
    assert prov["counts"]["partners"] == kept.post_pt_root_id.nunique() == frame.n_partners.sum()
    assert prov["counts"]["synapses"] == len(kept) == frame.n_synapses.sum()
    assert prov["counts"]["before_filters"] == {"partners": mine.post_pt_root_id.nunique(),
                                                "synapses": len(mine)}
    assert prov["filters"] == ["proofread only: partners listed in 'complete_somas'"]


def test_a_table_read_at_another_version_is_noted(tmp_path):
    """minnie65_sample v343 has neither the synapse table nor this type table: both are read
    at v0, and the provenance says so."""
    out = tmp_path / "m.csv"
    cell = 864691136362774498
    assert cli_main(["--datastack", "minnie65_sample", "--version", "343", "partners",
                     str(cell), "--cell-types", "allen_v1_column_types_slanted_ref",
                     "--csv", str(out)]) == 0
    frame, prov = _read(out)
    from services.local.local_source import sample_folders
    folder = next(p for p in sample_folders() if p.name == "minnie65_sample")
    syn = pd.read_parquet(folder / "v0" / "synapses_pni_2.parquet",
                          columns=["pre_pt_root_id", "post_pt_root_id"])
    mine = syn[syn.post_pt_root_id == cell]
    assert prov["materialization_version"] == 343
    assert prov["synapse_table_version"] == 0 and prov["cell_type_table_version"] == 0
    assert prov["counts"]["synapses"] == len(mine) == frame.n_synapses.sum()
    assert prov["counts"]["partners"] == mine.pre_pt_root_id.nunique() == len(frame)
    assert any(n.startswith("synapses_pni_2 is not in v343: read at v0") for n in prov["notes"])
    assert any(n.startswith("allen_v1_column_types_slanted_ref is not in v343")
               for n in prov["notes"])
