"""What the cell inspector and the `cell` / `link` commands do, without Qt.

It joins the cell facts (services.cell_facts), the root-id status (current or stale) and
the Neuroglancer links (services.neuroglancer_links): the GUI runs these functions in a
worker, the CLI calls them directly, so both show the same facts and build the same links.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.cell import CellRecord, RootIdStatus
from models.errors import InvalidInputError
from models.filters import Filter, Op
from models.query_spec import QuerySpec
from services import neuroglancer_links as ngl
from services.data_source import CancelToken, DataSource

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
def fetch_cell_synapses(source: DataSource, datastack: str, root_ids, version: int | None,
                        inputs: bool = True, outputs: bool = True,
                        cancel: CancelToken | None = None) -> pd.DataFrame:
    """The input and/or output synapse rows of some cells, filtered at the source."""
    from services.connectivity_queries import synapse_table
    ids = tuple(int(i) for i in root_ids)
    info = synapse_table(source, datastack, version)
    pos = next((c for c in ("ctr_pt_position", "post_pt_position", "pre_pt_position")
                if c in info.kinds), None)
    if pos is None:
        raise InvalidInputError(f"Synapse table '{info.name}' has no position column, so its "
                                "synapses cannot be placed in Neuroglancer.",
                                hint="Link the cell without synapses.")
    cols = tuple(c for c in ("id", PRE, POST, "size", pos) if c in info.kinds)
    sides = ([POST] if inputs else []) + ([PRE] if outputs else [])
    frames = []
    for side in sides:
        flt = Filter(side, Op.EQ, ids[0]) if len(ids) == 1 else Filter(side, Op.IN, ids)
        spec = QuerySpec(info.name, datastack, version, filters=(flt,), columns=cols)
        frames.append(source.query(spec, cancel=cancel).frame)
        if cancel is not None:
            cancel.raise_if_cancelled()
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    if "id" in out.columns:
        out = out.drop_duplicates("id", ignore_index=True)
    out.attrs["position_column"] = pos
    out.attrs["table"] = info.name
    return out


# ----------------------------------------------------------------------------- links
def _direction(kind: str) -> tuple[bool, bool]:
    if kind not in {k for k, _ in LINK_KINDS}:
        raise InvalidInputError(f"Unknown synapse choice '{kind}'.", field="synapses",
                                hint="Use in, out or both.")
    return kind in ("in", "both"), kind in ("out", "both")


def cell_link(source: DataSource, datastack: str, record: CellRecord, kind: str = "cell",
              site: str | None = None, version: int | None = None,
              cancel: CancelToken | None = None) -> ngl.NeuroglancerLink:
    """The inspected cell alone (``kind='cell'``) or with its in/out/both synapses."""
    ds = source.datastack_info(datastack)
    center = record.soma_position_vx
    if kind == "cell":
        somas = {record.root_id: center} if center is not None else None
        return ngl.cells_link(ds, [record.root_id], site=site, soma_positions_vx=somas)
    inputs, outputs = _direction(kind)
    syn = fetch_cell_synapses(source, datastack, [record.root_id], version, inputs, outputs,
                              cancel)
    return ngl.cell_synapses_link(ds, record.root_id, syn, inputs=inputs, outputs=outputs,
                                  center_vx=center, site=site,
                                  position_column=syn.attrs["position_column"])


def ids_link(source: DataSource, datastack: str, root_ids, synapses: str | None = None,
             site: str | None = None, version: int | None = None,
             cancel: CancelToken | None = None) -> ngl.NeuroglancerLink:
    """Link of one or several cells, optionally with their synapses (the `link` command).

    One cell with synapses: a layer per direction linked to the partners. Several cells
    with synapses: a layer per cell and direction, each point linked to its cell.
    """
    from services.connectivity import parse_root_id
    ids = list(dict.fromkeys(parse_root_id(r) for r in root_ids))
    if not ids:
        raise InvalidInputError("Give at least one root id.", field="root_id")
    ds = source.datastack_info(datastack)
    somas = _soma_positions(source, datastack, ids, version, cancel)
    if synapses in (None, "cell"):
        return ngl.cells_link(ds, ids, site=site, soma_positions_vx=somas or None)
    inputs, outputs = _direction(synapses)
    syn = fetch_cell_synapses(source, datastack, ids, version, inputs, outputs, cancel)
    pos = syn.attrs["position_column"]
    center = next((somas[i] for i in ids if i in somas), None)
    if len(ids) == 1:
        return ngl.cell_synapses_link(ds, ids[0], syn, inputs=inputs, outputs=outputs,
                                      center_vx=center, site=site, position_column=pos)
    rows = _per_cell_rows(syn, ids, inputs, outputs)
    if rows.empty:
        return ngl.cells_link(ds, ids, site=site, soma_positions_vx=somas or None)
    return ngl.rows_link(ds, rows, position_column=pos, root_id_columns_=["cell_root_id"],
                         group_column="layer", site=site, center_vx=center)


def _per_cell_rows(syn: pd.DataFrame, ids: list[int], inputs: bool, outputs: bool):
    """Synapse rows labelled 'inputs of <id>' / 'outputs of <id>', with the cell's id."""
    from services.connectivity import as_root_ids
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


def _soma_positions(source, datastack, ids, version, cancel) -> dict:
    """root id -> soma position (vx) from the datastack's soma table, where known."""
    from models.errors import CavernError
    ds = source.datastack_info(datastack)
    if not ds.soma_table:
        return {}
    try:
        info = source.table_info(datastack, ds.soma_table, version)
    except CavernError:
        return {}  # not at this version: the link centres on the first cell instead
    if "pt_root_id" not in info.kinds or "pt_position" not in info.kinds:
        return {}
    spec = QuerySpec(info.name, datastack, version, columns=("pt_root_id", "pt_position"),
                     filters=(Filter("pt_root_id", Op.IN, tuple(ids)),))
    frame = source.query(spec, cancel=cancel).frame
    out = {}
    for rid, p in zip(frame["pt_root_id"].tolist(), frame["pt_position"].tolist()):
        if p is not None and int(rid) not in out:
            out[int(rid)] = [float(v) for v in p]
    return out


def short_cell_link(source: DataSource, datastack: str, link: ngl.NeuroglancerLink,
                    cancel: CancelToken | None = None) -> ngl.NeuroglancerLink:
    """Store the link's state on the CAVE state server; a link to the stored state.

    Both target sites read "#!middleauth+<state url>" links. caveclient asks the viewer
    site over the network which kind it is unless told, so we tell it: only the CAVE
    server is contacted.
    """
    client = source.client(datastack)

    def upload(state: dict, base_url: str) -> str:
        state_id = client.state.upload_state_json(state)
        return client.state.build_neuroglancer_url(state_id, base_url, target_site="spelunker")

    return ngl.short_link(link, upload, getattr(source, "server", "the state server"))


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
        "versions": list(s.versions), "message": s.message}
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
def inspect_cell(source: DataSource, datastack: str, cell_id, version: int | None = None,
                 cancel: CancelToken | None = None) -> Inspection:
    """Facts of a cell (root id or nucleus id) and whether its root id is current.

    On a CAVE server the chunkedgraph says whether the id is current and which id
    replaced it; a local folder cannot know, so it says which versions hold the id.
    A failed staleness check does not hide the facts: it becomes a note.
    """
    from models.errors import CancelledError, CavernError
    from services import cell_facts
    rec = cell_facts.gather_cell_facts(source, datastack, cell_id, version, cancel=cancel)
    try:
        if getattr(source, "kind", "") == "cave":
            status = cell_facts.root_id_status(source.client(datastack), rec.root_id,
                                               getattr(source, "server", "the CAVE server"))
        else:
            status = cell_facts.local_root_id_status(source, datastack, rec.root_id, cancel)
    except CancelledError:
        raise
    except CavernError as exc:
        status = RootIdStatus(rec.root_id, None, message=f"Could not check whether the root "
                                                         f"id is current: {exc}")
    return Inspection(rec, status)
