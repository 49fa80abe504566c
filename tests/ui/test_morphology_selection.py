"""Box-selected synapses of the basket cell go somewhere: the main window's Results (from
the inspector's Morphology window), a Neuroglancer link (points at their positions in nm)
and an export (atomic, with provenance). Every count and position is checked against the
sample's Parquet rows read with pandas."""
import json

import neuroglancer
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QFileDialog

from services.workspace import Workspace
from tests.unit.links.ngl_parse import ann_nm
from ui.main_window import MainWindow
from ui.morphology.morphology_view import MorphologyView

BASKET = 864691135101289504
VOXEL = np.array([4.0, 4.0, 40.0])


def _sample_rows():
    from services.local.local_source import sample_folders
    folder = next(f for f in sample_folders() if f.name == "minnie65_sample")
    syn = pd.read_parquet(folder / "v0" / "synapses_pni_2.parquet")
    return syn[(syn.pre_pt_root_id == BASKET) | (syn.post_pt_root_id == BASKET)].set_index("id")


def _box_right_half(view, q: float = 0.5):
    """Shift+drag over the synapses right of x's ``q`` quantile (the right half): the rows
    inside, found here from the display coordinates, not by the plot."""
    xy = view.data.syn_coords[:, [0, 1]]  # the x-y projection
    cut = float(np.nanquantile(xy[:, 0], q))
    ys = xy[:, 1][np.isfinite(xy[:, 1])]
    rect = QRectF(cut, ys.min() - 1, np.nanmax(xy[:, 0]) - cut + 1, np.ptp(ys) + 2)
    inside = np.flatnonzero((xy[:, 0] >= cut) & np.isfinite(xy).all(axis=1))
    view.plot._box(rect)
    return set(view.data.synapses["id"].iloc[inside].astype(np.int64))


@pytest.fixture
def view(qtbot, own_sample_source):
    v = MorphologyView()
    qtbot.addWidget(v)
    v.set_context(Workspace(own_sample_source, "minnie65_sample", 0))
    with qtbot.waitSignal(v.loaded, timeout=30000):
        v.show_cell(BASKET)
    return v


def test_selection_opens_in_results(qtbot, ini_settings, own_sample_source):
    w = MainWindow(own_sample_source, ini_settings, "minnie65_sample", "test")
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.inspector.ws is not None, timeout=30000)  # versions listed
    with qtbot.waitSignal(w.inspector.cellShown, timeout=30000):
        w.inspector.inspect(BASKET)
    w.inspector.morphology_button.click()
    view = w.inspector._morphology_view
    qtbot.waitUntil(lambda: view.data is not None, timeout=30000)
    assert view.selection_bar.isHidden()
    want = _box_right_half(view)
    assert not view.selection_bar.isHidden() and 0 < len(want) < len(view.data.synapses)
    view.selection_bar.results_button.click()
    assert w.tabs.currentWidget() is w.results
    frame = w.results.result.frame
    assert set(frame["id"].astype(np.int64)) == want and len(frame) == len(want)
    assert w.results.model.rowCount() == len(want)
    rows = _sample_rows().loc[frame["id"].to_numpy()]
    assert (frame["pre_pt_root_id"].to_numpy() == rows.pre_pt_root_id.to_numpy()).all()
    nm = np.vstack(rows.ctr_pt_position.to_numpy()) * VOXEL
    assert np.allclose(np.vstack(frame["ctr_pt_position"].to_numpy()), nm)
    is_in, is_out = rows.post_pt_root_id == BASKET, rows.pre_pt_root_id == BASKET
    want_dir = np.where(is_in & is_out, "autapse", np.where(is_in, "input", "output"))
    assert (frame["direction"].to_numpy() == want_dir).all()
    spec = w.results.result.spec
    assert spec.table == "synapses_pni_2" and spec.desired_resolution == (1.0, 1.0, 1.0)
    assert w.results.result.notes[0].startswith(f"{len(want):,} synapses box-selected")


def test_selection_neuroglancer_link(qtbot, view):
    want = _box_right_half(view, 0.95)  # fewer than a link's 2,000 points
    dlg = view.selection_bar.open_link()
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.linkReady, timeout=20000) as ready:
        dlg.build()
    state = neuroglancer.parse_url(ready.args[0].url)
    pts = ann_nm(state, "rows")
    rows = _sample_rows().loc[sorted(want)]
    nm = np.vstack(rows.ctr_pt_position.to_numpy()) * VOXEL
    assert len(pts) == len(want) and ready.args[0].n_dropped == 0
    # the same points, whatever the order
    assert np.allclose(np.array(sorted(map(tuple, pts))), np.array(sorted(map(tuple, nm))))
    assert dlg.resolution == [1.0, 1.0, 1.0]  # the rows' units, not the datastack's voxels


def test_selection_export(qtbot, view, tmp_path, monkeypatch):
    want = _box_right_half(view)
    bar = view.selection_bar
    out = tmp_path / "sel.parquet"
    with qtbot.waitSignal(bar.exported, timeout=20000):
        bar.export_to(str(out))
    table = pq.read_table(out)
    got = table.to_pandas()
    assert set(got["id"]) == want and len(got) == len(want)
    prov = json.loads(table.schema.metadata[b"cavern_provenance"])
    assert prov["table"] == "synapses_pni_2" and prov["positions"] == "nm"
    assert prov["rows"] == len(want)
    # Export… with the file dialog: no suffix given, CSV chosen -> .csv, sidecar beside it
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "picked"), "CSV (*.csv)"))
    with qtbot.waitSignal(bar.exported, timeout=20000) as done:
        bar.export_button.click()
    assert done.args[0].endswith("picked.csv")
    csv = pd.read_csv(done.args[0])
    assert len(csv) == len(want) and set(csv["direction"]) <= {"input", "output", "autapse"}
    assert (tmp_path / "picked.csv.provenance.json").is_file()
    # a folder that does not exist: a clear message, no file, no exception
    msgs = []
    bar.message.connect(msgs.append)
    bar.export_to(str(tmp_path / "no" / "such" / "dir" / "x.csv"))
    qtbot.waitUntil(lambda: any(m.startswith("Export failed") for m in msgs), timeout=20000)
    assert not (tmp_path / "no").exists()


def test_empty_box_clears_the_selection(qtbot, view):
    _box_right_half(view)
    assert not view.selection_bar.isHidden()
    view.plot._box(QRectF(1e7, 1e7, 1, 1))
    assert view.selection_bar.isHidden() and view.selection_bar.result is None


def test_the_morphology_plot_exports_like_every_plot(qtbot, tmp_path):
    from ui.morphology.morphology_plot import MorphologyPlot
    plot = MorphologyPlot()
    qtbot.addWidget(plot)
    plot.resize(800, 600)
    assert [a.text() for a in plot.image_menu.actions] == ["Copy image", "Export image…"]
    for suffix, magic in ((".pdf", b"%PDF"), (".png", b"\x89PNG")):
        path = plot.image_menu.export(str(tmp_path / f"m{suffix}"))
        assert open(path, "rb").read(4) == magic
