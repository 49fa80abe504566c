"""Lifecycle: a long session does not accumulate results, and the app quits cleanly
(exit status 0, no crash in the interpreter's own finalization, no os._exit)."""
import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path


from models.query_spec import QuerySpec
from services.results.result_rows import ResultRows
from ui.main_window import MainWindow
from ui.tables.result_panel import PREWARM_ROWS

ROOT = Path(__file__).resolve().parents[2]
BIG = QuerySpec("aibs_soma_nuc_metamodel_preds_v117", "minnie65_sample", 343)  # 56,209 rows
N_QUERIES = 300


def _big_rows() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects()
               if isinstance(o, ResultRows) and o.n_source > PREWARM_ROWS)


def _rss_mb() -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None


def test_300_large_queries_keep_memory_flat(qtbot, ini_settings, sample_source):
    w = MainWindow(sample_source, ini_settings, "minnie65_sample", "test")
    qtbot.addWidget(w)
    spec = BIG.with_(columns=("cell_type", "pt_root_id"))  # > PREWARM_ROWS: prewarm runs
    with qtbot.waitSignal(w.query_runner.succeeded, timeout=20000) as first:
        w.run_query(spec)
    assert first.args[0].frame.shape[0] > PREWARM_ROWS
    qtbot.waitUntil(lambda: not w.results.warm_runner.busy, timeout=20000)
    rss0 = _rss_mb()
    for i in range(N_QUERIES - 1):
        with qtbot.waitSignal(w.query_runner.succeeded, timeout=20000):
            w.run_query(spec)
        if i % 3 == 0:  # let some prewarms finish, supersede the others
            qtbot.waitUntil(lambda: not w.results.warm_runner.busy, timeout=20000)
        if i == 150:
            assert _big_rows() <= 3
    qtbot.waitUntil(lambda: not w.results.warm_runner.busy, timeout=20000)
    qtbot.waitUntil(lambda: all(r.pending == 0 for r in (w.query_runner, w.results.warm_runner)),
                    timeout=20000)
    assert w.results.model.rowCount() == first.args[0].frame.shape[0]
    assert _big_rows() <= 3  # the shown result (and at most a late one), not 300
    if rss0 is not None:  # before the fix: ~19 MB per query (6 GB for 300 full queries)
        assert _rss_mb() - rss0 < 250


def _run(code: str, tmp_path, timeout=120):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1",
               HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    script = tmp_path / "run_app.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


CRASH_MARKERS = ("Fatal Python error", "Segmentation fault", "Traceback", "nanobind: leaked",
                 "bool_dealloc")


def _assert_clean(proc):
    assert proc.returncode == 0, proc.stderr[-3000:]
    for marker in CRASH_MARKERS:
        assert marker not in proc.stderr, proc.stderr[-3000:]


def test_run_gui_quits_cleanly_with_work_in_flight(tmp_path):
    """The window closes while a large query and its prewarm run: run_gui cancels them,
    drains the pool, closes the source and returns 0; the interpreter then finalizes
    (no os._exit) without a crash."""
    proc = _run(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from models.query_spec import QuerySpec
        from services.local.local_source import LocalSource, sample_folders
        from ui.app import run_gui
        app = QApplication(sys.argv[:1])
        def kick():
            w = next(x for x in QApplication.topLevelWidgets()
                     if x.objectName() == "CavernMainWindow")
            w.results.set_result  # the window is up
            for _ in range(5):
                w.run_query(QuerySpec({BIG.table!r}, {BIG.datastack!r}, {BIG.version}))
            w.tabs.setCurrentIndex(2)  # the pyqtgraph views get shown too
        QTimer.singleShot(400, kick)
        src = LocalSource(sample_folders())
        status = run_gui(src, "minnie65_sample", "test", quit_after_ms=1500)
        print("STATUS", status)
        sys.exit(status)
        """, tmp_path)
    _assert_clean(proc)
    assert "STATUS 0" in proc.stdout


def test_main_quits_cleanly(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1",
               HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.run([sys.executable, "main.py", "--quit-after-ms", "1500"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    _assert_clean(proc)
