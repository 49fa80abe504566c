"""What the cell inspector and the `cell` / `link` commands do, without Qt.

It joins the cell facts (services.cells.cell_facts), the root-id status (current or stale) and
the Neuroglancer links (services.links.neuroglancer_links): the GUI runs these functions in a
worker, the CLI calls them directly, so both show the same facts and build the same links.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from models.cell import CellRecord, RootIdStatus
from models.errors import InvalidInputError
from models.filters import Filter, Op
from models.ids import parse_id
from services.links import neuroglancer_links as ngl
from services.source import CancelToken
from services.workspace import Workspace

# (key, label) of the synapse choices of a cell link; keys are also the CLI's --synapses
LINK_KINDS = (("cell", "Cell only"), ("in", "Cell with its input synapses"),
              ("out", "Cell with its output synapses"),
              ("both", "Cell with input and output synapses"))
SITE_CHOICES = (("spelunker", "Spelunker"), ("neuroglancer", "Classic Neuroglancer"))
PRE, POST = "pre_pt_root_id", "post_pt_root_id"


@dataclass
class Inspection:
    """One looked-up cell: its facts and whether its root id is current."""

    record: CellRecord
    status: RootIdStatus | None = None

    @property
    def is_stale(self) -> bool:
        s = self.status
        return bool(s is not None and s.is_latest is False)

    @property
    def suggested_id(self) -> int | None:
        s = self.status
        return None if s is None or not self.is_stale else s.suggested_id


# ----------------------------------------------------------------------------- synapses
def fetch_cell_synapses(ws: Workspace, root_ids, inputs: bool = True, outputs: bool = True,
                        cancel: CancelToken | None = None, need_position: bool = True,
                        desired_resolution=None) -> pd.DataFrame:
    """The input and/or output synapse rows of some cells, filtered at the source, complete
    (the one path for a cell's synapses: links, partners, the inspector).

    Rows are de-duplicated by ``id`` (an autapse is both an input and an output). The
    frame's attrs say the position column, the table read and notes (a table read at
    another version).
    """
    ids = tuple(parse_id(i) for i in root_ids)
    if not ids:
        raise InvalidInputError("Give at least one root id.", field="root_id")
    role = ws.synapse_table()
    info = role.info
    pos = next((c for c in ("ctr_pt_position", "post_pt_position", "pre_pt_position")
                if c in info.kinds), None)
    if pos is None and need_position:
        raise InvalidInputError(f"Synapse table '{info.name}' has no position column, so its "
                                "synapses cannot be placed in Neuroglancer.",
                                hint="Link the cell without synapses.")
    cols = tuple(c for c in ("id", PRE, POST, "size", pos) if c and c in info.kinds)
    sides = ([POST] if inputs else []) + ([PRE] if outputs else [])
    frames = []
    for side in sides:
        flt = Filter(side, Op.EQ, ids[0]) if len(ids) == 1 else Filter(side, Op.IN, ids)
        frames.append(ws.complete_frame(role, (flt,), cols, cancel,
                                        desired_resolution=desired_resolution))
        if cancel is not None:
            cancel.raise_if_cancelled()
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    if "id" in out.columns:
        out = out.drop_duplicates("id", ignore_index=True)
    out.attrs["position_column"] = pos
    out.attrs["table"] = role.label
    out.attrs["notes"] = [role.note] if role.note else []
    return out


# ----------------------------------------------------------------------------- links
def _direction(kind: str) -> tuple[bool, bool]:
    if kind not in {k for k, _ in LINK_KINDS}:
        raise InvalidInputError(f"Unknown synapse choice '{kind}'.", field="synapses",
                                hint="Use in, out or both.")
    return kind in ("in", "both"), kind in ("out", "both")


def cell_link(ws: Workspace, record: CellRecord, kind: str = "cell", site: str | None = None,
              cancel: CancelToken | None = None) -> ngl.NeuroglancerLink:
    """The inspected cell alone (``kind='cell'``) or with its in/out/both synapses."""
    ds = ws.info
    center = record.soma_position_vx
    if kind == "cell":
        somas = {record.root_id: center} if center is not None else None
        return ngl.cells_link(ds, [record.root_id], site=site, soma_positions_vx=somas)
    inputs, outputs = _direction(kind)
    syn = fetch_cell_synapses(ws, [record.root_id], inputs, outputs, cancel)
    return _noted(ngl.cell_synapses_link(ds, record.root_id, syn, inputs=inputs,
                                         outputs=outputs, center_vx=center, site=site,
                                         position_column=syn.attrs["position_column"]), syn)


def _noted(link: ngl.NeuroglancerLink, syn: pd.DataFrame) -> ngl.NeuroglancerLink:
    """The link with the synapse table's notes (read at another version) added."""
    extra = [n for n in syn.attrs.get("notes", ()) if n not in link.notes]
    return replace(link, notes=link.notes + tuple(extra)) if extra else link


def ids_link(ws: Workspace, root_ids, synapses: str | None = None, site: str | None = None,
             cancel: CancelToken | None = None) -> ngl.NeuroglancerLink:
    """Link of one or several cells, optionally with their synapses (the `link` command).

    One cell with synapses: a layer per direction linked to the partners. Several cells
    with synapses: a layer per cell and direction, each point linked to its cell.
    """
    ids = list(dict.fromkeys(parse_id(r) for r in root_ids))
    if not ids:
        raise InvalidInputError("Give at least one root id.", field="root_id")
    ds = ws.info
    somas = _soma_positions(ws, ids, cancel)
    if synapses in (None, "cell"):
        return ngl.cells_link(ds, ids, site=site, soma_positions_vx=somas or None)
    inputs, outputs = _direction(synapses)
    syn = fetch_cell_synapses(ws, ids, inputs, outputs, cancel)
    pos = syn.attrs["position_column"]
    center = next((somas[i] for i in ids if i in somas), None)
    if len(ids) == 1:
        return _noted(ngl.cell_synapses_link(ds, ids[0], syn, inputs=inputs, outputs=outputs,
                                             center_vx=center, site=site,
                                             position_column=pos), syn)
    rows = _per_cell_rows(syn, ids, inputs, outputs)
    if rows.empty:
        return ngl.cells_link(ds, ids, site=site, soma_positions_vx=somas or None)
    return _noted(ngl.rows_link(ds, rows, position_column=pos,
                                root_id_columns_=["cell_root_id"], group_column="layer",
                                site=site, center_vx=center), syn)


def _per_cell_rows(syn: pd.DataFrame, ids: list[int], inputs: bool, outputs: bool):
    """Synapse rows labelled 'inputs of <id>' / 'outputs of <id>', with the cell's id."""
    from services.connectivity.aggregation import as_root_ids
    pre, post = as_root_ids(syn[PRE], PRE), as_root_ids(syn[POST], POST)
    parts = []
    for rid in ids:
        for use, mask, what in ((inputs, post == rid, "inputs"), (outputs, pre == rid, "outputs")):
            if use and mask.any():
                part = syn[mask].copy()
                part["cell_root_id"] = np.int64(rid)
                part["layer"] = f"{what} of {rid}"
                parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else syn.iloc[:0]


def _soma_positions(ws: Workspace, ids, cancel) -> dict:
    """root id -> soma position (vx) from the datastack's soma table, where known."""
    role = ws.soma_table()
    if role is None or not {"pt_root_id", "pt_position"} <= set(role.info.kinds):
        return {}  # the link centres on the first cell instead
    frame = ws.query(role, (Filter("pt_root_id", Op.IN, tuple(ids)),),
                     ("pt_root_id", "pt_position"), cancel=cancel).frame
    out = {}
    for rid, p in zip(frame["pt_root_id"].tolist(), frame["pt_position"].tolist()):
        if p is not None and int(rid) not in out:
            out[int(rid)] = [float(v) for v in p]
    return out


def short_cell_link(ws: Workspace, link: ngl.NeuroglancerLink,
                    cancel: CancelToken | None = None) -> ngl.NeuroglancerLink:
    """Store the link's state on the source's state server; a link to the stored state
    (only a CAVE source has one: the others raise a clear NotFoundError)."""
    def upload(state: dict, base_url: str) -> str:
        return ws.source.upload_state(ws.datastack, state, base_url)

    return ngl.short_link(link, upload, ws.source.state_server_name())


# ----------------------------------------------------------------------------- facts as text
def facts_dict(insp: Inspection) -> dict:
    """The facts as one JSON-ready object (ids as exact ints, None where unknown)."""
    r = insp.record
    out = {
        "root_id": int(r.root_id),
        "nucleus_id": None if r.nucleus_id is None else int(r.nucleus_id),
        "datastack": r.datastack, "version": r.version,
        "cell_types": [{"table": c.table, "classification_system": c.classification_system,
                        "cell_type": c.cell_type} for c in r.cell_types],
        "proofreading": [{"table": p.table, "axon_status": p.axon_status,
                          "dendrite_status": p.dendrite_status,
                          "strategy_axon": p.strategy_axon,
                          "strategy_dendrite": p.strategy_dendrite} for p in r.proofreading],
        "soma_position_vx": _list(r.soma_position_vx),
        "soma_position_nm": _list(r.soma_position_nm),
        "voxel_resolution": _list(r.voxel_resolution),
        "depth_um": None if r.depth_um is None else round(float(r.depth_um), 3),
        "n_input_synapses": r.n_input_synapses, "n_output_synapses": r.n_output_synapses,
        "n_input_partners": r.n_input_partners, "n_output_partners": r.n_output_partners,
        "synapse_table": r.synapse_table,
        "notes": list(r.notes),
    }
    s = insp.status
    out["root_id_status"] = None if s is None else {
        "is_latest": s.is_latest, "suggested_id": s.suggested_id,
        "versions": list(s.versions), "message": s.message, "edited_since": s.edited_since}
    return out


def _list(v):
    return None if v is None else [float(x) for x in v]


def facts_text(insp: Inspection) -> str:
    """The facts as aligned 'field  value' lines, as the `cell` command prints them."""
    rows = insp.record.as_rows()
    s = insp.status
    if s is not None and s.message:
        rows.append(("root id status", s.message))
    rows += [("note", n) for n in insp.record.notes]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


# ----------------------------------------------------------------------------- lookup
def inspect_cell(ws: Workspace, cell_id, cancel: CancelToken | None = None) -> Inspection:
    """Facts of a cell (root id or nucleus id) and whether its root id is current.

    On a CAVE server the chunkedgraph says whether the id is current (at the version's
    time) and which id replaced it; a local folder cannot know, so it says which versions
    hold the id. A failed staleness check does not hide the facts: it becomes a note.
    """
    from models.errors import CancelledError, CavernError
    from services.cells import cell_facts
    rec = cell_facts.gather_cell_facts(ws, cell_id, cancel=cancel)
    try:
        status = cell_facts.root_id_status(ws, rec.root_id, cancel)
    except CancelledError:
        raise
    except CavernError as exc:
        status = RootIdStatus(rec.root_id, None, message=f"Could not check whether the root "
                                                         f"id is current: {exc}")
    return Inspection(rec, status)
