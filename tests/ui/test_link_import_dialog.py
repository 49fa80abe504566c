"""Cells > Import Neuroglancer link… in the whole window: a link of 3 cells and their soma
points becomes those 3 cells (result table, matrix cell set, inspector) and those points as
rows in voxels and nm; a short link on local data and a foreign text say so once."""
import numpy as np
import pytest

from models.query_spec import QuerySpec
from services.links import neuroglancer_links as ngl


@pytest.fixture
def window(pinky_window):
    return pinky_window


def _three_cells(sample_source):
    spec = QuerySpec("soma_valence", "pinky100_sample", limit=3, desired_resolution=(1, 1, 1))
    return sample_source.query(spec).frame


def test_import_three_cells_and_their_points(qtbot, window, sample_source, monkeypatch):
    w = window
    assert w.import_link_action.text().startswith("Import &Neuroglancer link")
    rows = _three_cells(sample_source)
    ids = [int(r) for r in rows.pt_root_id]
    link = ngl.rows_link(w.workspace.info, rows, resolution=(1, 1, 1), group_column="cell_type")
    w.import_link_action.trigger()
    dlg = w.link_import_dialog
    qtbot.waitExposed(dlg)
    dlg.link_edit.setPlainText(link.url)
    with qtbot.waitSignal(dlg.imported, timeout=20000) as got:
        dlg.read_button.click()
    assert list(got.args[0].segments) == ids
    assert "3 visible segments" in dlg.summary.text() and "3 annotation points" in dlg.summary.text()
    assert dlg.seg_model.rowCount() == 3 and dlg.point_model.rowCount() == 3
    # each cell's type, from the workspace's cell-type table (the rows are that table's)
    assert dlg.result.segment_rows["cell_type"].tolist() == rows.cell_type.astype(str).tolist()
    assert "cell types from soma_valence" in dlg.seg_title.text()
    dlg.resize(1280, 800)
    dlg.grab().save("/tmp/cavern_link_import_dialog.png")

    dlg.table_button.click()  # the segments as a result table
    assert w.tabs.currentWidget() is w.results
    assert w.results.model.frame()["pt_root_id"].tolist() == ids
    dlg.points_button.click()  # the points as rows, in the datastack's voxels and nm
    frame = w.results.model.frame()
    shown = frame.sort_values("pt_root_id")
    truth = rows.sort_values("pt_root_id")
    assert shown.pt_root_id.tolist() == truth.pt_root_id.astype("int64").tolist()
    assert np.allclose(shown[["x_nm", "y_nm", "z_nm"]].to_numpy(),
                       np.vstack(truth.pt_position.to_numpy()))
    dlg.matrix_button.click()  # the matrix's cell set
    editor = w.connectivity.matrix.pre_editor
    assert editor.from_ids.isChecked()
    assert [int(x) for x in editor.ids_edit.toPlainText().split()] == ids
    asked = []
    w.inspector.inspect = lambda rid: asked.append(int(rid))
    dlg.inspect_button.click()
    assert asked == [ids[0]]

    # ... and in the live viewer: its cells selected, its points as a layer
    ctl = w.neuroglancer
    monkeypatch.setattr("ui.neuroglancer.viewer_controller.QDesktopServices.openUrl",
                        lambda url: True)
    try:
        with qtbot.waitSignal(ctl.selectionShown, timeout=30000) as shown:
            dlg.viewer_button.click()
        state = ctl.live.viewer.state
        assert [int(s) for s in state.layers["segmentation"].segments] == ids
        assert len(state.layers["rows"].annotations) == 3
        assert any(lay["name"] == "rows" for lay in shown.args[0]["layers"])
    finally:
        ctl.stop()


@pytest.mark.parametrize("text, words", [
    ("https://global.daf-apis.com/nglstate/api/v1/123", "Local data has no Neuroglancer state"),
    ("not a link", "not a web link"),
])
def test_bad_links_say_so_once(qtbot, window, text, words):
    w = window
    w.import_link_action.trigger()
    dlg = w.link_import_dialog
    dlg.link_edit.setPlainText(text)
    with qtbot.waitSignal(dlg.message, timeout=20000) as said:
        dlg.read_button.click()
    assert words in said.args[0]
    assert words in dlg.status_bar.label.text() and dlg.status_bar.kind == "error"
    assert not dlg.table_button.isEnabled() and dlg.result is None


def test_every_control_of_the_dialog_explains_itself(qtbot, sample_source):
    from services.workspace import Workspace
    from tests.ui.test_tooltips import _silent
    from ui.neuroglancer.link_import_dialog import LinkImportDialog
    dlg = LinkImportDialog(Workspace(sample_source, "pinky100_sample"), has_viewer=True)
    qtbot.addWidget(dlg)
    assert _silent(dlg) == []
