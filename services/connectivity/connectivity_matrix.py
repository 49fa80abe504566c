"""Sparse connectivity matrix between a presynaptic and a postsynaptic cell set.

The matrix is kept as coordinate arrays of the connected pairs (row, column, synapse count,
size sum) plus the ordered cell ids; a scipy CSR matrix of any weight is built on demand.
Nothing here allocates n_pre x n_post: 2275 x 63,718 cells would be 1.2 GB dense.

Weights (:data:`WEIGHTS`):
  binary        1 for every connected pair
  count         number of synapses
  size_sum      summed synapse size
  ln_size_sum        ln(size_sum): the MICrONS tutorial's "log summed size" (natural log;
                     connected pairs only, so it is always defined)
  log10_1p_size_sum  log10(1 + size_sum): base 10 so a reader can read orders of magnitude
  size_mean          mean synapse size of the pair

:data:`WEIGHT_FORMULAS` states each weight's formula; exports write it into the file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from models.errors import InvalidInputError
from services.connectivity.aggregation import (
    UNKNOWN_TYPE, IndexedPairs, aggregate_pairs_indexed, as_root_ids, factorize_ids,
    lookup_per_cell, order_by_degree, order_by_id, order_by_type_depth, require_columns,
    type_rank)

if TYPE_CHECKING:  # annotations only: scipy loads when a sparse matrix is made
    import scipy.sparse

WEIGHTS = ("binary", "count", "size_sum", "ln_size_sum", "log10_1p_size_sum", "size_mean")
#: What each weight is, per connected pair (exported files carry it in a column name/metadata).
WEIGHT_FORMULAS = {
    "binary": "1 per connected pair",
    "count": "number of synapses of the pair",
    "size_sum": "sum(size) over the pair's synapses",
    "ln_size_sum": "ln(sum(size)) over the pair's synapses (natural log; connected pairs only)",
    "log10_1p_size_sum": "log10(1 + sum(size)) over the pair's synapses",
    "size_mean": "sum(size) / number of synapses of the pair",
}
ORDERS = ("id", "type_depth", "degree")


@dataclass(frozen=True)
class TypeBlock:
    """A run of consecutive rows (or columns) sharing one cell type: [start, stop)."""
    label: str
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass
class BlockMatrix:
    """Type-by-type summary: one block per (pre type, post type).

    probability[i, j] = connected pairs / (cells of row type i x cells of column type j);
    mean_weight[i, j] = mean weight over the connected pairs of the block (NaN if none).
    """
    row_labels: list[str]
    col_labels: list[str]
    n_pairs: np.ndarray
    n_synapses: np.ndarray
    probability: np.ndarray
    mean_weight: np.ndarray
    weight: str

    def to_frame(self) -> pd.DataFrame:
        """Long table: pre_type, post_type, n_pairs, n_synapses, probability, mean_weight."""
        r, c = np.meshgrid(np.arange(len(self.row_labels)), np.arange(len(self.col_labels)),
                           indexing="ij")
        return pd.DataFrame({
            "pre_type": np.asarray(self.row_labels, dtype=object)[r.ravel()],
            "post_type": np.asarray(self.col_labels, dtype=object)[c.ravel()],
            "n_pairs": self.n_pairs.ravel(), "n_synapses": self.n_synapses.ravel(),
            "probability": self.probability.ravel(), "mean_weight": self.mean_weight.ravel()})


@dataclass
class ConnectivityMatrix:
    """Connected pairs of ordered pre (rows) x post (columns) cell sets.

    rows/cols index into row_ids/col_ids (already in display order); n_synapses and
    size_sum are per connected pair. row_types/col_types are the labels per row/column
    (UNKNOWN_TYPE where missing), None when no types were given.
    """
    row_ids: np.ndarray
    col_ids: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    n_synapses: np.ndarray
    size_sum: np.ndarray
    row_types: np.ndarray | None = None
    col_types: np.ndarray | None = None
    row_order: str = "id"
    col_order: str = "id"
    row_blocks: list[TypeBlock] = field(default_factory=list)
    col_blocks: list[TypeBlock] = field(default_factory=list)
    #: True for a matrix aggregated on disk (services.connectivity.streamed_matrix): its
    #: pairs are only each pixel's largest, so totals, blocks and exports must not be made
    #: from them (they refuse; the stream gave the exact ones).
    pixel_pairs_only: bool = False

    def _whole(self, what: str) -> None:
        if self.pixel_pairs_only:
            raise InvalidInputError(
                f"{what} needs every connected pair, but this matrix was aggregated on disk "
                "and holds only the pair each pixel shows.",
                hint="Use a smaller cell set, or the summary and type blocks shown.")

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.row_ids), len(self.col_ids)

    @property
    def nnz(self) -> int:
        return int(self.rows.shape[0])

    def pair_weights(self, weight: str = "count") -> np.ndarray:
        """Weight of each connected pair (float64), aligned with rows/cols."""
        if weight == "binary":
            return np.ones(self.nnz)
        if weight == "count":
            return self.n_synapses.astype(np.float64)
        if weight == "size_sum":
            return self.size_sum.astype(np.float64)
        if weight == "ln_size_sum":
            with np.errstate(divide="ignore"):  # a pair whose sizes sum to 0 gives -inf
                return np.log(self.size_sum.astype(np.float64))
        if weight == "log10_1p_size_sum":
            return np.log10(1.0 + self.size_sum.astype(np.float64))
        if weight == "size_mean":
            return self.size_sum.astype(np.float64) / self.n_synapses
        raise InvalidInputError(f"Unknown weight '{weight}'.", field="weight",
                                hint=f"Choose one of: {', '.join(WEIGHTS)}.")

    def to_csr(self, weight: str = "count") -> "scipy.sparse.csr_matrix":
        """scipy CSR matrix (float64) of the chosen weight, in display order."""
        self._whole("A sparse matrix of every pair")
        import scipy.sparse as sp  # only here: scipy is off the app's start-up path
        return sp.csr_matrix((self.pair_weights(weight), (self.rows, self.cols)),
                             shape=self.shape)

    def summary(self, n_pre_all: int | None = None, n_post_all: int | None = None) -> dict:
        """Cells pre/post, connected pairs, synapses and the binary density.

        ``density`` = connected pairs / (n_pre x n_post) of the matrix shown. The tutorial's
        density counts the WHOLE set, cells without synapses included: pass the set sizes
        (``n_pre_all``/``n_post_all``, e.g. MatrixResult.pre.ids) to get
        ``density_whole_set``; ``density_connected_cells`` is the density over the cells
        that have a synapse in the matrix (what a matrix with unconnected cells hidden shows).
        """
        self._whole("The matrix summary")
        n_pre, n_post = self.shape
        # cells with a synapse here: a bincount over the pairs (no sort of 1.4M indices)
        act_r = int(np.count_nonzero(np.bincount(self.rows, minlength=n_pre))) if self.nnz else 0
        act_c = int(np.count_nonzero(np.bincount(self.cols, minlength=n_post))) if self.nnz else 0
        return matrix_summary(n_pre, n_post, self.nnz, int(self.n_synapses.sum()), act_r,
                              act_c, n_pre_all, n_post_all)

    def pairs(self) -> pd.DataFrame:
        """Connected pairs with ids, in display order of rows then columns."""
        self._whole("The list of every pair")
        order = np.lexsort((self.cols, self.rows))
        return pd.DataFrame({
            "pre_pt_root_id": self.row_ids[self.rows[order]],
            "post_pt_root_id": self.col_ids[self.cols[order]],
            "n_synapses": self.n_synapses[order], "size_sum": self.size_sum[order]})

    def block_matrix(self, weight: str = "count") -> BlockMatrix:
        """Type-by-type connection probability and mean weight (needs types on both axes)."""
        self._whole("The type-by-type summary")
        if self.row_types is None or self.col_types is None:
            raise InvalidInputError("The type-by-type summary needs cell types for the pre "
                                    "and post cells.", hint="Choose a cell-type table.")
        row_labels, row_code = _block_codes(self.row_types, self.row_blocks)
        col_labels, col_code = _block_codes(self.col_types, self.col_blocks)
        nr, nc = len(row_labels), len(col_labels)
        flat = row_code[self.rows] * nc + col_code[self.cols]
        n_pairs = np.bincount(flat, minlength=nr * nc).reshape(nr, nc)
        n_syn = np.bincount(flat, weights=self.n_synapses, minlength=nr * nc).reshape(nr, nc)
        w_sum = np.bincount(flat, weights=self.pair_weights(weight),
                            minlength=nr * nc).reshape(nr, nc)
        return block_matrix_of(row_labels, row_code, col_labels, col_code, n_pairs, n_syn,
                               w_sum, weight)


def matrix_summary(n_pre: int, n_post: int, n_pairs: int, n_synapses: int, n_pre_connected: int,
                   n_post_connected: int, n_pre_all: int | None = None,
                   n_post_all: int | None = None) -> dict:
    """The summary of ConnectivityMatrix.summary from its counts (a matrix made on disk
    has the counts, not the pairs)."""
    cells = n_pre * n_post
    act = n_pre_connected * n_post_connected
    out = {"n_pre": n_pre, "n_post": n_post, "connected_pairs": n_pairs,
           "density": n_pairs / cells if cells else float("nan"), "n_synapses": n_synapses,
           "n_pre_connected": n_pre_connected, "n_post_connected": n_post_connected,
           "density_connected_cells": n_pairs / act if act else float("nan")}
    if n_pre_all is not None and n_post_all is not None:
        whole = int(n_pre_all) * int(n_post_all)
        out["n_pre_all"], out["n_post_all"] = int(n_pre_all), int(n_post_all)
        out["density_whole_set"] = n_pairs / whole if whole else float("nan")
    return out


def block_matrix_of(row_labels, row_code, col_labels, col_code, n_pairs, n_syn, w_sum,
                    weight: str) -> BlockMatrix:
    """A BlockMatrix from per-block sums (rows x columns of labels): pairs, synapses and the
    weight's sum; each axis' code gives the block of each of its cells."""
    nr, nc = len(row_labels), len(col_labels)
    n_pairs = np.asarray(n_pairs).reshape(nr, nc)
    cells = (np.bincount(row_code, minlength=nr)[:, None]
             * np.bincount(col_code, minlength=nc)[None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        prob = np.where(cells > 0, n_pairs / np.maximum(cells, 1), np.nan)
        mean_w = np.where(n_pairs > 0, np.asarray(w_sum).reshape(nr, nc)
                          / np.maximum(n_pairs, 1), np.nan)
    return BlockMatrix(list(row_labels), list(col_labels), n_pairs.astype(np.int64),
                       np.asarray(n_syn).reshape(nr, nc).astype(np.int64), prob, mean_w, weight)


def _block_codes(types: np.ndarray, blocks: list[TypeBlock]) -> tuple[list[str], np.ndarray]:
    # Blocks exist when the axis is ordered by type; otherwise group the labels directly.
    if blocks:
        code = np.empty(len(types), dtype=np.int64)
        labels = []
        for i, b in enumerate(blocks):
            code[b.start:b.stop] = i
            labels.append(b.label)
        return labels, code
    ranks, labels = type_rank(np.where(types == UNKNOWN_TYPE, None, types))
    return labels, ranks


def type_blocks(types_in_order) -> list[TypeBlock]:
    """Runs of equal labels along an ordered axis: boundaries and labels for drawing."""
    labels = np.asarray(types_in_order, dtype=object)
    if labels.size == 0:
        return []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.r_[0, change]
    stops = np.r_[change, labels.size]
    return [TypeBlock(str(labels[s]), int(s), int(e)) for s, e in zip(starts, stops)]


def _labels(types) -> np.ndarray:
    s = pd.Series(np.asarray(types, dtype=object))
    missing = s.isna() | (s.astype(str) == "")
    return np.where(missing, UNKNOWN_TYPE, s.astype(str)).astype(object)


def build_matrix(pairs: pd.DataFrame | IndexedPairs, pre_ids=None, post_ids=None, *,
                 row_order: str = "id", col_order: str = "id",
                 pre_types=None, post_types=None, pre_depth=None, post_depth=None,
                 type_order: Sequence[str] | None = None) -> ConnectivityMatrix:
    """Rectangular connectivity matrix of ``pre_ids`` (rows) x ``post_ids`` (columns).

    ``pairs`` is a pair table from :func:`services.connectivity.aggregation.aggregate_pairs` (or the
    :class:`~services.connectivity.aggregation.IndexedPairs` of ``aggregate_pairs_indexed``). Pairs whose
    cells are outside the sets are left out. Cell sets default to every pre / post id in
    ``pairs``; duplicates are dropped (first kept). Orders (:data:`ORDERS`):
      id          by root id
      type_depth  by cell type (``type_order`` first, others alphabetical, untyped last),
                  then depth (missing last), then id; needs types, depth optional
      degree      by total degree, highest first: connected partners in this matrix as pre
                  plus as post (a cell in both sets counts both); ties by id
    Types/depths are arrays with one value per id, or Series indexed by root id.
    """
    for name, order in (("row", row_order), ("column", col_order)):
        if order not in ORDERS:
            raise InvalidInputError(f"Unknown {name} order '{order}'.", field=f"{name}_order",
                                    hint=f"Choose one of: {', '.join(ORDERS)}.")
    if isinstance(pairs, IndexedPairs):  # from synapse_matrix: ids already factorized
        indexed, pairs = pairs, pairs.pairs
        row_ids, r = _coded_index(indexed.pre_ids, indexed.pre_code, pre_ids, "presynaptic")
        col_ids, c = _coded_index(*indexed.post_index(), post_ids, "postsynaptic")
    else:
        require_columns(pairs, ["pre_pt_root_id", "post_pt_root_id", "n_synapses",
                                "size_sum"], "pair table")
        pair_pre = as_root_ids(pairs["pre_pt_root_id"], "presynaptic ids of the pair table")
        pair_post = as_root_ids(pairs["post_pt_root_id"], "postsynaptic ids of the pair table")
        row_ids, r = _cell_index(pair_pre, pre_ids, "presynaptic cell ids")
        col_ids, c = _cell_index(pair_post, post_ids, "postsynaptic cell ids")
    keep = (r >= 0) & (c >= 0)
    if not keep.all():
        r, c = r[keep], c[keep]
    n_syn = pairs["n_synapses"].to_numpy()
    size_sum = pairs["size_sum"].to_numpy()
    if not keep.all():
        n_syn, size_sum = n_syn[keep], size_sum[keep]
    row_types = None if pre_types is None else _labels(lookup_per_cell(
        row_ids, _dedupe(pre_types, pre_ids), "pre cell types"))
    col_types = None if post_types is None else _labels(lookup_per_cell(
        col_ids, _dedupe(post_types, post_ids), "post cell types"))
    row_depth = None if pre_depth is None else lookup_per_cell(
        row_ids, _dedupe(pre_depth, pre_ids), "pre depths")
    col_depth = None if post_depth is None else lookup_per_cell(
        col_ids, _dedupe(post_depth, post_ids), "post depths")

    degree_rows = degree_cols = None
    if "degree" in (row_order, col_order):
        out_deg = np.bincount(r, minlength=len(row_ids))
        in_deg = np.bincount(c, minlength=len(col_ids))
        # A cell present on both axes: add its degree from the other axis.
        col_pos = pd.Index(col_ids).get_indexer(row_ids)
        row_pos = pd.Index(row_ids).get_indexer(col_ids)
        degree_rows = out_deg + np.where(col_pos >= 0, in_deg[np.maximum(col_pos, 0)], 0)
        degree_cols = in_deg + np.where(row_pos >= 0, out_deg[np.maximum(row_pos, 0)], 0)

    row_perm = _permutation(row_order, row_ids, row_types, row_depth, degree_rows,
                            type_order, "pre")
    col_perm = _permutation(col_order, col_ids, col_types, col_depth, degree_cols,
                            type_order, "post")
    row_rank = np.empty_like(row_perm)
    row_rank[row_perm] = np.arange(len(row_perm))
    col_rank = np.empty_like(col_perm)
    col_rank[col_perm] = np.arange(len(col_perm))
    row_types = None if row_types is None else row_types[row_perm]
    col_types = None if col_types is None else col_types[col_perm]
    return ConnectivityMatrix(
        row_ids=row_ids[row_perm], col_ids=col_ids[col_perm],
        rows=row_rank[r].astype(np.int64), cols=col_rank[c].astype(np.int64),
        n_synapses=n_syn.astype(np.int64, copy=False), size_sum=size_sum,
        row_types=row_types, col_types=col_types, row_order=row_order, col_order=col_order,
        row_blocks=type_blocks(row_types) if row_order == "type_depth" else [],
        col_blocks=type_blocks(col_types) if col_order == "type_depth" else [])


def _cell_index(pair_ids: np.ndarray, ids, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(cell ids of the axis, axis position of each pair's cell or -1 if not in the set)."""
    if ids is None:  # every cell of the pairs, sorted
        codes, uniq = factorize_ids(pair_ids)
        return uniq, codes
    cells = pd.unique(as_root_ids(ids, name))
    return cells, pd.Index(cells).get_indexer(pair_ids)


def _coded_index(uniq: np.ndarray, code: np.ndarray, ids, side: str):
    # Map the (few) distinct ids into the cell set, then gather per pair: no per-pair hashing.
    if ids is None:
        return uniq, code
    cells = pd.unique(as_root_ids(ids, f"{side} cell ids"))
    return cells, pd.Index(cells).get_indexer(uniq)[code]


def _dedupe(values, ids):
    # Per-cell arrays follow the caller's id list, which may contain duplicates we dropped.
    if ids is None or isinstance(values, pd.Series) and not isinstance(values.index,
                                                                       pd.RangeIndex):
        return values
    raw = as_root_ids(ids, "cell ids")
    first = ~pd.Index(raw).duplicated(keep="first")
    arr = np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values)
    if arr.shape[0] != raw.shape[0]:
        raise InvalidInputError(f"Got {arr.shape[0]} values for {raw.shape[0]} cells.")
    return arr[first]


def _permutation(order, ids, types, depth, degree, type_order, side) -> np.ndarray:
    if order == "id":
        return order_by_id(ids)
    if order == "degree":
        return order_by_degree(ids, degree)
    if types is None:
        raise InvalidInputError(f"Ordering the {side} cells by type needs a cell-type table.",
                                hint="Choose a cell-type table or order by id.")
    raw = np.where(types == UNKNOWN_TYPE, None, types)
    return order_by_type_depth(ids, raw, depth, type_order)


def synapse_matrix(pre, post, size=None, pre_ids=None, post_ids=None,
                   **options) -> ConnectivityMatrix:
    """Synapse arrays straight to a :class:`ConnectivityMatrix` (aggregate, then build)."""
    return build_matrix(aggregate_pairs_indexed(pre, post, size), pre_ids, post_ids,
                        **options)
