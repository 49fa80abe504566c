"""One status/error channel: every runner's errors reach the window's sink, which offers a
new token for an AuthError whichever panel hit it; progress arrives on the GUI thread."""
import threading

import pandas as pd
import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from models.errors import AuthError, PermissionDeniedError
from models.query_spec import QuerySpec
from services.cave.token_store import TokenStore
from services.source import DataSource, Progress
from services.workspace import Workspace
from tests.unit.cave.test_token_store import MemoryKeyring
from ui.cells.link_dialog import LinkDialog
from ui.common import status_sink, styles
from ui.common.request_status_bar import RequestStatusBar, progress_text
from ui.common.workers import RequestRunner
from ui.main_window import MainWindow

SERVER = "https://cave.example.org"


class RejectingSource(DataSource):
    """A CAVE-like source whose server rejects the token for everything but the list."""
    kind = "cave"
    server = SERVER

    def _no(self, *_a, **_k):
        raise AuthError("The server rejected your token (401).",
                        hint="Paste a new one (File > Replace CAVE token).")

    def datastacks(self):
        return ["ds"]

    datastack_info = versions = tables = row_count = query = _no

    def close(self):
        pass


@pytest.fixture
def asked(monkeypatch):
    """QMessageBox.question answers No, and records what it was asked."""
    seen = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: seen.append(a[2]) or QMessageBox.StandardButton.No)
    return seen


def _window(qtbot, ini_settings, source):
    w = MainWindow(source, ini_settings, None, "test",
                   token_store=TokenStore(backend=MemoryKeyring()))
    qtbot.addWidget(w)
    return w


def test_auth_error_from_any_runner_reaches_the_sink_and_offers_a_token(
        qtbot, ini_settings, asked, tmp_path):
    src = RejectingSource()
    offered = []
    w = _window(qtbot, ini_settings, src)
    w.sink.tokenOffered.connect(offered.append)
    qtbot.waitUntil(lambda: len(offered) == 1, timeout=10000)  # the version list (meta)
    ws = Workspace(src, "ds", 1)
    w.workspace = ws
    w.inspector.set_context(ws)
    conn = w.connectivity  # built now: the listing of its tables is rejected too
    qtbot.waitUntil(lambda: not conn.runner.busy, timeout=10000)
    assert not conn.tables_ready and "could not be listed" in conn.partners.status.label.text()
    w.connectivity.partners.set_context(ws, [])
    w.connectivity.matrix.set_context(ws, [])
    w.connectivity.matrix.pre_editor.from_ids.setChecked(True)
    w.connectivity.matrix.pre_editor.ids_edit.setPlainText("648518346349539437")
    frame = pd.DataFrame({"pt_root_id": pd.array([648518346349539437], dtype="int64")})
    dialogs = []

    def link_dialog():
        dlg = LinkDialog(ws, frame, parent=w.inspector)
        dialogs.append(dlg)
        dlg.build()

    triggers = {
        "main query": lambda: w.run_query(QuerySpec("synapses")),
        "inspector": lambda: w.inspector.inspect(648518346349539437),
        "partners": lambda: w.connectivity.partners.show_cell(648518346349539437),
        "matrix": w.connectivity.matrix.request,
        "link dialog": link_dialog,
        "row count": lambda: w._count_rows("synapses"),
        "offline copy": lambda: w.cave.save_offline(["synapses"], tmp_path / "copy"),
    }
    for name, trigger in triggers.items():
        n = len(asked)
        with qtbot.waitSignal(w.sink.tokenOffered, timeout=10000) as blocker:
            trigger()
        assert isinstance(blocker.args[0], AuthError), name
        assert len(asked) == n + 1 and SERVER in asked[-1] and "token" in asked[-1], name
        assert "rejected your token" in w.statusBar().currentMessage(), name
        assert styles.ERROR in w.statusBar().styleSheet(), name
    for dlg in dialogs:
        dlg.close()


def test_terms_of_service_error_offers_the_terms_page(qtbot, ini_settings, asked, monkeypatch):
    w = _window(qtbot, ini_settings, RejectingSource())
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=10000)  # the token, for the versions
    opened = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    from PySide6.QtGui import QDesktopServices
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    tos = "https://cave.example.org/sticky_auth/api/v1/tos/2/accept"

    def refuse(cancel=None):
        raise PermissionDeniedError("You have not accepted the terms of service.",
                                    tos_url=tos)
    runner = RequestRunner(w.connectivity)  # any runner in the window
    with qtbot.waitSignal(w.sink.termsOffered, timeout=10000):
        runner.run(refuse)
    assert opened == [tos] and "terms of service" in asked[-1]


def test_a_burst_of_auth_errors_asks_once(qtbot, ini_settings, asked):
    w = _window(qtbot, ini_settings, RejectingSource())
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=10000)
    calls = []

    def handler(err):
        calls.append(err)
        w.sink.error(AuthError("again"))  # arrives while the question is open
    w.sink.auth_handler = handler
    w.sink.error(AuthError("first"))
    assert len(calls) == 1


def test_status_colour_resets_after_success(qtbot, ini_settings, sample_source):
    w = _window(qtbot, ini_settings, sample_source)
    bar = w.statusBar()
    w.show_error(AuthError("nope"))
    assert styles.ERROR in bar.styleSheet()
    w.show_message("Link copied.")
    assert bar.styleSheet() == "" and bar.currentMessage() == "Link copied."
    w.show_error("bad")
    bar.showMessage("someone else's success")  # not through the sink: still not red
    assert bar.styleSheet() == ""
    w.show_error("bad again")
    w.sink.result(type("R", (), {"notes": ["2 rows had no position."]})())
    assert bar.currentMessage() == "2 rows had no position."  # a result's note
    assert styles.WARNING in bar.styleSheet()

    status = RequestStatusBar(RequestRunner(w))
    status.show_text("failed", error=True)
    assert status.is_error and status.label.styleSheet() == styles.ERROR_STYLE
    status.show_text("worked")
    assert not status.is_error and status.label.styleSheet() == ""


def test_progress_arrives_on_the_gui_thread_and_fills_the_bar(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    runner = RequestRunner(host)
    bar = RequestStatusBar(runner, parent=host)
    host.resize(900, 40)
    host.show()
    go, threads = threading.Event(), []
    gui = QApplication.instance().thread()

    def work(cancel):
        threads.append(QThread.currentThread() is not gui)
        cancel.report(0, None, 0)
        cancel.report(3, 11, 412_000)
        go.wait(10)
        return 1

    seen = []
    runner.progressed.connect(lambda p: seen.append(QThread.currentThread() is gui))
    with qtbot.waitSignals([runner.progressed, runner.progressed], timeout=10000):
        runner.run(work)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    assert threads == [True] and seen == [True, True]
    assert bar.progress.maximum() == 11 and bar.progress.value() == 3
    assert bar.progress.isVisible() and bar.cancel_button.isVisible()
    text = bar.detail.text()
    assert text.startswith("page 3 of 11 · 412,000 rows")
    with qtbot.waitSignal(runner.succeeded, timeout=10000):
        go.set()
    assert not bar.progress.isVisible() and bar.detail.isHidden()
    assert bar.progress.maximum() == 0  # the next request starts as a busy bar


def test_unknown_total_is_a_busy_bar(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    runner = RequestRunner(host)
    bar = RequestStatusBar(runner, parent=host)
    go = threading.Event()

    def work(cancel):
        cancel.report(2, None, 50, "reading the cell types")
        go.wait(10)

    with qtbot.waitSignal(runner.progressed, timeout=10000):
        runner.run(work)
    assert bar.progress.maximum() == 0
    assert bar.detail.text() == "reading the cell types · 50 rows"
    with qtbot.waitSignal(runner.succeeded, timeout=10000):
        go.set()


def test_main_window_query_shows_its_pages(qtbot, ini_settings, sample_source):
    w = _window(qtbot, ini_settings, sample_source)
    w.show()
    # the window's own start-up requests (versions, tables) share the bar: let them end
    qtbot.waitUntil(lambda: w.browser.tree.topLevelItemCount() > 0 and not w.meta_runner.busy,
                    timeout=10000)
    go = threading.Event()

    class Paged(RejectingSource):
        kind = "local"

        def query(self, spec, cancel=None):
            cancel.report(1, 4, 1000)
            go.wait(10)
            return sample_source.query(spec.with_(datastack="pinky100_sample"), cancel)

    w.workspace = Workspace(Paged(), "pinky100_sample", 185)
    with qtbot.waitSignal(w.query_runner.progressed, timeout=10000):
        w.run_query(QuerySpec("synapses", version=185, limit=5))
    assert w.busy_bar.maximum() == 4 and w.busy_bar.value() == 1
    assert "page 1 of 4" in w.busy_label.text() and w.cancel_button.isVisible()
    with qtbot.waitSignal(w.query_runner.succeeded, timeout=20000):
        go.set()
    assert not w.busy_bar.isVisible()


def test_progress_text_says_pages_rows_rate_and_time_left():
    p = Progress(3, 11, 412_000, elapsed_s=412_000 / 61_000)
    assert progress_text(p) == ("page 3 of 11 · 412,000 rows · 61,000 rows/s · "
                                "about 18 s left")
    assert progress_text(Progress(2, 5, 0, "saving synapses", 30.0)) == \
        "saving synapses · 2 of 5 done · about 45 s left"


def test_sink_is_found_through_the_parents(qtbot):
    assert status_sink.sink_for(None) is None
    outer, inner = QWidget(), QWidget()
    qtbot.addWidget(outer)
    inner.setParent(outer)
    sink = status_sink.install(outer, status_sink.StatusSink(lambda *a: None, outer))
    assert status_sink.sink_for(RequestRunner(inner)) is sink
