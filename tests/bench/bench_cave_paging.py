"""Benchmark: a MICrONS-tutorial-sized answer fetched completely past the server's row limit.

    python tests/bench/bench_cave_paging.py [--synapses N] [--row-limit 200000]

A deterministic synthetic synapse table (tests/bench/synthetic.py: 2,088,830 synapses from
2,275 pre onto 63,718 post cells) is served by the loopback CAVE server with its row limit
(default 200,000, the real default). CaveSource asks for pre in the 2,275 ids and post in
the 63,718 ids through the real caveclient and must get every row; the answer is checked
against LocalSource (DuckDB) over the same files. Prints pages, requests, rows/s, wall time.
Not part of the default pytest run.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from models.filters import Filter, Op  # noqa: E402
from models.query_spec import QuerySpec  # noqa: E402
from services.cave.cave_source import CaveSource  # noqa: E402
from services.local.local_source import LocalSource  # noqa: E402
from tests.bench.synthetic import N_POST, N_PRE, N_SYNAPSES, synthetic_synapses  # noqa: E402
from tests.cave_server import CaveTestServer  # noqa: E402
from tests.cave_server.datastack_writer import write_datastack  # noqa: E402

TOKEN = "bench-token"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synapses", type=int, default=N_SYNAPSES)
    ap.add_argument("--row-limit", type=int, default=200_000)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    syn, _cells = synthetic_synapses(n_synapses=args.synapses)
    pre = np.unique(syn.pre_pt_root_id.to_numpy())
    post = np.unique(syn.post_pt_root_id.to_numpy())
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_datastack(Path(tmp) / "bench", "bench_stack", {
            1: {"synapses": (syn, {"schema": "synapse", "description": "synthetic"})}})
        print(f"synthetic table: {len(syn):,} synapses, {len(pre):,} pre x {len(post):,} post "
              f"cells (target {N_SYNAPSES:,} / {N_PRE:,} / {N_POST:,}); "
              f"{time.perf_counter() - t0:.1f} s to build")
        spec = QuerySpec("synapses", "bench_stack", 1, filters=(
            Filter("pre_pt_root_id", Op.IN, tuple(int(v) for v in pre)),
            Filter("post_pt_root_id", Op.IN, tuple(int(v) for v in post))))
        with CaveTestServer(datastack_dirs=[folder], tokens={TOKEN},
                            row_limit=args.row_limit) as srv:
            src = CaveSource(srv.url, TOKEN)
            src.table_info("bench_stack", "synapses")  # connect + probe: not timed
            srv.clear_requests()
            ticks = []
            t1 = time.perf_counter()
            res = src.query(spec, progress=lambda d, t, r: ticks.append(
                (time.perf_counter() - t1, d, t, r)))
            wall = time.perf_counter() - t1
            src.close()
            n_req = len(srv.requests)
        for at, done, total, rows in ticks:
            print(f"  {at:7.2f} s  page {done:3d} / ~{total:3d}  {rows:>10,} rows")
        t2 = time.perf_counter()
        local = LocalSource([folder])
        truth = local.query(spec).frame
        local.close()
        local_s = time.perf_counter() - t2
    same = np.array_equal(np.sort(res.frame["id"].to_numpy()), np.sort(truth["id"].to_numpy()))
    n = len(res.frame)
    print(f"CaveSource: {n:,} rows in {wall:.2f} s ({n / wall:,.0f} rows/s), "
          f"{n_req} HTTP requests, truncated={res.truncated}")
    for note in res.notes:
        print("  note:", note)
    print(f"LocalSource (DuckDB) answer: {len(truth):,} rows in {local_s:.2f} s; "
          f"equal ids: {same}; no duplicates: {res.frame['id'].is_unique}")
    ok = same and not res.truncated and res.frame["id"].is_unique
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
