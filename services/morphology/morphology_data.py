"""What the Morphology view shows, gathered without Qt: skeleton, synapses on it, labels.

``load_morphology`` (run in a worker) reads the skeleton from the source
(``DataSource.skeleton``), the cell's input and output synapses in nm, maps them onto the
skeleton and computes display coordinates (depth-aligned where the datastack has a
transform). Partner labels (known cells, cell types) and target compartments are asked
separately, when the user picks a table.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.errors import NotFoundError
from models.filters import Filter, Op
from models.ids import parse_id
from services.morphology.skeleton import Skeleton
from services.morphology.synapse_mapping import check_units, map_synapses
from services.source import CancelToken
from services.workspace import Workspace

PRE, POST = "pre_pt_root_id", "post_pt_root_id"
POS_COLUMNS = ("ctr_pt_position", "post_pt_position", "pre_pt_position")
TARGET_TABLE_PREFIX = "synapse_target_predictions"  # minnie65: ..._ssa, ..._ssa_v2
NM = (1.0, 1.0, 1.0)


@dataclass
class MorphologyData:
    skeleton: Skeleton
    synapses: pd.DataFrame  # one row per synapse id, with the columns below
    coords: np.ndarray  # (n, 3) vertex display coordinates, um (y = depth when aligned)
    syn_coords: np.ndarray  # (k, 3) synapse display coordinates, um
    aligned: bool  # coords are depth-aligned by the datastack's transform
    axis_note: str  # what the axes mean
    vertex_path_um: np.ndarray  # (n,) path distance of each vertex to the root
    synapse_table: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def root_id(self) -> int:
        return self.skeleton.root_id

    def counts(self) -> dict[str, int]:
        s = self.synapses
        return {"inputs": int(s["is_input"].sum()), "outputs": int(s["is_output"].sum()),
                "both": len(s)}


def display_coords(points_nm: np.ndarray, transform) -> tuple[np.ndarray, bool, str]:
    """Points (nm) to um for drawing: depth-aligned (standard_transform) where the datastack
    has a minnie65/v1dd transform, depth along its axis for a linear one, raw otherwise."""
    from services.cells.cortical_depth import DepthTransform
    tf = transform if isinstance(transform, DepthTransform) else \
        DepthTransform.from_manifest(transform)
    pts = np.asarray(points_nm, dtype=float).reshape(-1, 3)
    if tf.kind in ("minnie65", "v1dd") and len(pts):
        import warnings
        import standard_transform as st
        make = st.minnie_transform if tf.kind == "minnie65" else st.v1dd_transform
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = np.asarray(make(resolution="nm", version=tf.version).apply(pts), float)
        return out.reshape(-1, 3), True, f"um, depth-aligned ({tf.describe()})"
    out = pts / 1000.0
    if tf.kind == "linear":
        out = out.copy()
        out[:, 1] = tf.depth_um(pts, units="nm")
        return out, True, f"um; y is depth ({tf.describe()})"
    return out, False, "um in the volume's coordinates (no depth transform)"


def fetch_synapses_nm(ws: Workspace, root_id: int, cancel: CancelToken | None = None):
    """The cell's inputs and outputs (one row per synapse) with positions in nm."""
    role = ws.synapse_table()
    kinds = role.info.kinds
    pos = next((c for c in POS_COLUMNS if c in kinds), None)
    if pos is None:
        raise NotFoundError(f"Synapse table '{role.name}' has no position column, so its "
                            "synapses cannot be drawn on the skeleton.")
    # the one fetch of a cell's synapses: complete, deduplicated (an autapse is in both)
    from services.cells.cell_inspection import fetch_cell_synapses
    syn = fetch_cell_synapses(ws, [int(root_id)], cancel=cancel, desired_resolution=NM)
    pts = _points(syn[pos])
    return syn, pts, role


def _points(series) -> np.ndarray:
    vals = series.tolist()
    out = np.full((len(vals), 3), np.nan)
    for i, p in enumerate(vals):
        if p is not None and np.size(p) == 3:
            out[i] = np.asarray(p, dtype=float)
    return out


def require_skeleton(ws: Workspace, root_id, cancel: CancelToken | None = None) -> Skeleton:
    """The cell's skeleton from the workspace's source, or a NotFoundError saying where
    none was found."""
    rid = parse_id(root_id)
    skel = ws.source.skeleton(ws.datastack, rid, ws.version, ws.timestamp, cancel=cancel)
    if skel is None:
        where = "this local datastack has no skeleton file for it" if ws.is_local else \
            "the skeleton service has none"
        hint = ("Local datastacks keep skeletons in skeletons/<root id>.json(.gz) (or .swc)."
                if ws.is_local else "Check that the root id is current (the cell inspector "
                "says whether it was edited since).")
        raise NotFoundError(f"No skeleton of {rid}: {where}.", hint=hint)
    return skel


def load_morphology(ws: Workspace, root_id, cancel: CancelToken | None = None
                    ) -> MorphologyData:
    """Skeleton + synapses of one cell, mapped and ready to draw."""
    rid = parse_id(root_id)
    if cancel is not None:
        cancel.report(0, 3, what="reading the skeleton")
    # the first morphology of a session imports these (~0.5 s): while reading, not after
    import scipy.sparse.csgraph  # noqa: F401
    import scipy.spatial  # noqa: F401
    skel = require_skeleton(ws, rid, cancel)
    if cancel is not None:
        cancel.report(1, 3, what="reading the synapses")
    syn, pts, role = fetch_synapses_nm(ws, rid, cancel)
    if cancel is not None:
        cancel.report(2, 3, what="mapping synapses onto the skeleton")
    data = assemble_morphology(skel, syn, pts, ws.info.transform, role.label,
                               [role.note] if role.note else [])
    if cancel is not None:
        cancel.report(3, 3, what="done")
    return data


def assemble_morphology(skel: Skeleton, syn: pd.DataFrame, pts: np.ndarray, transform,
                        synapse_table: str = "", notes: list[str] | None = None
                        ) -> MorphologyData:
    """What is computed once the data are here (tests/bench/bench_morphology.py times it):
    synapses mapped onto the skeleton, path distances, display coordinates."""
    rid = skel.root_id
    notes = list(notes or [])
    if not skel.has_compartments:
        notes.append("The skeleton has no compartment labels: it is drawn in one colour and "
                     "axon/dendrite cannot be told apart.")
    units = check_units(skel, skel.soma_point_nm())
    if units:
        notes.append(units)
    path_nm = skel.path_distance_to_root()
    m = map_synapses(skel, pts, path_nm=path_nm)
    syn = syn.copy()
    syn["is_input"] = (syn[POST] == rid).to_numpy()
    syn["is_output"] = (syn[PRE] == rid).to_numpy()
    syn["partner_root_id"] = np.where(syn["is_input"], syn[PRE], syn[POST]).astype(np.int64)
    syn["x_nm"], syn["y_nm"], syn["z_nm"] = pts[:, 0], pts[:, 1], pts[:, 2]
    syn["vertex"] = m.vertex
    syn["vertex_distance_nm"] = m.distance_nm
    syn["path_to_soma_um"] = m.path_um
    comp = skel.compartment
    syn["compartment"] = np.where(m.vertex >= 0, comp[np.maximum(m.vertex, 0)], 0) \
        if comp is not None else 0
    if m.n_far:
        notes.append(f"{m.n_far:,} synapses lie more than {m.far_nm / 1000:g} um from every "
                     "skeleton vertex (drawn at their own positions, mapped to the nearest "
                     "vertex anyway).")
    if m.n_unplaced:
        notes.append(f"{m.n_unplaced:,} synapses have no position and are not drawn.")
    coords, aligned, note = display_coords(skel.vertices, transform)
    syn_coords, _, _ = display_coords(pts, transform)
    return MorphologyData(skel, syn, coords, syn_coords, aligned, note, path_nm / 1000.0,
                          synapse_table, notes)


# ---- labels asked for separately ------------------------------------------------------
def partner_cell_types(ws: Workspace, table: str, partner_ids, cancel=None) -> pd.Series:
    """partner root id -> cell type (the first row's) for partners in ``table``; partners
    absent from it are not in the index ("unknown" cells)."""
    role = ws.table(table, "cell_type")
    ids = tuple(int(i) for i in pd.unique(np.asarray(partner_ids, dtype=np.int64)))
    if not ids or "pt_root_id" not in role.info.kinds:
        return pd.Series(dtype=object)
    cols = tuple(c for c in ("pt_root_id", "cell_type") if c in role.info.kinds)
    frame = ws.complete_frame(role, (Filter("pt_root_id", Op.IN, ids),), cols, cancel)
    frame = frame.drop_duplicates("pt_root_id")
    types = frame["cell_type"].astype(object).where(frame["cell_type"].notna(), "(no type)") \
        if "cell_type" in frame else pd.Series("(in table)", index=frame.index)
    return pd.Series(types.to_numpy(), index=frame["pt_root_id"].astype(np.int64).to_numpy())


def target_table(ws: Workspace) -> str | None:
    """The synapse reference table with spine/shaft/soma tags, if the datastack has one."""
    syn = ws.info.synapse_table
    names = sorted((n for n, t in ws.tables().items() if n.startswith(TARGET_TABLE_PREFIX)
                    and (not t.reference_table or t.reference_table == syn)), reverse=True)
    return names[0] if names else None  # _v2 sorts before the first version


def target_compartments(ws: Workspace, synapse_ids, cancel=None) -> tuple[str, pd.Series]:
    """(table, synapse id -> tag) from the target-prediction table."""
    name = target_table(ws)
    if name is None:
        raise NotFoundError(
            f"{ws.datastack} has no synapse target table: colouring by target compartment "
            f"needs a reference table on {ws.info.synapse_table or 'the synapse table'} "
            "with spine/shaft/soma tags (synapse_target_predictions_ssa_v2 on minnie65).")
    role = ws.table(name)
    tag = next((c for c in ("tag", "classification", "target", "cell_type")
                if c in role.info.kinds), None)
    key = "target_id" if "target_id" in role.info.kinds else "id"
    ids = tuple(int(i) for i in synapse_ids)
    frame = ws.complete_frame(role, (Filter(key, Op.IN, ids),), (key, tag), cancel)
    frame = frame.drop_duplicates(key)
    return name, pd.Series(frame[tag].to_numpy(), index=frame[key].astype(np.int64).to_numpy())
