"""Ctrl+F (View > Find) focuses the field to type in on the tab the user is in: the Tables
dock's filter, the Results filter, the inspector's cell id, the partners' cell or the
matrix set being edited, a join's filters or a population's cell on the Figures tab; a
figure with nothing to search says so in the status bar. It only looks at the shown tab:
it never builds a page that was not shown."""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from ui.figures.population_view import PARTNERS
from ui.main_window import MainWindow


def _window(qtbot, settings, source):
    w = MainWindow(source, settings, "pinky100_sample", "test")
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: w.workspace is not None and w.browser.tree.topLevelItemCount() > 0,
                    timeout=20000)
    return w


def _find(qtbot, w):
    """Ctrl+F as the user presses it (the window's shortcut), then Ctrl let go: else the
    application keeps Ctrl as held, and a later test's header click is a Ctrl+click."""
    qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyRelease(w, Qt.Key.Key_Control)
    assert QApplication.keyboardModifiers() == Qt.KeyboardModifier.NoModifier
    return QApplication.focusWidget()


def test_ctrl_f_on_the_results_tables_cell_and_connectivity_tabs(qtbot, ini_settings,
                                                                 sample_source):
    w = _window(qtbot, ini_settings, sample_source)
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    w.results.filter_edit.setText("6485")
    w.builder.setFocus()
    assert _find(qtbot, w) is w.results.filter_edit
    assert w.results.filter_edit.selectedText() == "6485"  # typing replaces the old filter
    w.browser.tree.setFocus()
    assert _find(qtbot, w) is w.browser.filter_edit  # in the Tables dock: its filter
    assert w.pages.built_pages() == {}  # nothing was built to answer
    w.tabs.setCurrentIndex(1)
    assert _find(qtbot, w) is w.inspector.id_edit
    assert sorted(w.pages.built_pages()) == ["inspector"]
    w.tabs.setCurrentIndex(2)
    conn = w.connectivity
    assert _find(qtbot, w) is conn.partners.root_edit
    conn.tabs.setCurrentWidget(conn.matrix)
    assert _find(qtbot, w) is conn.matrix.pre_editor.filters_edit
    conn.matrix.pre_editor.from_ids.setChecked(True)
    assert _find(qtbot, w) is conn.matrix.pre_editor.ids_edit
    assert sorted(w.pages.built_pages()) == ["connectivity", "inspector"]  # not Figures


def test_ctrl_f_on_the_figures_tab_focuses_its_fields_or_says_there_is_none(
        qtbot, ini_settings, sample_source, screenshot):
    w = _window(qtbot, ini_settings, sample_source)
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    w.tabs.setCurrentIndex(3)
    figures = w.figures
    assert sorted(w.pages.built_pages()) == ["figures"]
    before = QApplication.focusWidget()
    assert figures.tabs.currentWidget() is figures.soma_map
    assert w.focus_filter() is None and QApplication.focusWidget() is before
    assert "Nothing to search on the soma map" in w.statusBar().currentMessage()
    assert "Box select" in w.statusBar().currentMessage()
    figures.tabs.setCurrentWidget(figures.populations)
    pop = figures.populations
    assert pop.root_edit.isHidden()  # not a cell's partners: no cell to type
    assert w.focus_filter() is None
    assert "a cell's partners" in w.statusBar().currentMessage()
    pop.kind_combo.setCurrentIndex(pop.kind_combo.findData(PARTNERS))
    pop.root_edit.setText("648518346349538157")
    assert _find(qtbot, w) is pop.root_edit and pop.root_edit.selectedText() == pop.root_edit.text()
    figures.tabs.setCurrentWidget(figures.joins)
    joins = figures.joins
    assert _find(qtbot, w) is joins.left_filter
    assert _find(qtbot, w) is joins.right_filter  # again: the second table's filter
    assert _find(qtbot, w) is joins.left_filter
    screenshot(w, "ctrl_f_figures_join")
    assert sorted(w.pages.built_pages()) == ["figures"]  # Cell and Connectivity still not
