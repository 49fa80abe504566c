"""The Connectivity tab before its tables are listed (ui/connectivity/tables_gate.py): the
actions that need the listing are disabled and say why, a request made meanwhile (by a
caller that builds the tab and asks at once) gives its result once the listing arrives,
and a failed listing says so and the next datastack lists again. The listing is made
slow by a source whose tables() waits on a threading.Event, never by sleeping."""
import threading

import pandas as pd
import pytest
from PySide6.QtWidgets import QApplication

from models.errors import DataSourceError
from services.workspace import Workspace
from tests.unit.connectivity.test_connectivity_matrix import PINKY
from ui.connectivity.connectivity_panel import ConnectivityPanel
from ui.figures.tutorial_hooks import open_matrix_of
from ui.main_window import MainWindow

CELL = 648518346349538157  # 5 input partners, 70 output partners (79 synapses)
BASKET = 864691135101289504  # minnie65_sample's basket cell


class HeldTables:
    """The sample source, but tables() waits while ``held`` (and raises ``error`` when
    set): the listing of a context arrives when the test says."""

    def __init__(self, inner):
        self._inner = inner
        self.open = threading.Event()
        self.open.set()
        self.entered = threading.Event()  # a tables() call is waiting
        self.error: Exception | None = None

    def hold(self) -> None:
        self.entered.clear()
        self.open.clear()

    def release(self) -> None:
        self.open.set()

    def tables(self, datastack, version=None):
        if not self.open.is_set():
            self.entered.set()
        if not self.open.wait(30):  # a failed test must not hang the session
            raise DataSourceError("the test never released the listing")
        if self.error is not None:
            raise self.error
        return self._inner.tables(datastack, version)

    def __getattr__(self, name):
        return getattr(self._inner, name)


@pytest.fixture
def held(sample_source):
    src = HeldTables(sample_source)
    yield src
    src.error = None
    src.release()  # no worker stays blocked after the test


def _window(qtbot, settings, source, datastack="pinky100_sample"):
    w = MainWindow(source, settings, datastack, "test")
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitUntil(lambda: w.workspace is not None and w.browser.tree.topLevelItemCount() > 0,
                    timeout=20000)
    return w


def _on(widget) -> bool:
    """The widget's own enabled state (the post set is off as a whole while post = pre)."""
    return widget.isEnabledTo(widget.parentWidget())


def _gated(panel):
    m, p = panel.matrix, panel.partners
    return [m.compute_button, m.pre_editor.table_combo, m.post_editor.table_combo,
            p.show_button, p.type_combo, panel.synapse_combo]


def test_the_actions_wait_for_the_listing_and_a_request_made_meanwhile_runs_after(
        qtbot, held, screenshot):
    panel = ConnectivityPanel()
    qtbot.addWidget(panel)
    panel.resize(1200, 760)
    panel.show()
    tips = {w: w.toolTip() for w in _gated(panel)}
    held.hold()
    panel.set_context(Workspace(held, "pinky100_sample"))
    assert held.entered.wait(10)  # the worker is inside tables(), waiting
    QApplication.processEvents()
    for w in _gated(panel):
        assert not _on(w) and "Listing the tables of pinky100_sample" in w.toolTip()
    assert "Listing the tables" in panel.matrix.status.label.text()
    assert not panel.tables_ready
    # asked for now, as a caller that has just built the tab would
    panel.matrix.request()
    panel.show_cell(CELL)
    for view in (panel.matrix, panel.partners):
        assert not view.runner.busy and not view.status.is_error
        assert "starts once they are listed" in view.status.label.text()
    screenshot(panel, "connectivity_listing_tables")
    with qtbot.waitSignals([panel.contextReady, panel.matrix.runner.succeeded,
                            panel.partners.runner.succeeded], timeout=20000):
        held.release()
    assert panel.tables_ready
    assert {w: w.toolTip() for w in _gated(panel)} == tips
    assert all(_on(w) for w in _gated(panel))
    # the results a click after the listing gives: the cell-type table's pyramidal cells
    m = panel.matrix.result.matrix
    assert m.shape == (334, 334) and m.summary()["n_synapses"] == 1961
    p = panel.partners
    assert p.type_combo.currentText() == "soma_valence"
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    assert p.models["out"].rowCount() == syn[syn.pre_pt_root_id == CELL].post_pt_root_id.nunique()
    assert set(p.partners("out")["cell_type"]) == {"e"}  # typed: the listing was used


def test_a_caller_that_builds_the_tab_and_asks_at_once_gets_its_matrix(
        qtbot, ini_settings, held):
    w = _window(qtbot, ini_settings, held)
    assert w.pages.built("connectivity") is None
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    ids = [CELL] + syn.loc[syn.pre_pt_root_id == CELL, "post_pt_root_id"].unique().tolist()
    held.hold()
    open_matrix_of(w, ids)  # builds the tab and asks for the matrix at once
    conn = w.pages.built("connectivity")
    assert conn is not None and w.tabs.currentWidget() is conn
    assert held.entered.wait(10)
    m = conn.matrix
    assert not m.compute_button.isEnabled() and not m.runner.busy
    assert "Open a datastack first" not in m.status.label.text()
    with qtbot.waitSignal(m.runner.succeeded, timeout=20000):
        held.release()
    among = syn[syn.pre_pt_root_id.isin(ids) & syn.post_pt_root_id.isin(ids)]
    summary = m.result.matrix.summary()
    assert summary["n_synapses"] == len(among) > 0
    assert summary["connected_pairs"] == len(among.groupby(["pre_pt_root_id",
                                                            "post_pt_root_id"]))
    assert m.compute_button.isEnabled() and not m.status.is_error


def test_a_failed_listing_says_so_and_another_datastack_lists_again(
        qtbot, ini_settings, held):
    w = _window(qtbot, ini_settings, held)
    held.error = DataSourceError("The sample folder cannot be read.")
    w.tabs.setCurrentIndex(2)  # first show of Connectivity: its listing fails
    conn = w.connectivity
    with qtbot.waitSignal(conn.runner.failed, timeout=10000):
        conn.matrix.request()  # waits for the listing, which then fails
    m, p = conn.matrix, conn.partners
    for view in (m, p):
        assert view.status.is_error
        assert "tables of pinky100_sample could not be listed" in view.status.label.text()
        assert "sample folder cannot be read" in view.status.label.text()
        assert "another version or datastack" in view.status.label.text()
    assert "Your request was not started" in m.status.label.text()
    assert not m.compute_button.isEnabled() and "could not be listed" in m.compute_button.toolTip()
    assert "could not be listed" in w.statusBar().currentMessage()
    with qtbot.waitSignal(conn.message) as said:
        p.show_cell(CELL)  # Return in the cell field: the failure again, not a worker
    assert "could not be listed" in said.args[0] and not p.runner.busy
    assert "Open a datastack first" not in said.args[0]
    # the source works again: opening another datastack lists its tables
    held.error = None
    with qtbot.waitSignal(conn.contextReady, timeout=20000):
        w.select_datastack("minnie65_sample")
    assert m.compute_button.isEnabled() and p.show_button.isEnabled()
    assert m.compute_button.toolTip().startswith("Fetch the cells")
    assert not p.status.is_error and conn.synapse_combo.count() > 0
    p.root_edit.setText(str(BASKET))
    with qtbot.waitSignal(p.runner.succeeded, timeout=20000):
        p.show_button.click()
    assert p.result.root_id == BASKET and len(p.partners("in")) > 0
