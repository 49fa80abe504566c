"""Garbage collected in the GUI thread only, on a timer.

Python's cycle collector runs in whichever thread happens to allocate: in a worker thread
it frees Qt wrappers there, and PySide6 then crashes deleting them. So automatic gc is
disabled and the GUI thread collects every ``interval`` seconds instead, each generation
when its count passed gc's own threshold (as pyqtgraph.util.garbage_collector does; it is
not imported for this, so that pyqtgraph stays off the start-up path).
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QTimer


class GuiThreadCollector:
    """Create in the GUI thread (with a QApplication); :meth:`stop` gives gc back."""

    def __init__(self, interval: float = 1.0):
        self.threshold = gc.get_threshold()
        self.timer = QTimer()
        self.timer.timeout.connect(self.check)
        gc.disable()
        self.timer.start(int(interval * 1000))

    def check(self) -> None:
        """Collect the generations whose counts are over their thresholds (the young
        one first, an older one only when the younger were over theirs too)."""
        l0, l1, l2 = gc.get_count()
        if l0 > self.threshold[0]:
            gc.collect(0)
            if l1 > self.threshold[1]:
                gc.collect(1)
                if l2 > self.threshold[2]:
                    gc.collect(2)

    def stop(self) -> None:
        """No more timed collections; automatic gc is on again."""
        self.timer.stop()
        gc.enable()
