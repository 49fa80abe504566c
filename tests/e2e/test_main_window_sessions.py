"""The last session reopens at start if the user wants (issue 16): File > "Reopen last
session at start" is kept in QSettings; at quit the session is saved next to the settings
(the app's data folder outside tests); at the next start it is opened. A damaged file is
said in the status bar and the window starts as usual."""
import json

from PySide6.QtCore import QSettings

from models.filters import Op
from ui.common.session import last_session_path
from ui.main_window import MainWindow


def _open(qtbot, settings, source):
    w = MainWindow(source, settings, None, "test")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.browser.tree.topLevelItemCount() > 0, timeout=10000)
    return w


def _action(w, text):
    for a in w.menuBar().actions()[0].menu().actions():
        if a.text().replace("&", "") == text:
            return a
    raise AssertionError(f"no File action {text!r}")


def test_the_setting_is_a_checkable_file_action_kept_in_settings(qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source)
    action = _action(w, "Reopen last session at start")
    assert action.isCheckable() and not action.isChecked()
    action.trigger()
    again = QSettings(ini_settings.fileName(), QSettings.Format.IniFormat)
    assert again.value("reopen_last_session", False, bool) is True


def test_quit_saves_and_the_next_start_reopens(qtbot, ini_settings, sample_source, tmp_path):
    w = _open(qtbot, ini_settings, sample_source)
    _action(w, "Reopen last session at start").setChecked(True)
    w.select_datastack("minnie65_sample")
    qtbot.waitUntil(lambda: w.browser.select_table("synapses_pni_2"), timeout=10000)
    qtbot.waitUntil(lambda: w.builder.table is not None
                    and w.builder.table.name == "synapses_pni_2", timeout=10000)
    w.builder.add_filter("size").set_values("size", Op.GE, "1234")
    w.builder.limit_spin.setValue(77)
    w.tabs.setCurrentIndex(2)
    w.close()
    path = last_session_path(ini_settings)
    assert path.parent == tmp_path and path.is_file()
    saved = json.loads(path.read_text())
    assert saved["current"]["datastack"] == "minnie65_sample"
    assert "token" not in path.read_text().lower()

    ini_settings.setValue("last_datastack", "pinky100_sample")  # not what reopens it
    w2 = MainWindow(sample_source, ini_settings, None, "test")
    qtbot.addWidget(w2)
    w2.show()
    qtbot.waitUntil(lambda: w2.builder.table is not None
                    and w2.builder.table.name == "synapses_pni_2"
                    and len(w2.builder.rows) == 1, timeout=10000)
    assert w2.datastack == "minnie65_sample" and w2.builder.limit_spin.value() == 77
    assert w2.builder.rows[0].value_edit.text() == "1234" and w2.tabs.currentIndex() == 2
    assert w2.reopen_action.isChecked()


def test_off_nothing_is_saved_or_reopened(qtbot, ini_settings, sample_source):
    w = _open(qtbot, ini_settings, sample_source)
    w.close()
    assert not last_session_path(ini_settings).exists()


def test_a_damaged_last_session_is_said_and_the_app_starts(qtbot, ini_settings, sample_source):
    ini_settings.setValue("reopen_last_session", True)
    for text in ("{ not json", json.dumps({"format": "cavern-session/1", "datastacks": "oops", "tab": "x"})):
        last_session_path(ini_settings).write_text(text)
        w = _open(qtbot, ini_settings, sample_source)
        qtbot.waitUntil(lambda: "last session was not reopened" in w.statusBar().currentMessage(),
                        timeout=5000)
        assert w.datastack == "pinky100_sample"
        w.close()
