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
    WEIGHTS, BlockMatrix, ConnectivityMatrix, _block_codes, build_matrix)

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


def _pair_weights(weight: str, n: np.ndarray, s: np.ndarray) -> np.ndarray:
    s = s.astype(np.float64)
    if weight == "binary":
        return np.ones(n.shape[0])
    if weight == "count":
        return n.astype(np.float64)
    if weight == "size_sum":
        return s
    if weight == "ln_size_sum":
        with np.errstate(divide="ignore"):
            return np.log(s)
    if weight == "log10_1p_size_sum":
        return np.log10(1.0 + s)
    return s / n  # size_mean


class _Axis:
    """An ordered cell axis: display position of a root id by binary search."""

    def __init__(self, ids_in_order: np.ndarray):
        self.n = len(ids_in_order)
        self.order = np.argsort(ids_in_order, kind="stable")
        self.sorted = ids_in_order[self.order]

    def positions(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(display positions, whether each id is on the axis)."""
        if self.n == 0:
            return np.zeros(len(ids), np.int64), np.zeros(len(ids), bool)
        k = np.minimum(np.searchsorted(self.sorted, ids), self.n - 1)
        return self.order[k], self.sorted[k] == ids


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
    n_rows, n_cols = axes.shape
    rows_axis, cols_axis = _Axis(axes.row_ids), _Axis(axes.col_ids)
    out_h, out_w = max(min(image_size[1], n_rows), 1), max(min(image_size[0], n_cols), 1)
    n_pix = out_h * out_w
    best = {w: np.full(n_pix, -np.inf) for w in PIXEL_WEIGHTS}
    best_r = {w: np.full(n_pix, -1, np.int64) for w in PIXEL_WEIGHTS}
    best_c = {w: np.zeros(n_pix, np.int64) for w in PIXEL_WEIGHTS}
    best_n = {w: np.zeros(n_pix, np.int64) for w in PIXEL_WEIGHTS}
    best_s = {w: np.zeros(n_pix, np.float64) for w in PIXEL_WEIGHTS}
    typed = axes.row_types is not None and axes.col_types is not None
    if typed:
        row_labels, row_code = _block_codes(axes.row_types, axes.row_blocks)
        col_labels, col_code = _block_codes(axes.col_types, axes.col_blocks)
        n_blocks = len(row_labels) * len(col_labels)
        blk_pairs = np.zeros(n_blocks)
        blk_syn = np.zeros(n_blocks)
        blk_w = {w: np.zeros(n_blocks) for w in WEIGHTS}
    active_r = np.zeros(n_rows, bool)
    active_c = np.zeros(n_cols, bool)
    n_pairs = n_syn = rows_read = 0
    int_sizes = True
    for pre, post, size in scan.batches(cancel):
        rows_read += len(pre)
        if len(pre) == 0:
            continue
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
        r_runs, in_runs = rows_axis.positions(pair_pre[first])
        r, in_r = r_runs[run], in_runs[run]
        c, in_c = cols_axis.positions(post[starts])
        keep = in_r & in_c
        n = np.diff(np.append(starts, len(pre)))
        if size is None:
            s = np.zeros(len(starts), np.int64)
        else:
            int_sizes &= size.dtype.kind in "iu"
            s = np.add.reduceat(size, starts)
        r, c, n, s = r[keep], c[keep], n[keep], s[keep]
        if cancel is not None:
            cancel.raise_if_cancelled()
        if len(r) == 0:
            continue
        n_pairs += len(r)
        n_syn += int(n.sum())
        active_r[r] = True
        active_c[c] = True
        # binary and count sums per block are the pair and synapse counts themselves
        values = {w: _pair_weights(w, n, s) for w in WEIGHTS if w != "binary"}
        if typed:
            flat_b = row_code[r] * len(col_labels) + col_code[c]
            blk_pairs += np.bincount(flat_b, minlength=n_blocks)
            blk_syn += np.bincount(flat_b, weights=values["count"], minlength=n_blocks)
            for w in WEIGHTS:
                if w not in ("binary", "count"):
                    blk_w[w] += np.bincount(flat_b, weights=values[w], minlength=n_blocks)
        # the same pixel as services.connectivity.connectivity_image.downsample_coo
        pix = (r * out_h // n_rows) * out_w + c * out_w // n_cols
        for w in PIXEL_WEIGHTS:
            val = values[w]
            np.maximum.at(best[w], pix, val)
            win = val >= best[w][pix]
            where = pix[win]
            best_r[w][where], best_c[w][where] = r[win], c[win]
            best_n[w][where], best_s[w][where] = n[win], s[win]
    # the pixel pairs of every weight, each pair once
    pr = np.concatenate([best_r[w][best_r[w] >= 0] for w in PIXEL_WEIGHTS])
    pc = np.concatenate([best_c[w][best_r[w] >= 0] for w in PIXEL_WEIGHTS])
    pn = np.concatenate([best_n[w][best_r[w] >= 0] for w in PIXEL_WEIGHTS])
    ps = np.concatenate([best_s[w][best_r[w] >= 0] for w in PIXEL_WEIGHTS])
    _, first = np.unique(pr * max(n_cols, 1) + pc, return_index=True)
    ps = ps[first]
    matrix = replace(axes, rows=pr[first], cols=pc[first], n_synapses=pn[first],
                     size_sum=ps.astype(np.int64) if int_sizes else ps,
                     pixel_pairs_only=True)
    n_ar, n_ac = int(active_r.sum()), int(active_c.sum())
    cells = n_rows * n_cols
    summary = {"n_pre": n_rows, "n_post": n_cols, "connected_pairs": n_pairs,
               "density": n_pairs / cells if cells else float("nan"), "n_synapses": n_syn,
               "n_pre_connected": n_ar, "n_post_connected": n_ac,
               "density_connected_cells": n_pairs / (n_ar * n_ac) if n_ar * n_ac else
               float("nan"),
               "n_pre_all": n_rows, "n_post_all": n_cols,
               "density_whole_set": n_pairs / cells if cells else float("nan")}
    blocks = {}
    if typed:
        shape = (len(row_labels), len(col_labels))
        cells_b = (np.bincount(row_code, minlength=shape[0])[:, None]
                   * np.bincount(col_code, minlength=shape[1])[None, :])
        pairs_b = blk_pairs.reshape(shape)
        with np.errstate(invalid="ignore", divide="ignore"):
            prob = np.where(cells_b > 0, pairs_b / np.maximum(cells_b, 1), np.nan)
            blk_w["binary"], blk_w["count"] = blk_pairs, blk_syn
            for w in WEIGHTS:
                mean_w = np.where(pairs_b > 0, blk_w[w].reshape(shape) / np.maximum(pairs_b, 1),
                                  np.nan)
                blocks[w] = BlockMatrix(row_labels, col_labels, pairs_b.astype(np.int64),
                                        blk_syn.reshape(shape).astype(np.int64), prob, mean_w, w)
    notes.append(f"Aggregated on disk in one pass over {rows_read:,} synapse rows (too many "
                 "to load): cells without synapses stay on the axes; each pixel's pair is "
                 "kept for hover and click; exports of every pair are not available here.")
    return StreamedMatrix(matrix, summary, blocks, rows_read, notes)
