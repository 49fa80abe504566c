"""The result panel: exact root ids, sort, quick filter, copy, export, double-click."""
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication

import ui.tables.result_panel as result_panel
from models.query_spec import QueryResult, QuerySpec
from ui.tables.result_panel import ResultPanel

ROOTS = [864691135774053371, 648518346349539437, 864691135774053370, 864691136000000001]


def synapse_result(truncated=False, total=None):
    pos = np.empty(4, dtype=object)
    pos[:] = [np.array([91369, 57798, 1582]), np.array([78030, 52454, 249]),
              np.array([78399, 46441, 598]), np.array([1, 2, 3])]
    frame = pd.DataFrame({
        "id": np.array([1484, 3056393, 310116, 7], dtype=np.int64),
        "pre_pt_root_id": np.array(ROOTS, dtype=np.int64),
        "post_pt_root_id": np.array(ROOTS[::-1], dtype=np.int64),
        "size": np.array([0.5, np.nan, 1 / 3, 250.0]),
        "cell_type": ["23P", None, "BC", "23p"],
        "ctr_pt_position": pos,
    })
    spec = QuerySpec(table="synapses", datastack="pinky100_sample", version=185)
    return QueryResult(spec=spec, frame=frame, elapsed_s=0.25, truncated=truncated,
                       total_rows=total, source="local")


@pytest.fixture
def panel(qtbot):
    p = ResultPanel()
    qtbot.addWidget(p)
    p.resize(1000, 300)
    p.set_result(synapse_result())
    return p


def column(panel, name):
    return panel.model.rows.names.index(name)


def shown(panel, name):
    c = column(panel, name)
    m = panel.model
    return [m.data(m.index(r, c)) for r in range(m.rowCount())]


def test_cells_are_formatted_exactly(panel):
    assert shown(panel, "pre_pt_root_id") == [str(r) for r in ROOTS]
    assert shown(panel, "size") == ["0.5", "", "0.333333", "250"]
    assert shown(panel, "ctr_pt_position")[0] == "[91369, 57798, 1582]"
    assert shown(panel, "cell_type")[1] == ""
    assert panel.status.text().startswith("4 rows in 0.25 s · synapses (pinky100_sample v185)")


def test_truncated_result_says_so(qtbot):
    p = ResultPanel()
    qtbot.addWidget(p)
    p.set_result(synapse_result(truncated=True, total=200_123))
    assert "showing 4 of 200,123 rows" in p.status.text()


def test_header_clicks_sort_ascending_descending_then_original(panel):
    size = column(panel, "size")
    panel.view.horizontalHeader().sectionClicked.emit(size)
    assert shown(panel, "size") == ["0.333333", "0.5", "250", ""]  # NaN last
    panel.view.horizontalHeader().sectionClicked.emit(size)
    assert shown(panel, "size") == ["250", "0.5", "0.333333", ""]
    panel.view.horizontalHeader().sectionClicked.emit(size)
    assert shown(panel, "id") == ["1484", "3056393", "310116", "7"]
    panel.sort_by(column(panel, "pre_pt_root_id"))
    assert shown(panel, "pre_pt_root_id") == [str(r) for r in sorted(ROOTS)]


def test_text_sort_ignores_case_and_puts_missing_last(panel):
    panel.sort_by(column(panel, "cell_type"))
    assert shown(panel, "cell_type") == ["23P", "23p", "BC", ""]


def test_quick_filter_matches_any_column_and_keeps_the_sort(panel, qtbot):
    panel.sort_by(column(panel, "id"), Qt.SortOrder.DescendingOrder)
    with qtbot.waitSignal(panel.filterApplied, timeout=3000):
        panel.filter_edit.setText("23p")  # debounced, case-insensitive
    assert shown(panel, "id") == ["1484", "7"]
    panel.filter_edit.setText("2, 3]")
    panel.apply_filter()
    assert shown(panel, "id") == ["7"]
    panel.filter_edit.setText(str(ROOTS[0]))  # pre of 1484, post of 7
    panel.apply_filter()
    assert shown(panel, "id") == ["1484", "7"]  # still sorted by id, descending
    assert f"2 of 4 rows contain '{ROOTS[0]}'" in panel.status.text()
    panel.filter_edit.setText("")
    panel.apply_filter()
    assert panel.model.rowCount() == 4


def test_large_results_filter_in_a_worker(panel, qtbot, monkeypatch):
    monkeypatch.setattr(result_panel, "SYNC_FILTER_ROWS", 2)
    panel.filter_edit.setText("bc")
    with qtbot.waitSignal(panel.filterApplied, timeout=5000):
        panel.apply_filter()
    assert shown(panel, "cell_type") == ["BC"]


def select(panel, rows, columns=None):
    sm = panel.view.selectionModel()
    sm.clearSelection()
    for r in rows:
        for c in (columns if columns is not None else [0]):
            sm.select(panel.model.index(r, c), QItemSelectionModel.SelectionFlag.Select)


def test_copy_selected_cells_as_tsv_with_header(panel):
    panel.sort_by(column(panel, "id"))  # view rows 0, 1 are ids 7 and 1484
    select(panel, [1, 0], [column(panel, "pre_pt_root_id"), column(panel, "ctr_pt_position")])
    panel.copy_selection()
    assert QApplication.clipboard().text().splitlines() == [
        "pre_pt_root_id\tctr_pt_position",
        f"{ROOTS[3]}\t[1, 2, 3]",
        f"{ROOTS[0]}\t[91369, 57798, 1582]",
    ]


def test_ctrl_c_copies(panel, qtbot):
    select(panel, [2], [column(panel, "id")])
    panel.view.setFocus()
    QApplication.clipboard().clear()
    qtbot.keyClick(panel.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == "310116\n"  # one column: no header


def test_selection_frame_maps_view_rows_to_source_rows(panel):
    panel.sort_by(column(panel, "size"), Qt.SortOrder.DescendingOrder)
    select(panel, [0, 2])
    frame = panel.selectionFrame()
    assert frame["id"].tolist() == [7, 310116]
    assert frame["pre_pt_root_id"].dtype == np.int64
    assert frame["pre_pt_root_id"].tolist() == [ROOTS[3], ROOTS[2]]


def test_export_selected_rows_to_csv(panel, qtbot, tmp_path):
    panel.filter_edit.setText("23p")
    panel.apply_filter()
    select(panel, [1])  # the second remaining row: id 7
    target = tmp_path / "picked.csv"
    with qtbot.waitSignal(panel.exportFinished, timeout=5000) as sig:
        panel.export_rows(str(target), selected_only=True)
    assert sig.args == [str(target)]
    lines = target.read_text().splitlines()
    assert lines[0] == "id,pre_pt_root_id,post_pt_root_id,size,cell_type,ctr_pt_position"
    assert lines[1:] == [f'7,{ROOTS[3]},{ROOTS[0]},250.0,23p,"[1, 2, 3]"']
    assert "Exported 1 rows" in panel.status.text()


def test_export_all_rows_to_parquet_in_view_order(panel, qtbot, tmp_path):
    panel.sort_by(column(panel, "post_pt_root_id"))
    target = tmp_path / "all.parquet"
    with qtbot.waitSignal(panel.exportFinished, timeout=5000):
        panel.export_rows(str(target))
    table = pq.read_table(target)
    assert table.column("post_pt_root_id").to_pylist() == sorted(ROOTS)
    assert table.column("id").to_pylist() == [310116, 3056393, 7, 1484]
    assert table.column("ctr_pt_position").to_pylist()[0] == [78399, 46441, 598]


def test_export_errors_show_in_the_status_line(panel, qtbot, tmp_path):
    with qtbot.waitSignal(panel.exportFailed, timeout=5000) as sig:
        panel.export_rows(str(tmp_path / "missing" / "x.csv"))
    assert "does not exist" in sig.args[0]
    assert "Export failed" in panel.status.text()
    with qtbot.waitSignal(panel.exportFailed, timeout=1000) as sig:
        panel.export_rows(str(tmp_path / "x.xlsx"))
    assert "Cannot tell the format" in sig.args[0]
    panel.view.clearSelection()
    with qtbot.waitSignal(panel.exportFailed, timeout=1000) as sig:
        panel.export_rows(str(tmp_path / "x.csv"), selected_only=True)
    assert "Select the rows" in sig.args[0]


def test_double_click_on_a_root_id_emits_it_as_a_64_bit_int(panel, qtbot):
    index = panel.model.index(0, column(panel, "post_pt_root_id"))
    with qtbot.waitSignal(panel.rootIdActivated, timeout=1000) as sig:
        panel.view.doubleClicked.emit(index)
    assert sig.args == [ROOTS[3]]
    with qtbot.assertNotEmitted(panel.rootIdActivated):
        panel.view.doubleClicked.emit(panel.model.index(0, column(panel, "id")))


def test_a_new_result_resets_sort_and_reapplies_the_filter(panel):
    panel.sort_by(column(panel, "id"))
    panel.filter_edit.setText("bc")
    panel.apply_filter()
    panel.set_result(synapse_result())
    assert shown(panel, "cell_type") == ["BC"]
    assert panel.model.rows.sort_column == -1


def test_messages_and_empty_results(qtbot):
    p = ResultPanel()
    qtbot.addWidget(p)
    assert not p.export_all_action.isEnabled()
    p.set_message("Query failed: no such table", error=True)
    assert "c0392b" in p.status.styleSheet()
    empty = QueryResult(spec=QuerySpec(table="t"), frame=pd.DataFrame({"a": []}))
    p.set_result(empty)
    assert p.model.rowCount() == 0
    p.filter_edit.setText("x")
    p.apply_filter()
    assert p.model.rowCount() == 0


def test_cancel_export_leaves_no_file(panel, qtbot, tmp_path, monkeypatch):
    import threading

    import services.results.export as export
    gate = threading.Event()
    real = export._write_csv_chunk

    def held(chunk, fh, sep, header):
        gate.wait(5)  # the worker waits here until the test has pressed Cancel
        real(chunk, fh, sep, header)

    monkeypatch.setattr(export, "_write_csv_chunk", held)
    monkeypatch.setattr(export, "CHUNK_ROWS", 1)
    target = tmp_path / "all.csv"
    panel.export_rows(str(target))
    assert panel.cancel_export_button.isVisibleTo(panel)
    # Cancel is a request: the panel reports "cancelled" once the worker has stopped
    # (an export that finished is reported as written), so the worker is let go here
    with qtbot.waitSignal(panel.exportFailed, timeout=10000) as sig:
        panel.cancel_export_button.click()
        gate.set()
    assert "cancelled" in sig.args[0]
    assert not panel.cancel_export_button.isVisibleTo(panel)
    qtbot.waitUntil(lambda: not any(tmp_path.iterdir()), timeout=5000)  # temp file removed
    assert not target.exists()


# ---- issue 16 items 6 and 10: clear, copy without header, column selection, menu ------
from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtGui import QContextMenuEvent  # noqa: E402


@pytest.fixture
def shown_panel(panel, qtbot):
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def click_header(panel, qtbot, name, modifier=Qt.KeyboardModifier.NoModifier):
    header = panel.view.horizontalHeader()
    c = column(panel, name)
    pos = QPoint(header.sectionViewportPosition(c) + header.sectionSize(c) // 2,
                 header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, modifier, pos)


def test_clear_empties_table_status_and_provenance(panel, qtbot):
    assert "pinky100_sample v185" in panel.status.text()
    with qtbot.waitSignal(panel.cleared, timeout=1000):
        panel.clear()
    assert panel.model.rowCount() == 0 and panel.model.columnCount() == 0
    assert panel.result is None
    assert panel.status.text() == result_panel.IDLE_TEXT
    assert "pinky100" not in panel.status.text() and panel.status.toolTip() == ""
    assert not panel.export_all_action.isEnabled() and not panel.copy_button.isEnabled()


def test_header_click_selects_the_column_sorts_and_keeps_it(shown_panel, qtbot):
    p = shown_panel
    click_header(p, qtbot, "size")
    assert shown(p, "size") == ["0.333333", "0.5", "250", ""]  # sorted
    sm = p.view.selectionModel()
    assert sm.isColumnSelected(column(p, "size"))  # and still selected
    QApplication.clipboard().clear()
    p.copy_selection()
    assert QApplication.clipboard().text() == "0.3333333333333333\n0.5\n250.0\n\n"


def test_ctrl_click_headers_select_columns_without_sorting(shown_panel, qtbot):
    p = shown_panel
    click_header(p, qtbot, "pre_pt_root_id")
    click_header(p, qtbot, "cell_type", Qt.KeyboardModifier.ControlModifier)
    sm = p.view.selectionModel()
    assert sm.isColumnSelected(column(p, "pre_pt_root_id"))
    assert sm.isColumnSelected(column(p, "cell_type"))
    assert p.view.horizontalHeader().sortIndicatorSection() == column(p, "pre_pt_root_id")
    assert shown(p, "pre_pt_root_id") == [str(r) for r in sorted(ROOTS)]  # not by type


def test_ctrl_a_then_copy_takes_the_selected_columns(shown_panel, qtbot):
    p = shown_panel
    click_header(p, qtbot, "id", Qt.KeyboardModifier.ControlModifier)
    click_header(p, qtbot, "cell_type", Qt.KeyboardModifier.ControlModifier)
    p.view.setFocus()
    qtbot.keyClick(p.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QApplication.clipboard().clear()
    qtbot.keyClick(p.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    lines = QApplication.clipboard().text().splitlines()
    assert lines[0] == "id\tcell_type" and len(lines) == 5
    p.view.clearSelection()  # no whole column: Ctrl+A is every cell
    qtbot.keyClick(p.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(p.selected_columns()) == p.model.columnCount()


def test_sort_keeps_selected_cells_on_their_rows(panel):
    select(panel, [3], [column(panel, "id"), column(panel, "size")])  # id 7
    panel.sort_by(column(panel, "id"))
    frame = panel.selectionFrame()
    assert frame["id"].tolist() == [7]
    assert panel.selected_columns() == [column(panel, "id"), column(panel, "size")]


def menu_texts(menu):
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_context_menu_copies_ids_tsv_inspects_and_exports(panel, qtbot):
    select(panel, [0, 2], [column(panel, "post_pt_root_id"), column(panel, "size")])
    menu = panel.context_menu.build()
    texts = menu_texts(menu)
    assert texts[:3] == ["Copy root ids (2)", "Copy as TSV with header",
                         "Copy as TSV without header"]
    assert "Inspect cell" in texts and "Export &all rows…" in texts
    assert all(a.toolTip() for a in menu.actions() if not a.isSeparator())
    acts = {a.text(): a for a in menu.actions()}
    acts["Copy root ids (2)"].trigger()
    assert QApplication.clipboard().text() == f"{ROOTS[3]}\n{ROOTS[1]}"  # no header
    acts["Copy as TSV without header"].trigger()
    assert QApplication.clipboard().text() == f"{ROOTS[3]}\t0.5\n{ROOTS[1]}\t0.3333333333333333\n"
    acts["Copy as TSV with header"].trigger()
    assert QApplication.clipboard().text().startswith("post_pt_root_id\tsize\n")
    with qtbot.waitSignal(panel.rootIdActivated) as blocker:
        acts["Inspect cell"].trigger()
    assert blocker.args[0] == ROOTS[3]


def test_context_menu_link_entry_when_connected_and_on_right_click(shown_panel, qtbot):
    p = shown_panel
    assert "Neuroglancer link…" not in menu_texts(p.context_menu.build())
    got = []
    p.linkRequested.connect(got.append)
    # the window sets this policy on the view; the panel's menu still comes up
    p.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    rect = p.view.visualRect(p.model.index(1, column(p, "id")))
    QApplication.sendEvent(p.view.viewport(), QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, rect.center(), p.view.viewport().mapToGlobal(rect.center())))
    menu = p.context_menu.last_menu
    assert menu is not None and menu.isVisible()
    assert p.selectionFrame()["id"].tolist() == [3056393]  # the row under the mouse
    {a.text(): a for a in menu.actions()}["Neuroglancer link…"].trigger()
    assert got == [[ROOTS[1]]]
    menu.close()
    assert p.view.toolTip() and "Ctrl+click" in p.model.headerData(
        0, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)


def test_exports_say_where_the_rows_came_from_unless_switched_off(panel, qtbot, tmp_path):
    import json
    from services.results.provenance import SIDECAR_SUFFIX
    target = tmp_path / "all.csv"
    with qtbot.waitSignal(panel.exportFinished, timeout=10000):
        panel.export_rows(str(target))
    side = json.loads((tmp_path / ("all.csv" + SIDECAR_SUFFIX)).read_text())
    assert side["table"] == panel.result.spec.table and side["rows"] == panel.model.rows.n_rows
    panel.provenance_action.setChecked(False)
    other = tmp_path / "plain.csv"
    with qtbot.waitSignal(panel.exportFinished, timeout=10000):
        panel.export_rows(str(other))
    assert not (tmp_path / ("plain.csv" + SIDECAR_SUFFIX)).exists()
