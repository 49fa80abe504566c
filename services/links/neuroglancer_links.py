"""Neuroglancer links for cells, their synapses and any result rows, built with nglui.

Every state is built by ``nglui.statebuilder.ViewerState`` with the dimensions and
position given explicitly, ``infer_coordinates=False`` and the target's annotation
capabilities pinned, so building a link never touches the network. Positions in the
frames (CAVE-style ``*_position`` list columns, or split ``*_position_x/_y/_z`` columns) are
in the rows' own units: the datastack's voxels, or the query's ``desired_resolution``
(e.g. nm), which each annotation layer's source transform carries; the view centre is
always in the datastack's voxels (the state's dimensions).

Neuroglancer keeps the whole state in the URL fragment; very long states are slow or
refused by browsers, so annotation and segment counts are capped and the returned
:class:`NeuroglancerLink` says how many were dropped. ``link_state.short_link`` stores the
state on a CAVE state server and returns a short link instead; ``link_rows`` turns rows
into positions (in their units) and tags.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from models.datastack import DatastackInfo
from models.errors import InvalidInputError
from models.ids import parse_id
from services.connectivity.aggregation import as_root_ids
from services.links.link_rows import (RESOLUTION_ATTR, cap as _cap, frame_resolution,  # noqa: F401
                                      points as _points, position_columns, root_id_columns,
                                      tag_synapses, tagged_rows, to_voxels)

SITES = {
    "spelunker": "https://spelunker.cave-explorer.org/",
    "neuroglancer": "https://neuroglancer-demo.appspot.com/",
}
SITE_ALIASES = {"google": "neuroglancer", "classic": "neuroglancer", "demo": "neuroglancer"}
DEFAULT_SITE = "spelunker"
# Spelunker encodes annotation tags its own way; classic neuroglancer follows main.
_CAPABILITIES = {"spelunker": "spelunker", "neuroglancer": "main"}

MAX_ANNOTATIONS = 2000  # ~200 URL characters each: keeps a link near 400 kB at most
MAX_SEGMENTS = 300  # every selected segment loads a mesh in the viewer
LONG_URL = 100_000  # beyond this, browsers and chat tools start to choke: suggest shortening
BROWSER_URL_LIMIT = 2_000_000  # Chromium refuses longer URLs outright (2 MB)

CELL_LAYER, IMAGE_LAYER, SEG_LAYER = "cells", "imagery", "segmentation"
MAX_TAGS = 20  # tag values of one layer (each gets a key binding in the viewer); rest: "other"


@dataclass(frozen=True)
class NeuroglancerLink:
    url: str
    n_annotations: int = 0
    n_dropped: int = 0  # rows not shown: over the cap, or without a position
    notes: tuple[str, ...] = ()
    site: str = DEFAULT_SITE
    state: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def length(self) -> int:
        return len(self.url)

    @property
    def is_long(self) -> bool:
        return self.length > LONG_URL


def site_url(site: str | None = None) -> tuple[str, str]:
    """(site name, base URL) for ``spelunker``/``neuroglancer`` or an http(s) URL."""
    s = (site or DEFAULT_SITE).strip()
    key = SITE_ALIASES.get(s.lower(), s.lower())
    if key in SITES:
        return key, SITES[key]
    if s.startswith(("http://", "https://")):
        return s, s if s.endswith("/") else s + "/"
    raise InvalidInputError(f"Unknown Neuroglancer site '{s}'.", field="site",
                            hint="Use spelunker, neuroglancer, or the viewer's https:// address.")


# ----------------------------------------------------------------------------- building blocks
def _viewer(ds: DatastackInfo, site: str, center_vx=None, segments: Iterable[int] = (),
            colors: Mapping[int, str] | None = None, capabilities=None):
    from nglui.statebuilder import ViewerState
    name, url = site_url(site)
    if not ds.segmentation_source:
        raise InvalidInputError(
            f"Datastack '{ds.name}' names no segmentation source, so cells cannot be shown.",
            field="segmentation_source", hint="Add segmentation_source to its manifest.")
    center = None
    if center_vx is not None:
        c = np.asarray(center_vx, dtype=float).reshape(-1)
        if c.size == 3 and np.isfinite(c).all():
            center = [float(v) for v in c]
    vs = ViewerState(target_url=url, dimensions=list(ds.voxel_resolution), position=center,
                     infer_coordinates=False,
                     capabilities=capabilities or _CAPABILITIES.get(name, "main"))
    if ds.image_source:
        vs.add_image_layer(ds.image_source, name=IMAGE_LAYER)
    segs = [int(s) for s in segments]
    seg_colors = {int(k): str(v) for k, v in colors.items()} if colors else None
    # the datastack's skeleton source (CAVE's skeleton service) beside the segmentation, as
    # nglui's own CAVE-aware builder does, so linked cells show their skeletons too
    skel = str(ds.extra.get("skeleton_source") or "")
    source = [ds.segmentation_source, skel] if skel else ds.segmentation_source
    vs.add_segmentation_layer(source, name=SEG_LAYER, segments=segs or None,
                              segment_colors=seg_colors)
    return vs, name, url


def _finish(vs, name: str, url: str, n_ann: int, n_dropped: int, notes: list[str],
            center_given: bool, first_vx=None) -> NeuroglancerLink:
    """The link of a built state; without a centre it opens at ``first_vx`` (the first
    annotation, in the datastack's voxels) and the note says which."""
    if not center_given:
        if first_vx is not None:
            vs.position = [float(v) for v in first_vx]
            notes.append("No soma position is known: the view opens at the first annotation.")
        else:
            notes.append("No soma position is known: the view opens at the volume's default "
                         "position.")
    try:
        state = vs.to_dict()
        link = vs.to_url(target_url=url)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInputError(f"The Neuroglancer state could not be built: {exc}") from None
    if len(link) > LONG_URL:
        notes.append(f"The link is {len(link):,} characters long, more than browsers and "
                     "chat tools handle well: use a short link (needs a CAVE connection), "
                     "Cavern's live viewer (View > Neuroglancer viewer), or fewer rows.")
    return NeuroglancerLink(link, n_ann, n_dropped, tuple(notes), name, state)


@dataclass(frozen=True)
class _Shown:
    shown: int  # annotations in the layer
    over: int  # rows dropped over the cap
    missing: int  # rows dropped for having no position
    first_vx: list | None  # the first annotation, in the datastack's voxels


def _add_point_layer(vs, layer: str, frame: pd.DataFrame, pos_col: str, link_cols: Sequence[str],
                     resolution, limit: int, color: str | None = None,
                     description_col: str | None = None, tag_col: str | None = None,
                     ds: DatastackInfo | None = None) -> _Shown:
    """Add one point layer (its source transform in ``resolution`` units); with ``tag_col``
    each point is tagged with its value (one tag per value, nglui's tag_column)."""
    pts = _points(frame, pos_col)
    ok = np.isfinite(pts).all(axis=1) if len(pts) else np.zeros(0, dtype=bool)
    n_missing = int((~ok).sum())
    idx = np.flatnonzero(ok)
    keep = idx[_cap(len(idx), max(limit, 0))] if limit > 0 else idx[:0]
    data = pd.DataFrame({"pos": [pts[i].tolist() for i in keep]})
    seg_col = None
    if link_cols:
        ids = [as_root_ids(frame[c].iloc[keep], name=c) for c in link_cols]
        data["seg"] = [[int(v) for v in row if v != 0] for row in zip(*ids)] if len(ids) > 1 \
            else [int(v) for v in ids[0]]
        seg_col = "seg"
    if description_col:
        data["desc"] = frame[description_col].iloc[keep].astype(str).to_numpy()
    tags = None
    if tag_col:
        data["tag"] = frame[tag_col].iloc[keep].astype(str).to_numpy()
        # every value is a tag, in the frame's order (most frequent first when grouped)
        tags = list(dict.fromkeys(frame[tag_col].astype(str).tolist()))
    try:
        vs.add_points(data, name=layer, point_column="pos", segment_column=seg_col,
                      description_column="desc" if description_col else None,
                      tag_column="tag" if tag_col else None, tags=tags,
                      data_resolution=list(resolution), linked_segmentation=SEG_LAYER,
                      color=color, set_position=False)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"Layer '{layer}' could not be built: {exc}") from None
    first = None
    if len(keep) and ds is not None:
        first = to_voxels(pts[keep[0]], resolution, ds)
    return _Shown(len(keep), len(idx) - len(keep), n_missing, first)


def _drop_notes(notes: list[str], what: str, shown: int, over: int, missing: int) -> None:
    if over:
        notes.append(f"{what}: showing {shown:,} of {shown + over:,} (a random sample; "
                     "the full set would make the link too long).")
    if missing:
        notes.append(f"{what}: {missing:,} rows have no position and are not shown.")


# ----------------------------------------------------------------------------- public links
def cells_link(ds: DatastackInfo, root_ids, *, center_vx=None, site: str | None = None,
               colors: Mapping[int, str] | None = None,
               soma_positions_vx: Mapping[int, Sequence[float]] | None = None) -> NeuroglancerLink:
    """One or several cells selected in the segmentation, centred on ``center_vx``.

    ``soma_positions_vx`` (root id -> soma position) adds a soma point per cell and
    centres on the first one when ``center_vx`` is not given.
    """
    ids = [parse_id(r, "root_id", "root id")
           for r in (root_ids if not isinstance(root_ids, (int, str)) else [root_ids])]
    if not ids:
        raise InvalidInputError("Pick at least one cell for the link.", field="root_id")
    notes: list[str] = []
    if len(ids) > MAX_SEGMENTS:
        notes.append(f"Showing {MAX_SEGMENTS} of {len(ids):,} cells (each loads a mesh).")
    shown_ids = ids[:MAX_SEGMENTS]
    somas = {int(k): v for k, v in (soma_positions_vx or {}).items() if v is not None}
    if center_vx is None:
        center_vx = next((somas[i] for i in shown_ids if i in somas), None)
    vs, name, url = _viewer(ds, site, center_vx, shown_ids, colors)
    n_ann = _add_somas(vs, ds, shown_ids, somas).shown
    vs.set_selected_layer(SEG_LAYER)
    return _finish(vs, name, url, n_ann, len(ids) - len(shown_ids), notes, center_vx is not None)


def _add_somas(vs, ds: DatastackInfo, ids: Sequence[int], somas: Mapping[int, Sequence[float]]
               ) -> _Shown:
    """A "somas" point layer of the cells whose soma is known (voxels), each linked to its cell."""
    frame = pd.DataFrame({"pt_position": [somas.get(int(i)) for i in ids],
                          "pt_root_id": np.array(ids, dtype=np.int64)})
    frame = frame[frame["pt_position"].notna()]
    if frame.empty:
        return _Shown(0, 0, 0, None)
    return _add_point_layer(vs, "somas", frame, "pt_position", ["pt_root_id"],
                            ds.voxel_resolution, MAX_SEGMENTS, color="#ffd23d", ds=ds)


def cell_synapses_link(ds: DatastackInfo, root_id, synapses: pd.DataFrame, *,
                       inputs: bool = True, outputs: bool = True, center_vx=None,
                       site: str | None = None, position_column: str = "ctr_pt_position",
                       max_annotations: int = MAX_ANNOTATIONS,
                       pre_column: str = "pre_pt_root_id",
                       post_column: str = "post_pt_root_id") -> NeuroglancerLink:
    """A cell with its input and/or output synapses as points linked to the partners.

    ``synapses`` holds the cell's synapse rows (e.g. a synapse-table query with
    ``pre_pt_root_id = id`` or ``post_pt_root_id = id``); rows of other cells are ignored.
    """
    rid = parse_id(root_id, "root_id", "root id")
    if not (inputs or outputs):
        raise InvalidInputError("Choose inputs, outputs or both for the synapse link.",
                                field="direction")
    tagged = tag_synapses(rid, synapses, inputs, outputs, pre_column, post_column)
    parts = [(layer, tagged[(tagged["direction"] == d).to_numpy()], color)
             for use, layer, d, color in ((inputs, "inputs", "input", "#ff6b3d"),
                                          (outputs, "outputs", "output", "#3da5ff")) if use]
    total = sum(len(p[1]) for p in parts) or 1
    vs, name, url = _viewer(ds, site, center_vx, [rid])
    notes: list[str] = []
    n_ann = n_drop = 0
    first = None
    for layer, rows, color in parts:
        budget = int(round(max_annotations * len(rows) / total))
        r = _add_point_layer(vs, layer, rows, position_column, ["partner_root_id"],
                             ds.voxel_resolution, budget, color, ds=ds)
        _drop_notes(notes, f"{layer[:-1].capitalize()} synapses", r.shown, r.over, r.missing)
        n_ann += r.shown
        n_drop += r.over + r.missing
        first = first or r.first_vx
    vs.set_selected_layer(SEG_LAYER)
    return _finish(vs, name, url, n_ann, n_drop, notes, center_vx is not None, first)


def partners_link(ds: DatastackInfo, root_id, partner_ids, synapses: pd.DataFrame | None = None,
                  *, soma_positions_vx: Mapping[int, Sequence[float]] | None = None,
                  site: str | None = None, position_column: str = "ctr_pt_position",
                  max_annotations: int = MAX_ANNOTATIONS) -> NeuroglancerLink:
    """A cell and some of its partners: the cells selected, a soma point per cell whose soma
    is known, and the cell's synapses with those partners in one layer tagged input/output,
    each point linked to its partner. Centred on the cell's soma (else a partner's, else the
    first synapse)."""
    rid = parse_id(root_id, "root_id", "root id")
    partners = [p for p in dict.fromkeys(parse_id(p, "root_id", "root id")
                                         for p in partner_ids) if p != rid]
    ids = ([rid] + partners)[:MAX_SEGMENTS]
    notes: list[str] = []
    if len(partners) + 1 > MAX_SEGMENTS:
        notes.append(f"Showing {MAX_SEGMENTS} of {len(partners) + 1:,} cells (each loads a mesh).")
    somas = {int(k): v for k, v in (soma_positions_vx or {}).items() if v is not None}
    center = next((somas[i] for i in ids if i in somas), None)
    colors = {rid: "#ffffff"}
    vs, name, url = _viewer(ds, site, center, ids, colors)
    n_ann = _add_somas(vs, ds, ids, somas).shown
    n_drop, first = 0, None
    if synapses is not None and len(synapses):
        tagged = tag_synapses(rid, synapses)
        tagged = tagged[np.isin(tagged["partner_root_id"].to_numpy(),
                                np.asarray(ids[1:], dtype=np.int64))]
        if position_column not in position_columns(tagged):
            notes.append("The synapse rows have no position, so no synapse points are shown.")
        elif len(tagged):
            r = _add_point_layer(vs, "synapses", tagged, position_column, ["partner_root_id"],
                                 ds.voxel_resolution, max_annotations, tag_col="direction",
                                 ds=ds)
            _drop_notes(notes, "Synapses", r.shown, r.over, r.missing)
            n_ann, n_drop, first = n_ann + r.shown, r.over + r.missing, r.first_vx
    vs.set_selected_layer(SEG_LAYER)
    return _finish(vs, name, url, n_ann, n_drop + len(partners) + 1 - len(ids), notes,
                   center is not None, first)


def pair_synapses_link(ds: DatastackInfo, pre_id, post_id, synapses: pd.DataFrame, *,
                       center_vx=None, site: str | None = None,
                       position_column: str = "ctr_pt_position",
                       max_annotations: int = MAX_ANNOTATIONS) -> NeuroglancerLink:
    """The synapses from ``pre_id`` onto ``post_id``, both cells selected."""
    a, b = parse_id(pre_id, "root_id", "root id"), parse_id(post_id, "root_id", "root id")
    for c in ("pre_pt_root_id", "post_pt_root_id"):
        if c not in synapses.columns:
            raise InvalidInputError(f"The synapse rows have no '{c}' column.", field=c)
    if "id" in synapses.columns:
        synapses = synapses.drop_duplicates("id")
    pre = as_root_ids(synapses["pre_pt_root_id"], "pre_pt_root_id")
    post = as_root_ids(synapses["post_pt_root_id"], "post_pt_root_id")
    rows = synapses[(pre == a) & (post == b)]
    notes: list[str] = []
    if rows.empty:
        notes.append(f"No synapses from {a} onto {b} in these rows.")
    vs, name, url = _viewer(ds, site, center_vx, [a, b], {a: "#ff6b3d", b: "#3da5ff"})
    r = _add_point_layer(vs, "synapses", rows, position_column,
                         ["pre_pt_root_id", "post_pt_root_id"], ds.voxel_resolution,
                         max_annotations, ds=ds)
    _drop_notes(notes, "Synapses", r.shown, r.over, r.missing)
    if center_vx is None and r.first_vx is not None:
        center_vx = vs.position = r.first_vx  # a pair has no one soma: its first synapse
    vs.set_selected_layer(SEG_LAYER)
    return _finish(vs, name, url, r.shown, r.over + r.missing, notes, center_vx is not None)


def rows_link(ds: DatastackInfo, frame: pd.DataFrame, *, position_column: str | None = None,
              root_id_columns_: Sequence[str] | None = None, group_column: str | None = None,
              description_column: str | None = None, site: str | None = None,
              center_vx=None, max_annotations: int = MAX_ANNOTATIONS,
              max_segments: int = MAX_SEGMENTS, resolution: Sequence[float] | None = None,
              max_layers: int = MAX_TAGS) -> NeuroglancerLink:
    """Selected rows of any result: points at a position column, cells from id columns.

    All points go in one "rows" layer; with ``group_column`` (e.g. ``cell_type``) each point
    is tagged with its value (the ``max_layers`` most frequent values; the rest "other").
    ``resolution`` is the positions' nm per unit (default: the frame's attrs
    [RESOLUTION_ATTR], set from the query's desired_resolution, else the datastack's voxels).
    """
    if frame is None or len(frame) == 0:
        raise InvalidInputError("Select at least one row for the link.", field="rows")
    pos_cols = position_columns(frame)
    pos_col = position_column or (pos_cols[0] if pos_cols else None)
    if pos_col is not None and pos_col not in pos_cols:
        raise InvalidInputError(f"'{pos_col}' is not a position column of these rows.",
                                field="position_column",
                                hint="Position columns: " + (", ".join(pos_cols) or "none") + ".")
    id_cols = list(root_id_columns_) if root_id_columns_ is not None else root_id_columns(frame)
    for c in id_cols:
        if c not in frame.columns:
            raise InvalidInputError(f"No column '{c}' in these rows.", field="root_id_columns")
    if pos_col is None and not id_cols:
        raise InvalidInputError("These rows have neither a position nor a root-id column, "
                                "so there is nothing to show in Neuroglancer.", field="rows")
    if group_column is not None and group_column not in frame.columns:
        raise InvalidInputError(f"No column '{group_column}' to tag points by.",
                                field="group_column")
    res = frame_resolution(frame, ds, resolution)
    notes: list[str] = []
    ids = pd.unique(np.concatenate([as_root_ids(frame[c], c) for c in id_cols])) if id_cols \
        else np.zeros(0, dtype=np.int64)
    ids = [int(i) for i in ids if i != 0]
    if len(ids) > max_segments:
        notes.append(f"Selecting {max_segments} of {len(ids):,} cells (each loads a mesh).")
    vs, name, url = _viewer(ds, site, center_vx, ids[:max_segments])
    n_ann = n_drop = 0
    first = None
    if pos_col is not None:
        rows, tag_col = frame, None
        if group_column is not None:
            rows, tag_col = tagged_rows(frame, group_column, max_layers, notes), "_tag"
        r = _add_point_layer(vs, "rows", rows, pos_col, id_cols, res, max_annotations,
                             description_col=description_column, tag_col=tag_col, ds=ds)
        _drop_notes(notes, "Rows", r.shown, r.over, r.missing)
        n_ann, n_drop, first = r.shown, r.over + r.missing, r.first_vx
        if res != [float(v) for v in ds.voxel_resolution]:
            notes.append("Positions are in {} nm per unit (the query's resolution).".format(
                " x ".join(f"{v:g}" for v in res)))
    if center_vx is None and first is not None:
        center_vx = vs.position = first  # rows have no soma: the first row, in voxels
    vs.set_selected_layer(SEG_LAYER if pos_col is None else "rows")
    return _finish(vs, name, url, n_ann, n_drop, notes, center_vx is not None)


# the URL state and short links live in link_state; these names stay importable from here
from services.links.link_state import Uploader, decode_state, short_link  # noqa: E402,F401
