"""How the result table copes with the tutorial's 2,088,830-synapse table.

Run: python tests/bench/bench_table_model.py [n_rows]
Prints: time until the model (and a QTableView on it) is ready after the data arrive,
sort by each kind of column, quick filter, copy/export of a selection, and peak memory
relative to the raw data. Targets: ready < 0.1 s, sort < 1 s, filter < 0.5 s, memory < 3x.
Offscreen Qt; synthetic data from tests/bench/synthetic.py plus CAVE-style positions.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from tests.bench.synthetic import N_SYNAPSES, synthetic_synapses  # noqa: E402

TARGETS = {"ready": 0.1, "sort": 1.0, "filter": 0.5, "memory": 3.0}


def synapse_table(n_rows: int) -> pd.DataFrame:
    """Synthetic synapses with ctr_pt_position as CAVE returns it: one int array per row."""
    synapses, _cells = synthetic_synapses(seed=0, n_synapses=n_rows)
    frame = synapses[["id", "pre_pt_root_id", "post_pt_root_id", "size"]].copy()
    rng = np.random.default_rng(1)
    xyz = rng.integers([60_000, 40_000, 14_000], [280_000, 240_000, 28_000], (len(frame), 3))
    pos = np.empty(len(frame), dtype=object)
    pos[:] = list(xyz)  # separate small arrays, like a DuckDB/caveclient result
    frame["ctr_pt_position"] = pos
    return frame


def raw_bytes(frame: pd.DataFrame) -> int:
    return int(frame.memory_usage(index=True, deep=True).sum())


def rss_bytes(field: str) -> int:
    """Resident memory of this process (VmRSS now, VmHWM peak) from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak_rss() -> None:
    """Start the peak (VmHWM) afresh, so building the synthetic table is not counted."""
    Path("/proc/self/clear_refs").write_text("5")


def timed(label: str, fn, target: float | None = None):
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    mark = "" if target is None else ("  ok" if dt < target else f"  OVER target {target} s")
    print(f"{label:<52s}{dt:8.3f} s{mark}")
    return out, dt


def main(n_rows: int = N_SYNAPSES) -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QTableView

    from ui.common.result_table_model import ResultTableModel

    app = QApplication.instance() or QApplication([])
    t0 = time.perf_counter()
    frame = synapse_table(n_rows)
    raw = raw_bytes(frame)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other work slows timings)")
    print(f"synthetic synapse table: {len(frame):,} rows, {frame.shape[1]} columns, "
          f"raw {raw / 1e6:,.0f} MB (built in {time.perf_counter() - t0:.1f} s)")
    root = int(frame["pre_pt_root_id"].iloc[12345])

    reset_peak_rss()
    base = rss_bytes("VmRSS")
    model = ResultTableModel()
    view = QTableView()
    view.verticalHeader().setDefaultSectionSize(20)
    view.resize(1000, 600)
    view.setModel(model)
    view.show()
    app.processEvents()
    over = []

    def check(name, dt):
        if dt >= TARGETS[name]:
            over.append(name)

    _, dt = timed("model ready (set_frame)", lambda: model.set_frame(frame), TARGETS["ready"])
    check("ready", dt)
    _, dt = timed("view painted after the data arrive", app.processEvents)
    # ResultPanel starts this in a worker as soon as a large result arrives: the GUI
    # stays live meanwhile, and the first filter / position sort find the indexes built.
    _, dt = timed("background pre-warm: filter indexes + positions", model.rows.prewarm)
    shown = model.data(model.index(0, 1))
    assert shown == str(frame["pre_pt_root_id"].iloc[0]), shown  # exact 18-digit id

    names = ["id", "pre_pt_root_id", "size", "ctr_pt_position"]
    for name in names:
        c = model.rows.names.index(name)
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            word = "asc" if order == Qt.SortOrder.AscendingOrder else "desc"
            _, dt = timed(f"sort by {name} ({word})", lambda: model.sort(c, order),
                          TARGETS["sort"])
            check("sort", dt)
    c_pre = model.rows.names.index("pre_pt_root_id")
    model.sort(c_pre, Qt.SortOrder.AscendingOrder)
    app.processEvents()

    # Indexes were built by the pre-warm; each filter below is one keystroke's work.
    for label, text, target in [
            ("filter, first: one root id", str(root), TARGETS["filter"]),
            ("filter: '8646911' (typing a root id)", "8646911", TARGETS["filter"]),
            ("filter: one root id (18 digits)", str(root), TARGETS["filter"]),
            ("filter: digits '12345' (every column)", "12345", TARGETS["filter"]),
            ("filter: letters 'abc' (no column can match)", "abc", TARGETS["filter"]),
            ("filter: position text '[1' (across separators)", "[1", None)]:
        mask, dt = timed(label, lambda: model.rows.filter_mask(text), target)
        if target:
            check("filter", dt)
        print(f"{'':<8s}-> {int(mask.sum()):,} rows")
    _, dt = timed("apply filter + sorted order (model reset)",
                  lambda: model.set_filter_text(str(root)))
    expected = int((frame["pre_pt_root_id"] == root).sum() + (frame["post_pt_root_id"] == root).sum())
    assert model.rowCount() >= expected > 0, (model.rowCount(), expected)
    col = model.rows.columns[c_pre][model.rows.source_rows(np.arange(model.rowCount()))]
    assert np.all(np.diff(col) >= 0), "filtered rows lost the sort order"
    app.processEvents()
    model.set_filter_text("")

    rows = np.arange(0, 50_000)
    _, dt = timed("copy 50,000 rows x 5 columns as TSV", lambda: model.cells_tsv(rows, range(5)))
    _, dt = timed("selection -> DataFrame (50,000 rows)", lambda: model.frame_rows(rows))
    _, dt = timed("whole sorted frame (view_frame)", model.view_frame)

    peak = rss_bytes("VmHWM")
    ratio = (raw + peak - base) / raw
    print(f"{'peak memory / raw data':<52s}{ratio:8.2f} x"
          f"{'  ok' if ratio < TARGETS['memory'] else '  OVER target 3 x'}"
          f"   (extra {(peak - base) / 1e6:,.0f} MB over {raw / 1e6:,.0f} MB raw)")
    if ratio >= TARGETS["memory"]:
        over.append("memory")
    print(f"load average now {os.getloadavg()[0]:.1f}")
    print("all targets met" if not over else f"targets missed: {', '.join(sorted(set(over)))}")
    view.close()
    return 0 if not over else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else N_SYNAPSES))
