"""The Partners view's exports carry provenance: the Export partners button writes a CSV
with its sidecar, the table's right-click Export… a Parquet file with it in its metadata,
stating the cell, direction, tables, counts (checked against the sample's synapse table
read by hand) and the filters applied (proofread only, a selection)."""
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from PySide6.QtWidgets import QFileDialog

from services.results.provenance import KEY, SIDECAR_SUFFIX
from tests.unit.connectivity.test_connectivity_matrix import PINKY

CELL = 648518346349538157  # 5 input partners, 70 output partners (79 synapses)


@pytest.fixture
def view(qtbot, connectivity_panel):
    """The Partners view with CELL's partners shown."""
    p = connectivity_panel()
    with qtbot.waitSignal(p.partners.runner.succeeded, timeout=10000):
        p.show_cell(CELL)
    yield p.partners  # the panel stays referenced (its view would be deleted with it)


def _save_as(monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))


def test_export_button_writes_the_sidecar(qtbot, view, tmp_path, monkeypatch):
    path = tmp_path / "inputs.csv"
    _save_as(monkeypatch, path)
    with qtbot.waitSignal(view.runner.succeeded, timeout=10000):
        view.export_button.click()  # the Inputs tab, nothing selected: every input partner
    prov = json.loads((tmp_path / ("inputs.csv" + SIDECAR_SUFFIX)).read_text())
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    onto = syn[syn.post_pt_root_id == CELL]
    frame = pd.read_csv(path)
    assert prov["export"] == "partners of a cell" and prov["grouped_by"] is None
    assert prov["datastack"] == "pinky100_sample" and prov["materialization_version"] == 185
    assert prov["synapse_table"] == "synapses" and prov["synapse_table_version"] == 185
    assert prov["cell"] == {"root_id": CELL} and prov["direction"] == "inputs"
    assert prov["cell_type_table"] == view.type_combo.currentText() == "soma_valence"
    assert prov["cell_type_column"] == "cell_type"
    assert prov["counts"]["partners"] == onto.pre_pt_root_id.nunique() == len(frame) == 5
    assert prov["counts"]["synapses"] == len(onto) == frame.n_synapses.sum()
    assert prov["counts"]["before_filters"] == {"partners": 5, "synapses": len(onto)}
    assert prov["filters"] == [] and prov["rows"] == len(frame)
    assert prov["columns"] == list(frame.columns)


def test_menu_export_of_a_filtered_selection(qtbot, view, tmp_path, monkeypatch):
    view.tabs.setCurrentIndex(1)  # outputs
    view.proofread_only.setChecked(True)
    shown = view.partners("out")
    picked = shown[shown.n_synapses >= 2]["partner_root_id"]
    view.select_ids(picked)
    path = tmp_path / "outputs.parquet"
    _save_as(monkeypatch, path)
    menu = view.menus["out"].build()
    export = next(a for a in menu.actions() if a.text() == "Export…")
    with qtbot.waitSignal(view.runner.succeeded, timeout=10000):
        export.trigger()
    prov = json.loads(pq.read_schema(path).metadata[KEY])
    assert not (tmp_path / ("outputs.parquet" + SIDECAR_SUFFIX)).exists()
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    proof = pd.read_parquet(PINKY / "complete_somas.parquet")["pt_root_id"]
    mine = syn[syn.pre_pt_root_id == CELL]
    per = mine[mine.post_pt_root_id.isin(proof)].groupby("post_pt_root_id").size()
    kept = per[per >= 2]
    assert 0 < len(kept) < len(per) < mine.post_pt_root_id.nunique()
    assert prov["direction"] == "outputs"
    assert prov["counts"]["partners"] == len(kept) == len(pd.read_parquet(path))
    assert prov["counts"]["synapses"] == kept.sum()
    assert prov["counts"]["before_filters"] == {"partners": mine.post_pt_root_id.nunique(),
                                                "synapses": len(mine)}
    assert prov["filters"] == [
        "proofread only: partners listed in 'complete_somas'",
        f"selected partners only: {len(kept)} of the {len(per)} shown"]
    assert prov["proofreading_table"] == "complete_somas" and prov["notes"] == []
