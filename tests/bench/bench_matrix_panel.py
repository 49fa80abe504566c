"""The tutorial matrix end to end through the Connectivity panel, as a user waits for it.

    QT_QPA_PLATFORM=offscreen python3 tests/bench/bench_matrix_panel.py [--runs 5]

A local datastack in $CAVERN_BENCH_DIR/tutorial_stack (default /tmp/cavern_bench; built
once from tests/bench/synthetic.py, never committed): the tutorial-sized synapse table
(2,088,830 synapses from 2275 proofread cells onto 63,718 cells) and a cell table of every
cell with its type and soma position. The pre set is the cells of the table with
``proofread=t`` (2275), the post set every cell of the table: the two `in` lists of the
tutorial's pivot. Measured: from the Compute click (``request()``) to the matrix image set in
the plot, type/depth order, hidden unconnected cells, in the running Qt event loop (worker
thread, queued result, summary, image, block table). Target <= 1 s.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a file or with -m
from tests.bench.bench_scale import reset_peak, rss  # noqa: E402

DIR = Path(os.environ.get("CAVERN_BENCH_DIR", "/tmp/cavern_bench"))
STACK = DIR / "tutorial_stack"


def build_stack() -> Path:
    v = STACK / "v1"
    if (v / "cells.parquet").exists():
        return STACK
    import numpy as np
    import pandas as pd
    from tests.bench.synthetic import synthetic_synapses
    v.mkdir(parents=True, exist_ok=True)
    syn, cells = synthetic_synapses()
    syn.to_parquet(v / "synapses.parquet", index=False)
    pre = np.isin(cells.pt_root_id.to_numpy(), syn.pre_pt_root_id.unique())
    rng = np.random.default_rng(3)
    # soma positions in voxels (4, 4, 40 nm): depth along y, as the manifest's transform says
    xyz = np.column_stack([rng.integers(60_000, 280_000, len(cells)),
                           (cells.depth_um.to_numpy() * 1000 / 4).astype(np.int64),
                           rng.integers(14_000, 28_000, len(cells))])
    pd.DataFrame({"pt_root_id": cells.pt_root_id, "cell_type": cells.cell_type,
                  "proofread": np.where(pre, "t", "f"),
                  "pt_position": list(xyz)}).to_parquet(v / "cells.parquet", index=False)
    (STACK / "manifest.json").write_text(json.dumps({
        "format": "cavern-datastack/1", "name": "tutorial_bench",
        "description": "synthetic, tutorial-sized (benchmark only)",
        "voxel_resolution": [4.0, 4.0, 40.0], "synapse_table": "synapses",
        "soma_table": "cells", "cell_type_tables": ["cells"],
        "transform": {"kind": "linear", "axis": "y", "pia_nm": 0.0, "angle_deg": 0.0},
        "default_version": 1,
        "versions": [{"version": 1, "folder": "v1", "timestamp": None}]}))
    return STACK


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    folder = build_stack()
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication
    from services.local.local_source import LocalSource
    from services.workspace import Workspace
    from ui.connectivity.connectivity_panel import ConnectivityPanel
    app = QApplication.instance() or QApplication([])
    src = LocalSource([folder])
    panel = ConnectivityPanel()
    panel.resize(1280, 800)
    panel.show()
    loop = QEventLoop()
    panel.contextReady.connect(loop.quit)
    panel.set_context(Workspace(src, "tutorial_bench"))
    QTimer.singleShot(30_000, loop.quit)
    loop.exec()
    view = panel.matrix
    panel.tabs.setCurrentWidget(view)  # on screen, as a user sees it: its paint is timed
    app.processEvents()
    view.pre_editor.from_table.setChecked(True)
    view.pre_editor.table_combo.setCurrentText("cells")
    view.pre_editor.filters_edit.setPlainText("proofread=t")
    view.same_sets.setChecked(False)
    view.post_editor.from_table.setChecked(True)
    view.post_editor.table_combo.setCurrentText("cells")
    view.post_editor.filters_edit.setPlainText("")
    times, peaks = [], []
    failure = []
    view.runner.failed.connect(lambda err: (failure.append(str(err)), loop.quit()))
    view.runner.succeeded.connect(lambda _r: QTimer.singleShot(0, loop.quit))
    for _ in range(args.runs):
        gc.collect()
        reset_peak()
        t0 = time.perf_counter()
        view.request()
        loop.exec()  # until the result has been shown (queued after _arrived)
        view.plot.viewport().repaint()  # the paint of the new image, now (not queued)
        app.processEvents()
        times.append(time.perf_counter() - t0)
        peaks.append(rss("VmHWM"))
        if failure:
            raise SystemExit(f"matrix failed: {failure[0]}")
    m = view.result.matrix
    print(f"tutorial matrix through the Connectivity panel: {m.shape[0]:,} x {m.shape[1]:,} "
          f"cells, {m.nnz:,} pairs, {int(m.n_synapses.sum()):,} synapses")
    print(f"  Compute -> image shown   {min(times):.3f}-{max(times):.3f} s "
          f"(median {statistics.median(times):.3f}, {len(times)} runs; first {times[0]:.3f}) "
          f"target <= 1 s: {'ok' if statistics.median(times) <= 1 else 'OVER'}")
    print(f"  peak RSS {max(peaks) / 2**30:.2f} GB")
    src.close()


if __name__ == "__main__":
    main()
    from ui.app import no_pyqtgraph_exit_cleanup  # plots were made outside run_gui
    no_pyqtgraph_exit_cleanup()
