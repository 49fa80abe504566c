"""One cell selection shared by the result table, the soma map, the partner tables and the
matrix (ui.common.cell_selection), on pinky100 in the whole window; a box on the soma map
becomes a matrix cell set, an export, a Neuroglancer link and an exact voxel box filter."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ui.common.cell_selection import CellSelection

PINKY = Path(__file__).resolve().parents[2] / "resources" / "samples" / "pinky100_sample" / "v185"
CELL = 648518346349538157  # 5 input, 70 output partners


def test_selection_model_emits_once_per_change_with_its_source(qtbot):
    sel = CellSelection()
    seen = []
    sel.changed.connect(lambda ids, src: seen.append((ids, src)))
    assert sel.set([3, 1, 0, None], source="a")  # 0 / None: no cell
    assert not sel.set([1, 3], source="b")  # the same cells: no signal
    assert seen == [(frozenset({1, 3}), "a")] and list(sel.id_array()) == [1, 3]
    assert 3 in sel and len(sel) == 2 and sel.clear() and seen[-1] == (frozenset(), None)


@pytest.fixture
def window(pinky_window):
    return pinky_window


def draw_map(qtbot, w):
    view = w.figures.soma_map
    w.tabs.setCurrentWidget(w.figures)
    w.figures.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.table_combo.currentText() == "soma_valence", timeout=20000)
    with qtbot.waitSignal(view.mapShown, timeout=20000):
        view.draw()
    return view


def boxed_by_pandas(hr, zr):
    somas = pd.read_parquet(PINKY / "soma_valence.parquet")
    xyz = np.vstack(somas.pt_position.to_numpy()) * [4, 4, 40] / 1000.0
    inside = ((xyz[:, 0] >= hr[0]) & (xyz[:, 0] <= hr[1]) & (xyz[:, 2] >= zr[0])
              & (xyz[:, 2] <= zr[1]))
    return set(somas.pt_root_id[inside])


def test_map_box_selects_in_results_and_matrix_and_back(qtbot, window, screenshot):
    w = window
    sel = w.cell_selection
    # the result table: the soma table's rows
    qtbot.waitUntil(lambda: w.browser.select_table("soma_valence"), timeout=20000)
    qtbot.waitUntil(lambda: w.builder.table is not None
                    and w.builder.table.name == "soma_valence", timeout=20000)
    with qtbot.waitSignal(w.query_runner.succeeded, timeout=20000):
        w.builder.run_button.click()
    view = draw_map(qtbot, w)
    f = view.frame
    hr, zr = tuple(np.quantile(f.x_um, [0.1, 0.5])), tuple(np.quantile(f.z_um, [0.2, 0.8]))
    ids = view.box.set_box(hr, zr, "top")
    want = boxed_by_pandas(hr, zr)
    assert set(ids) == want == set(sel.ids()) and 0 < len(want) < len(f)
    assert sel.source is view.box
    # highlighted on both views of the map
    for item in view.box._overlays.values():
        assert len(item.data) == f.pt_root_id.isin(want).sum()
    assert view.box.count_label.text() == f"{len(want):,} cells selected"
    screenshot(w, "linked_soma_map_box", (1280, 800))
    # ... and in the result table: exactly the rows of those cells
    rows = w.results.selectionFrame()
    assert set(rows.pt_root_id) == want and len(rows) == int(
        pd.read_parquet(PINKY / "soma_valence.parquet").pt_root_id.isin(want).sum())
    # rows picked in the result table select those cells everywhere
    w.tabs.setCurrentWidget(w.results)
    w.results.select_rows([0, 1, 2])
    picked = set(w.results.selectionFrame().pt_root_id)
    assert set(sel.ids()) == picked and sel.source is not view.box
    assert len(view.box._overlays["top"].data) == f.pt_root_id.isin(picked).sum()
    # the box becomes the matrix's cell set; a clicked pair selects both its cells
    view.box.set_box(hr, zr, "top")
    m = w.connectivity.matrix
    with qtbot.waitSignal(m.runner.succeeded, timeout=20000):
        view.box.matrix_button.click()
    assert w.tabs.currentWidget() is w.connectivity
    assert set(m.result.pre.ids) == want
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    inner = syn[syn.pre_pt_root_id.isin(want) & syn.post_pt_root_id.isin(want)]
    assert m.result.matrix.nnz == len(inner.drop_duplicates(["pre_pt_root_id",
                                                             "post_pt_root_id"]))
    mx = m.result.matrix
    rows_hl, cols_hl = m.plot.highlighted
    assert len(rows_hl) == mx.shape[0] and len(cols_hl) == mx.shape[1]  # all boxed
    k = int(np.argmax(mx.n_synapses))
    with qtbot.waitSignal(m.pairActivated, timeout=20000):
        m.activate_cell(int(mx.rows[k]), int(mx.cols[k]))
    pre, post = int(mx.row_ids[mx.rows[k]]), int(mx.col_ids[mx.cols[k]])
    assert set(sel.ids()) == {pre, post}
    rows_hl, cols_hl = m.plot.highlighted
    assert {int(mx.row_ids[r]) for r in rows_hl} == {pre, post} & set(mx.row_ids)
    assert len(m.plot._highlights) >= 2
    screenshot(w, "linked_matrix_pair_selected", (1280, 800))


def test_partner_tables_follow_the_selection_and_lead_it(qtbot, window):
    w = window
    sel = w.cell_selection
    p = w.connectivity.partners
    with qtbot.waitSignal(p.runner.succeeded, timeout=20000):
        w.show_partners(CELL)
    outs = p.partners("out").partner_root_id.to_numpy()
    sel.set(outs[[1, 4, 6]], source="test")
    p.tabs.setCurrentIndex(1)
    assert sorted(p.selected_ids()) == sorted(int(i) for i in outs[[1, 4, 6]])
    p.select_ids([int(outs[0])])
    assert set(sel.ids()) == {int(outs[0])}


def test_box_export_link_and_exact_voxel_filter(qtbot, window, tmp_path, monkeypatch, screenshot):
    w = window
    view = draw_map(qtbot, w)
    f = view.frame
    hr, zr = tuple(np.quantile(f.x_um, [0.3, 0.9])), tuple(np.quantile(f.z_um, [0.1, 0.6]))
    want = set(view.box.set_box(hr, zr, "top"))
    assert want == boxed_by_pandas(hr, zr)
    out = tmp_path / "boxed.csv"
    assert view.box.export_selected(str(out)) == len(f[f.pt_root_id.isin(want)])
    assert set(pd.read_csv(out).pt_root_id) == want
    linked = []
    monkeypatch.setattr(w, "_link_cells", lambda ids: linked.append(ids))
    view.box.link_button.click()
    assert linked and set(linked[0]) == want
    view.box.filter_button.click()
    assert w.tabs.currentWidget() is w.results and w.builder.table.name == "soma_valence"
    row = w.builder.rows[-1]
    flt = row.filter()
    assert flt.column == "pt_position" and flt.units == "vx"
    (lo, hi) = flt.value
    assert lo[0] == pytest.approx(hr[0] * 1000 / 4) and hi[2] == pytest.approx(zr[1] * 1000 / 40)
    with qtbot.waitSignal(w.query_runner.succeeded, timeout=20000):
        w.builder.run_button.click()
    assert set(w.results.result.frame.pt_root_id) == want  # the same cells, exactly
    screenshot(w, "linked_box_filter_in_query", (1280, 800))


class _Drag:
    """A left-button drag event as pyqtgraph's scene hands it to a view box."""

    def __init__(self, scene_pos, start=False, finish=False):
        self._pos, self._start, self._finish = scene_pos, start, finish

    def button(self):
        from PySide6.QtCore import Qt
        return Qt.MouseButton.LeftButton

    def scenePos(self):
        return self._pos

    def isStart(self):
        return self._start

    def isFinish(self):
        return self._finish

    def accept(self):
        pass


def test_lasso_dragged_on_the_coronal_view_selects_the_cells_inside(qtbot, window, screenshot):
    from PySide6.QtCore import QPointF
    w = window
    view = draw_map(qtbot, w)
    f = view.frame
    x0, x1 = np.quantile(f.x_um, [0.2, 0.8])
    y0, y1 = np.quantile(f.y_um, [0.2, 0.8])
    # a triangle: left-bottom, right-bottom, apex at the top middle (depth down)
    tri = [(x0, y1), (x1, y1), ((x0 + x1) / 2, y0)]
    view.box.lasso_button.click()
    assert view.box.lasso_button.isChecked() and not view.box.box_button.isChecked()
    vb = view.coronal.getPlotItem().getViewBox()
    n = len(tri)
    for i, (x, y) in enumerate(tri):
        vb.mouseDragEvent(_Drag(vb.mapViewToScene(QPointF(x, y)), i == 0, i == n - 1))
    got = set(w.cell_selection.ids())
    # independent: even-odd test of each soma against the triangle, by hand
    somas = pd.read_parquet(PINKY / "soma_valence.parquet")
    xyz = np.vstack(somas.pt_position.to_numpy()) * [4, 4, 40] / 1000.0
    (ax, ay), (bx, by), (cx, cy) = [vb.mapSceneToView(vb.mapViewToScene(QPointF(*p))).toTuple()
                                    for p in tri]

    def side(px, py, qx, qy, rx, ry):
        return (qx - px) * (ry - py) - (qy - py) * (rx - px)
    px, py = xyz[:, 0], xyz[:, 1]
    s1, s2, s3 = side(ax, ay, bx, by, px, py), side(bx, by, cx, cy, px, py), side(
        cx, cy, ax, ay, px, py)
    inside = ((s1 > 0) & (s2 > 0) & (s3 > 0)) | ((s1 < 0) & (s2 < 0) & (s3 < 0))
    assert got == set(somas.pt_root_id[inside]) and 0 < len(got) < len(somas)
    assert len(view.box._overlays["top"].data) == f.pt_root_id.isin(got).sum()
    screenshot(w, "linked_soma_map_lasso", (1280, 800))
    view.box.box_button.click()  # the box replaces the lasso
    assert not view.box.lasso_button.isChecked() and view.box._lasso_item is None
