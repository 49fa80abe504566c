"""The main window's Cell, Connectivity and Figures tabs are built on first use
(ui/common/lazy_pages.py): a page built late gets the current context and its wiring, a
session saved before a page is built reopens, the docks still follow the tabs, and code
that only looks (help page, session save) builds nothing."""
import json

from PySide6.QtWidgets import QLabel, QTabWidget

from ui.common.lazy_pages import LazyPage, LazyPages, Placeholder, built_page, when_built
from ui.main_window import MainWindow

LAZY = ("inspector", "connectivity", "figures")


def _open(qtbot, settings, source, datastack=None):
    w = MainWindow(source, settings, datastack, "test")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.browser.tree.topLevelItemCount() > 0, timeout=10000)
    return w


# ---- the machinery on a bare tab widget -------------------------------------------------
class _Owner:
    page = LazyPage("page")

    def __init__(self, tabs):
        self.pages = LazyPages(tabs)


def test_a_page_is_built_on_first_show_in_its_own_tab_and_hooks_run_in_order(qtbot):
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tabs.addTab(QLabel("first"), "First")
    owner = _Owner(tabs)
    made, calls = [], []
    owner.pages.add("page", "Page", lambda: made.append(QLabel("built")) or made[-1])
    owner.pages.when_built("page", lambda p: calls.append(("a", p)))
    when_built(owner, "page", lambda p: calls.append(("b", p)))
    tabs.addTab(QLabel("third"), "Third")
    assert isinstance(tabs.widget(1), Placeholder) and not made
    assert built_page(owner, "page") is None
    changes = []
    tabs.currentChanged.connect(changes.append)
    tabs.setCurrentIndex(1)  # shown: built, swapped in at the same index
    assert len(made) == 1 and tabs.widget(1) is made[0] and tabs.currentIndex() == 1
    assert tabs.tabText(1) == "Page" and tabs.count() == 3 and changes == [1]
    assert calls == [("a", made[0]), ("b", made[0])]
    assert owner.page is made[0] and built_page(owner, "page") is made[0]
    when_built(owner, "page", lambda p: calls.append(("late", p)))  # built: at once
    assert calls[-1] == ("late", made[0]) and len(made) == 1


def test_asking_for_a_page_builds_it_without_changing_the_current_tab(qtbot):
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tabs.addTab(QLabel("first"), "First")
    owner = _Owner(tabs)
    owner.pages.add("page", "Page", lambda: QLabel("built"))
    changes = []
    tabs.currentChanged.connect(changes.append)
    page = owner.page
    assert tabs.currentIndex() == 0 and changes == [] and tabs.widget(1) is page


# ---- the window ---------------------------------------------------------------------------
def test_the_lazy_tabs_wait_for_a_click_and_then_have_the_current_context(
        qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source, "minnie65_sample")
    assert w.pages.built_pages() == {}
    assert [w.tabs.tabText(i) for i in range(w.tabs.count())] == [
        "Results", "Cell", "Connectivity", "Figures"]
    ws = w.workspace
    w.tabs.setCurrentIndex(2)  # a click on Connectivity: built, given the context at once
    conn = w.pages.built("connectivity")
    assert conn is not None and w.tabs.currentWidget() is conn is w.connectivity
    assert conn.partners.ws is not None and conn.partners.ws.datastack == "minnie65_sample"
    assert conn.matrix.ws.requested_version == ws.requested_version
    # handed over at once (no waiting in the build): its tables are listed in a worker,
    # and what needs them says so until they arrive
    assert conn.runner.busy and not conn.matrix.compute_button.isEnabled()
    with qtbot.waitSignal(conn.contextReady, timeout=10000):
        pass
    assert conn.synapse_combo.count() > 0 and conn.matrix.compute_button.isEnabled()
    assert sorted(w.pages.built_pages()) == ["connectivity"]
    # and it follows later contexts like a panel built at start
    w.version_combo.setCurrentIndex(w.version_combo.findData(795))
    qtbot.waitUntil(lambda: conn.matrix.ws is not None
                    and conn.matrix.ws.requested_version == 795 and not conn.runner.busy,
                    timeout=10000)
    assert w.inspector.ws is w.workspace and w.figures.soma_map.ws is w.workspace


def test_a_late_panel_is_wired_to_the_window(qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source, "minnie65_sample")
    conn = w.connectivity
    with qtbot.waitSignal(w.inspector.cellShown, timeout=10000):
        conn.inspectCell.emit(864691135101289504)  # partners -> the inspector
    assert w.tabs.currentWidget() is w.inspector
    conn.message.emit("from the connectivity panel")
    assert "from the connectivity panel" in w.statusBar().currentMessage()
    # the selection links exist from the start and attach when the views are built
    links = w.selection_links
    assert len(links) == 3 and links[1].view is conn.partners and links[2].view is conn.matrix


def test_the_docks_still_follow_the_tabs(qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source)
    docks = (w.browser_dock, w.builder_dock)
    w.connectivity  # built while Results is shown: nothing moves
    assert w.tabs.currentIndex() == 0 and all(d.isVisible() for d in docks)
    w.tabs.setCurrentIndex(1)  # first show of Cell (a build): the docks make room
    assert w.pages.built("inspector") is not None
    assert not any(d.isVisible() for d in docks)
    w.tabs.setCurrentIndex(0)
    assert all(d.isVisible() for d in docks)
    w.browser_dock.hide()  # the user's choice is kept through the wide tabs
    w.tabs.setCurrentIndex(3)  # first show of Figures
    w.tabs.setCurrentIndex(0)
    assert not w.browser_dock.isVisible() and w.builder_dock.isVisible()


def test_looking_builds_nothing(qtbot, ini_settings, sample_source, tmp_path):
    w = _open(qtbot, ini_settings, sample_source)
    w.setFocus()
    assert w.current_help_page() == "results"
    assert w.focus_filter() is w.results.filter_edit
    w.save_session(str(tmp_path / "s.json"))
    assert w.pages.built_pages() == {}
    saved = json.loads((tmp_path / "s.json").read_text())
    assert saved["matrix"] is None and saved["partners_of"] == ""  # nothing to save yet
    w.tabs.setCurrentIndex(3)
    assert w.current_help_page() == "figures" and sorted(w.pages.built_pages()) == ["figures"]


def test_a_session_saved_before_the_tabs_were_built_reopens(qtbot, ini_settings, sample_source,
                                                            tmp_path):
    w = _open(qtbot, ini_settings, sample_source)
    w.select_datastack("minnie65_sample")
    qtbot.waitUntil(lambda: w.datastack == "minnie65_sample"
                    and w.browser.select_table("synapses_pni_2"), timeout=10000)
    path = str(tmp_path / "early.json")
    w.save_session(path)
    assert w.pages.built_pages() == {}

    w2 = _open(qtbot, ini_settings, sample_source)
    w2.open_session(path)
    qtbot.waitUntil(lambda: w2.datastack == "minnie65_sample" and w2.builder.table is not None
                    and w2.builder.table.name == "synapses_pni_2", timeout=10000)
    assert w2.pages.built_pages() == {}  # nothing in the session needed them
    assert w2.tabs.currentIndex() == 0
    w2.tabs.setCurrentIndex(2)  # and the tab works afterwards
    assert w2.connectivity.partners.ws.datastack == "minnie65_sample"


def test_a_session_with_matrix_state_builds_and_restores_the_connectivity_tab(
        qtbot, ini_settings, sample_source, tmp_path):
    w = _open(qtbot, ini_settings, sample_source, "minnie65_sample")
    m = w.connectivity.matrix
    qtbot.waitUntil(lambda: w.connectivity.tables_ready, timeout=10000)
    post_table = m.post_editor.table_combo.itemText(1)  # not the first: it must be restored
    m.post_editor.table_combo.setCurrentIndex(1)
    m.pre_editor.from_ids.setChecked(True)
    m.pre_editor.ids_edit.setPlainText("864691135101289504\n864691136288047555")
    w.connectivity.partners.root_edit.setText("864691135101289504")
    w.tabs.setCurrentIndex(2)
    path = str(tmp_path / "matrix.json")
    w.save_session(path)
    saved = json.loads((tmp_path / "matrix.json").read_text())
    assert saved["matrix"]["pre"]["mode"] == "ids" and saved["tab"] == 2

    w2 = _open(qtbot, ini_settings, sample_source)
    assert w2.pages.built("connectivity") is None
    w2.open_session(path)
    conn = w2.pages.built("connectivity")
    assert conn is not None and w2.tabs.currentWidget() is conn
    assert conn.matrix.pre_editor.from_ids.isChecked()
    assert conn.matrix.pre_editor.ids_edit.toPlainText().split() == [
        "864691135101289504", "864691136288047555"]
    qtbot.waitUntil(lambda: conn.partners.root_edit.text() == "864691135101289504"
                    and w2.datastack == "minnie65_sample" and conn.tables_ready, timeout=10000)
    # picked before the tables were listed, set once they were
    assert post_table and conn.matrix.post_editor.table_combo.currentText() == post_table
