"""Shared test set-up: Qt offscreen, and no test touches the user's settings or cache."""
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the result and skeleton caches of every CaveSource made here (the app's own factory, the
# CLI) go to a folder of this run, never the user's cache folder
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
os.environ["CAVERN_CACHE_DIR"] = tempfile.mkdtemp(prefix="cavern-test-cache-")
atexit.register(shutil.rmtree, os.environ["CAVERN_CACHE_DIR"], True)

import pytest  # noqa: E402


def drain_workers(timeout_ms: int = 10000) -> None:
    """Cancel every RequestRunner's work and wait for the thread pool (if Qt is in use),
    so no worker thread still runs while a source closes or the interpreter finalizes."""
    if "ui.common.runner_registry" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QThreadPool
    from ui.common import runner_registry
    runner_registry.cancel_all()
    QThreadPool.globalInstance().waitForDone(timeout_ms)
    if QCoreApplication.instance() is not None:
        QCoreApplication.sendPostedEvents()
    from ui.common.workers import release_ended_workers
    release_ended_workers()


@pytest.fixture
def own_sample_source():
    """A LocalSource of the test's own (the session's ``sample_source`` stays as it is),
    closed once the test's workers are done."""
    from services.local.local_source import LocalSource, sample_folders
    src = LocalSource(sample_folders())
    yield src
    drain_workers()
    src.close()


@pytest.fixture(autouse=True)
def _no_worker_outlives_its_test():
    """A test's unfinished requests are cancelled and awaited before the next test starts,
    as the app does at quit: a worker of a closed test's panel never fires into another's."""
    yield
    drain_workers()


@pytest.fixture(autouse=True)
def _garbage_collected_in_the_gui_thread(request):
    """As in the app (ui.app: ui.common.gui_gc.GuiThreadCollector), a Qt test collects
    garbage only in the GUI thread: automatic gc could run in a worker thread, free Qt
    wrappers there, and PySide6 then crashes deleting them (runDeletionInMainThread)."""
    import gc
    qt = "qtbot" in request.fixturenames or "qapp" in request.fixturenames
    if qt:
        gc.collect()
        gc.disable()
    try:
        yield
    finally:
        if qt:
            drain_workers()
            gc.collect()
            gc.enable()


def delete_closed_widgets() -> None:
    """pytest-qt closes each test's widgets with deleteLater; after the last test no event
    loop runs to deliver those, and windows kept to the interpreter's finalization keep
    their sources (DuckDB connections) alive past their modules' teardown."""
    if "PySide6.QtCore" not in sys.modules:
        return
    import gc
    from PySide6.QtCore import QCoreApplication, QEvent
    if QCoreApplication.instance() is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture
def ini_settings(tmp_path):
    """QSettings in a temporary INI file (the user's own settings are never touched)."""
    from PySide6.QtCore import QSettings
    return QSettings(str(tmp_path / "cavern-settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture(scope="session")
def sample_source():
    from services.local.local_source import LocalSource, sample_folders
    src = LocalSource(sample_folders())
    yield src
    drain_workers()  # a stale worker may still be querying it
    src.close()


def pytest_sessionfinish(session, exitstatus):
    drain_workers()
    delete_closed_widgets()
    if "pyqtgraph" in sys.modules:  # loaded by the tests that show plots, not by `import ui`
        from ui.app import no_pyqtgraph_exit_cleanup
        no_pyqtgraph_exit_cleanup()  # as run_gui does at quit: no crash at interpreter exit
