"""Start the Qt application around the services that main.py built."""
from __future__ import annotations

import sys

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication


def make_settings() -> QSettings:
    return QSettings("Cavern", "Cavern")


def run_gui(source, datastack: str | None = None, app_version: str = "",
            quit_after_ms: int = 0) -> int:
    from ui.main_window import MainWindow, app_icon
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Cavern")
    app.setOrganizationName("Cavern")
    app.setApplicationVersion(app_version)
    app.setWindowIcon(app_icon())
    window = MainWindow(source, make_settings(), datastack, app_version)
    window.show()
    if quit_after_ms:
        # Smoke tests of the frozen app: start, show the sample, quit cleanly.
        from PySide6.QtCore import QTimer
        QTimer.singleShot(quit_after_ms, window.close)
    status = app.exec()
    # Delete the window (and its pyqtgraph plots) while Qt is still up: left to the
    # interpreter's shutdown, pyqtgraph's teardown can crash on exit.
    window.deleteLater()
    app.processEvents()
    window.settings.sync()
    return status


def exit_now(status: int) -> None:
    """Exit without the interpreter's finalization once the GUI has closed.

    Everything the user has is written by then (exports are atomic, settings synced).
    With PySide6 6.12, pyqtgraph and DuckDB loaded together, finalization sometimes
    aborts in a C extension's reference counting ("bool_dealloc"); skipping it keeps the
    exit clean and the exit status true.
    """
    import os
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
