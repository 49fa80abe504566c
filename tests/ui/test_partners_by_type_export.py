"""The Partners view's "Partners by cell type" table exports like the partner table: the
Export by type button writes a CSV with its provenance sidecar, the table's right-click
Export… a Parquet file with it in the metadata. The rows are checked against a pandas
groupby of the partner rows (and their totals against the sample's synapse table read by
hand); the provenance says it is the by-type table and which type table and labelling rule
made its groups. ``cavern partners --group-by cell_type`` writes the same table."""
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from PySide6.QtWidgets import QFileDialog

from services.cli.cli_commands import cli_main
from services.connectivity.aggregation import UNKNOWN_TYPE
from services.connectivity.partners_provenance import CELL_TYPE_RULE
from services.local.local_source import sample_folders
from services.results.provenance import KEY, SIDECAR_SUFFIX

BASKET = 864691135101289504  # minnie65_sample's basket cell: partners of many types
V0 = next(f for f in sample_folders() if f.name == "minnie65_sample") / "v0"


@pytest.fixture
def view(qtbot, connectivity_panel):
    p = connectivity_panel("minnie65_sample", size=(1200, 800), show=True)
    with qtbot.waitSignal(p.partners.runner.succeeded, timeout=20000):
        p.show_cell(BASKET)
    yield p.partners  # the panel stays referenced (its view would be deleted with it)


def _save_as(monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))


def _by_type(partners: pd.DataFrame) -> pd.DataFrame:
    """The groups computed here: partners per label (untyped ones as '(no type)')."""
    labels = partners["cell_type"].fillna(UNKNOWN_TYPE).astype(str)
    return (partners.assign(cell_type=labels).groupby("cell_type")
            .agg(n_partners=("partner_root_id", "size"), n_synapses=("n_synapses", "sum")))


def _raw(direction: str) -> pd.DataFrame:
    syn = pd.read_parquet(V0 / "synapses_pni_2.parquet",
                          columns=["pre_pt_root_id", "post_pt_root_id"])
    me, partner = (("post_pt_root_id", "pre_pt_root_id") if direction == "in"
                   else ("pre_pt_root_id", "post_pt_root_id"))
    mine = syn[syn[me] == BASKET]
    return mine[mine[partner] != 0]


def test_export_by_type_button_writes_the_groups_and_says_how_they_were_made(
        qtbot, view, tmp_path, monkeypatch, screenshot):
    assert view.direction == "in" and view.group_export_button.isEnabled()
    table = view.type_combo.currentText()
    assert table == "allen_v1_column_types_slanted_ref"
    screenshot(view, "partners_by_type_export")
    path = tmp_path / "by_type.csv"
    _save_as(monkeypatch, path)
    with qtbot.waitSignal(view.runner.succeeded, timeout=10000):
        view.group_export_button.click()
    got = pd.read_csv(path)
    assert list(got.columns) == ["cell_type", "n_partners", "n_synapses", "synapse_share"]
    partners = view.partners("in")
    want = _by_type(partners)
    assert len(want) > 5  # a real grouping: many types and the untyped
    assert got.set_index("cell_type")[["n_partners", "n_synapses"]].sort_index().equals(
        want.sort_index())
    assert got["synapse_share"].to_numpy() == pytest.approx(
        got["n_synapses"].to_numpy() / partners["n_synapses"].sum())
    assert got["cell_type"].iloc[-1] == UNKNOWN_TYPE  # the untyped partners come last
    raw = _raw("in")
    assert got["n_partners"].sum() == raw.pre_pt_root_id.nunique()
    assert got["n_synapses"].sum() == len(raw)

    prov = json.loads((tmp_path / ("by_type.csv" + SIDECAR_SUFFIX)).read_text())
    assert prov["export"] == "partners of a cell, grouped by cell type"
    assert prov["grouped_by"] == "cell_type" and prov["direction"] == "inputs"
    assert prov["cell"] == {"root_id": BASKET} and prov["datastack"] == "minnie65_sample"
    g = prov["grouping"]
    assert g["table"] == "partners by cell type" and g["by"] == "cell_type"
    assert g["cell_type_table"] == table == prov["cell_type_table"]
    assert g["cell_type_column"] == "cell_type" and g["labelling_rule"] == CELL_TYPE_RULE
    assert g["untyped_label"] == UNKNOWN_TYPE
    assert set(g["columns"]) == {"n_partners", "n_synapses", "synapse_share"}
    assert prov["counts"]["partners"] == len(partners) == raw.pre_pt_root_id.nunique()
    assert prov["counts"]["synapses"] == len(raw)
    assert prov["rows"] == len(got) and prov["columns"] == list(got.columns)
    assert prov["filters"] == []
    assert view.status.label.text() == (f"Exported {len(got)} cell types of "
                                        f"{len(partners):,} partners to {path}.")


def test_menu_export_of_the_groups_of_filtered_partners_to_parquet(
        qtbot, view, tmp_path, monkeypatch):
    view.tabs.setCurrentIndex(1)  # outputs
    view.known_only.setChecked(True)
    partners = view.partners("out")
    view.select_ids(partners["partner_root_id"].iloc[:3])  # a selection: the groups stay whole
    path = tmp_path / "by_type.parquet"
    _save_as(monkeypatch, path)
    menu = view.group_menu.build()
    export = next(a for a in menu.actions() if a.text() == "Export…")
    with qtbot.waitSignal(view.runner.succeeded, timeout=10000):
        export.trigger()
    assert not (tmp_path / ("by_type.parquet" + SIDECAR_SUFFIX)).exists()
    got = pd.read_parquet(path)
    want = _by_type(partners)
    assert UNKNOWN_TYPE not in set(got["cell_type"]) and len(got) > 3
    assert got.set_index("cell_type")[["n_partners", "n_synapses"]].sort_index().equals(
        want.sort_index())
    prov = json.loads(pq.read_schema(path).metadata[KEY])
    assert prov["direction"] == "outputs" and prov["grouping"]["table"] == "partners by cell type"
    assert prov["counts"]["partners"] == len(partners) == got["n_partners"].sum()
    assert prov["counts"]["before_filters"]["partners"] == _raw("out").post_pt_root_id.nunique()
    assert prov["filters"] == [f"known cells only: partners with a cell type in "
                               f"'{view.type_combo.currentText()}'"]


def test_the_cli_by_type_output_is_the_viewers_table(qtbot, view, tmp_path):
    path = tmp_path / "gui.csv"
    with qtbot.waitSignal(view.runner.succeeded, timeout=10000):
        view.export_groups(str(path))
    cli = tmp_path / "cli.csv"
    assert cli_main(["--datastack", "minnie65_sample", "partners", str(BASKET),
                     "--direction", "in", "--group-by", "cell_type", "--csv", str(cli)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(cli), pd.read_csv(path))
    gui_prov = json.loads((tmp_path / ("gui.csv" + SIDECAR_SUFFIX)).read_text())
    cli_prov = json.loads((tmp_path / ("cli.csv" + SIDECAR_SUFFIX)).read_text())
    assert cli_prov["grouping"] == gui_prov["grouping"]
    assert cli_prov["export"] == gui_prov["export"] and cli_prov["counts"] == gui_prov["counts"]
