"""The connectivity viewer on the pinky100 sample: partners of a cell and the matrix."""
import numpy as np
import pandas as pd
import pytest
from services.workspace import Workspace

from ui.connectivity.connectivity_panel import ConnectivityPanel

CELL = 648518346349538157  # 5 input partners, 70 output partners (79 synapses) in the sample


@pytest.fixture
def panel(connectivity_panel):
    return connectivity_panel(size=(1200, 800))


def show_partners(qtbot, panel, root=CELL):
    view = panel.partners
    with qtbot.waitSignal(view.runner.succeeded, timeout=10000):
        panel.show_cell(root)
    return view


def test_partners_tables_counts_and_types(qtbot, panel):
    view = show_partners(qtbot, panel)
    assert view.type_combo.currentText() == "soma_valence"
    assert view.models["in"].rowCount() == 5 and view.models["out"].rowCount() == 70
    out = view.partners("out")
    assert out["n_synapses"].sum() == 79 and set(out["cell_type"]) == {"e"}
    assert out["partner_root_id"].dtype == np.int64
    assert "Outputs (70 cells, 79 syn.)" == view.tabs.tabText(1)
    # the partner root id column shows all 18 digits
    model = view.models["out"]
    texts = {model.data(model.index(r, 0)) for r in range(model.rowCount())}
    assert str(int(out["partner_root_id"].iloc[0])) in texts


def test_proofread_toggle_and_type_grouping(qtbot, panel):
    view = show_partners(qtbot, panel)
    view.tabs.setCurrentIndex(1)
    n_proof = int(view.partners("out")["proofread"].sum())
    view.proofread_only.setChecked(True)
    assert view.models["out"].rowCount() == n_proof < 70
    group = view.group_model.frame()
    assert group["n_partners"].sum() == n_proof and group["synapse_share"].sum() == pytest.approx(1)
    view._group_clicked(view.group_model.index(0, 0))
    assert len(view.selected_ids()) == n_proof


def test_bar_click_selects_partners_and_signals(qtbot, panel):
    view = show_partners(qtbot, panel)
    view.tabs.setCurrentIndex(1)
    out = view.partners("out")
    view.plots.plots["per_connection"].click_value(2.0)  # the '2 synapses' bar
    selected = set(view.selected_ids())
    assert selected == set(out.loc[out.n_synapses == 2, "partner_root_id"]) and selected
    assert view.selection_label.text() == f"{len(selected)} partners selected."
    with qtbot.waitSignal(panel.linkRequested) as link:
        view.link_button.click()
    assert link.args[0][0] == CELL and set(link.args[0][1:]) == selected
    view.select_ids([int(out.partner_root_id.iloc[0])])
    with qtbot.waitSignal(panel.inspectCell) as insp:
        view.inspect_button.click()
    assert insp.args[0] == int(out.partner_root_id.iloc[0])  # 64-bit id arrives intact
    view.plots.log_size.setChecked(True)
    assert view.plots.plots["size"].hist.log


def test_export_selected_partners(qtbot, panel, tmp_path):
    view = show_partners(qtbot, panel)
    view.tabs.setCurrentIndex(1)
    view.plots.plots["per_connection"].click_value(3.0)
    path = tmp_path / "p.csv"
    with qtbot.waitSignal(view.runner.succeeded, timeout=10000):
        view.export_partners(str(path))
    df = pd.read_csv(path)
    assert len(df) == 2 and (df.n_synapses == 3).all() and df.partner_root_id.dtype == np.int64


def test_bad_root_id_shows_error_in_panel(qtbot, panel):
    view = panel.partners
    view.root_edit.setText("64851834634953815x")
    with qtbot.waitSignal(panel.message) as msg:
        view.request()
    assert "not a root id" in msg.args[0]
    assert view.status.is_error and "not a root id" in view.status.label.text()


def compute(qtbot, panel):
    view = panel.matrix
    with qtbot.waitSignal(view.runner.succeeded, timeout=15000):
        view.request()
    return view


def test_matrix_is_the_pyramidal_subgraph(qtbot, panel, tmp_path):
    view = compute(qtbot, panel)
    m = view.result.matrix
    assert m.shape == (334, 334) and m.summary()["n_synapses"] == 1961
    assert "<b>334</b> presynaptic" in view.summary_label.text()
    assert view.plot.image.image.shape == (334, 334)  # no upsampling, no dense copy in Qt
    assert [b.label for b in m.row_blocks] == ["e"]
    blocks = view.block_model.frame()
    assert blocks.loc[0, "n_synapses"] == 1961
    # click the strongest pair: its synapses are listed and the pair signal fires
    k = int(np.argmax(m.n_synapses))
    with qtbot.waitSignal(view.pairActivated) as pair:
        view.activate_cell(int(m.rows[k]), int(m.cols[k]))
    assert pair.args == [int(m.row_ids[m.rows[k]]), int(m.col_ids[m.cols[k]])]
    assert view.pair_model.rowCount() == int(m.n_synapses[k])
    with qtbot.waitSignal(view.rowsLinkRequested) as linked:
        view.pair_link_button.click()
    frame = linked.args[0]
    assert len(frame) == int(m.n_synapses[k]) and "ctr_pt_position" in frame
    assert "synapse count" in view.describe(int(m.rows[k]), int(m.cols[k]))
    # weight change redraws without a new request
    view.weight_combo.setCurrentIndex(view.weight_combo.findData("size_sum"))
    assert view.plot.image.image.max() == pytest.approx(m.size_sum.max())
    path = tmp_path / "long.csv"
    with qtbot.waitSignal(view.runner.succeeded, timeout=10000):
        view.export_matrix(str(path), "long")
    long = pd.read_csv(path)
    assert len(long) == 1736 and long.weight.sum() == m.size_sum.sum()
    with qtbot.waitSignal(view.runner.succeeded, timeout=10000):
        view.export_matrix(str(tmp_path / "wide.csv"), "wide")
    wide = pd.read_csv(tmp_path / "wide.csv")
    assert wide.shape == (334, 335)
    view.export_figure(str(tmp_path / "m.png"))
    view.export_figure(str(tmp_path / "m.svg"))
    assert (tmp_path / "m.png").stat().st_size > 1000 and (tmp_path / "m.svg").exists()


def test_matrix_all_types_and_filter_error(qtbot, panel):
    view = panel.matrix
    view.hide_unconnected.setChecked(False)
    compute(qtbot, panel)
    assert view.result.matrix.shape == (453, 453)
    assert [b.label for b in view.result.matrix.col_blocks] == ["e", "g", "i", "uncertain"]
    view.pre_editor.filters_edit.setPlainText("colour=red")
    with qtbot.waitSignal(view.runner.failed, timeout=10000):
        view.request()
    assert view.status.is_error and "colour" in view.status.label.text()
    assert view.result.matrix.shape == (453, 453)  # the old matrix stays usable


def test_matrix_pasted_pre_ids_against_table_post(qtbot, panel):
    view = panel.matrix
    view.same_sets.setChecked(False)
    view.pre_editor.from_ids.setChecked(True)
    view.pre_editor.ids_edit.setPlainText(f"{CELL}\n648518346349537978")
    view.post_editor.filters_edit.setPlainText("cell_type=e")
    compute(qtbot, panel)
    m = view.result.matrix
    assert m.shape[0] == 2 and m.summary()["n_synapses"] == 79 + 72
    view.pre_editor.ids_edit.setPlainText("12, abc")
    with qtbot.waitSignal(panel.message):
        view.request()
    assert "not a root id" in view.status.label.text()


def test_show_cell_right_after_set_context(qtbot, sample_source):
    p = ConnectivityPanel()
    qtbot.addWidget(p)
    p.set_context(Workspace(sample_source, "pinky100_sample"))
    with qtbot.waitSignal(p.partners.runner.succeeded, timeout=10000):
        p.show_cell(CELL)  # the cell-type tables are still being listed
    assert p.partners.models["out"].rowCount() == 70


def test_the_synapse_table_can_be_chosen(qtbot, connectivity_panel):
    """minnie65_sample v343 holds the inputs of three L2/3 cells in their own synapse
    table beside synapses_pni_2 (read at the nearest version): partners read the pick."""
    p = connectivity_panel("minnie65_sample", 343, timeout=15000)
    names = [p.synapse_combo.itemText(i) for i in range(p.synapse_combo.count())]
    assert names[0] == "synapses_pni_2" and "synapses_23P_corner_inputs" in names
    with qtbot.waitSignal(p.contextReady, timeout=15000):
        p.synapse_combo.setCurrentText("synapses_23P_corner_inputs")
    ws = p.partners.ws
    assert ws.synapse_table().name == "synapses_23P_corner_inputs"
    import duckdb
    from services.local.local_source import sample_folders
    folder = next(f for f in sample_folders() if f.name == "minnie65_sample")
    post = duckdb.sql(f"SELECT post_pt_root_id, count(*) n FROM "
                      f"'{folder}/v343/synapses_23P_corner_inputs.parquet' GROUP BY 1 "
                      f"ORDER BY 2 DESC LIMIT 1").fetchall()[0]
    with qtbot.waitSignal(p.partners.runner.succeeded, timeout=15000):
        p.partners.show_cell(int(post[0]))
    assert int(p.partners.result.inputs.n_synapses.sum()) == post[1]
