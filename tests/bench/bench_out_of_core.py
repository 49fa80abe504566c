"""Out-of-core results: a local table bigger than the memory budget, kept in DuckDB.

    python3 tests/bench/bench_out_of_core.py [--rows 2000000,50000000] [--runs 3] [--browse-only]

Per size: open into the result model (query -> DiskRows -> the first screen of cells),
a far page while scrolling, sort by a column in DuckDB, a quick filter in DuckDB, and
the peak RSS of each (VmHWM, reset before each step). Tables are the unsorted dumps of
tests/bench/bench_scale.py in $CAVERN_BENCH_DIR (default /tmp/cavern_bench), generated
there if missing (deterministic, never committed). Targets: first screen < 1 s, RSS < 4 GB.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a file or with -m
from tests.bench.bench_scale import reset_peak, rss  # noqa: E402
from tests.bench.synthetic import write_synapse_parquet  # noqa: E402

DIR = Path(os.environ.get("CAVERN_BENCH_DIR", "/tmp/cavern_bench"))
SCREEN_ROWS = 40


def table(n_rows: int) -> Path:
    dump = DIR / f"dump_{n_rows}" / "synapses.parquet"
    if not dump.exists():
        dump.parent.mkdir(parents=True, exist_ok=True)
        write_synapse_parquet(dump, n_rows)
    return dump.parent


def open_rows(folder):
    from models.query_spec import QuerySpec
    from services.local.local_source import LocalSource
    from services.results.disk_rows import DiskRows
    src = LocalSource([folder])
    src.memory_budget = 1 << 20  # everything here is "bigger than memory"
    res = src.query(QuerySpec(table="synapses", datastack=src.datastacks()[0], version=0))
    rows = DiskRows(res.frame)
    screen = [rows.text(r, c) for r in range(SCREEN_ROWS) for c in range(len(rows.names))]
    return src, rows, screen


def measure(label, fn, runs, setup=None):
    times, peaks, out = [], [], None
    for _ in range(runs):
        arg = setup() if setup else None
        gc.collect()
        reset_peak()
        t0 = time.perf_counter()
        out = fn(arg) if setup else fn()
        times.append(time.perf_counter() - t0)
        peaks.append(rss("VmHWM"))
    print(f"  {label:<46} {min(times):8.3f}-{max(times):8.3f} s  peak RSS "
          f"{max(peaks) / 2**30:.2f} GB", flush=True)
    return out, times


def bench(n_rows: int, runs: int, browse_only: bool = False) -> None:
    print(f"\n== {n_rows:,} rows, out of core ==", flush=True)
    folder = table(n_rows)
    (src, rows, _), t = measure("open -> first screen of rows", lambda: open_rows(folder), runs)
    print(f"    first screen target < 1 s: {'ok' if max(t) < 1 else 'OVER'}")
    far = iter(range(1, 10_000))

    def far_page():
        r = (104_729 * 7919 * next(far)) % n_rows  # a page not yet cached
        return [rows.text(r, c) for c in range(len(rows.names))]
    measure("scroll: a far row (page fetch)", far_page, max(runs, 5))
    if browse_only:  # a sort or filter of 337M rows takes minutes a run
        rows.close()
        src.close()
        return
    size = rows.names.index("size")

    def fresh():  # a new result each run, so the sort is not served from its cache
        s, r, _ = open_rows(folder)
        return s, r

    def sort(arg):
        _s, r = arg
        r.sort(size, True)
        return [r.text(i, size) for i in range(SCREEN_ROWS)]
    measure("sort by size (descending), in DuckDB", sort, runs, fresh)
    needle = rows.text(n_rows // 2, 1)[-9:]

    def filt(arg):
        _s, r = arg
        r.set_filter(needle)
        return r.n_rows
    n, _t = measure(f"quick filter '{needle}' (all columns), in DuckDB", filt, runs, fresh)
    print(f"    {n:,} rows match; pages held at most {rows.peak_rows_held:,} rows")
    rows.close()
    src.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="2000000,50000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--browse-only", action="store_true",
                    help="only open and scroll (no sort or quick filter)")
    args = ap.parse_args()
    for n in (int(x) for x in args.rows.split(",")):
        bench(n, args.runs, args.browse_only)


if __name__ == "__main__":
    main()
