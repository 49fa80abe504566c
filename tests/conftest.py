"""Shared test set-up: Qt offscreen, and no test touches the user's settings or cache."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture
def ini_settings(tmp_path):
    """QSettings in a temporary INI file (the user's own settings are never touched)."""
    from PySide6.QtCore import QSettings
    return QSettings(str(tmp_path / "cavern-settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture(scope="session")
def sample_source():
    from services.local_source import LocalSource, sample_folders
    src = LocalSource(sample_folders())
    yield src
    src.close()


_exit_status = [0]


def pytest_sessionfinish(session, exitstatus):
    _exit_status[0] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Leave without the interpreter's finalization.

    With PySide6 6.12, pyqtgraph and DuckDB loaded together, garbage collection during
    finalization sometimes aborts ("bool_dealloc", a reference-count bug in a C
    extension) after every test has passed and the summary is printed. Results are
    final by then, so exit with pytest's own status instead of risking that abort.
    """
    import sys
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status[0])
