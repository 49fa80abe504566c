"""Start-up times: `main.py --version`, `main.py tables`, and the GUI from launch to a
usable window (offscreen; the first table list shown in the table browser).

    python -m tests.bench.bench_startup [--runs 5]

Each figure is the range over the runs (wall time from launching the process, so the
interpreter's own start is included) with the peak RSS of the process.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"--version": None, "tables": 0.6, "gui": 1.5}


def child_gui() -> None:
    """What main.py does for the GUI, plus a hook that says when the tables are listed."""
    launched = float(os.environ["CAVERN_BENCH_T0"])
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ui.tables import table_browser_panel
    original = table_browser_panel.TableBrowserPanel.set_tables

    def set_tables(self, tables, *args, **kwargs):
        original(self, tables, *args, **kwargs)
        if tables:
            from PySide6.QtCore import QTimer
            from PySide6.QtWidgets import QApplication
            ready = time.time() - launched
            def report():  # after the event loop has painted the window once
                print(f"READY {ready:.4f} {time.time() - launched:.4f}", flush=True)
                QApplication.instance().quit()
            QTimer.singleShot(0, report)
    table_browser_panel.TableBrowserPanel.set_tables = set_tables
    sys.argv = [str(ROOT / "main.py")]
    import main
    sys.exit(main.main([]))


def run(cmd, env=None) -> tuple[float, float, str]:
    t0 = time.time()
    env = dict(os.environ, CAVERN_BENCH_T0=repr(t0), **(env or {}))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _pid, _status, usage = os.wait4(proc.pid, 0)
    wall = time.time() - t0
    return wall, usage.ru_maxrss / 1024, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_gui()
        return
    py = sys.executable
    cases = {
        "--version": [py, "main.py", "--version"],
        "tables": [py, "main.py", "tables"],
        "gui": [py, "-m", "tests.bench.bench_startup", "--child"],
    }
    print(f"== start-up, {args.runs} runs each (range, peak RSS) ==")
    for name, cmd in cases.items():
        times, rss, painted = [], [], []
        for _ in range(args.runs):
            wall, peak, out = run(cmd, {"QT_QPA_PLATFORM": "offscreen"})
            if name == "gui":
                line = next((ln for ln in out.splitlines() if ln.startswith("READY")), None)
                if line is None:
                    print("  gui: the window never listed its tables")
                    break
                _tag, ready, shown = line.split()
                times.append(float(ready))
                painted.append(float(shown))
            else:
                times.append(wall)
            rss.append(peak)
        if not times:
            continue
        target = TARGETS[name]
        verdict = "" if target is None else (" ok" if max(times) < target else " OVER")
        extra = (f", first paint {min(painted):.3f}-{max(painted):.3f} s" if painted else "")
        print(f"  main.py {name:<10} {min(times):6.3f}-{max(times):6.3f} s "
              f"(target {'-' if target is None else f'< {target} s'}{verdict}){extra}, "
              f"peak RSS {max(rss):.0f} MB")


if __name__ == "__main__":
    main()
