"""The Morphology view on the bundled sample's basket cell (tutorial part II, fig. 8-12):
the counts it shows equal pandas counts of the cell's synapse rows."""
import numpy as np
import pandas as pd
import pytest

from services.workspace import Workspace
from ui.morphology.morphology_view import MorphologyView

BASKET = 864691135101289504
TABLE = "allen_v1_column_types_slanted_ref"


@pytest.fixture
def source(own_sample_source):
    return own_sample_source


def _synapse_rows(src):
    """The basket cell's rows, read straight from the sample's Parquet file with pandas."""
    from services.local.local_source import sample_folders
    folder = next(f for f in sample_folders() if f.name == "minnie65_sample")
    syn = pd.read_parquet(folder / "v0" / "synapses_pni_2.parquet")
    cells = pd.read_parquet(folder / "v0" / f"{TABLE}.parquet")
    return syn[syn.post_pt_root_id == BASKET], syn[syn.pre_pt_root_id == BASKET], cells


def test_basket_cell_figures(qtbot, source, tmp_path):
    view = MorphologyView()
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.set_context(Workspace(source, "minnie65_sample", 0))
    with qtbot.waitSignal(view.loaded, timeout=30000):
        view.show_cell(BASKET)
    ins, outs, cells = _synapse_rows(source)
    assert (len(ins), len(outs)) == (12424, 6514)
    sk = view.data.skeleton
    assert sk.n_vertices == 16720

    # fig. 8: skeleton by compartment, every projection
    view.set_choice(view.synapse_combo, "none")
    for proj in ("xy", "zy", "xz"):
        view.set_choice(view.projection_combo, proj)
        assert view.counts["drawn"] == 0
    names = {label.text for _sample, label in view.plot.legend.items}
    assert {"axon", "basal dendrite", "soma (root)"} <= names

    # fig. 9: outputs and inputs, totals shown
    view.set_choice(view.projection_combo, "xy")
    view.set_choice(view.synapse_combo, "out")
    assert view.counts["drawn"] == len(outs) and f"{len(outs):,}" in view.counts_label.text()
    view.set_choice(view.synapse_combo, "in")
    assert view.counts["drawn"] == len(ins) and f"{len(ins):,}" in view.counts_label.text()

    # fig. 10: known cells only (partners in the V1-column table highlighted)
    view.set_choice(view.table_combo, TABLE)
    with qtbot.waitSignal(view.redrawn, timeout=20000):
        view.set_choice(view.colour_combo, "known")
    qtbot.waitUntil(lambda: "known" in view.counts, timeout=20000)
    known_ids = set(cells.pt_root_id)
    want = int(ins.pre_pt_root_id.isin(known_ids).sum())
    assert view.counts["known"] == want and view.counts["grey"] == len(ins) - want
    assert f"{want:,}" in view.counts_label.text()
    view.set_choice(view.synapse_combo, "out")
    assert view.counts["known"] == int(outs.post_pt_root_id.isin(known_ids).sum())

    # partner cell type: each type's count equals pandas'
    view.set_choice(view.synapse_combo, "in")
    view.set_choice(view.colour_combo, "cell_type")
    types = ins.pre_pt_root_id.map(cells.drop_duplicates("pt_root_id")
                                   .set_index("pt_root_id").cell_type)
    top = types.value_counts().index[0]
    assert view.counts[top] == int((types == top).sum())

    # fig. 11: the sample has no target-compartment table: the control says which it needs
    view.set_choice(view.colour_combo, "target")
    assert "synapse_target_predictions_ssa_v2" in view.notes_label.text()

    # fig. 12: dendrite only, inputs by path distance to the soma
    view.dendrite_check.setChecked(True)
    view.set_choice(view.colour_combo, "distance")
    syn = view.data.synapses
    on_dendrite = syn[syn.is_input & (syn.compartment != 2)]
    assert view.counts["drawn"] == len(on_dendrite) < len(ins)
    assert sum(v for k, v in view.counts.items() if "µm" in k) == len(on_dendrite)
    view.grab().save(str(tmp_path / "fig12.png"))

    # hover text, click -> partner, box -> rows
    row = int(np.flatnonzero(syn.is_input.to_numpy())[0])
    assert str(int(syn.pre_pt_root_id.iloc[row])) in view._tip(row)
    with qtbot.waitSignal(view.partnerActivated) as got:
        view.plot.synapseClicked.emit(row)
    assert got.args[0] == int(syn.pre_pt_root_id.iloc[row])
    from PySide6.QtCore import QRectF
    with qtbot.waitSignal(view.synapsesSelected) as got:
        view.plot._box(QRectF(-1e6, -1e6, 2e6, 2e6))
    assert len(got.args[0]) == len(on_dendrite)


def test_cell_without_skeleton_says_so(qtbot, source):
    view = MorphologyView()
    qtbot.addWidget(view)
    view.set_context(Workspace(source, "minnie65_sample", 0))
    with qtbot.waitSignal(view.message, timeout=20000) as got:
        view.show_cell(864691136362774498)
    assert "No skeleton" in got.args[0]
