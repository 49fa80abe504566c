"""Drive the whole window on the bundled sample: pick, filter, run, sort, export."""
import pandas as pd
import pytest
from PySide6.QtCore import Qt

from models.filters import Op
from ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, ini_settings, sample_source):
    w = MainWindow(sample_source, ini_settings, "pinky100_sample", "test")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.browser.tree.topLevelItemCount() > 0, timeout=10000)
    return w


def test_pick_filter_run_sort_export(qtbot, window, tmp_path):
    w = window
    assert w.version_combo.currentText() == "v185"
    assert w.browser.select_table("synapses")
    assert w.builder.table.name == "synapses"
    w.builder.add_filter("size").set_values("size", Op.GE, "1000")
    with qtbot.waitSignal(w.query_runner.succeeded, timeout=10000):
        w.builder.run_button.click()
    model = w.results.model
    n = model.rowCount()
    full = pd.read_parquet("resources/samples/pinky100_sample/v185/synapses.parquet")
    assert n == int((full["size"] >= 1000).sum()) > 0
    assert f"{n:,} rows" in w.results.status.text()
    size_col = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())].index("size")
    w.results.sort_by(size_col, Qt.SortOrder.DescendingOrder)
    top = [int(model.data(model.index(r, size_col))) for r in range(3)]
    assert top == sorted(full.loc[full["size"] >= 1000, "size"], reverse=True)[:3]
    root_col = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())].index("pre_pt_root_id")
    assert model.data(model.index(0, root_col)).startswith("6485183463")  # exact, not 6.48e17
    out = tmp_path / "big_synapses.csv"
    with qtbot.waitSignal(w.results.exportFinished, timeout=10000):
        w.results.export_rows(str(out))
    got = pd.read_csv(out)
    assert len(got) == n and got["size"].tolist() == sorted(got["size"], reverse=True)
    assert got.pre_pt_root_id.dtype.kind == "i"
    assert set(got.id) == set(full.id[full["size"] >= 1000])


def test_bad_filter_is_flagged_and_window_stays_usable(qtbot, window):
    w = window
    w.browser.select_table("synapses")
    row = w.builder.add_filter("pre_pt_root_id")
    row.set_values("pre_pt_root_id", Op.EQ, "cell-42")
    assert "not a whole number" in row.error_label.text()
    assert not w.builder.run_button.isEnabled()
    row.value_edit.setText("648518346349539437")
    with qtbot.waitSignal(w.query_runner.succeeded, timeout=10000):
        w.builder.run_button.click()
    assert w.results.model.rowCount() > 0


def test_switch_datastack_and_version(qtbot, window):
    w = window
    idx = next(i for i in range(w.datastack_combo.count())
               if w.datastack_combo.itemData(i)[1] == "minnie65_sample")
    w.datastack_combo.setCurrentIndex(idx)
    qtbot.waitUntil(lambda: w.version_combo.count() == 4, timeout=10000)
    qtbot.waitUntil(lambda: w.browser.select_table("synapses_pni_2"), timeout=10000)
    i343 = w.version_combo.findData(343)
    w.version_combo.setCurrentIndex(i343)
    qtbot.waitUntil(lambda: w.browser.select_table("aibs_soma_nuc_metamodel_preds_v117"), timeout=10000)
    w.builder.add_filter("cell_type").set_values("cell_type", Op.REGEX, "^4P$")
    with qtbot.waitSignal(w.query_runner.succeeded, timeout=10000) as blocker:
        w.builder.run_button.click()
    frame = blocker.args[0].frame
    assert len(frame) > 0 and set(frame.cell_type) == {"4P"}


def test_copy_as_python(qtbot, window):
    from PySide6.QtWidgets import QApplication
    w = window
    w.browser.select_table("synapses")
    w.builder.add_filter("size").set_values("size", Op.BETWEEN, "100, 200")
    w.builder.code_button.click()
    code = QApplication.clipboard().text()
    assert "filter_greater_equal_dict={'size': 100}" in code
    assert "materialization_version=185" in code
    compile(code, "copied", "exec")


def test_open_folder_with_corrupt_manifest_keeps_window(qtbot, window, tmp_path):
    (tmp_path / "manifest.json").write_text("[1, 2")
    before = window.datastack_combo.count()
    window.open_datastack_folder(str(tmp_path))
    assert window.datastack_combo.count() == before
    assert "manifest" in window.statusBar().currentMessage()


def test_layout_and_last_datastack_are_remembered(qtbot, ini_settings, sample_source):
    w = MainWindow(sample_source, ini_settings, "minnie65_sample")
    qtbot.addWidget(w)
    w.close()
    w2 = MainWindow(sample_source, ini_settings)
    qtbot.addWidget(w2)
    assert w2.datastack == "minnie65_sample"
    assert ini_settings.value("geometry") is not None


def test_pair_synapses_open_a_link_dialog(qtbot, window, monkeypatch):
    import numpy as np
    shown = []
    monkeypatch.setattr("ui.cells.link_dialog.LinkDialog.show", lambda self: shown.append(self))
    w = window
    view = w.connectivity.matrix
    qtbot.waitUntil(lambda: view.compute_button.isEnabled(), timeout=10000)
    with qtbot.waitSignal(view.runner.succeeded, timeout=15000):
        view.request()
    m = view.result.matrix
    k = int(np.argmax(m.n_synapses))
    with qtbot.waitSignal(view.pairActivated, timeout=10000):  # its synapses are fetched
        view.activate_cell(int(m.rows[k]), int(m.cols[k]))
    view.pair_link_button.click()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    dlg = shown[0]
    assert len(dlg.frame) == int(m.n_synapses[k]) and "ctr_pt_position" in dlg.frame
    with qtbot.waitSignal(dlg.linkReady, timeout=30000) as ready:
        dlg.build()
    assert ready.args[0].n_annotations == int(m.n_synapses[k])
    assert ready.args[0].url.startswith("https://spelunker")
    dlg.close()


def test_the_query_builder_follows_the_window_context(qtbot, window):
    """Filter-value completion asks the datastack the window shows."""
    w = window
    assert w.builder.source is w.workspace.source
    assert (w.builder.datastack, w.builder.version) == ("pinky100_sample", w.workspace.version)
