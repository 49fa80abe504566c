"""A connectivity matrix over more synapses than fit in memory, in one streaming pass.

When the synapse table is sorted by (pre, post) (a local table brought in with
``import-table``), each connected pair's synapses are consecutive rows. Reading the table
batch by batch (services.source.DataSource.sorted_synapse_scan), each batch's runs are its
pairs; pairs outside the cell sets are dropped, and what the matrix view needs is kept:

- the exact totals: connected pairs, synapses, cells with a synapse, densities;
- the exact type-by-type block matrix for every weight (pair counts, synapse counts and
  weight sums per block);
- for each display pixel, the pair with the largest weight, for each weight whose largest
  pair can differ (count; size_sum, which also orders ln and log10(1+x); size_mean).

The result is a ConnectivityMatrix that holds only those pixel pairs (``pixel_pairs_only``;
its own summary/blocks/exports refuse, so nothing is computed from the partial pairs by
mistake) with the full ordered cell axes, plus the exact summary and blocks. Its image at
the size given is the same as the in-memory matrix's image for every weight, and hover and
click find the pair each pixel shows. Memory: the cell axes and the pixel arrays, plus one
batch; never the pairs.

Cells without a synapse stay on the axes (hiding them would need a second pass), and the
degree order needs every pair: such a matrix is ordered by id, and the notes say so.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from services.connectivity.connectivity_matrix import (
    WEIGHTS, BlockMatrix, ConnectivityMatrix, _block_codes, block_matrix_of, build_matrix,
    matrix_summary)
from services.connectivity.id_lookup import IdLookup

#: weights whose best pair per pixel can differ; the others follow one of these
#: (binary: any pair; ln and log10(1 + x) of size_sum: the size_sum pair).
PIXEL_WEIGHTS = ("count", "size_sum", "size_mean")


@dataclass
class StreamedMatrix:
    matrix: ConnectivityMatrix  # pixel pairs only, full axes
    summary: dict
    blocks: dict[str, BlockMatrix] = field(default_factory=dict)  # per weight; {} untyped
    rows_read: int = 0
    notes: list[str] = field(default_factory=list)


def _weights(n: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
    """Every weight but binary of the pairs (n synapses, s summed size), as
    ConnectivityMatrix.pair_weights gives them, each conversion made once."""
    nf, sf = n.astype(np.float64), s.astype(np.float64)
    with np.errstate(divide="ignore"):
        ln = np.log(sf)
    return {"count": nf, "size_sum": sf, "ln_size_sum": ln,
            "log10_1p_size_sum": np.log10(1.0 + sf), "size_mean": sf / nf}


class _Totals:
    """What one worker thread accumulates over the batches it is given; two are merged."""

    def __init__(self, n_pix, n_rows, n_cols, n_blocks):
        self.best = {w: np.full(n_pix, -np.inf) for w in PIXEL_WEIGHTS}
        # the best pair as one number, row * n_cols + col (-1: none yet)
        self.best_rc = {w: np.full(n_pix, -1, np.int64) for w in PIXEL_WEIGHTS}
        self.best_n = {w: np.zeros(n_pix, np.int64) for w in PIXEL_WEIGHTS}
        self.best_s = {w: np.zeros(n_pix, np.float64) for w in PIXEL_WEIGHTS}
        self.blk_pairs = np.zeros(n_blocks)
        self.blk_syn = np.zeros(n_blocks)
        self.blk_w = {w: np.zeros(n_blocks) for w in WEIGHTS}
        self.active_r = np.zeros(n_rows, bool)
        self.active_c = np.zeros(n_cols, bool)
        self.n_pairs = self.n_syn = self.rows_read = 0
        self.int_sizes = True

    def merge(self, other: "_Totals") -> None:
        for w in PIXEL_WEIGHTS:
            take = other.best[w] > self.best[w]
            for mine, theirs in ((self.best, other.best), (self.best_rc, other.best_rc),
                                 (self.best_n, other.best_n), (self.best_s, other.best_s)):
                mine[w][take] = theirs[w][take]
        self.blk_pairs += other.blk_pairs
        self.blk_syn += other.blk_syn
        for w in WEIGHTS:
            self.blk_w[w] += other.blk_w[w]
        self.active_r |= other.active_r
        self.active_c |= other.active_c
        self.n_pairs += other.n_pairs
        self.n_syn += other.n_syn
        self.rows_read += other.rows_read
        self.int_sizes &= other.int_sizes


class _Layout:
    """The fixed part: ordered axes, pixel grid, block codes (shared, read only)."""

    def __init__(self, axes, image_size):
        self.n_rows, self.n_cols = axes.shape
        # display position of a root id (the axes are in display order)
        self.rows_axis, self.cols_axis = IdLookup(axes.row_ids), IdLookup(axes.col_ids)
        self.out_h = max(min(image_size[1], self.n_rows), 1)
        self.out_w = max(min(image_size[0], self.n_cols), 1)
        self.typed = axes.row_types is not None and axes.col_types is not None
        self.n_blocks = 1
        if self.typed:
            self.row_labels, self.row_code = _block_codes(axes.row_types, axes.row_blocks)
            self.col_labels, self.col_code = _block_codes(axes.col_types, axes.col_blocks)
            self.n_blocks = len(self.row_labels) * len(self.col_labels)

    def add(self, t: _Totals, pre, post, size) -> None:
        """One batch (whole pairs, in (pre, post) order) into ``t``."""
        t.rows_read += len(pre)
        if len(pre) == 0:
            return
        change = np.empty(len(pre), bool)
        change[0] = True
        np.not_equal(pre[1:], pre[:-1], out=change[1:])
        change[1:] |= post[1:] != post[:-1]
        starts = np.flatnonzero(change)
        pair_pre = pre[starts]
        # pre is sorted: look up its few distinct ids, then spread them over the pairs
        first = np.empty(len(starts), bool)
        first[0] = True
        np.not_equal(pair_pre[1:], pair_pre[:-1], out=first[1:])
        run = np.cumsum(first) - 1
        r_runs, in_runs = self.rows_axis.positions(pair_pre[first])
        r, in_r = r_runs[run], in_runs[run]
        c, in_c = self.cols_axis.positions(post[starts])
        keep = in_r & in_c
        n = np.diff(np.append(starts, len(pre)))
        if size is None:
            s = np.zeros(len(starts), np.int64)
        else:
            t.int_sizes &= size.dtype.kind in "iu"
            s = np.add.reduceat(size, starts)
        if not keep.all():  # (every pair is kept in an all-cells matrix)
            keep = np.flatnonzero(keep)
            r, c, n, s = r[keep], c[keep], n[keep], s[keep]
        if len(r) == 0:
            return
        t.n_pairs += len(r)
        t.n_syn += int(n.sum())
        t.active_r[r] = True
        t.active_c[c] = True
        # binary and count sums per block are the pair and synapse counts themselves
        values = _weights(n, s)
        if self.typed:
            flat_b = self.row_code[r] * len(self.col_labels) + self.col_code[c]
            t.blk_pairs += np.bincount(flat_b, minlength=self.n_blocks)
            t.blk_syn += np.bincount(flat_b, weights=values["count"], minlength=self.n_blocks)
            for w in WEIGHTS:
                if w not in ("binary", "count"):
                    t.blk_w[w] += np.bincount(flat_b, weights=values[w],
                                              minlength=self.n_blocks)
        # the same pixel as services.connectivity.connectivity_image.downsample_coo
        pix = (r * self.out_h // self.n_rows) * self.out_w + c * self.out_w // self.n_cols
        rc = r * self.n_cols + c
        for w in PIXEL_WEIGHTS:
            val = values[w]
            np.maximum.at(t.best[w], pix, val)
            win = np.flatnonzero(val >= t.best[w][pix])
            where = pix[win]
            t.best_rc[w][where], t.best_n[w][where], t.best_s[w][where] = (
                rc[win], n[win], s[win])


#: worker threads adding batches (numpy releases the GIL in most of the work)
WORKERS = 2


def _run(scan, layout: _Layout, cancel) -> _Totals:
    """Every batch of ``scan`` added by WORKERS threads, each into its own totals, merged."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    n_pix = layout.out_h * layout.out_w
    mine = threading.local()
    made: list[_Totals] = []
    lock = threading.Lock()

    def work(batch):
        t = getattr(mine, "totals", None)
        if t is None:
            t = mine.totals = _Totals(n_pix, layout.n_rows, layout.n_cols, layout.n_blocks)
            with lock:
                made.append(t)
        layout.add(t, *batch)

    with ThreadPoolExecutor(WORKERS, thread_name_prefix="cavern-matrix") as pool:
        pending = []
        for batch in scan.batches(cancel):
            if cancel is not None:
                cancel.raise_if_cancelled()
            pending.append(pool.submit(work, batch))
            if len(pending) > WORKERS:  # at most a few batches in memory
                pending.pop(0).result()
        for f in pending:
            f.result()
    if not made:
        return _Totals(n_pix, layout.n_rows, layout.n_cols, layout.n_blocks)
    total = made[0]
    for other in made[1:]:
        total.merge(other)
    return total


def stream_matrix(scan, pre_ids, post_ids, *, order: str = "type_depth", pre_types=None,
                  post_types=None, pre_depth=None, post_depth=None,
                  image_size: tuple[int, int] = (1600, 1200), cancel=None) -> StreamedMatrix:
    """Aggregate ``scan`` (pre, post, size batches in (pre, post) order) into the matrix of
    ``pre_ids`` x ``post_ids``; see the module doc. ``image_size`` is (width, height) of
    the image the view makes (the pixel pairs are chosen for that size)."""
    notes = []
    if order == "degree":
        order = "id"
        notes.append("Ordered by root id: ordering by degree needs every pair in memory.")
    empty = pd.DataFrame({c: np.zeros(0, np.int64) for c in
                          ("pre_pt_root_id", "post_pt_root_id", "n_synapses", "size_sum")})
    axes = build_matrix(empty, pre_ids, post_ids, row_order=order, col_order=order,
                        pre_types=pre_types, post_types=post_types, pre_depth=pre_depth,
                        post_depth=post_depth)
    layout = _Layout(axes, image_size)
    t = _run(scan, layout, cancel)
    # the pixel pairs of every weight, each pair once
    kept = {w: t.best_rc[w] >= 0 for w in PIXEL_WEIGHTS}
    prc, pn, ps = (np.concatenate([arrays[w][kept[w]] for w in PIXEL_WEIGHTS])
                   for arrays in (t.best_rc, t.best_n, t.best_s))
    prc, first = np.unique(prc, return_index=True)
    ps = ps[first]
    matrix = replace(axes, rows=prc // max(layout.n_cols, 1), cols=prc % max(layout.n_cols, 1),
                     n_synapses=pn[first],
                     size_sum=ps.astype(np.int64) if t.int_sizes else ps,
                     pixel_pairs_only=True)
    summary = matrix_summary(layout.n_rows, layout.n_cols, t.n_pairs, t.n_syn,
                             int(t.active_r.sum()), int(t.active_c.sum()),
                             layout.n_rows, layout.n_cols)
    blocks = {}
    if layout.typed:
        t.blk_w["binary"], t.blk_w["count"] = t.blk_pairs, t.blk_syn
        blocks = {w: block_matrix_of(layout.row_labels, layout.row_code, layout.col_labels,
                                     layout.col_code, t.blk_pairs, t.blk_syn, t.blk_w[w], w)
                  for w in WEIGHTS}
    notes.append(f"Aggregated on disk in one pass over {t.rows_read:,} synapse rows (too many "
                 "to load): cells without synapses stay on the axes; each pixel's pair is "
                 "kept for hover and click; exports of every pair are not available here.")
    return StreamedMatrix(matrix, summary, blocks, t.rows_read, notes)
