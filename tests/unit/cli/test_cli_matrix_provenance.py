"""`cavern matrix` writes the matrix export's provenance: a sidecar beside a CSV, the
Parquet file's metadata, with the cell set, the weight's formula and the densities."""
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from services.cli.app_info import app_version
from services.cli.cli_commands import cli_main
from services.connectivity.connectivity_matrix import WEIGHT_FORMULAS
from services.results.provenance import KEY, SIDECAR_SUFFIX
from tests.unit.connectivity.test_connectivity_matrix import PINKY


def _pyramidal():
    """The e cells and the pairs among them, by hand."""
    cells = pd.read_parquet(PINKY / "soma_valence.parquet")
    ids = cells[cells.cell_type == "e"]["pt_root_id"].unique()
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    inside = syn[syn.pre_pt_root_id.isin(ids) & syn.post_pt_root_id.isin(ids)]
    return ids, inside


@pytest.mark.parametrize("name", ["m.csv", "m.parquet"])
def test_matrix_command_writes_provenance(tmp_path, name):
    out = tmp_path / name
    assert cli_main(["matrix", "--cells-table", "soma_valence", "--filter", "cell_type=e",
                     "--weight", "count", "--csv", str(out)]) == 0
    if name.endswith(".csv"):
        prov = json.loads((tmp_path / (name + SIDECAR_SUFFIX)).read_text())
    else:
        prov = json.loads(pq.read_schema(out).metadata[KEY])
    ids, inside = _pyramidal()
    pairs = len(inside.drop_duplicates(["pre_pt_root_id", "post_pt_root_id"]))
    n_pre, n_post = inside.pre_pt_root_id.nunique(), inside.post_pt_root_id.nunique()
    assert prov["exported_by"] == f"Cavern {app_version()}"
    assert prov["datastack"] == "pinky100_sample" and prov["server"] == "local"
    assert prov["presynaptic_cells"]["description"] == "soma_valence where cell_type = e"
    assert prov["presynaptic_cells"]["n_cells"] == len(ids)
    assert prov["postsynaptic_cells"]["same_as_presynaptic"] is True
    assert prov["weight"] == "count" and prov["weight_formula"] == WEIGHT_FORMULAS["count"]
    assert prov["layout"] == "long" and prov["rows"] == pairs == 1736
    s = prov["summary"]
    assert s["synapses"] == len(inside) == 1961
    assert s["density_whole_set"]["value"] == pytest.approx(pairs / len(ids) ** 2)
    assert s["density_connected_cells"]["value"] == pytest.approx(pairs / (n_pre * n_post))
    assert len(pd.read_csv(out) if name.endswith(".csv") else pd.read_parquet(out)) == pairs
