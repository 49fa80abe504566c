"""The connectivity matrix of two cell sets, read from a DataSource with filters pushed down.

A cell set is the rows of a cell table matching filters, or pasted root ids
(:class:`CellSetSpec`, resolved with their types and depths by :func:`resolve_cell_set`); a
matrix's synapses are one query with ``pre_pt_root_id in <pre set>`` and
``post_pt_root_id in <post set>`` (:func:`compute_matrix`), aggregated in memory, by the
source (DuckDB GROUP BY), or in one streaming pass over a sorted table when there are too
many to load. Then the matrix as exported frames: one row per connected pair
(:func:`matrix_long_frame`) or pre x post cells (:func:`matrix_wide_frame`). No whole table
is loaded to be filtered, so the same code works on a local folder and on a CAVE server.
Qt-free: the GUI runs these in workers, the CLI calls them directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from models.datastack import TableInfo
from models.errors import InvalidInputError, NotSortedError
from models.filters import Filter, Op
from models.ids import parse_id
from services.connectivity.aggregation import (IndexedPairs, aggregate_pairs_indexed,
                                               as_root_ids, factorize_ids, require_columns)
from services.connectivity.connectivity_matrix import (WEIGHT_FORMULAS, ConnectivityMatrix,
                                                       build_matrix)
from services.connectivity.connectivity_queries import (POST, PRE, annotate_rows,
                                                        cell_annotations, cell_columns, ids_in)
from services.source import CancelToken
from services.workspace import Workspace


# ----------------------------------------------------------------------------- cell sets
@dataclass(frozen=True)
class CellSetSpec:
    """A cell set: the rows of a cell table matching ``filters``, or pasted ``root_ids``
    (annotated from ``type_table`` if given)."""
    table: str | None = None
    filters: tuple[Filter, ...] = ()
    root_ids: tuple[int, ...] = ()
    type_table: str | None = None
    type_col: str | None = None

    def describe(self) -> str:
        if self.root_ids:
            return f"{len(self.root_ids)} pasted root ids"
        f = "; ".join(x.describe() for x in self.filters)
        return f"{self.table}" + (f" where {f}" if f else "")


@dataclass
class CellSet:
    ids: np.ndarray  # int64, unique
    annotations: pd.DataFrame  # cell_type, n_type_labels, depth_um indexed by root id


def resolve_cell_set(ws: Workspace, spec: CellSetSpec,
                     cancel: CancelToken | None = None) -> CellSet:
    if spec.root_ids:
        ids = pd.unique(as_root_ids(list(spec.root_ids)))
        ws.check_root_ids(ids)
        ann = cell_annotations(ws, ids, spec.type_table, spec.type_col, cancel)
        return CellSet(ids, ann.reindex(ids))
    if not spec.table:
        raise InvalidInputError("Choose a cell table or paste root ids.", field="cells")
    role = ws.table(spec.table)
    cols = cell_columns(role.info, spec.type_col)
    wanted = [c for c in (cols.root_col, cols.type_col, cols.position_col) if c]
    rows = ws.complete_frame(role, spec.filters, wanted, cancel)
    ann = annotate_rows(rows, cols, ws.info, role.info)
    return CellSet(ann.index.to_numpy(dtype=np.int64), ann)


# ----------------------------------------------------------------------------- matrix
@dataclass
class MatrixResult:
    matrix: ConnectivityMatrix
    synapses: pd.DataFrame  # synapses among the two sets
    pre: CellSet
    post: CellSet
    n_hidden: int = 0  # cells left out because they have no synapse in the matrix
    notes: list[str] = field(default_factory=list)  # e.g. a table read at another version
    summary: dict | None = None  # ConnectivityMatrix.summary of the whole sets, once made
    image: tuple | None = None  # (weight, display image) once made, e.g. in the worker
    blocks: dict | None = None  # weight -> exact BlockMatrix: every weight for a matrix
    # made on disk; the weight shown first when made in the GUI's worker


def fetch_set_synapses(ws: Workspace, pre_ids, post_ids,
                       cancel: CancelToken | None = None) -> pd.DataFrame:
    """Synapses with pre in ``pre_ids`` and post in ``post_ids`` (one pushed-down query;
    the source batches long id lists and pages past a server's row limit)."""
    pre_ids, post_ids = as_root_ids(pre_ids), as_root_ids(post_ids)
    for name, ids in (("presynaptic", pre_ids), ("postsynaptic", post_ids)):
        if len(ids) == 0:
            raise InvalidInputError(f"The {name} cell set is empty.",
                                    hint="Loosen the filters or paste root ids.")
    role = ws.synapse_table()
    # Only what the matrix needs: a pair's full rows are fetched when it is clicked.
    columns = [c for c in (PRE, POST, "size") if c in role.info.kinds]
    frame = ws.complete_frame(role, [ids_in(PRE, pre_ids), ids_in(POST, post_ids)], columns, cancel)
    frame.attrs["notes"] = [role.note] if role.note else []
    return frame


def _synapse_columns(info: TableInfo) -> list[str]:
    """The columns a clicked pair's synapses show (those the table has)."""
    wanted = ["id", PRE, POST, "size", "ctr_pt_position"]
    return [c for c in wanted if c in info.kinds]


def fetch_pair_synapses(ws: Workspace, pre: int, post: int,
                        cancel: CancelToken | None = None) -> pd.DataFrame:
    """Every column of the synapses of one (pre, post) pair: what a click on the matrix
    shows (one pushed-down query; a sorted local table answers it from one row group)."""
    role = ws.synapse_table()
    pre, post = parse_id(pre, PRE, "root id"), parse_id(post, POST, "root id")
    frame = ws.complete_frame(role, [Filter(PRE, Op.EQ, pre), Filter(POST, Op.EQ, post)],
                              _synapse_columns(role.info), cancel)
    return frame.reset_index(drop=True)


#: Synapses a matrix loads into memory (~24 B each for pre/post/size); beyond it a source
#: that can aggregate (LocalSource.synapse_pairs: DuckDB GROUP BY) does so out of core.
MATRIX_MEMORY_SYNAPSES = 40_000_000


def _pairs_out_of_core(ws: Workspace, pre_ids, post_ids, cancel=None,
                       budget: int | None = None) -> IndexedPairs | None:
    if len(pre_ids) == 0 or len(post_ids) == 0:
        return None  # empty sets: fetch_set_synapses says so
    role = ws.synapse_table()
    filters = [ids_in(PRE, pre_ids), ids_in(POST, post_ids)]
    budget = MATRIX_MEMORY_SYNAPSES if budget is None else budget
    pairs = ws.source.synapse_pairs(ws.datastack, role.name, role.version, filters, cancel,
                                    min_rows=budget)
    if pairs is None:
        return None
    pre_code, pre_uniq = factorize_ids(pairs[PRE].to_numpy())
    return IndexedPairs(pairs, pre_uniq, pre_code)


def _usable_order(order: str, pre: CellSet, post: CellSet) -> str:
    """``order``, or "id" when it is by type and a set has no types (pasted ids without a
    type table)."""
    if order == "type_depth" and (pre.annotations["cell_type"].isna().all()
                                  or post.annotations["cell_type"].isna().all()):
        return "id"
    return order


def _streamed(ws: Workspace, pre: CellSet, post: CellSet, order: str, image_size,
              cancel=None, budget: int | None = None) -> MatrixResult | None:
    """The matrix aggregated in one pass over a (pre, post)-sorted table, when more than
    ``budget`` synapse rows can match; else None (the in-memory or GROUP BY paths)."""
    from services.connectivity.streamed_matrix import stream_matrix
    if len(pre.ids) == 0 or len(post.ids) == 0:
        return None
    role = ws.synapse_table()
    size = "size" if "size" in role.info.kinds else None
    scan = ws.source.sorted_synapse_scan(ws.datastack, role.name, role.version, pre.ids,
                                         PRE, POST, size)
    budget = MATRIX_MEMORY_SYNAPSES if budget is None else budget
    if scan is None or scan.rows_bound <= budget:
        return None
    order = _usable_order(order, pre, post)
    try:
        got = stream_matrix(scan, pre.ids, post.ids, order=order,
                            pre_types=pre.annotations["cell_type"],
                            post_types=post.annotations["cell_type"],
                            pre_depth=pre.annotations["depth_um"],
                            post_depth=post.annotations["depth_um"],
                            image_size=image_size, cancel=cancel)
    except NotSortedError:
        return None  # the footer looked sorted, the rows were not: GROUP BY instead
    syn = pd.DataFrame({PRE: np.zeros(0, np.int64), POST: np.zeros(0, np.int64)})
    notes = [*([role.note] if role.note else []), *got.notes,
             *pre.annotations.attrs.get("notes", ()),
             *(post.annotations.attrs.get("notes", ()) if post is not pre else ())]
    return MatrixResult(got.matrix, syn, pre, post, 0, list(dict.fromkeys(notes)),
                        summary=got.summary, blocks=got.blocks)


def _connected(pre_ids: np.ndarray, post_ids: np.ndarray, pair_pre: np.ndarray,
               pair_post: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The cells of either set that are in a pair, in either role (so a cell in both sets
    stays on both axes), each set in its own order, and how many distinct cells are left
    out. From the pairs' distinct ids (thousands), not a union over millions of synapses;
    one sorted array of the sets' cells and binary searches in it."""
    cells = np.unique(np.concatenate([pre_ids, post_ids]))
    if len(cells) == 0:
        return pre_ids, post_ids, 0
    active = np.zeros(len(cells) + 1, dtype=bool)  # the last slot: ids past every cell
    for ids in (pair_pre, pair_post):
        pos = np.searchsorted(cells, ids)
        pos[cells[np.minimum(pos, len(cells) - 1)] != ids] = len(cells)  # not in a set
        active[pos] = True
    active = active[:-1]
    keep_pre = active[np.searchsorted(cells, pre_ids)]
    keep_post = active[np.searchsorted(cells, post_ids)]
    return pre_ids[keep_pre], post_ids[keep_post], int(len(cells) - active.sum())


def compute_matrix(ws: Workspace, pre_spec: CellSetSpec, post_spec: CellSetSpec | None = None, *,
                   order: str = "type_depth", hide_unconnected: bool = True,
                   image_size: tuple[int, int] = (1600, 1200),
                   cancel: CancelToken | None = None) -> MatrixResult:
    """Cell sets -> their synapses -> a sparse ordered matrix (``post_spec`` None: same set).

    ``hide_unconnected`` drops cells with no synapse inside the matrix; a cell in both sets
    stays on both axes if it has a synapse in either role, so a square subgraph stays square.
    More synapses than MATRIX_MEMORY_SYNAPSES in a table sorted by (pre, post) are
    aggregated in one streaming pass (services.connectivity.streamed_matrix; the matrix
    holds each pixel's pair for ``image_size``, the summary and blocks are exact).
    """
    pre = resolve_cell_set(ws, pre_spec, cancel)
    post = pre if post_spec is None or post_spec == pre_spec else resolve_cell_set(
        ws, post_spec, cancel)
    streamed = _streamed(ws, pre, post, order, image_size, cancel)
    if streamed is not None:
        return streamed
    indexed = _pairs_out_of_core(ws, pre.ids, post.ids, cancel)
    if indexed is None:
        syn = fetch_set_synapses(ws, pre.ids, post.ids, cancel)
        if cancel:
            cancel.raise_if_cancelled()
        require_columns(syn, [PRE, POST], "synapse table")
        indexed = aggregate_pairs_indexed(syn[PRE], syn[POST],
                                          syn["size"] if "size" in syn.columns else None)
    else:  # aggregated by the source: the synapses never came into memory
        syn = pd.DataFrame({PRE: np.zeros(0, np.int64), POST: np.zeros(0, np.int64)})
        syn.attrs["notes"] = ["The synapses were aggregated on disk (too many to load); "
                              "a pair's synapses are fetched when it is clicked."]
    pre_ids, post_ids, hidden = pre.ids, post.ids, 0
    indexed.index_posts_within(post.ids)  # the pairs' post ids were chosen from the set
    if hide_unconnected:
        pre_ids, post_ids, hidden = _connected(pre.ids, post.ids, indexed.pre_ids,
                                               indexed.post_index()[0])
    order = _usable_order(order, pre, post)
    matrix = build_matrix(
        indexed, pre_ids, post_ids, row_order=order, col_order=order,
        pre_types=pre.annotations["cell_type"], post_types=post.annotations["cell_type"],
        pre_depth=pre.annotations["depth_um"], post_depth=post.annotations["depth_um"])
    notes = [*syn.attrs.get("notes", ()), *pre.annotations.attrs.get("notes", ()),
             *(post.annotations.attrs.get("notes", ()) if post is not pre else ())]
    return MatrixResult(matrix, syn, pre, post, hidden, list(dict.fromkeys(notes)))


def matrix_long_frame(matrix: ConnectivityMatrix, weight: str = "count") -> pd.DataFrame:
    """Connected pairs: pre_pt_root_id, post_pt_root_id, weight, n_synapses, weight_formula
    (display order). ``weight_formula`` states what ``weight`` is, so the file says it."""
    matrix._whole("Exporting every pair")
    order = np.lexsort((matrix.cols, matrix.rows))
    w = matrix.pair_weights(weight)
    frame = pd.DataFrame({PRE: matrix.row_ids[matrix.rows[order]],
                          POST: matrix.col_ids[matrix.cols[order]],
                          "weight": w[order],
                          "n_synapses": matrix.n_synapses[order].astype(np.int64),
                          "weight_formula": f"{weight} = {WEIGHT_FORMULAS[weight]}"})
    frame.attrs["weight_formula"] = f"{weight} = {WEIGHT_FORMULAS[weight]}"
    return frame


MAX_WIDE_CELLS = 25_000_000  # a wide CSV beyond this is hundreds of MB of zeros


def matrix_wide_frame(matrix: ConnectivityMatrix, weight: str = "count") -> pd.DataFrame:
    """Rows = pre cells, columns = post cells (root ids as text headers), zeros where unconnected."""
    n_pre, n_post = matrix.shape
    if n_pre * n_post > MAX_WIDE_CELLS:
        raise InvalidInputError(
            f"A wide table of {n_pre:,} x {n_post:,} cells is too large.",
            hint="Export the long format (one row per connected pair) instead.")
    dense = matrix.to_csr(weight).toarray()
    if weight == "ln_size_sum":
        dense[matrix.to_csr("binary").toarray() == 0] = np.nan  # ln is undefined unconnected
    frame = pd.DataFrame(dense, columns=[str(c) for c in matrix.col_ids])
    # The first column's header states the weight's formula (a wide CSV has no other place).
    frame.insert(0, PRE, matrix.row_ids)
    frame = frame.rename(columns={PRE: f"{PRE} | {weight} = {WEIGHT_FORMULAS[weight]}"})
    frame.attrs["weight_formula"] = f"{weight} = {WEIGHT_FORMULAS[weight]}"
    return frame


def parse_filters(lines: Sequence[str], info: TableInfo) -> tuple[Filter, ...]:
    """Filter expressions (CLI syntax) typed one per line, checked against the table."""
    from models.filters import parse_filter_expr
    return tuple(parse_filter_expr(t, info.kinds) for t in lines if t.strip())


def cell_set_spec(ws: Workspace, table: str | None, filter_lines: Sequence[str] = (), root_ids=None) -> CellSetSpec:
    """A cell set as the GUI describes it: pasted ``root_ids`` (typed from ``table``), or the
    rows of ``table`` matching filter expressions typed one per line."""
    if root_ids is not None and len(root_ids):
        return CellSetSpec(root_ids=tuple(int(i) for i in as_root_ids(root_ids)),
                           type_table=table)
    if not table:
        raise InvalidInputError("Choose a cell table or paste root ids.", field="cells")
    return CellSetSpec(table, parse_filters(filter_lines, ws.table(table).info),
                       type_table=table)
