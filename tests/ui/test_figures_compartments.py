"""The Connections figures counted over one synapse compartment (a reference table's tag on
the synapses), on a tiny test-only datastack; on pinky100 the row says what it needs."""

import pytest

from services.workspace import Workspace
from tests.ui.test_figures import bars
from tests.unit.connectivity.test_synapse_compartments import (
    DS, TAGS, TARGET, expected_counts, write_compartment_datastack)


@pytest.fixture
def panel(figures_panel):
    figures_panel.tabs.setCurrentWidget(figures_panel.populations)
    return figures_panel


@pytest.fixture
def tiny(tmp_path):
    from services.local.local_source import LocalSource
    syn, tags = write_compartment_datastack(tmp_path / DS)
    src = LocalSource([tmp_path / DS])
    yield Workspace(src, DS, 1), syn, tags
    src.close()


def listed(qtbot, view, ws):
    with qtbot.waitSignal(view.runner.succeeded, timeout=20000):
        view.set_workspace(ws)


def test_spine_inputs_of_a_cell(qtbot, panel, tiny, screenshot):
    ws, syn, tags = tiny
    view = panel.populations
    listed(qtbot, view, ws)
    ctl = view.compartments
    assert ctl.table_combo.isEnabled() and ctl.note.text() == ""
    ctl.table_combo.setCurrentIndex(ctl.table_combo.findData(TAGS))
    ctl.tag_edit.setText("spine")
    view.kind_combo.setCurrentIndex(view.kind_combo.findData("partners"))
    view.table_combo.setCurrentText("synapses")
    view.root_edit.setText(str(TARGET))
    with qtbot.waitSignal(view.runner.succeeded, timeout=20000):
        view.load()
    j, per_tag = expected_counts(syn, tags, TARGET)
    spine = j[j.tag == "spine"].groupby("pre_pt_root_id").size()
    got = bars(view.hist_all)
    assert (got.reindex(spine.value_counts().index) == spine.value_counts()).all()
    assert got.sum() == len(spine) and view.connections.n_synapses.sum() == per_tag["spine"]
    counts = view.connections.attrs["compartment_counts"].set_index("tag")["n_synapses"]
    assert counts.to_dict() == per_tag.to_dict()
    assert f"spine {per_tag['spine']:,}" in view.status.text()
    view.layout().activate()
    screenshot(panel, "figure_compartment_spine_inputs", (1280, 800))


def test_no_tags_typed_or_a_matrix_is_said(qtbot, panel, tiny):
    ws, *_ = tiny
    view = panel.populations
    listed(qtbot, view, ws)
    view.compartments.table_combo.setCurrentIndex(1)
    view.kind_combo.setCurrentIndex(view.kind_combo.findData("synapses"))
    view.table_combo.setCurrentText("synapses")
    view.load()
    assert "Type the tags" in view.status.text()
    view.kind_combo.setCurrentIndex(view.kind_combo.findData("matrix"))
    view.compartments.tag_edit.setText("soma")
    view.load()
    assert "applies to a synapse table" in view.status.text()


def test_pinky_has_no_compartment_table_and_says_which_it_needs(qtbot, panel,
                                                                sample_source):
    view = panel.populations
    listed(qtbot, view, Workspace(sample_source, "pinky100_sample", 185))
    ctl = view.compartments
    assert not ctl.table_combo.isEnabled() and ctl.table() is None
    assert "synapse_target_predictions_ssa" in ctl.note.text()
    assert "reference table on 'synapses'" in ctl.note.text()
