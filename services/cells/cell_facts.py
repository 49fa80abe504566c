"""Facts about one cell for the cell inspector and ``cavern cell``, asked of a Workspace.

Every table is asked through a filtered query (``pt_root_id = id``, ``id = nucleus``,
``post_pt_root_id = id`` ...), so only the cell's rows are read, locally (DuckDB pushes the
filter into Parquet) and on a CAVE server alike. Tables are the workspace's roles: soma
table, cell-type tables, proofreading table, synapse table (services.workspace finds
them, with the nearest-version fallback of a local datastack, and notes say so).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from models.cell import CellRecord, CellTypeLabel, ProofreadingStatus, RootIdStatus
from models.datastack import DatastackInfo, TableInfo
from models.errors import NotFoundError
from models.filters import Filter, Op
from models.ids import is_nucleus_id, parse_id
from services.cells.cortical_depth import DepthTransform
from services.source import CancelToken
from services.workspace import TableRole, Workspace


# ----------------------------------------------------------------------------- columns
def _root_col(info: TableInfo) -> str | None:
    kinds = info.kinds
    if "pt_root_id" in kinds:
        return "pt_root_id"
    return next((c for c in kinds if c.endswith("root_id") and kinds[c] == "int"), None)


def _nucleus_col(info: TableInfo, is_soma_table: bool) -> str | None:
    kinds = info.kinds
    if is_soma_table and "id" in kinds:
        return "id"
    for c in ("target_id", "nucleus_id"):  # reference tables point at the nucleus table
        if c in kinds:
            return c
    return None


def _first(frame, col):
    if col is None or col not in frame.columns or frame.empty:
        return None
    v = frame[col].iloc[0]
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else v


# ----------------------------------------------------------------------------- gathering
def gather_cell_facts(ws: Workspace, root_id_or_nucleus_id,
                      cancel: CancelToken | None = None) -> CellRecord:
    """Everything the workspace's tables say about one cell (by root id or nucleus id)."""
    cell_id = parse_id(root_id_or_nucleus_id)
    ds: DatastackInfo = ws.info
    v = ws.checked_version()
    rec = CellRecord(root_id=cell_id, datastack=ws.datastack, version=v,
                     voxel_resolution=tuple(ds.voxel_resolution))
    id_tables = _id_tables(ws)
    if ds.soma_table and not any(kind is True for _, kind in id_tables):
        rec.notes.append(f"The soma table '{ds.soma_table}' is not in this datastack.")
    if is_nucleus_id(cell_id):
        rec.nucleus_id = cell_id
        rec.root_id = _root_of_nucleus(ws, id_tables, cell_id, cancel)
    for role, is_soma in id_tables:
        info = role.info
        root_col = _root_col(info)
        if root_col is None:
            continue
        want = [root_col, _nucleus_col(info, is_soma) or "",
                *info.position_columns, "cell_type", "classification_system"]
        frame = ws.query(role, [Filter(root_col, Op.EQ, rec.root_id)], want,
                         cancel=cancel).frame
        if frame.empty:
            continue
        if rec.nucleus_id is None:
            nuc = _first(frame, _nucleus_col(info, is_soma))
            rec.nucleus_id = int(nuc) if nuc is not None else None
        if rec.soma_position_vx is None and info.position_columns:
            pos_col = "pt_position" if "pt_position" in info.kinds else info.position_columns[0]
            _set_soma(rec, ds, role, pos_col, _first(frame, pos_col))
        if is_soma is False and "cell_type" in frame:
            system_default = str(info.extra.get("classification_system", ""))
            for _, row in frame.iterrows():
                system = row.get("classification_system", system_default)
                rec.cell_types.append(CellTypeLabel(
                    role.label, str(system if system is not None else ""),
                    str(row["cell_type"])))
    _proofreading(rec, ws, cancel)
    _synapse_counts(rec, ws, cancel)
    if rec.soma_position_vx is None:
        rec.notes.append("No soma position: the cell is not in the soma table"
                         + (f" ({ds.soma_table})" if ds.soma_table else "")
                         + " or any table with a position.")
    return rec


def _id_tables(ws: Workspace) -> list[tuple[TableRole, bool | None]]:
    """(table, kind): the soma table (True) first, for nucleus id and position, then
    cell-type tables (False), then the proofreading table (None) when it has nucleus ids."""
    out: list[tuple[TableRole, bool | None]] = []
    soma = ws.soma_table()
    if soma:
        out.append((soma, True))
    for role in ws.cell_type_tables():
        # a soma table can carry the cell type too (pinky100's soma_valence)
        out.append((soma if (soma and role.name == soma.name) else role, False))
    proof = ws.proofreading_table()
    if proof and _nucleus_col(proof.info, False):
        out.append((proof, None))
    return out


def _root_of_nucleus(ws: Workspace, id_tables, nucleus: int, cancel) -> int:
    for role, is_soma in id_tables:
        ncol, rcol = _nucleus_col(role.info, bool(is_soma)), _root_col(role.info)
        if ncol is None or rcol is None:
            continue
        frame = ws.query(role, [Filter(ncol, Op.EQ, nucleus)], [rcol], cancel=cancel).frame
        roots = [int(r) for r in frame[rcol].tolist() if r is not None and int(r) != 0]
        if roots:
            return roots[0]
    raise NotFoundError(f"Nucleus {nucleus} is not in the soma or cell-type tables of "
                        f"'{ws.datastack}' v{ws.version}.",
                        hint="Check the id, or type the cell's root id instead.")


def _set_soma(rec: CellRecord, ds: DatastackInfo, role: TableRole, col: str, pos):
    if pos is None:
        return
    p = np.asarray(pos, dtype=float).reshape(-1)
    if p.size != 3 or not np.isfinite(p).all():
        return
    info = role.info
    res = np.asarray(info.voxel_resolution, dtype=float)
    col_info = info.column(col)
    nm = p if (col_info and col_info.units == "nm") else p * res
    vx = nm / np.asarray(ds.voxel_resolution, dtype=float)
    rec.soma_position_vx = tuple(float(x) for x in vx)
    rec.soma_position_nm = tuple(float(x) for x in nm)
    tf = DepthTransform.from_manifest(ds.transform)
    depth = tf.depth_um([nm], units="nm")[0]
    rec.depth_um = None if np.isnan(depth) else float(depth)
    if info.name != ds.soma_table:
        rec.notes.append(f"Soma position from {role.label}.")
    if rec.depth_um is None:
        rec.notes.append("Depth unknown: " + tf.describe() + ".")


def _proofreading(rec: CellRecord, ws: Workspace, cancel) -> None:
    role = ws.proofreading_table()
    name = ws.info.proofreading_table
    if not role:
        if name:
            rec.notes.append(f"Proofreading table '{name}' is not available.")
        return
    rcol = _root_col(role.info)
    if rcol is None:
        return
    frame = ws.query(role, [Filter(rcol, Op.EQ, rec.root_id)], cancel=cancel).frame
    for _, row in frame.iterrows():
        raw = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()
               if not isinstance(v, (list, np.ndarray))}

        def pick(*names):
            return next((str(raw[n]) for n in names if raw.get(n) is not None), None)
        rec.proofreading.append(ProofreadingStatus(
            role.label,
            status=pick("status"),
            axon_status=pick("status_axon", "axon_status"),
            dendrite_status=pick("status_dendrite", "dendrite_status"),
            strategy_axon=pick("strategy_axon"), strategy_dendrite=pick("strategy_dendrite"),
            raw=raw))


def _synapse_counts(rec: CellRecord, ws: Workspace, cancel) -> None:
    name = ws.synapse_table_name
    role = ws.find(name, "synapse")
    if not role:
        rec.notes.append("No synapse table" + (f" '{name}'" if name else "")
                         + ": synapse counts unknown.")
        return
    info = role.info
    if not {"pre_pt_root_id", "post_pt_root_id"} <= set(info.kinds):
        rec.notes.append(f"{info.name} has no pre/post root id columns: counts unknown.")
        return
    rec.synapse_table = role.label
    for own, partner, n_attr, p_attr in (("post_pt_root_id", "pre_pt_root_id",
                                          "n_input_synapses", "n_input_partners"),
                                         ("pre_pt_root_id", "post_pt_root_id",
                                          "n_output_synapses", "n_output_partners")):
        res = ws.query(role, [Filter(own, Op.EQ, rec.root_id)], [partner], cancel=cancel)
        setattr(rec, n_attr, len(res.frame))
        setattr(rec, p_attr, int(res.frame[partner].nunique()))
        if res.truncated:
            rec.notes.append(f"{n_attr.replace('_', ' ')[2:]}: the server's row limit cut the "
                             f"answer; the true count is larger than {len(res.frame):,}.")
    if ws.is_local:
        rec.notes.append(f"Synapse counts are of the rows in the local table {rec.synapse_table}"
                         + (f": {info.description}" if info.description else "."))


# ----------------------------------------------------------------------------- staleness
def root_id_status(ws: Workspace, root_id, cancel: CancelToken | None = None) -> RootIdStatus:
    """Is ``root_id`` current? The source answers where it can (a CAVE chunkedgraph, at the
    workspace's time); a local folder cannot know, so it says which versions hold the id."""
    rid = parse_id(root_id)
    status = ws.source.root_id_status(ws.datastack, rid, ws.version, ws.timestamp)
    return status if status is not None else local_root_id_status(ws, rid, cancel)


def local_root_id_status(ws: Workspace, root_id, cancel: CancelToken | None = None
                         ) -> RootIdStatus:
    """The versions whose soma/cell-type/proofreading/synapse tables hold this root id."""
    rid = parse_id(root_id)
    ds = ws.info
    names = [ds.soma_table, *ds.cell_type_tables, ds.proofreading_table, ds.synapse_table]
    found: list[int] = []
    for vi in ws.source.versions(ws.datastack):
        if _version_holds(ws, vi.version, names, rid, cancel):
            found.append(vi.version)
    if found:
        vs = ", ".join(f"v{x}" for x in found)
        msg = f"{rid} appears in version{'s' if len(found) > 1 else ''} {vs} of {ws.datastack}."
    else:
        msg = f"{rid} is in none of the soma, cell-type, proofreading or synapse tables."
    return RootIdStatus(rid, None, None, tuple(found), msg)


def _version_holds(ws: Workspace, v: int, names: Iterable[str], rid, cancel) -> bool:
    tables = ws.tables(v)
    for name in dict.fromkeys(n for n in names if n):
        info = tables.get(name)
        if info is None:
            continue
        role = TableRole("table", info, v, v)
        for c in ("pt_root_id", "pre_pt_root_id", "post_pt_root_id"):
            if c in info.kinds and len(ws.query(role, (Filter(c, Op.EQ, rid),), (c,), limit=1,
                                                cancel=cancel).frame):
                return True
    return False
