"""The Connectivity matrix view's exports carry provenance: the Export pairs button writes
a CSV with its sidecar, Export matrix a Parquet file with it in its metadata, stating the
cell set, the weight's formula and the Summary tab's densities with the same formulas."""
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from PySide6.QtWidgets import QFileDialog

from services.connectivity.connectivity_matrix import WEIGHT_FORMULAS
from services.results.provenance import KEY, SIDECAR_SUFFIX
from services.workspace import Workspace
from tests.unit.connectivity.test_connectivity_matrix import PINKY


@pytest.fixture
def panel(qtbot, connectivity_panel):
    """The Connectivity panel with the matrix of the sample's e cells shown."""
    p = connectivity_panel()
    p.matrix.pre_editor.filters_edit.setPlainText("cell_type=e")
    with qtbot.waitSignal(p.matrix.runner.succeeded, timeout=15000):
        p.matrix.compute_button.click()
    return p


def test_export_buttons_write_provenance(qtbot, panel, tmp_path, monkeypatch):
    view = panel.matrix
    path = tmp_path / "pairs.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(path), "CSV (*.csv)"))
    view.weight_combo.setCurrentIndex(view.weight_combo.findData("size_sum"))
    with qtbot.waitSignal(view.runner.succeeded, timeout=10000):
        view.export_long.click()
    side = tmp_path / ("pairs.csv" + SIDECAR_SUFFIX)
    assert side.exists()
    prov = json.loads(side.read_text())
    cells = pd.read_parquet(PINKY / "soma_valence.parquet")
    ids = cells[cells.cell_type == "e"]["pt_root_id"].unique()
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    inside = syn[syn.pre_pt_root_id.isin(ids) & syn.post_pt_root_id.isin(ids)]
    pairs = len(inside.drop_duplicates(["pre_pt_root_id", "post_pt_root_id"]))
    n_pre, n_post = inside.pre_pt_root_id.nunique(), inside.post_pt_root_id.nunique()
    assert prov["rows"] == len(pd.read_csv(path)) == pairs
    assert prov["presynaptic_cells"]["description"] == "soma_valence where cell_type = e"
    assert prov["presynaptic_cells"]["n_cells"] == len(ids)
    assert prov["weight"] == "size_sum"
    assert prov["weight_formula"] == WEIGHT_FORMULAS["size_sum"]
    assert prov["order"] == view.order and prov["materialization_version"] == 185
    whole = prov["summary"]["density_whole_set"]
    conn = prov["summary"]["density_connected_cells"]
    assert whole["value"] == pytest.approx(pairs / len(ids) ** 2)
    assert conn["value"] == pytest.approx(pairs / (n_pre * n_post))
    text = view.summary_label.text()  # the Summary tab states the same formulas
    assert whole["formula"] in text and conn["formula"] in text
    assert f"{whole['computed']} = <b>{whole['value']:.4f}</b>" in text
    assert f"{conn['computed']} = <b>{conn['value']:.4f}</b>" in text
    # the wide matrix as Parquet: the provenance in the file's metadata, no sidecar
    wide = tmp_path / "matrix.parquet"
    with qtbot.waitSignal(view.runner.succeeded, timeout=10000):
        view.export_matrix(str(wide), "wide")
    meta = json.loads(pq.read_schema(wide).metadata[KEY])
    assert meta["layout"] == "wide" and meta["rows"] == view.result.matrix.shape[0]
    assert meta["summary"] == prov["summary"]
    assert not (tmp_path / ("matrix.parquet" + SIDECAR_SUFFIX)).exists()


def test_a_new_context_forgets_the_specs(qtbot, panel, sample_source):
    view = panel.matrix
    assert view.cell_specs[0].describe() == "soma_valence where cell_type = e"
    view.clear_context(Workspace(sample_source, "pinky100_sample"))
    assert view.cell_specs is None and view.result is None
