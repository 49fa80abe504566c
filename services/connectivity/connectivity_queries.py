"""Fetching what the partners view and cell annotations need from a DataSource, with
filters pushed down: the root id / type / position columns of a cell table, cell types,
depths and proofreading of some cells, and a cell's input and output partners.

A cell's synapses are one query with ``post_pt_root_id = root`` (or pre); cell types,
depths and proofreading are queried for the partner ids only (``pt_root_id in ...``). No
whole table is loaded to be filtered here, so the same code works on a local folder and on
a CAVE server. The matrix of two cell sets is services.connectivity.matrix_queries.
Qt-free: the GUI runs these in workers, the CLI calls them directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.datastack import DatastackInfo, TableInfo
from models.errors import InvalidInputError
from models.filters import Filter, Op
from models.ids import parse_id
from services.cells.cortical_depth import datastack_depth_um
from services.connectivity.aggregation import as_root_ids, resolve_cell_types
from services.connectivity.connectivity_partners import cell_partners, partners_by_type
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


def ids_in(column: str, ids) -> Filter:
    """``column in ids`` (int64 root ids), the pushed-down filter of every id lookup."""
    return Filter(column, Op.IN, tuple(np.asarray(ids, dtype=np.int64).tolist()))


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
    """cell_type, n_type_labels, depth_um per root id (index), for ``ids`` only. The frame's
    attrs say the label column read (``type_col``), the version the table was read at
    (``version``) and the notes (a table read at another version)."""
    ids = pd.unique(as_root_ids(ids, "cell ids"))
    out = pd.DataFrame({"cell_type": pd.Series([], dtype=object),
                        "n_type_labels": pd.Series([], dtype=np.int64),
                        "depth_um": pd.Series([], dtype=float)},
                       index=pd.Index([], dtype=np.int64, name="pt_root_id"))
    if table is None:
        return out
    role = ws.table(table, "cell_type")
    cols = cell_columns(role.info, type_col)
    if len(ids):
        wanted = [c for c in (cols.root_col, cols.type_col, cols.position_col) if c]
        rows = ws.complete_frame(role, [ids_in(cols.root_col, ids)], wanted, cancel)
        out = annotate_rows(rows, cols, ws.info, role.info)
    out.attrs.update(notes=[role.note] if role.note else [], type_col=cols.type_col,
                     version=role.version)
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
    rows = ws.complete_frame(role, [ids_in(root, ids)], [root], cancel)
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
    type_col: str | None = None  # the column of type_table the labels were read from
    type_table_version: int | None = None  # the version type_table was read at


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
    proof_role = ws.proofreading_table() if proof is not None else None
    notes = [*synapses.attrs.get("notes", ()), *ann.attrs.get("notes", ()),
             *([proof_role.note] if proof_role is not None and proof_role.note else [])]
    if synapses.empty:
        notes.append(f"No synapses of {root} in '{syn_name}'.")
    if size is None:
        notes.append(f"'{syn_name}' has no size column: sizes are not shown.")
    return PartnersResult(root, out["in"], out["out"], synapses, type_table,
                          proof is not None, notes, ann.attrs.get("type_col"),
                          ann.attrs.get("version"))


def group_partners(partners: pd.DataFrame, column: str) -> pd.DataFrame:
    """Partners grouped by any partner column: COLUMN, n_partners, n_synapses, synapse_share.
    By ``cell_type`` it is the viewer's "Partners by cell type" table (partners_by_type:
    partners without a type grouped last, as '(no type)')."""
    if column == "cell_type" and column in partners.columns:
        return partners_by_type(partners)
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
