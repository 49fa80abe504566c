"""Garbage is collected in the GUI thread on a timer (ui.common.gui_gc, used by ui.app in
place of pyqtgraph's GarbageCollector, so that pyqtgraph is not imported at start-up), and
pyqtgraph's exit clean-up is switched off once it has been loaded."""
import gc
import sys

from ui.common.gui_gc import GuiThreadCollector


class _Cycle:
    alive = 0  # instances not freed yet: only a collection frees a cycle

    def __init__(self):
        self.me = self
        _Cycle.alive += 1

    def __del__(self):
        _Cycle.alive -= 1


def test_the_collector_disables_gc_collects_on_its_timer_and_gives_gc_back(qtbot):
    was_enabled = gc.isenabled()
    gc.enable()
    collector = GuiThreadCollector(interval=0.05)
    try:
        assert not gc.isenabled() and collector.timer.isActive()
        assert collector.timer.interval() == 50
        threshold = gc.get_threshold()[0]
        for _ in range(3 * threshold):
            _Cycle()  # garbage only a collection frees
        assert gc.get_count()[0] > threshold and _Cycle.alive >= 3 * threshold  # gc is off
        qtbot.waitUntil(lambda: _Cycle.alive == 0, timeout=3000)  # the timer collected them
    finally:
        collector.stop()
    assert gc.isenabled() and not collector.timer.isActive()
    if not was_enabled:  # the Qt tests' own set-up (tests/conftest.py) keeps gc off
        gc.disable()


def test_check_collects_only_the_generations_over_their_thresholds(qapp, monkeypatch):
    collector = GuiThreadCollector(interval=60)
    collected = []
    try:
        monkeypatch.setattr(gc, "collect", lambda gen=2: collected.append(gen) or 0)
        t0, t1, t2 = collector.threshold
        monkeypatch.setattr(gc, "get_count", lambda: (t0 - 1, t1 + 1, t2 + 1))
        collector.check()
        assert collected == []
        monkeypatch.setattr(gc, "get_count", lambda: (t0 + 1, t1, t2 + 1))
        collector.check()
        assert collected == [0]
        monkeypatch.setattr(gc, "get_count", lambda: (t0 + 1, t1 + 1, t2 + 1))
        collector.check()
        assert collected == [0, 0, 1, 2]
    finally:
        monkeypatch.undo()
        collector.stop()
        gc.disable()  # as the Qt tests' set-up had it


def test_pyqtgraph_exit_cleanup_is_switched_off_once_loaded():
    from ui.app import no_pyqtgraph_exit_cleanup
    import pyqtgraph
    assert "pyqtgraph" in sys.modules
    pyqtgraph.setConfigOption("exitCleanup", True)
    no_pyqtgraph_exit_cleanup()
    assert pyqtgraph.getConfigOption("exitCleanup") is False
