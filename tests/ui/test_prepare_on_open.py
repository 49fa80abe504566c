"""When a datastack and version open, the window asks the source to read ahead what the
first query needs (DataSource.prepare: a big local table's footer), in a worker, apart
from the table listing; a version switch asks again for the new version."""
import threading

from services.local.local_source import LocalSource


def test_opening_and_switching_a_version_prepare_it(qtbot, ini_settings, sample_source,
                                                    monkeypatch):
    from ui.main_window import MainWindow
    asked = []
    real = LocalSource.prepare

    def spy(self, datastack, version=None):
        asked.append((datastack, version, threading.current_thread() is threading.main_thread()))
        return real(self, datastack, version)
    monkeypatch.setattr(LocalSource, "prepare", spy)
    w = MainWindow(sample_source, ini_settings, "minnie65_sample", "test")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.workspace is not None and bool(asked), timeout=20000)
    first = asked[-1]
    assert first[0] == "minnie65_sample" and first[1] == w.version and not first[2]
    others = [i for i in range(w.version_combo.count())
              if w.version_combo.itemData(i) not in (w.version, "live")]
    if others:
        w.version_combo.setCurrentIndex(others[0])
        qtbot.waitUntil(lambda: asked[-1][1] == w.version != first[1], timeout=20000)
        assert not asked[-1][2]  # in a worker, not on the GUI thread
