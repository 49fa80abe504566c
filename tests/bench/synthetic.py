"""Deterministic synthetic synapse table the size of the MICrONS tutorial's example.

The tutorial pivots 2,088,830 synapses from 2275 proofread cells onto 63,718 known cells.
This builds a table with exactly those counts and CAVE column names (id, pre_pt_root_id,
post_pt_root_id, size), with the features that matter for speed and correctness:
root-id-like int64 ids (18 digits, so a float64 would corrupt them), heavy-tailed out- and
in-degrees, repeated synapses per connection, log-normal synapse sizes, and a matching
cell table (pt_root_id, cell_type, depth_um) in which some cells have no type.
Nothing here is real data; it exists only for benchmarks and scale tests.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

N_SYNAPSES = 2_088_830
N_PRE = 2275
N_POST = 63_718
# minnie65 root ids in the bundled samples run from 864691131547169245 to
# 864691137199860033: ~5.7e9 apart (33 bits). The synthetic ids spread the same way.
ROOT_BASE = 864_691_131_500_000_000
ROOT_SPAN = 5_700_000_000

# (type, depth range in um, share of cells): a rough cortical column, layer by layer.
CELL_TYPES = [
    ("23P", (100, 350), 0.25), ("4P", (350, 500), 0.17), ("5P-IT", (500, 700), 0.12),
    ("5P-ET", (550, 700), 0.03), ("5P-NP", (550, 700), 0.02), ("6P-IT", (700, 950), 0.12),
    ("6P-CT", (700, 950), 0.12), ("BC", (100, 950), 0.06), ("MC", (100, 950), 0.04),
    ("BPC", (100, 700), 0.03), ("NGC", (50, 950), 0.01)]
UNTYPED_SHARE = 0.03


def _root_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    # Distinct ids (positive random gaps) spread over ROOT_SPAN, all 18 digits, int64.
    gaps = rng.integers(1, max(2 * ROOT_SPAN // n, 2), n, dtype=np.int64)
    return rng.permutation(ROOT_BASE + np.cumsum(gaps))


def synthetic_synapses(seed: int = 0, n_synapses: int = N_SYNAPSES, n_pre: int = N_PRE,
                       n_post: int = N_POST) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(synapses, cells) for the given seed; same seed, same tables.

    Every one of the n_pre presynaptic and n_post postsynaptic cells has at least one
    synapse. Most presynaptic cells are also postsynaptic (proofread cells are known cells).
    """
    if n_post < n_pre:
        raise ValueError("n_post must be at least n_pre")
    rng = np.random.default_rng(seed)
    post_cells = _root_ids(rng, n_post)
    # 90 % of the presynaptic cells are among the postsynaptic ones, the rest are new.
    n_shared = int(n_pre * 0.9)
    extra = post_cells.max() + np.arange(1, n_pre - n_shared + 1, dtype=np.int64) * 7919
    pre_cells = np.concatenate([post_cells[:n_shared], extra])

    # Connections first, then synapses per connection (geometric: mostly 1, a tail of many).
    n_conn = int(n_synapses / 1.4)
    out_w = rng.lognormal(0.0, 1.0, n_pre)
    in_w = rng.lognormal(0.0, 1.2, n_post)
    pre_idx = np.searchsorted(np.cumsum(out_w) / out_w.sum(), rng.random(n_conn))
    post_idx = np.searchsorted(np.cumsum(in_w) / in_w.sum(), rng.random(n_conn))
    pre_idx = np.minimum(pre_idx, n_pre - 1)
    post_idx = np.minimum(post_idx, n_post - 1)
    # Guarantee every cell appears at least once.
    pre_idx[:n_pre] = rng.permutation(n_pre)
    post_idx[:n_post] = rng.permutation(n_post)
    mult = rng.geometric(1 / 1.4, n_conn)
    # Trim or pad the multiplicities so the row count is exact.
    total = np.cumsum(mult)
    if total[-1] >= n_synapses:
        last = int(np.searchsorted(total, n_synapses))
        mult = mult[:last + 1].copy()
        mult[-1] -= int(total[last] - n_synapses)
        pre_idx, post_idx = pre_idx[:last + 1], post_idx[:last + 1]
    else:
        extra_rows = rng.integers(0, n_conn, n_synapses - int(total[-1]))
        mult = mult + np.bincount(extra_rows, minlength=n_conn)
    keep = mult > 0
    pre_idx, post_idx, mult = pre_idx[keep], post_idx[keep], mult[keep]
    syn_pre = np.repeat(pre_cells[pre_idx], mult)
    syn_post = np.repeat(post_cells[post_idx], mult)
    order = rng.permutation(n_synapses)  # synapse tables are not sorted by pair
    sizes = np.maximum(1, rng.lognormal(5.5, 1.0, n_synapses)).astype(np.int64)
    synapses = pd.DataFrame({
        "id": np.arange(1, n_synapses + 1, dtype=np.int64) * 3 + 100_000,
        "pre_pt_root_id": syn_pre[order], "post_pt_root_id": syn_post[order],
        "size": sizes})

    cells_ids = np.union1d(pre_cells, post_cells)
    shares = np.array([s for _, _, s in CELL_TYPES])
    kind = rng.choice(len(CELL_TYPES), size=cells_ids.size, p=shares / shares.sum())
    lo = np.array([r[0] for _, r, _ in CELL_TYPES], dtype=np.float64)[kind]
    hi = np.array([r[1] for _, r, _ in CELL_TYPES], dtype=np.float64)[kind]
    depth = lo + (hi - lo) * rng.random(cells_ids.size)
    types = np.array([t for t, _, _ in CELL_TYPES], dtype=object)[kind]
    types[rng.random(cells_ids.size) < UNTYPED_SHARE] = None
    cells = pd.DataFrame({"pt_root_id": cells_ids, "cell_type": types,
                          "depth_um": np.round(depth, 2)})
    return synapses, cells


if __name__ == "__main__":
    import time
    t0 = time.perf_counter()
    syn, cells = synthetic_synapses()
    print(f"{len(syn):,} synapses, {syn.pre_pt_root_id.nunique():,} pre x "
          f"{syn.post_pt_root_id.nunique():,} post cells, {len(cells):,} cells; "
          f"{time.perf_counter() - t0:.2f} s")


# ----------------------------------------------------------------------------- big tables
def synapse_table_chunks(n_rows: int, seed: int = 0, chunk_rows: int = 2_000_000):
    """A synapse table of ``n_rows`` (id, pre/post root ids, size, ctr_pt_position) as
    pyarrow tables of ``chunk_rows``, in id order like a CAVE dump; same seed, same rows.

    The cell pools grow with the table (one cell per ~400 synapses, as in minnie65:
    337M synapses, ~800k segments with many synapses), degrees are heavy-tailed."""
    import pyarrow as pa
    rng = np.random.default_rng(seed)
    n_cells = max(2_000, n_rows // 400)
    cells = _root_ids(rng, n_cells)
    weight = rng.lognormal(0.0, 1.2, n_cells)
    cdf = np.cumsum(weight) / weight.sum()
    for k, start in enumerate(range(0, n_rows, chunk_rows)):
        n = min(chunk_rows, n_rows - start)
        r = np.random.default_rng([seed, k])
        pre = cells[np.minimum(np.searchsorted(cdf, r.random(n)), n_cells - 1)]
        post = cells[np.minimum(np.searchsorted(cdf, r.random(n)), n_cells - 1)]
        size = np.maximum(1, r.lognormal(5.5, 1.0, n)).astype(np.int64)
        xyz = r.integers([60_000, 40_000, 14_000], [280_000, 240_000, 28_000], (n, 3))
        pos = pa.FixedSizeListArray.from_arrays(pa.array(xyz.reshape(-1)), 3)
        yield pa.table({
            "id": np.arange(start + 1, start + n + 1, dtype=np.int64),
            "pre_pt_root_id": pre, "post_pt_root_id": post, "size": size,
            "ctr_pt_position": pos.cast(pa.list_(pa.int64()))})


def write_synapse_parquet(path, n_rows: int, seed: int = 0) -> None:
    """The table of :func:`synapse_table_chunks` as one unsorted Parquet file (a dump)."""
    import pyarrow.parquet as pq
    writer = None
    try:
        for chunk in synapse_table_chunks(n_rows, seed):
            if writer is None:
                writer = pq.ParquetWriter(str(path), chunk.schema, compression="zstd")
            writer.write_table(chunk, row_group_size=1_000_000)
    finally:
        if writer is not None:
            writer.close()
