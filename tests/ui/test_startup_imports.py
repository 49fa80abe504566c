"""What the window needs to open: scipy (sparse matrices, skeleton graphs) and caveclient
load when first used, not at start-up (tests/bench/bench_startup.py times the start)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_opening_the_window_imports_no_scipy_or_caveclient():
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
            "from services.local.local_source import LocalSource, sample_folders;"
            "from ui.main_window import MainWindow; from PySide6.QtCore import QSettings;"
            "s = QSettings(sys.argv[1], QSettings.Format.IniFormat);"
            "w = MainWindow(LocalSource(sample_folders()), s, None, 'test');"
            "print(sorted(m for m in ('scipy', 'caveclient', 'nglui') if m in sys.modules))")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", code, str(Path(os.environ.get("TMPDIR", "/tmp"))
                                                          / "cavern_startup_test.ini")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
