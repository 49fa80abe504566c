"""Start the Qt application around the services that main.py built, and quit it cleanly."""
from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from ui.common.lifecycle import DEFAULT_TIMEOUT_MS, ShutdownReport, shutdown


def make_settings() -> QSettings:
    return QSettings("Cavern", "Cavern")


def window_sources(window) -> list:
    """Every DataSource the window knows: the local one, the current one, each CAVE entry."""
    found = [window.local_source, window.source]
    combo = window.datastack_combo
    for i in range(combo.count()):
        data = combo.itemData(i)
        if data:
            found.append(data[0])
    out, seen = [], set()
    for src in found:
        if src is not None and id(src) not in seen:
            seen.add(id(src))
            out.append(src)
    return out


def shutdown_window(window, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> ShutdownReport:
    """Cancel every request, wait (bounded) for the worker threads, close the window's
    sources. Safe to call more than once."""
    return shutdown(window_sources(window), timeout_ms)


def no_pyqtgraph_exit_cleanup() -> None:
    """pyqtgraph's exit clean-up (an atexit hook) walks every object at interpreter exit
    and, with PySide6 6.12, crashes there ("bool_dealloc") after windows with plots were
    created and closed. Windows are deleted while Qt is up instead (run_gui), so it is not
    needed. pyqtgraph loads with the first plot; if no plot was shown there is nothing to do."""
    pg = sys.modules.get("pyqtgraph")
    if pg is not None:
        pg.setConfigOption("exitCleanup", False)


def run_gui(source, datastack: str | None = None, app_version: str = "",
            quit_after_ms: int = 0) -> int:
    """Show the main window on ``source`` until the user quits; returns the exit status.

    On quit every request is cancelled, the thread pool drained and the sources closed
    (``source`` included), so the caller only has to ``sys.exit`` with the status.
    """
    from ui.main_window import MainWindow, app_icon
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Cavern")
    app.setOrganizationName("Cavern")
    app.setApplicationVersion(app_version)
    app.setWindowIcon(app_icon())
    # Python's cycle collector runs in whichever thread allocates: in a worker thread it
    # frees Qt wrappers there, and PySide6 then crashes deleting them. Collect only here,
    # in the GUI thread, on a timer (it disables automatic gc until stopped).
    from ui.common.gui_gc import GuiThreadCollector
    collector = GuiThreadCollector(interval=1.0)
    try:
        window = MainWindow(source, make_settings(), datastack, app_version)
        reports: list[ShutdownReport] = []
        def on_quit():
            reports.append(shutdown_window(window))
        app.aboutToQuit.connect(on_quit)
        window.show()
        if quit_after_ms:
            # Smoke tests of the frozen app: start, show the sample, quit cleanly.
            QTimer.singleShot(quit_after_ms, window.close)
        status = app.exec()
        app.aboutToQuit.disconnect(on_quit)
        if not reports:  # exec() ended without aboutToQuit (should not happen)
            reports.append(shutdown_window(window))
        collector.stop()
        window.settings.sync()
        # Delete the window (and its pyqtgraph plots) while Qt is still up. deleteLater alone
        # is not enough once the event loop has ended: deliver the DeferredDelete now.
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        del window
        return status
    finally:
        no_pyqtgraph_exit_cleanup()  # also when the window failed
