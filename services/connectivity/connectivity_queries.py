"""Fetching what the connectivity viewer needs from a DataSource, with filters pushed down.

A cell's synapses are one query with ``post_pt_root_id = root`` (or pre); cell types,
depths and proofreading are queried for the partner ids only (``pt_root_id in ...``); a
matrix's synapses are one query with ``pre_pt_root_id in <pre set>`` and
``post_pt_root_id in <post set>``. No whole table is loaded to be filtered here, so the
same code works on a local folder and on a CAVE server. Qt-free: the GUI runs these in
workers, the CLI calls them directly.
"""
from __future__ import annotations

from models.ids import parse_id

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from models.datastack import DatastackInfo, TableInfo
from models.errors import InvalidInputError, NotSortedError
from models.filters import Filter, Op
from services.connectivity.aggregation import (
    IndexedPairs, aggregate_pairs_indexed, as_root_ids, factorize_ids, require_columns,
    resolve_cell_types)
from services.connectivity.connectivity_matrix import (WEIGHT_FORMULAS, ConnectivityMatrix,
                                                       build_matrix)
from services.connectivity.connectivity_partners import cell_partners
from services.cells.cortical_depth import datastack_depth_um
from services.results.positions import is_position_series, series_xyz
from services.source import CancelToken
from services.workspace import Workspace

PRE, POST = "pre_pt_root_id", "post_pt_root_id"


# ----------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class CellColumns:
    """Which columns of a cell table hold the root id, the type label and the soma position."""
    table: str
    root_col: str
    type_col: str | None
    position_col: str | None


def cell_columns(info: TableInfo, type_col: str | None = None) -> CellColumns:
    """The root id / cell type / position columns of a cell table.

    Prefers CAVE's names (pt_root_id, cell_type, pt_position); ``type_col`` overrides.
    """
    kinds = info.kinds
    root = "pt_root_id" if "pt_root_id" in kinds else next(
        (c for c, k in kinds.items() if c.endswith("root_id") and k == "int"), None)
    if root is None:
        raise InvalidInputError(f"Table '{info.name}' has no root id column.",
                                hint="A cell table needs a column such as pt_root_id.")
    if type_col is not None and type_col not in kinds:
        raise InvalidInputError(f"Table '{info.name}' has no column '{type_col}'.",
                                field="type_col", hint="Columns: " + ", ".join(kinds) + ".")
    if type_col is None:
        strings = [c for c, k in kinds.items() if k == "string"]
        type_col = ("cell_type" if "cell_type" in kinds else
                    next((c for c in strings if "type" in c or "class" in c), None))
    pos = "pt_position" if kinds.get("pt_position") == "position" else next(
        (c for c in info.position_columns), None)
    return CellColumns(info.name, root, type_col, pos)


def _in(column: str, ids) -> Filter:
    return Filter(column, Op.IN, tuple(np.asarray(ids, dtype=np.int64).tolist()))


def _synapse_columns(info: TableInfo) -> list[str]:
    wanted = ["id", PRE, POST, "size", "ctr_pt_position"]
    return [c for c in wanted if c in info.kinds]


# ----------------------------------------------------------------------------- cell annotations
def soma_depth_um(positions, ds: DatastackInfo, resolution=None) -> np.ndarray:
    """Soma depth (um) from *_position voxels, with the datastack's own transform
    (services.cells.cortical_depth, the same as the cell inspector's). ``positions`` is a
    compact position column, an (n, 3) array, or one list/array per cell (None: missing)."""
    if isinstance(positions, pd.Series) and is_position_series(positions):
        xyz = series_xyz(positions)[0].astype(float)  # one (n, 3) block: no per-cell loop
    elif isinstance(positions, np.ndarray) and positions.ndim == 2:
        xyz = positions.astype(float)
    else:
        rows = [np.asarray(p, dtype=float) if p is not None and p is not pd.NA
                else np.full(3, np.nan) for p in positions]
        if not rows:
            return np.zeros(0)
        xyz = np.vstack(rows)
    if len(xyz) == 0:
        return np.zeros(0)
    return np.asarray(datastack_depth_um(xyz, ds, voxel_resolution=resolution), dtype=float)


def cell_annotations(ws: Workspace, ids, table: str | None, type_col: str | None = None,
                     cancel: CancelToken | None = None) -> pd.DataFrame:
    """cell_type, n_type_labels, depth_um per root id (index), for ``ids`` only."""
    ids = pd.unique(as_root_ids(ids, "cell ids"))
    empty = pd.DataFrame({"cell_type": pd.Series([], dtype=object),
                          "n_type_labels": pd.Series([], dtype=np.int64),
                          "depth_um": pd.Series([], dtype=float)},
                         index=pd.Index([], dtype=np.int64, name="pt_root_id"))
    if table is None or len(ids) == 0:
        return empty
    role = ws.table(table, "cell_type")
    cols = cell_columns(role.info, type_col)
    wanted = [c for c in (cols.root_col, cols.type_col, cols.position_col) if c]
    rows = ws.complete_frame(role, [_in(cols.root_col, ids)], wanted, cancel)
    out = annotate_rows(rows, cols, ws.info, role.info)
    out.attrs["notes"] = [role.note] if role.note else []
    return out


def annotate_rows(rows: pd.DataFrame, cols: CellColumns, ds: DatastackInfo,
                  info: TableInfo) -> pd.DataFrame:
    """Per-root cell type (most frequent label) and soma depth (first row) of a cell table."""
    rows = rows[as_root_ids(rows[cols.root_col]) != 0]  # root 0: no segment under the soma
    if cols.type_col:
        out = resolve_cell_types(rows, root_col=cols.root_col, type_col=cols.type_col)
    else:
        out = pd.DataFrame({"cell_type": None, "n_type_labels": 0},
                           index=pd.Index(pd.unique(as_root_ids(rows[cols.root_col])),
                                          dtype=np.int64, name="pt_root_id"))
    all_ids = pd.unique(as_root_ids(rows[cols.root_col]))
    out = out.reindex(all_ids)
    out["n_type_labels"] = out["n_type_labels"].fillna(0).astype(np.int64)
    out["cell_type"] = out["cell_type"].astype(object).where(out["cell_type"].notna(), None)
    if cols.position_col:
        first = rows.drop_duplicates(cols.root_col, keep="first")
        depth = soma_depth_um(first[cols.position_col], ds, info.voxel_resolution)
        out["depth_um"] = pd.Series(depth, index=as_root_ids(first[cols.root_col])).reindex(
            out.index).to_numpy()
    else:
        out["depth_um"] = np.nan
    out.index = out.index.astype(np.int64).rename("pt_root_id")
    return out


def proofread_ids(ws: Workspace, ids, cancel: CancelToken | None = None
                  ) -> np.ndarray | None:
    """Which of ``ids`` the datastack's proofreading table lists (None: no such table)."""
    role = ws.proofreading_table()
    if role is None:
        return None
    ids = pd.unique(as_root_ids(ids, "cell ids"))
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    root = cell_columns(role.info).root_col
    rows = ws.complete_frame(role, [_in(root, ids)], [root], cancel)
    return pd.unique(as_root_ids(rows[root]))


# ----------------------------------------------------------------------------- partners
@dataclass
class PartnersResult:
    root_id: int
    inputs: pd.DataFrame  # services.connectivity.connectivity_partners.PARTNER_COLUMNS + depth_um
    outputs: pd.DataFrame
    synapses: pd.DataFrame  # every synapse onto and from the cell
    type_table: str | None
    has_proofreading: bool
    notes: list[str] = field(default_factory=list)


def fetch_partners(ws: Workspace, root_id, type_table: str | None = None, *,
                   type_col: str | None = None, known_only: bool = False, proofread_only: bool = False,
                   cancel: CancelToken | None = None) -> PartnersResult:
    """Inputs and outputs of one cell, annotated with type, depth and proofreading."""
    from services.cells.cell_inspection import fetch_cell_synapses
    root = parse_id(root_id, "root_id", "root id")
    synapses = fetch_cell_synapses(ws, [root], cancel=cancel, need_position=False)
    syn_name = synapses.attrs["table"]
    if synapses.empty:
        ws.check_root_ids([root], "root id")  # no synapses: maybe an id of another version
    cols = list(synapses.columns)
    if cancel:
        cancel.raise_if_cancelled()
    partner_ids = np.union1d(as_root_ids(synapses[PRE]), as_root_ids(synapses[POST]))
    ann = cell_annotations(ws, partner_ids, type_table, type_col, cancel)
    proof = proofread_ids(ws, partner_ids, cancel)
    if proofread_only and proof is None:
        raise InvalidInputError("'Proofread only' needs a proofreading table, and this "
                                "datastack names none.", hint="Clear 'proofread only'.")
    types = None
    if type_table is not None:
        types = pd.DataFrame({"pt_root_id": ann.index.to_numpy(),
                              "cell_type": ann["cell_type"].to_numpy(dtype=object)})
    size = "size" if "size" in cols else None
    out = {}
    for direction in ("in", "out"):
        p = cell_partners(synapses, root, direction, cell_types=types, proofread_ids=proof,
                          known_only=known_only, proofread_only=proofread_only,
                          size_col=size)
        p["depth_um"] = ann["depth_um"].reindex(p["partner_root_id"].to_numpy()).to_numpy(
            dtype=float) if len(ann) else np.full(len(p), np.nan)
        out[direction] = p
    notes = list(synapses.attrs.get("notes", ())) + list(ann.attrs.get("notes", ()))
    if synapses.empty:
        notes.append(f"No synapses of {root} in '{syn_name}'.")
    if size is None:
        notes.append(f"'{syn_name}' has no size column: sizes are not shown.")
    return PartnersResult(root, out["in"], out["out"], synapses, type_table,
                          proof is not None, notes)


def group_partners(partners: pd.DataFrame, column: str) -> pd.DataFrame:
    """Partners grouped by any partner column: COLUMN, n_partners, n_synapses, synapse_share."""
    if column not in partners.columns:
        raise InvalidInputError(f"Cannot group partners by '{column}'.", field="group_by",
                                hint="Columns: " + ", ".join(partners.columns) + ".")
    key = partners[column].astype(object).where(partners[column].notna(), "(none)").astype(str)
    g = (pd.DataFrame({column: key.to_numpy(), "n_synapses": partners["n_synapses"].to_numpy()})
         .groupby(column, sort=True)["n_synapses"].agg(["size", "sum"])
         .rename(columns={"size": "n_partners", "sum": "n_synapses"}).reset_index())
    total = g["n_synapses"].sum()
    g["synapse_share"] = g["n_synapses"] / total if total else np.nan
    return g.sort_values(["n_synapses", column], ascending=[False, True],
                         kind="mergesort").reset_index(drop=True)


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
    blocks: dict | None = None  # weight -> exact BlockMatrix, for a matrix made on disk


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
    frame = ws.complete_frame(role, [_in(PRE, pre_ids), _in(POST, post_ids)], columns, cancel)
    frame.attrs["notes"] = [role.note] if role.note else []
    return frame


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
    filters = [_in(PRE, pre_ids), _in(POST, post_ids)]
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
    if hide_unconnected:
        # The pairs' distinct ids (thousands), not a union over millions of synapses.
        active = np.union1d(indexed.pre_ids, indexed.post_index()[0])
        pre_ids = pre.ids[np.isin(pre.ids, active)]
        post_ids = post.ids[np.isin(post.ids, active)]
        hidden = len(np.union1d(pre.ids, post.ids)) - len(np.union1d(pre_ids, post_ids))
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
