"""The app's name, version and default datastack, shared by the CLI and the GUI."""
from __future__ import annotations

import sys
from pathlib import Path

APP_NAME = "Cavern"
DEFAULT_DATASTACK = "pinky100_sample"
_ROOT = Path(__file__).resolve().parents[2]


def app_version() -> str:
    """The version in pyproject.toml (or the frozen app's bundled copy)."""
    import tomllib
    here = Path(getattr(sys, "_MEIPASS", _ROOT))
    try:
        with open(here / "pyproject.toml", "rb") as fh:
            return tomllib.load(fh)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"
