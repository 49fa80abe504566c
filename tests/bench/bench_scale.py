"""Issue 12 figures through the app's services, each over >= 3 runs (min-max shown).

    python tests/bench/bench_scale.py [--rows 2000000,10000000] [--runs 3]
                                      [--all-cells 10000000,50000000]

Data: synthetic tables from tests/bench/synthetic.py written to $CAVERN_BENCH_DIR
(default /tmp/cavern_bench; never committed). Per figure: seconds (min-max over runs),
peak RSS growth (VmHWM reset before each figure). Ratios are measured in the same run.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from tests.bench.synthetic import synthetic_synapses, write_synapse_parquet  # noqa: E402

DIR = Path(os.environ.get("CAVERN_BENCH_DIR", "/tmp/cavern_bench"))


def rss(field="VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak():
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def runs(fn, n):
    times, out = [], None
    for _ in range(n):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def show(label, times, extra=""):
    each = " [" + ", ".join(f"{t:.2f}" for t in times) + "]" if 1 < len(times) <= 5 else ""
    print(f"  {label:<52} {min(times):7.3f}-{max(times):7.3f} s{each} {extra}", flush=True)


def tables(n_rows):
    dump = DIR / f"dump_{n_rows}" / "synapses.parquet"
    sorted_dir = DIR / f"sorted_{n_rows}"
    dump.parent.mkdir(exist_ok=True)
    if not dump.exists():
        write_synapse_parquet(dump, n_rows)
    if not (sorted_dir / "synapses.parquet").exists():
        from services.local.table_import import import_table
        sorted_dir.mkdir(exist_ok=True)
        t0 = time.perf_counter()
        info = import_table(dump, sorted_dir / "synapses.parquet")
        print(f"  import (sort by pre, post; {info['row_groups']} row groups)   "
              f"{time.perf_counter() - t0:7.1f} s once", flush=True)
    return dump, sorted_dir


def bench_rows(n_rows, n_runs):
    from models.filters import Filter, Op
    from models.query_spec import QuerySpec
    from services.local.local_source import LocalSource
    from services.results.result_rows import ResultRows
    print(f"\n== {n_rows:,} rows ==")
    dump, sorted_dir = tables(n_rows)
    src = LocalSource([sorted_dir])
    ds = src.datastacks()[0]
    # one cell's synapses: pre in 100 ids, sorted table vs the unsorted dump (same run)
    ids = src._con.sql(f"SELECT DISTINCT pre_pt_root_id FROM '{sorted_dir}/synapses.parquet'"
                       ).fetchnumpy()["pre_pt_root_id"]
    pick = tuple(int(i) for i in np.random.default_rng(0).choice(np.sort(ids), 100, replace=False))
    spec = QuerySpec(table="synapses", datastack=ds, version=0,
                     filters=(Filter("pre_pt_root_id", Op.IN, pick),))
    reset_peak(); base = rss()
    t_sorted, res = runs(lambda: src.query(spec), n_runs)
    show(f"pre in 100 ids, sorted ({len(res.frame):,} rows)", t_sorted,
         f"peak +{(rss('VmHWM') - base) / 2**20:.0f} MB")
    src2 = LocalSource([dump.parent])
    t_dump, _ = runs(lambda: src2.query(spec.with_(datastack=src2.datastacks()[0])), n_runs)
    show("pre in 100 ids, unsorted dump", t_dump,
         f"ratio dump/sorted {np.median(t_dump) / np.median(t_sorted):.1f}x")
    t_count, c = runs(lambda: src.row_count(ds, "synapses", 0, spec.filters), n_runs)
    show(f"count pushed down ({c:,})", t_count)
    # a session's first query, in a fresh process: as the app asks it (listing, then
    # prepare in the background while the user picks a cell), and without prepare
    import json
    import subprocess
    cells = np.random.default_rng(1)

    def first(mode, pick):
        return json.loads(subprocess.run(
            [sys.executable, __file__, "--first-query-child", str(n_rows), mode], check=True,
            input=json.dumps(pick), capture_output=True, text=True).stdout.splitlines()[-1])
    firsts = {"prepare": [], "none": []}
    for k in range(n_runs):  # other cells each run; their pages read once untimed, so
        pick = [int(i) for i in cells.choice(np.sort(ids), 100, replace=False)]
        first("none", pick)  # both modes find the disk as warm; they take turns going first
        for mode in (("prepare", "none") if k % 2 == 0 else ("none", "prepare")):
            firsts[mode].append(first(mode, pick))
    show("first query of a session, after prepare", [g["s"] for g in firsts["prepare"]],
         f"prepare {min(g['prepare'] for g in firsts['prepare']):.2f}-"
         f"{max(g['prepare'] for g in firsts['prepare']):.2f} s, in a worker before it")
    show("first query of a session, no prepare", [g["s"] for g in firsts["none"]])
    # whole result with positions in memory: bytes/row resident
    if n_rows <= 10_000_000:
        # resident bytes per row, each run in a fresh process (in one process a second
        # load reuses memory the first freed, and says nothing)
        import json
        import subprocess
        got = [json.loads(subprocess.run(
            [sys.executable, __file__, "--resident-child", str(n_rows)], check=True,
            capture_output=True, text=True).stdout.splitlines()[-1]) for _ in range(n_runs)]
        show("whole table -> ResultRows (positions (n,3))", [g["s"] for g in got],
             f"resident {min(g['b'] for g in got):.0f}-{max(g['b'] for g in got):.0f} B/row "
             f"{SETTLE_S:g} s after loading ({min(g['now'] for g in got):.0f}-"
             f"{max(g['now'] for g in got):.0f} at once), "
             f"peak +{min(g['peak'] for g in got):.2f}-{max(g['peak'] for g in got):.2f} GB "
             "(fresh process each run)")
        rows = ResultRows(src.query(QuerySpec(table="synapses", datastack=ds, version=0)).frame)
        col = rows.names.index("ctr_pt_position")
        t_sort, _ = runs(lambda: rows.sort(col), n_runs)
        show("sort by position column", t_sort)
        # the old path in the same run: one numpy object per position
        old = rows.frame.copy()
        del rows
        gc.collect(); base = rss()
        pos = np.empty(len(old), dtype=object)
        pos[:] = list(old["ctr_pt_position"].to_numpy())
        old["ctr_pt_position"] = pos
        gc.collect()
        extra = rss() - base
        print(f"  old object positions: +{extra / n_rows:.0f} B/row on top of the above "
              f"(frame.memory_usage deep {old.memory_usage(deep=True).sum() / n_rows:.0f} B/row)")
        del old, pos
    src.close(); src2.close()


SETTLE_S = 2.0  # resident memory is read this long after the result is loaded


def first_query_child(n_rows: int, mode: str) -> None:
    """In a fresh process: open the sorted table's folder and list it (as the app does on
    opening it), ``prepare`` it unless mode is "none", then time the query of the 100 root
    ids read from stdin (pre in them); prints JSON of seconds."""
    import json
    from models.filters import Filter, Op
    from models.query_spec import QuerySpec
    from services.local.local_source import LocalSource
    src = LocalSource([DIR / f"sorted_{n_rows}"])
    ds = src.datastacks()[0]
    src.tables(ds)
    t0 = time.perf_counter()
    if mode != "none":
        src.prepare(ds)
    took_prepare = time.perf_counter() - t0
    pick = tuple(json.loads(sys.stdin.read()))  # 100 root ids of the table
    spec = QuerySpec(table="synapses", datastack=ds, version=0,
                     filters=(Filter("pre_pt_root_id", Op.IN, pick),))
    t0 = time.perf_counter()
    n = len(src.query(spec).frame)
    print(json.dumps({"s": time.perf_counter() - t0, "prepare": took_prepare, "n": n}))


def resident_child(n_rows: int) -> None:
    """In a fresh process: the whole sorted table into ResultRows; prints JSON of seconds,
    resident bytes per row (RSS growth over the loaded rows) and peak growth in GB."""
    import json
    from models.query_spec import QuerySpec
    from services.local.local_source import LocalSource
    from services.results.result_rows import ResultRows
    src = LocalSource([DIR / f"sorted_{n_rows}"])
    ds = src.datastacks()[0]
    spec = QuerySpec(table="synapses", datastack=ds, version=0)
    ResultRows(src.query(spec.with_(limit=10)).frame)  # libraries loaded, not counted
    gc.collect(); reset_peak(); base = rss()
    t0 = time.perf_counter()
    rows = ResultRows(src.query(spec).frame)
    took = time.perf_counter() - t0
    gc.collect()
    now = (rss() - base) / n_rows
    time.sleep(SETTLE_S)  # what stays once the allocators have given freed pages back
    print(json.dumps({"s": took, "now": now, "b": (rss() - base) / n_rows,
                      "peak": (rss("VmHWM") - base) / 2**30, "n": len(rows.frame)}))


def all_cells_stack(n_rows: int) -> Path:
    """A datastack of the sorted table plus a cell table of every cell in it (type from a
    hash of the id, position in voxels), the set of the "all cells" matrix."""
    import json
    import duckdb
    _dump, sorted_dir = tables(n_rows)
    stack = DIR / f"allcells_{n_rows}"
    v = stack / "v1"
    v.mkdir(parents=True, exist_ok=True)
    syn = sorted_dir / "synapses.parquet"
    if not (v / "synapses.parquet").exists():
        os.link(syn, v / "synapses.parquet")  # same file, no copy (a symlink is refused)
    if not (v / "cells.parquet").exists():
        duckdb.connect().sql(f"""COPY (SELECT id AS pt_root_id,
            (['23P','4P','5P-IT','6P-IT','BC','MC'])[1 + (hash(id) % 6)::INT] AS cell_type,
            [100000 + (hash(id) % 100000)::BIGINT, 20000 + (hash(id + 1) % 200000)::BIGINT,
             20000] AS pt_position
            FROM (SELECT DISTINCT pre_pt_root_id AS id FROM '{syn}' UNION
                  SELECT DISTINCT post_pt_root_id FROM '{syn}'))
            TO '{v}/cells.parquet' (FORMAT parquet)""")
        (stack / "manifest.json").write_text(json.dumps({
            "format": "cavern-datastack/1", "name": "allcells", "voxel_resolution": [4, 4, 40],
            "synapse_table": "synapses", "soma_table": "cells", "cell_type_tables": ["cells"],
            "default_version": 1,
            "versions": [{"version": 1, "folder": "v1", "timestamp": None}]}))
    return stack


def bench_all_cells(n_rows, n_runs):
    """The "all cells" matrix (every cell of the table x every cell) through
    compute_matrix: above the in-memory budget it streams the sorted table."""
    from services.connectivity import matrix_queries as mq
    from services.local.local_source import LocalSource
    from services.workspace import Workspace
    stack = all_cells_stack(n_rows)
    src = LocalSource([stack])
    ws = Workspace(src, "allcells")
    spec = mq.cell_set_spec(ws, "cells", [])
    gc.collect(); reset_peak(); base = rss()
    t, res = runs(lambda: mq.compute_matrix(ws, spec), n_runs)
    s = res.summary or res.matrix.summary(len(res.pre.ids), len(res.post.ids))
    how = "streamed" if res.blocks else "in memory / GROUP BY"
    show(f"all-cells matrix {s['n_pre']:,} x {s['n_post']:,} ({how})", t,
         f"{s['connected_pairs']:,} pairs, peak RSS {rss('VmHWM') / 2**30:.2f} GB "
         f"(+{(rss('VmHWM') - base) / 2**30:.2f})")
    src.close()


def bench_matrix(n_runs):
    import duckdb
    import pandas as pd
    import scipy.sparse as sp
    from services.connectivity.aggregation import aggregate_pairs, aggregate_pairs_indexed
    from services.connectivity.connectivity_image import downsample_matrix
    from services.connectivity.connectivity_matrix import build_matrix
    from services.local.local_source import LocalSource
    from models.query_spec import QuerySpec
    print("\n== tutorial matrix: 2,088,830 synapses, 2275 x 63,718 ==")
    syn, cells = synthetic_synapses()
    folder = DIR / "tutorial"
    folder.mkdir(exist_ok=True)
    if not (folder / "synapses.parquet").exists():
        syn.to_parquet(folder / "synapses.parquet", index=False)
    src = LocalSource([folder])
    ds = src.datastacks()[0]
    types = pd.Series(cells.cell_type.to_numpy(), index=cells.pt_root_id.to_numpy())
    depth = pd.Series(cells.depth_um.to_numpy(), index=cells.pt_root_id.to_numpy())

    def end_to_end():
        f = src.query(QuerySpec(table="synapses", datastack=ds, version=0,
                                columns=("pre_pt_root_id", "post_pt_root_id", "size"))).frame
        ip = aggregate_pairs_indexed(f.pre_pt_root_id, f.post_pt_root_id, f["size"])
        m = build_matrix(ip, row_order="type_depth", col_order="type_depth",
                         pre_types=types, post_types=types, pre_depth=depth, post_depth=depth)
        img = downsample_matrix(m, 1600, 900)
        return m, img
    reset_peak(); base = rss()
    t, (m, img) = runs(end_to_end, n_runs)
    show("query(pre,post,size) + aggregate + order + image", t,
         f"peak +{(rss('VmHWM') - base) / 2**20:.0f} MB, {m.nnz:,} pairs")
    xs, ys = np.random.default_rng(0).integers(0, img.width, 10_000), \
        np.random.default_rng(1).integers(0, img.height, 10_000)
    t_h, _ = runs(lambda: [img.pair_at(int(x), int(y)) for x, y in zip(xs, ys)], n_runs)
    show("hover: 10,000 pixel -> pair lookups", t_h, f"{min(t_h) / 1e4 * 1e6:.2f} us each")
    # peers, same data, same run (exact results checked against each other)
    pre, post, size = (syn[c].to_numpy() for c in ("pre_pt_root_id", "post_pt_root_id", "size"))
    con = duckdb.connect()
    con.register("s", syn[["pre_pt_root_id", "post_pt_root_id", "size"]])
    peers = {
        "cavern": lambda: aggregate_pairs(pre, post, size),
        "pandas groupby": lambda: syn.groupby(["pre_pt_root_id", "post_pt_root_id"])["size"]
        .agg(["size", "sum"]),
        "duckdb group by": lambda: con.sql("SELECT pre_pt_root_id, post_pt_root_id, count(*), "
                                           "sum(size) FROM s GROUP BY 1, 2").fetchnumpy(),
        "scipy coo->csr": lambda: _scipy(pre, post, size, sp),
    }
    try:
        import polars as pl
        plf = pl.from_pandas(syn[["pre_pt_root_id", "post_pt_root_id", "size"]])
        peers["polars group_by"] = lambda: plf.group_by(["pre_pt_root_id", "post_pt_root_id"]
                                                        ).agg(pl.len(), pl.col("size").sum())
    except ImportError:
        print("  (polars not installed: left out)")
    # Each peer once untimed first (its code and buffers warm: the first one timed would
    # otherwise pay for the cold start of all), then wall and CPU time (every thread of
    # the process: DuckDB and polars use both cores, Cavern's numpy one).
    med, cpu_med = {}, {}
    for name, fn in peers.items():
        fn()
        reset_peak(); base = rss()
        wall, cpu = [], []
        for _ in range(n_runs):
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        med[name], cpu_med[name] = np.median(wall), np.median(cpu)
        show(f"aggregation: {name}", wall, f"CPU {min(cpu):.3f}-{max(cpu):.3f} s, "
             f"peak +{(rss('VmHWM') - base) / 2**20:.0f} MB, x{med[name] / med['cavern']:.2f} "
             f"of cavern's wall, x{cpu_med[name] / cpu_med['cavern']:.2f} of its CPU")
    src.close()


def _scipy(pre, post, size, sp):
    pc, pu = np.unique(pre, return_inverse=True)
    qc, qu = np.unique(post, return_inverse=True)
    return sp.coo_matrix((size, (pu, qu)), shape=(len(pc), len(qc))).tocsr()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="2000000,10000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-matrix", action="store_true")
    ap.add_argument("--all-cells", default="", metavar="ROWS",
                    help="also the all-cells matrix at these sizes, e.g. 50000000")
    ap.add_argument("--resident-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--first-query-child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.first_query_child:
        first_query_child(int(a.first_query_child[0]), a.first_query_child[1])
        return
    if a.resident_child:
        resident_child(a.resident_child)
        return
    DIR.mkdir(parents=True, exist_ok=True)
    if not a.skip_matrix:
        bench_matrix(a.runs)
    for n in (int(x) for x in a.rows.split(",") if x):
        bench_rows(n, a.runs)
    for n in (int(x) for x in a.all_cells.split(",") if x):
        print(f"\n== all-cells matrix, {n:,} synapses ==")
        bench_all_cells(n, a.runs)


if __name__ == "__main__":
    main()
