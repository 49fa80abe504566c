"""The tutorial figures on the bundled samples, each checked against plain pandas, with a
1280x800 screenshot of each (written to $CAVERN_SCREENSHOTS or the test's tmp dir)."""
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from services.workspace import Workspace

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
PINKY = SAMPLES / "pinky100_sample" / "v185"
INPUTS = SAMPLES / "minnie65_sample" / "v1718" / "synapses_pni_2_inputs_864691135774053371.parquet"
EXC = {"23P", "4P", "5P-IT", "5P-ET", "5P-NP", "6P-IT", "6P-CT"}
INH = {"BC", "MC", "BPC", "NGC"}


@pytest.fixture
def panel(figures_panel):
    return figures_panel


def set_ws(qtbot, view, ws):
    with qtbot.waitSignal(view.runner.succeeded, timeout=20000):
        view.set_workspace(ws)


def bars(plot):
    import pyqtgraph as pg
    items = [i for i in plot.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert len(items) == 1
    o = items[0].opts
    return pd.Series(np.asarray(o["height"]), index=np.asarray(o["x"]).astype(int))


def test_soma_map_by_membership_of_the_proofreading_table(qtbot, panel, sample_source, tmp_path,
                                                          screenshot):
    view = panel.soma_map
    set_ws(qtbot, view, Workspace(sample_source, "pinky100_sample", 185))
    assert view.table_combo.currentText() == "soma_valence"
    view.member_combo.setCurrentText("complete_somas")
    with qtbot.waitSignal(view.mapShown, timeout=20000):
        view.draw()
    somas = pd.read_parquet(PINKY / "soma_valence.parquet")
    done = pd.read_parquet(PINKY / "complete_somas.parquet")
    inside = int(somas.pt_root_id.isin(done.pt_root_id).sum())
    assert view.legend_counts() == {"in complete_somas": inside,
                                    "not in complete_somas": len(somas) - inside}
    xyz = np.vstack(somas.pt_position.to_numpy()) * [4, 4, 40] / 1000.0
    f = view.frame
    np.testing.assert_allclose(np.sort(f.x_um), np.sort(xyz[:, 0]))
    np.testing.assert_allclose(np.sort(f.y_um), np.sort(xyz[:, 1]))  # linear, pia at 0
    assert view.coronal.getPlotItem().getViewBox().yInverted()  # depth down
    assert view.top.getPlotItem().getViewBox().state["aspectLocked"]
    for which in ("top", "coronal"):
        for ext in ("png", "svg"):
            out = tmp_path / f"map_{which}.{ext}"
            view.export(str(out), which)
            assert out.stat().st_size > 1000
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no temp files left
    screenshot(panel, "figure_1_soma_map_pinky", (1280, 800))


def test_soma_map_minnie65_by_cell_type_in_transformed_um(qtbot, panel, sample_source, screenshot):
    view = panel.soma_map
    set_ws(qtbot, view, Workspace(sample_source, "minnie65_sample", 343))
    view.colour_combo.setCurrentText("cell_type")
    with qtbot.waitSignal(view.mapShown, timeout=30000):
        view.draw()
    cells = pd.read_parquet(SAMPLES / "minnie65_sample" / "v343"
                            / "aibs_soma_nuc_metamodel_preds_v117.parquet")
    assert view.legend_counts() == cells.cell_type.value_counts().to_dict()
    assert "standard-transform minnie65" in view.frame.attrs["frame"]
    assert view.frame.y_um.between(-50, 1000).all()  # um below pia, not voxels
    screenshot(panel, "figure_1_soma_map_minnie65", (1280, 800))


def test_synapses_per_connection_of_the_pinky_matrix(qtbot, panel, sample_source, tmp_path,
                                                     screenshot):
    panel.tabs.setCurrentWidget(panel.populations)
    view = panel.populations
    set_ws(qtbot, view, Workspace(sample_source, "pinky100_sample", 185))
    view.kind_combo.setCurrentIndex(0)
    view.table_combo.setCurrentText("soma_valence")
    with qtbot.waitSignal(view.runner.succeeded, timeout=20000):
        view.load()
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    ids = pd.read_parquet(PINKY / "soma_valence.parquet").pt_root_id
    syn = syn[syn.pre_pt_root_id.isin(ids) & syn.post_pt_root_id.isin(ids)]
    per_pair = syn.groupby(["pre_pt_root_id", "post_pt_root_id"]).size()
    ref = per_pair.value_counts()
    got = bars(view.hist_all)
    assert len(per_pair) == 1736 and got.sum() == 1736
    assert (got.reindex(ref.index) == ref).all() and got.drop(ref.index).eq(0).all()
    # summed size: histogram = numpy over the groupby sums; log x too
    sums = syn.groupby(["pre_pt_root_id", "post_pt_root_id"])["size"].sum().to_numpy(float)
    assert (view.size_hist.counts == np.histogram(sums, view.size_hist.edges)[0]).all()
    view.density.setChecked(True)
    view.log_x.setChecked(True)
    assert view.size_hist.log_x and view.size_hist.counts.sum() == len(sums)
    assert np.allclose(np.diff(np.log(view.size_hist.edges)),
                       np.log(sums.max() / sums.min()) / 40)
    first = view.connections.iloc[0]
    pair = syn[(syn.pre_pt_root_id == first.pre_pt_root_id)
               & (syn.post_pt_root_id == first.post_pt_root_id)]["size"]
    assert np.log(first.size_sum) == pytest.approx(np.log(float(pair.sum())))  # ln Σ size
    files = view.export_all(str(tmp_path))
    assert len(files) == 12 and all(Path(f).stat().st_size > 1000 for f in files)
    screenshot(panel, "figure_3_5_pinky_matrix_population", (1280, 800))


def test_i_to_e_beside_e_to_e_onto_the_tutorial_cell(qtbot, panel, sample_source, screenshot):
    panel.tabs.setCurrentWidget(panel.populations)
    view = panel.populations
    set_ws(qtbot, view, Workspace(sample_source, "minnie65_sample", 1718))
    assert view.kind_combo.currentIndex() == 1  # the synapse table with presynaptic types
    view.table_combo.setCurrentText("synapses_pni_2_inputs_864691135774053371")
    view.pre_type_combo.setCurrentText("cell_type_pre")
    view.type_table_combo.setCurrentText("proofread_cells_morphology_qc")
    with qtbot.waitSignal(view.runner.succeeded, timeout=20000):
        view.load()
    syn = pd.read_parquet(INPUTS)
    broad = syn.cell_type_pre.map(lambda t: "E" if t in EXC else "I" if t in INH else "o")
    for plot, b, title in ((view.hist_a, "E", "E→E"), (view.hist_b, "I", "I→E")):
        ref = syn[broad == b].groupby("pre_pt_root_id").size().value_counts()
        got = bars(plot)
        assert (got.reindex(ref.index) == ref).all() and got.sum() == ref.sum()
        assert title in plot.getPlotItem().titleLabel.text
    assert (broad == "I").sum() == 573  # 284 BC + 277 MC + 9 NGC + 3 BPC synapses
    assert "no size column" in view.status.text() or "size column" in view.status.text()
    screenshot(panel, "figure_4_minnie65_i_to_e", (1280, 800))


def test_join_proofread_cells_that_are_also_23p(qtbot, panel, sample_source, screenshot):
    panel.tabs.setCurrentWidget(panel.joins)
    view = panel.joins
    set_ws(qtbot, view, Workspace(sample_source, "minnie65_sample", 0))
    view.left.setCurrentText("manually_proofread_cells_e_i")
    view.right.setCurrentText("allen_v1_column_types_slanted_ref")
    view.left_key.setCurrentText("nucleus_id")
    view.right_key.setCurrentText("target_id")
    view.right_filter.setText("cell_type=23P")
    with qtbot.waitSignal(panel.joinReady, timeout=20000) as blocker:
        view.run()
    v0 = SAMPLES / "minnie65_sample" / "v0"
    a = pd.read_parquet(v0 / "manually_proofread_cells_e_i.parquet")
    b = pd.read_parquet(v0 / "allen_v1_column_types_slanted_ref.parquet")
    ref = a.merge(b[b.cell_type == "23P"], left_on="nucleus_id", right_on="target_id")
    assert len(blocker.args[0].frame) == len(ref) > 0
    code = view.python_code()
    assert "query_table" in code and "merge(" in code and "'minnie65_public'" in code
    screenshot(panel, "figure_join", (1280, 800))


def test_figures_tab_in_the_window_and_join_opens_in_results(qtbot, pinky_window, screenshot):
    w = pinky_window
    view = w.figures.joins
    qtbot.waitUntil(lambda: view.left.count() > 0, timeout=20000)
    w.tabs.setCurrentWidget(w.figures)
    w.figures.tabs.setCurrentWidget(view)
    view.left.setCurrentText("soma_valence")
    view.right.setCurrentText("complete_somas")
    view.drop.setChecked(True)
    with qtbot.waitSignal(w.figures.joinReady, timeout=20000):
        view.run()
    somas = pd.read_parquet(PINKY / "soma_valence.parquet")
    done = pd.read_parquet(PINKY / "complete_somas.parquet")
    somas = somas[~somas.pt_root_id.duplicated(keep=False)]
    assert w.tabs.currentWidget() is w.results
    assert w.results.result.n_rows == len(somas.merge(done, on="pt_root_id")) > 0
    screenshot(w, "figure_join_in_results")
