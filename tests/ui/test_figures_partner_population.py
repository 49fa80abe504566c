"""Histograms 3–5 over one cell's partners ("a cell's partners" population), checked
against pandas groupby on the samples."""

import numpy as np
import pandas as pd
import pytest

from services.workspace import Workspace
from tests.ui.test_figures import EXC, INH, INPUTS, PINKY, bars

CELL = 864691135774053371  # the tutorial's L2/3 cell (v1718 inputs in the sample)
PINKY_CELL = 648518346349538157  # 5 input, 70 output partners in pinky100


@pytest.fixture
def view(figures_panel):
    figures_panel.tabs.setCurrentWidget(figures_panel.populations)
    return figures_panel.populations  # the panel stays referenced: figures_panel holds it


def pick_partners(qtbot, view, ws, root, direction):
    with qtbot.waitSignal(view.runner.succeeded, timeout=20000):
        view.set_workspace(ws)
    view.kind_combo.setCurrentIndex(view.kind_combo.findData("partners"))
    assert view.root_edit.isVisibleTo(view) and view.direction_combo.isVisibleTo(view)
    view.root_edit.setText(str(root))
    view.direction_combo.setCurrentIndex(view.direction_combo.findData(direction))


def test_inputs_of_the_tutorial_cell_split_i_to_e_beside_e_to_e(qtbot, view, sample_source,
                                                                screenshot):
    pick_partners(qtbot, view, Workspace(sample_source, "minnie65_sample", 1718), CELL, "in")
    view.table_combo.setCurrentText("synapses_pni_2_inputs_864691135774053371")
    view.pre_type_combo.setCurrentText("cell_type_pre")
    view.type_table_combo.setCurrentText("proofread_cells_morphology_qc")
    with qtbot.waitSignal(view.runner.succeeded, timeout=20000):
        view.load()
    syn = pd.read_parquet(INPUTS)
    syn = syn[syn.post_pt_root_id == CELL]
    per_partner = syn.groupby("pre_pt_root_id").size()
    conns = view.connections
    assert len(conns) == len(per_partner) and (conns.post_pt_root_id == CELL).all()
    assert conns.n_synapses.sum() == len(syn) == 4794
    got = bars(view.hist_all)
    ref = per_partner.value_counts()
    assert (got.reindex(ref.index) == ref).all() and got.sum() == len(per_partner)
    assert got.drop(ref.index).eq(0).all()
    broad = syn.cell_type_pre.map(lambda t: "E" if t in EXC else "I" if t in INH else "o")
    for plot, b in ((view.hist_a, "E"), (view.hist_b, "I")):
        part = syn[broad == b].groupby("pre_pt_root_id").size().value_counts()
        got = bars(plot)
        assert (got.reindex(part.index) == part).all() and got.sum() == part.sum() > 0
    assert f"inputs of {CELL}" in view.status.text()
    # this synapse table has no sizes: the empty plot says so itself
    assert "needs a synapse table with a size column" in \
        view.size_plot.getPlotItem().titleLabel.text
    view.layout().activate()  # the status line's new height, before the picture
    screenshot(view.window(), "figure_3_5_partners_of_a_cell", (1280, 800))


def test_outputs_of_a_pinky_cell_with_summed_sizes(qtbot, view, sample_source):
    pick_partners(qtbot, view, Workspace(sample_source, "pinky100_sample", 185), PINKY_CELL,
                  "out")
    assert view.table_combo.currentText() == "synapses"  # the datastack's own by default
    view.type_table_combo.setCurrentText("soma_valence")
    with qtbot.waitSignal(view.runner.succeeded, timeout=20000):
        view.load()
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    syn = syn[syn.pre_pt_root_id == PINKY_CELL]
    per_partner = syn.groupby("post_pt_root_id")["size"].agg(["size", "sum"])
    assert len(view.connections) == len(per_partner) == 70
    got = bars(view.hist_all)
    ref = per_partner["size"].value_counts()
    assert (got.reindex(ref.index) == ref).all() and got.sum() == 70
    sums = per_partner["sum"].to_numpy(float)
    assert (view.size_hist.counts == np.histogram(sums, view.size_hist.edges)[0]).all()
    assert view.size_plot.getPlotItem().titleLabel.text == "Summed synapse size per connection"


def test_a_bad_root_id_is_said_in_the_panel(qtbot, view, sample_source):
    pick_partners(qtbot, view, Workspace(sample_source, "pinky100_sample", 185), "12x", "in")
    with qtbot.waitSignal(view.runner.failed, timeout=20000):
        view.load()
    assert "root id" in view.status.text()

