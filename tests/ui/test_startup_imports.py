"""What the window needs to open: scipy (sparse matrices, skeleton graphs), caveclient,
pandas and pyqtgraph load when first used, not at start-up (tests/bench/bench_startup.py
times the start). The Cell, Connectivity and Figures tabs are built on their first click
(ui/common/lazy_pages.py) and then work in the window's context.

Each check runs in a fresh interpreter: the test session itself has imported everything."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_AT_START = ("scipy", "caveclient", "nglui", "pandas", "pyqtgraph")

SCRIPT = textwrap.dedent("""
    import json, sys, time
    from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QSettings, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from services.local.local_source import LocalSource, sample_folders
    from ui.main_window import MainWindow
    WATCH = {watch!r}
    out = {{}}
    s = QSettings(sys.argv[1], QSettings.Format.IniFormat)
    w = MainWindow(LocalSource(sample_folders()), s, None, "test")
    w.show()
    t0 = time.monotonic()
    while w.browser.tree.topLevelItemCount() == 0 and time.monotonic() - t0 < 30:
        app.processEvents()
    out["tables"] = w.browser.tree.topLevelItemCount()
    out["at_start"] = sorted(m for m in WATCH if m in sys.modules)
    out["built_at_start"] = sorted(w.pages.built_pages())
    bar = w.tabs.tabBar()
    for i in (1, 2, 3):  # a user's click on each tab
        QTest.mouseClick(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         bar.tabRect(i).center())
        app.processEvents()
        out[f"current_{{i}}"] = [w.tabs.currentIndex(), w.tabs.tabText(i),
                                  type(w.tabs.currentWidget()).__name__]
    ws = w.workspace
    conn = w.connectivity
    t0 = time.monotonic()
    while conn.runner.busy and time.monotonic() - t0 < 30:
        app.processEvents()
    out["inspector_ws"] = w.inspector.ws is ws
    out["partners_ws"] = conn.partners.ws is not None and conn.partners.ws.datastack == ws.datastack
    out["matrix_ws"] = conn.matrix.ws is not None and conn.matrix.ws.datastack == ws.datastack
    out["synapse_tables"] = conn.synapse_combo.count()
    out["soma_map_ws"] = w.figures.soma_map.ws is ws
    out["after_clicks"] = sorted(m for m in WATCH if m in sys.modules)
    print("OUT " + json.dumps(out), flush=True)
    from ui.app import no_pyqtgraph_exit_cleanup, shutdown_window
    shutdown_window(w)
    no_pyqtgraph_exit_cleanup()
    w.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
""")


def _run(tmp_path) -> dict:
    script = tmp_path / "open_window.py"
    script.write_text(SCRIPT.format(watch=NOT_AT_START))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "settings.ini")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("OUT ")), None)
    assert line is not None, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(line[4:])


def test_opening_the_window_imports_none_of_the_heavy_libraries_and_the_tabs_work(tmp_path):
    out = _run(tmp_path)
    assert out["tables"] > 0  # the window is usable: the sample's tables are listed
    assert out["at_start"] == [], out  # no scipy, caveclient, nglui, pandas or pyqtgraph
    assert out["built_at_start"] == []  # Cell, Connectivity and Figures wait for a click
    for i, (title, panel) in {1: ("Cell", "CellInspectorPanel"),
                              2: ("Connectivity", "ConnectivityPanel"),
                              3: ("Figures", "FiguresPanel")}.items():
        assert out[f"current_{i}"] == [i, title, panel], out
    # built late, each has the window's context: the sample datastack and its tables
    assert out["inspector_ws"] and out["partners_ws"] and out["matrix_ws"], out
    assert out["synapse_tables"] > 0 and out["soma_map_ws"], out
    assert {"pandas", "pyqtgraph"} <= set(out["after_clicks"])  # loaded when first needed
