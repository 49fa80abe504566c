"""Links and viewer selections that need the workspace: a cell with some partners, their
soma points and the cell's synapses with them (what the partners view links or shows).

Qt-free; the GUI runs these in a worker. Soma positions come from the datastack's soma
table (voxels), synapses from the one synapse path (services.cells.cell_inspection).
"""
from __future__ import annotations

import pandas as pd

from models.filters import Filter, Op
from models.ids import parse_id
from services.links import neuroglancer_links as ngl
from services.source import CancelToken
from services.workspace import Workspace

# DataFrame.attrs key: the frame holds a cell (this root id) and its partners
PARTNERS_ATTR = "partners_of"


def soma_positions(ws: Workspace, root_ids, cancel: CancelToken | None = None) -> dict:
    """root id -> soma position (the datastack's voxels), for the cells the soma table knows."""
    ids = tuple(dict.fromkeys(int(parse_id(r)) for r in root_ids))
    role = ws.soma_table()
    if not ids or role is None or not {"pt_root_id", "pt_position"} <= set(role.info.kinds):
        return {}
    frame = ws.query(role, (Filter("pt_root_id", Op.IN, ids),), ("pt_root_id", "pt_position"),
                     cancel=cancel).frame
    out: dict[int, list[float]] = {}
    for rid, p in zip(frame["pt_root_id"].tolist(), frame["pt_position"].tolist()):
        if p is not None and int(rid) not in out:
            out[int(rid)] = [float(v) for v in p]
    return out


def cell_partners_link(ws: Workspace, root_id, partner_ids, synapses: pd.DataFrame | None = None,
                       site: str | None = None, cancel: CancelToken | None = None
                       ) -> ngl.NeuroglancerLink:
    """The cell and these partners with their soma points and the cell's synapses with them
    (fetched when ``synapses`` is None), tagged input/output."""
    from services.cells.cell_inspection import fetch_cell_synapses
    rid = parse_id(root_id, "root_id", "root id")
    partners = [parse_id(p, "root_id", "root id") for p in partner_ids]
    somas = soma_positions(ws, [rid] + partners, cancel)
    pos = "ctr_pt_position"
    if synapses is None and partners:
        synapses = fetch_cell_synapses(ws, [rid], cancel=cancel, need_position=False)
    if synapses is not None:
        pos = synapses.attrs.get("position_column") or next(
            (c for c in ngl.position_columns(synapses)), pos)
    link = ngl.partners_link(ws.info, rid, partners, synapses, soma_positions_vx=somas,
                             site=site, position_column=pos)
    if synapses is not None:
        extra = [n for n in synapses.attrs.get("notes", ()) if n not in link.notes]
        if extra:
            from dataclasses import replace
            link = replace(link, notes=link.notes + tuple(extra))
    return link
