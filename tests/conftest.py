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
