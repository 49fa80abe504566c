"""Issue 11's UI side: a folder whose datastack name is taken, folder errors in the window,
an export reported as done when it was done, a failed "Forget token"."""
import shutil
import threading

import keyring
import pytest
from PySide6.QtWidgets import QInputDialog

from services.cave.token_store import TokenStore
from services.local.local_source import sample_folders
from tests.ui.test_result_panel import synapse_result
from tests.unit.cave.test_token_store import MemoryKeyring
from ui.cave.cave_connect_dialog import CaveConnectDialog
from ui.common import styles
from ui.main_window import MainWindow
from ui.tables import result_panel as result_panel_module
from ui.tables.result_panel import ResultPanel

SAMPLE = "pinky100_sample"


@pytest.fixture
def own_source(own_sample_source):
    return own_sample_source


@pytest.fixture
def window(qtbot, ini_settings, own_source):
    w = MainWindow(own_source, ini_settings, SAMPLE, "test",
                   token_store=TokenStore(backend=MemoryKeyring()))
    qtbot.addWidget(w)
    return w


def _copy_of_sample(tmp_path):
    folder = next(f for f in sample_folders() if f.name == SAMPLE)
    return shutil.copytree(folder, tmp_path / "my_copy")


def test_name_clash_offers_the_suggested_name(qtbot, window, own_source, tmp_path,
                                             monkeypatch):
    copy = _copy_of_sample(tmp_path)
    original = own_source._stacks[SAMPLE].folder
    asked = []

    def answer(parent, title, label, echo, text):
        asked.append((label, text))
        return text, True
    monkeypatch.setattr(QInputDialog, "getText", answer)
    window.open_datastack_folder(str(copy))
    label, suggestion = asked[0]
    assert "already open" in label and suggestion == f"{SAMPLE} (my_copy)"
    assert suggestion in own_source.datastacks()
    assert own_source._stacks[SAMPLE].folder == original  # never replaced
    assert window.datastack == suggestion and window.source is own_source
    assert len(own_source.tables(SAMPLE)) == len(own_source.tables(suggestion))


def test_name_clash_declined_opens_nothing(qtbot, window, own_source, tmp_path,
                                          monkeypatch):
    copy = _copy_of_sample(tmp_path)
    before = own_source.datastacks()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a: ("", False))
    window.open_datastack_folder(str(copy))
    assert own_source.datastacks() == before
    assert "not opened" in window.statusBar().currentMessage()


def test_a_bad_folder_is_reported_in_the_window(qtbot, window, tmp_path):
    (tmp_path / "empty").mkdir()
    window.open_datastack_folder(str(tmp_path / "empty"))
    text = window.statusBar().currentMessage()
    assert text and "Traceback" not in text
    assert styles.ERROR in window.statusBar().styleSheet()


# ---- export: what export_frame did is what the panel says ------------------------------
@pytest.fixture
def panel(qtbot):
    p = ResultPanel()
    qtbot.addWidget(p)
    p.set_result(synapse_result())
    return p


def test_cancel_after_the_file_is_written_reports_success(qtbot, panel, tmp_path,
                                                          monkeypatch):
    written, go = threading.Event(), threading.Event()
    real = result_panel_module.export_frame

    def slow_rename(frame, path, fmt=None, *, cancel=None, progress=None, provenance=None):
        out = real(frame, path, fmt, cancel=cancel, progress=progress, provenance=provenance)
        written.set()  # the file is there; a Cancel now is too late
        go.wait(10)
        return out
    monkeypatch.setattr(result_panel_module, "export_frame", slow_rename)
    failed = []
    panel.exportFailed.connect(failed.append)
    target = tmp_path / "rows.csv"
    panel.export_rows(str(target))
    qtbot.waitUntil(written.is_set, timeout=10000)
    panel.cancel_export_button.click()
    assert not failed and "cancelled" not in panel.status.text().lower()
    with qtbot.waitSignal(panel.exportFinished, timeout=10000):
        go.set()
    assert not failed and target.exists()
    assert panel.status.text().startswith("Exported 4 rows")
    assert panel.status.styleSheet() == ""


def test_token_cancelled_after_return_still_reports_success(qtbot, panel, tmp_path,
                                                            monkeypatch):
    real = result_panel_module.export_frame

    def then_cancelled(frame, path, fmt=None, *, cancel=None, progress=None, provenance=None):
        out = real(frame, path, fmt, cancel=cancel, progress=progress)
        cancel.cancel()
        return out
    monkeypatch.setattr(result_panel_module, "export_frame", then_cancelled)
    with qtbot.waitSignal(panel.exportFinished, timeout=10000):
        panel.export_rows(str(tmp_path / "rows.csv"))
    assert "Exported 4 rows" in panel.status.text()


def test_only_cancelled_error_means_cancelled(qtbot, panel, tmp_path, monkeypatch):
    from models.errors import CancelledError

    def stops(*_a, **_k):
        raise CancelledError()
    monkeypatch.setattr(result_panel_module, "export_frame", stops)
    with qtbot.waitSignal(panel.exportFailed, timeout=10000):
        panel.export_rows(str(tmp_path / "rows.csv"))
    assert "cancelled" in panel.status.text().lower() and panel.status.styleSheet() == ""


# ---- connect dialog -----------------------------------------------------------------------
class StuckKeyring(MemoryKeyring):
    """Deleting fails and the token stays stored."""

    def delete_password(self, service, username):
        raise keyring.errors.PasswordDeleteError("locked")


def test_failed_forget_keeps_forget_enabled(qtbot):
    store = TokenStore(backend=StuckKeyring())
    d = CaveConnectDialog(store, lambda s, t: None, ["https://example.org"])
    qtbot.addWidget(d)
    store.set_token("https://example.org", "abc123")
    d._server_changed("https://example.org")
    d.forget_token_button.click()
    assert d.forget_token_button.isEnabled()
    assert d.status.is_error and "keyring" in d.status.text().lower()
    assert "token is stored" in d.token_label.text()
