"""A researcher's first hour (issue 16), on the whole window and the bundled samples:
first launch, layout at 1280×800 and 1024×700, one rule for context changes, help, keys."""
import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, QPoint, QRect, Qt
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QApplication, QLabel,
                               QScrollArea, QTabWidget, QTextBrowser)

from ui.main_window import MainWindow

CELL = 648518346349538157  # pinky100: 5 input, 70 output partners


def _open(qtbot, settings, source, size=None, datastack=None):
    w = MainWindow(source, settings, datastack, "test")
    qtbot.addWidget(w)
    if size:
        w.resize(*size)
    w.show()
    qtbot.waitUntil(lambda: w.browser.tree.topLevelItemCount() > 0, timeout=10000)
    return w


def _visible_in_window(w, widget) -> bool:
    """Shown, not clipped by a scroll area or the window: the whole widget is on screen."""
    if not widget.isVisible():
        return False
    # a scroll area's (or plot's) painting happens in its viewport
    inner = widget.viewport() if hasattr(widget, "viewport") else widget
    shown = inner.visibleRegion().boundingRect()
    if shown.isEmpty() or shown.width() < inner.width() - 1 or shown.height() < inner.height() - 1:
        return False
    top_left = widget.mapTo(w, QPoint(0, 0))
    return w.rect().contains(QRect(top_left, widget.size()))


# ---- 2. first launch ------------------------------------------------------------------
def test_first_launch_opens_pinky100(qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source)
    assert w.datastack == "pinky100_sample" and w.version_combo.currentText() == "v185"


def test_minnie_opens_on_a_version_with_synapses_and_cell_types(qtbot, ini_settings,
                                                                 sample_source):
    w = _open(qtbot, ini_settings, sample_source)
    w.select_datastack("minnie65_sample")
    qtbot.waitUntil(lambda: w.browser.select_table("synapses_pni_2"), timeout=10000)
    names = {w.browser.tree.topLevelItem(i).text(0)
             for i in range(w.browser.tree.topLevelItemCount())}
    info = sample_source.datastack_info("minnie65_sample")
    assert info.synapse_table in names
    assert {"allen_v1_column_types_slanted_ref", info.proofreading_table} <= names


# ---- 3. layout -------------------------------------------------------------------------
def test_fresh_launch_fits_the_available_screen(qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source)
    area = w.screen().availableGeometry()
    assert area.contains(w.frameGeometry()), (area, w.frameGeometry())
    assert _visible_in_window(w, w.builder.run_button)


@pytest.mark.parametrize("size", [(1280, 800), (1024, 700)])
def test_every_panel_fits_without_page_scrolling(qtbot, ini_settings, sample_source, size):
    w = _open(qtbot, ini_settings, sample_source, size)
    qtbot.waitUntil(lambda: w.size().width() == size[0], timeout=5000)
    assert w.width() <= size[0] and w.height() <= size[1]
    assert not [a for a in w.findChildren(QScrollArea) if w.tabs.isAncestorOf(a)
                and a.widget() in (w.inspector, w.connectivity)]
    results = (w.builder.run_button, w.builder.add_filter_button, w.builder.code_button,
               w.browser.filter_edit, w.browser.tree, w.results.filter_edit)
    assert all(_visible_in_window(w, c) for c in results), [c for c in results
                                                           if not _visible_in_window(w, c)]
    assert w.browser.width() >= 240  # names readable, description not one word a line

    w.tabs.setCurrentWidget(w.connectivity)
    assert not w.browser_dock.isVisible() and not w.builder_dock.isVisible()
    p = w.connectivity.partners
    with qtbot.waitSignal(p.runner.succeeded, timeout=10000):
        w.connectivity.show_cell(CELL)
    partner_controls = (p.root_edit, p.show_button, p.type_combo, p.known_only,
                        p.proofread_only, p.views["in"], p.group_view, *p.plots.plots.values(),
                        p.inspect_button, p.link_button, p.export_button)
    assert all(_visible_in_window(w, c) for c in partner_controls), [
        (c, c.size(), c.visibleRegion().boundingRect()) for c in partner_controls
        if not _visible_in_window(w, c)]

    m = w.connectivity.matrix
    w.connectivity.tabs.setCurrentWidget(m)
    with qtbot.waitSignal(m.runner.succeeded, timeout=15000):
        m.compute_button.click()
    width_before = m.width()
    mat = m.result.matrix
    with qtbot.waitSignal(m.pairActivated, timeout=10000):
        m.activate_cell(int(mat.rows[0]), int(mat.cols[0]))
    QApplication.processEvents()
    assert m.width() == width_before  # a long pair label does not widen the panel
    matrix_controls = (m.compute_button, m.weight_combo, m.order_combo, m.plot,
                       m.reset_zoom_button, m.pair_view, m.pair_link_button, m.export_long,
                       m.export_wide, m.export_fig, m.pre_editor.table_combo)
    assert all(_visible_in_window(w, c) for c in matrix_controls), [
        c for c in matrix_controls if not _visible_in_window(w, c)]

    w.tabs.setCurrentWidget(w.inspector)
    insp = w.inspector
    with qtbot.waitSignal(insp.cellShown, timeout=10000):
        insp.inspect(CELL)
    cell_controls = (insp.id_edit, insp.inspect_button, insp.facts, insp.partners_button,
                     insp.open_button, insp.copy_link_button)
    assert all(_visible_in_window(w, c) for c in cell_controls)

    w.tabs.setCurrentIndex(0)  # the docks come back as they were
    assert w.browser_dock.isVisible() and w.builder_dock.isVisible()


def test_tables_dock_keeps_its_width_after_shrinking(qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source, (1280, 800))
    w.resize(700, 600)
    QApplication.processEvents()
    w.resize(1280, 800)
    QApplication.processEvents()
    assert w.browser.width() >= 240


def test_matrix_is_square_zooms_resets_and_hover_finds_the_nearest_pair(
        qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source, (1280, 800))
    w.tabs.setCurrentWidget(w.connectivity)
    m = w.connectivity.matrix
    w.connectivity.tabs.setCurrentWidget(m)
    # Show matrix is off until the tab's tables are listed (a click then does nothing)
    qtbot.waitUntil(m.compute_button.isEnabled, timeout=15000)
    with qtbot.waitSignal(m.runner.succeeded, timeout=15000):
        m.compute_button.click()
    QApplication.processEvents()
    vb = m.plot.plot.getViewBox()
    rect = vb.mapViewToScene(m.plot.image_item.mapRectToView(m.plot.image_item.boundingRect())
                             ).boundingRect()
    assert abs(rect.width() - rect.height()) <= 2  # 334 × 334 cells drawn as a square
    before = vb.viewRange()[0][1] - vb.viewRange()[0][0]
    vb.scaleBy((0.5, 0.5))  # the range shown halves (it depends on the plot's free space)
    assert vb.viewRange()[0][1] - vb.viewRange()[0][0] < before * 0.6
    m.reset_zoom_button.click()
    assert vb.viewRange()[0][1] - vb.viewRange()[0][0] >= 334
    mat = m.result.matrix
    # an empty cell next to a connected pair: hover names the pair, not "not connected"
    dense = {(int(r), int(c)) for r, c in zip(mat.rows, mat.cols)}
    r, c = next((r, c + 1) for r, c in sorted(dense) if (r, c + 1) not in dense
                and c + 1 < mat.shape[1])
    assert "not connected" not in m.describe(r, c)
    assert m.pair_under(r, c, reach=0) is None


# ---- 4. one rule for context changes -------------------------------------------------------
def _visible_texts(w, skip=None) -> list[str]:
    """Every text the window shows; ``skip``: a widget whose texts are left out."""
    out = [w.windowTitle()]
    shown = lambda x: x.isVisible() and not (skip is not None and skip.isAncestorOf(x))  # noqa: E731
    for lab in w.findChildren(QLabel):
        if shown(lab):
            out.append(lab.text())
    for tabs in w.findChildren(QTabWidget):
        out += [tabs.tabText(i) for i in range(tabs.count())]
    for tb in w.findChildren(QTextBrowser):
        if shown(tb):
            out.append(tb.toPlainText())
    for view in w.findChildren(QAbstractItemView):
        model = view.model()
        if model is None or not shown(view):
            continue
        try:
            n_cols = model.columnCount(QModelIndex())
        except TypeError:  # list models (combo boxes' popups)
            n_cols = 1
        for r in range(min(model.rowCount(QModelIndex()), 200)):
            for c in range(n_cols):
                out.append(str(model.data(model.index(r, c))))
    for b in w.findChildren(QAbstractButton):
        if b.isVisible() and b.isEnabled() and "link" in b.text().lower():
            out.append("enabled link button: " + b.text())
    return out


@pytest.mark.parametrize("switch", ["datastack", "version"])
def test_switching_context_leaves_no_old_id(qtbot, ini_settings, sample_source, switch):
    if switch == "version":
        w = _open(qtbot, ini_settings, sample_source, (1280, 800), "minnie65_sample")
        qtbot.waitUntil(lambda: w.version == 0, timeout=10000)
        cell = 864691135101289504  # the basket cell, in v0
    else:
        w = _open(qtbot, ini_settings, sample_source, (1280, 800))
        cell = CELL
    # every panel full: results, inspector, partners, matrix with a clicked pair, hover
    assert w.browser.select_table(w.workspace.info.synapse_table)
    with qtbot.waitSignal(w.query_runner.succeeded, timeout=10000):
        w.builder.run_button.click()
    with qtbot.waitSignal(w.inspector.cellShown, timeout=10000):
        w.inspect_cell(cell)
    p, m = w.connectivity.partners, w.connectivity.matrix
    with qtbot.waitSignal(p.runner.succeeded, timeout=10000):
        w.show_partners(cell)
    m.pre_editor.from_ids.setChecked(True)
    ids = [cell] + [int(i) for i in p.partners("out").partner_root_id[:20]]
    m.pre_editor.ids_edit.setPlainText("\n".join(map(str, ids)))
    with qtbot.waitSignal(m.runner.succeeded, timeout=15000):
        m.request()
    mat = m.result.matrix
    k = int(np.argmax(mat.n_synapses))
    with qtbot.waitSignal(m.pairActivated, timeout=10000):
        m.activate_cell(int(mat.rows[k]), int(mat.cols[k]))
    m._hovered(int(mat.rows[k]), int(mat.cols[k]))
    old = {str(cell), str(int(mat.row_ids[mat.rows[k]])), str(int(mat.col_ids[mat.cols[k]]))}
    for tab in range(3):
        w.tabs.setCurrentIndex(tab)
        for sub in range(2):
            w.connectivity.tabs.setCurrentIndex(sub)
            m.side.setCurrentIndex(1)
            assert any(o in t for t in _visible_texts(w) for o in old)  # full before

    want = ("minnie65_sample", 0) if switch == "datastack" else ("minnie65_sample", 795)
    ready = lambda: (w.connectivity.partners.ws is not None and  # noqa: E731
                     (w.connectivity.partners.ws.datastack,
                      w.connectivity.partners.ws.requested_version) == want
                     and not w.connectivity.runner.busy)
    if switch == "datastack":
        w.select_datastack("minnie65_sample")
    else:
        w.version_combo.setCurrentIndex(w.version_combo.findData(795))
    qtbot.waitUntil(lambda: (w.datastack, w.version) == want and ready(), timeout=10000)
    for tab in range(3):
        w.tabs.setCurrentIndex(tab)
        for sub in range(2):
            w.connectivity.tabs.setCurrentIndex(sub)
            for side in range(2):
                m.side.setCurrentIndex(side)
                # the table browser describes the new version's tables: a description may
                # name the cell (synapses_pni_2's names the basket cell) and is not stale
                texts = _visible_texts(w, skip=w.browser)
                stale = [t for t in texts for o in old if o in t]
                assert not stale, (tab, sub, side, stale)
                assert not [t for t in texts if t.startswith("enabled link button")]
    assert p.tabs.tabText(0) == "Inputs" and p.root_edit.text() == ""
    assert w.inspector.record is None and "belongs to" in w.inspector.facts.placeholderText()


# ---- 5. help, keys, about ---------------------------------------------------------------
def test_f1_opens_the_guide_of_the_current_panel(qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source)
    w.tabs.setCurrentWidget(w.connectivity)
    w.help_action.trigger()
    assert w.help_browser.isVisible() and w.help_browser.page == "connectivity"
    assert "Connectivity matrix" in w.help_browser.browser.toPlainText()
    from PySide6.QtCore import QUrl
    w.help_browser._follow(QUrl("index.html"))
    assert "user guide" in w.help_browser.browser.toPlainText()
    assert w.help_action.shortcut().toString() == "F1"


def test_every_tab_has_its_guide_page(qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source)
    w.setFocus()  # not in a dock: the current tab's page
    for tab, page, words in ((w.results, "results", "Results"), (w.inspector, "cell", "Cell"),
                             (w.connectivity, "connectivity", "Connectivity"),
                             (w.figures, "figures", "Soma map")):
        i = next(i for i in range(w.tabs.count())
                 if w.tabs.widget(i) is tab or w.tabs.widget(i).isAncestorOf(tab))
        w.tabs.setCurrentIndex(i)
        w.help_action.trigger()
        assert w.help_browser.page == page and words in w.help_browser.browser.toPlainText()


def test_ctrl_f_focuses_the_current_filter(qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source)
    w.activateWindow()
    assert w.find_action.shortcut().toString() == "Ctrl+F"
    assert w.focus_filter() is w.results.filter_edit
    w.browser.tree.setFocus()
    assert w.focus_filter() is w.browser.filter_edit
    w.tabs.setCurrentWidget(w.connectivity)
    assert w.focus_filter() is w.connectivity.partners.root_edit


def test_return_in_a_filter_field_runs_the_query(qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source)
    w.browser.select_table("synapses")
    row = w.builder.add_filter("size")
    row.value_edit.setText("1000")
    with qtbot.waitSignal(w.query_runner.succeeded, timeout=10000):
        qtbot.keyClick(row.value_edit, Qt.Key.Key_Return)


def test_about_credits_each_once(qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source)
    text = w.about_html()
    for credit in ("Turner et al., Cell 2022 (pinky100)", "MICrONS Consortium et al., Nature 2025",
                   "CC BY 4.0"):
        assert text.count(credit) == 1, credit


# ---- 6. provenance ----------------------------------------------------------------------
def test_status_line_says_where_the_result_came_from(qtbot, ini_settings, sample_source):
    from models.filters import Op
    w = _open(qtbot, ini_settings, sample_source)
    w.browser.select_table("synapses")
    w.builder.add_filter("size").set_values("size", Op.GE, "1000")
    w.builder.resolution_combo.setCurrentIndex(1)  # nm
    with qtbot.waitSignal(w.query_runner.succeeded, timeout=10000):
        w.builder.run_button.click()
    where = w.provenance_label.toolTip()
    for part in ("pinky100_sample", "v185", "local", "synapses", "size >= 1000",
                 "positions in nm"):
        assert part in where, (part, where)
    assert w.provenance_label.isVisible()
    w.select_datastack("minnie65_sample")
    qtbot.waitUntil(lambda: w.datastack == "minnie65_sample" and w.version == 0, timeout=10000)
    assert w.provenance_label.text() == ""  # it was the old context's


# ---- 6. sessions ------------------------------------------------------------------------
def test_session_round_trip(qtbot, ini_settings, sample_source, tmp_path, monkeypatch):
    import json
    from models.filters import Op
    w = _open(qtbot, ini_settings, sample_source)
    w.select_datastack("minnie65_sample")
    qtbot.waitUntil(lambda: w.datastack == "minnie65_sample" and w.version == 0, timeout=10000)
    w.version_combo.setCurrentIndex(w.version_combo.findData(343))
    qtbot.waitUntil(lambda: w.browser.select_table("aibs_soma_nuc_metamodel_preds_v117"),
                    timeout=10000)
    w.builder.add_filter("cell_type").set_values("cell_type", Op.EQ, "4P")
    w.builder.limit_spin.setValue(500)
    m = w.connectivity.matrix
    m.pre_editor.from_ids.setChecked(True)
    m.pre_editor.ids_edit.setPlainText("864691135101289504")
    m.weight_combo.setCurrentIndex(m.weight_combo.findData("size_sum"))
    path = tmp_path / "s.json"
    w.save_session(str(path))
    state = json.loads(path.read_text())
    assert "token" not in path.read_text().lower()
    assert state["current"] == {"datastack": "minnie65_sample", "kind": "local", "server": "",
                                "version": 343, "live": False}

    w2 = _open(qtbot, QSettingsIn(tmp_path), sample_source)
    assert w2.datastack == "pinky100_sample"
    w2.open_session(str(path))
    qtbot.waitUntil(lambda: w2.version == 343 and w2.builder.table is not None
                    and w2.builder.table.name == "aibs_soma_nuc_metamodel_preds_v117"
                    and w2.pending_session is None, timeout=10000)
    f = w2.builder.rows[0].filter()
    assert (f.column, f.op, f.value) == ("cell_type", Op.EQ, "4P")
    assert w2.builder.limit_spin.value() == 500
    m2 = w2.connectivity.matrix
    assert m2.pre_editor.from_ids.isChecked() and m2.weight == "size_sum"
    assert m2.pre_editor.ids_edit.toPlainText() == "864691135101289504"


def QSettingsIn(tmp_path):
    from PySide6.QtCore import QSettings
    return QSettings(str(tmp_path / "other.ini"), QSettings.Format.IniFormat)


def test_closing_on_a_wide_tab_keeps_the_docks_for_next_time(qtbot, ini_settings,
                                                             sample_source):
    w = _open(qtbot, ini_settings, sample_source)
    w.tabs.setCurrentWidget(w.connectivity)
    assert not w.browser_dock.isVisible()
    w.close()
    w2 = _open(qtbot, ini_settings, sample_source)
    assert w2.tabs.currentIndex() == 0
    assert w2.browser_dock.isVisible() and w2.builder_dock.isVisible()
