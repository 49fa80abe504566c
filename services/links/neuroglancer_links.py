"""Neuroglancer links for cells, their synapses and any result rows, built with nglui.

Every state is built by ``nglui.statebuilder.ViewerState`` with the dimensions and
position given explicitly, ``infer_coordinates=False`` and the target's annotation
capabilities pinned, so building a link never touches the network. Positions in the
frames are voxels at the datastack's voxel resolution (CAVE-style ``*_position`` list
columns, or split ``*_position_x/_y/_z`` columns).

Neuroglancer keeps the whole state in the URL fragment; very long states are slow or
refused by browsers, so annotation and segment counts are capped and the returned
:class:`NeuroglancerLink` says how many were dropped. :func:`short_link` uploads the state
to a CAVE state server (when a client is available) and returns a short link instead.
"""
from __future__ import annotations

from models.ids import parse_id

import json
import urllib.parse
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from models.datastack import DatastackInfo
from models.errors import InvalidInputError
from services.connectivity.aggregation import as_root_ids

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

CELL_LAYER, IMAGE_LAYER, SEG_LAYER = "cells", "imagery", "segmentation"


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
            colors: Mapping[int, str] | None = None):
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
                     infer_coordinates=False, capabilities=_CAPABILITIES.get(name, "main"))
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
            center_given: bool) -> NeuroglancerLink:
    if not center_given:
        notes.append("No soma position is known: the view opens at the first annotation "
                     "or the volume's default position.")
    try:
        state = vs.to_dict()
        link = vs.to_url(target_url=url)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInputError(f"The Neuroglancer state could not be built: {exc}") from None
    if len(link) > LONG_URL:
        notes.append(f"The link is {len(link):,} characters long: share a short link "
                     "(needs a CAVE connection) or show fewer rows.")
    return NeuroglancerLink(link, n_ann, n_dropped, tuple(notes), name, state)


def position_columns(frame: pd.DataFrame) -> list[str]:
    """Position columns of a frame, as nglui names them: ``x_position`` or the split prefix."""
    out = [c for c in frame.columns if str(c).endswith("_position")]
    for c in frame.columns:
        s = str(c)
        if s.endswith("_position_x") and f"{s[:-2]}_y" in frame and f"{s[:-2]}_z" in frame:
            out.append(s[:-2])
    preferred = ["pt_position", "ctr_pt_position", "post_pt_position", "pre_pt_position"]
    return sorted(out, key=lambda c: preferred.index(c) if c in preferred else len(preferred))


def root_id_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if str(c).endswith("root_id")]


def _points(frame: pd.DataFrame, column: str) -> np.ndarray:
    """(N, 3) float positions of a list column or split x/y/z columns; NaN where missing."""
    if column in frame.columns:
        series = frame[column]
        if isinstance(series.dtype, pd.ArrowDtype):  # compact (n, 3) column: no per-row loop
            from services.results.positions import is_position_series, series_xyz
            if is_position_series(series):
                return series_xyz(series)[0].astype(float)
        rows = [np.full(3, np.nan) if p is None or np.ndim(p) == 0 else
                np.asarray(p, dtype=float).reshape(-1)[:3] for p in frame[column].tolist()]
        return np.vstack(rows) if rows else np.zeros((0, 3))
    cols = [f"{column}_{a}" for a in "xyz"]
    if not all(c in frame.columns for c in cols):
        raise InvalidInputError(f"No position column '{column}' (or {column}_x/_y/_z).",
                                field="position_column")
    return frame[cols].to_numpy(dtype=float)


def _cap(n: int, limit: int, seed: int = 0) -> np.ndarray:
    """Row indices to keep: all, or a reproducible random sample spread over the rows."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def _add_point_layer(vs, layer: str, frame: pd.DataFrame, pos_col: str, link_cols: Sequence[str],
                     resolution, limit: int, color: str | None = None,
                     description_col: str | None = None) -> tuple[int, int, int]:
    """Add one point layer; returns (shown, dropped over the cap, dropped for no position)."""
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
    try:
        vs.add_points(data, name=layer, point_column="pos", segment_column=seg_col,
                      description_column="desc" if description_col else None,
                      data_resolution=list(resolution), linked_segmentation=SEG_LAYER,
                      color=color, set_position=False)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"Layer '{layer}' could not be built: {exc}") from None
    return len(keep), len(idx) - len(keep), n_missing


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
    ids = [parse_id(r, "root_id", "root id") for r in (root_ids if not isinstance(root_ids, (int, str))
                                       else [root_ids])]
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
    n_ann = 0
    if somas:
        frame = pd.DataFrame({"pt_position": [somas.get(i) for i in shown_ids],
                              "pt_root_id": np.array(shown_ids, dtype=np.int64)})
        frame = frame[frame["pt_position"].notna()]
        n_ann, _, _ = _add_point_layer(vs, "somas", frame, "pt_position", ["pt_root_id"],
                                       ds.voxel_resolution, MAX_SEGMENTS)
    vs.set_selected_layer(SEG_LAYER)
    return _finish(vs, name, url, n_ann, len(ids) - len(shown_ids), notes, center_vx is not None)


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
    for c in (pre_column, post_column):
        if c not in synapses.columns:
            raise InvalidInputError(f"The synapse rows have no '{c}' column.", field=c)
    if "id" in synapses.columns:  # inputs and outputs fetched apart share autapse rows
        synapses = synapses.drop_duplicates("id")
    pre = as_root_ids(synapses[pre_column], pre_column)
    post = as_root_ids(synapses[post_column], post_column)
    parts = []
    if inputs:
        parts.append(("inputs", synapses[post == rid], pre_column, "#ff6b3d"))
    if outputs:
        parts.append(("outputs", synapses[pre == rid], post_column, "#3da5ff"))
    total = sum(len(p[1]) for p in parts) or 1
    vs, name, url = _viewer(ds, site, center_vx, [rid])
    notes: list[str] = []
    n_ann = n_drop = 0
    for layer, rows, partner_col, color in parts:
        budget = int(round(max_annotations * len(rows) / total))
        shown, over, missing = _add_point_layer(vs, layer, rows, position_column, [partner_col],
                                                ds.voxel_resolution, budget, color)
        _drop_notes(notes, f"{layer[:-1].capitalize()} synapses", shown, over, missing)
        n_ann += shown
        n_drop += over + missing
    vs.set_selected_layer(SEG_LAYER)
    return _finish(vs, name, url, n_ann, n_drop, notes, center_vx is not None)


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
    shown, over, missing = _add_point_layer(
        vs, "synapses", rows, position_column, ["pre_pt_root_id", "post_pt_root_id"],
        ds.voxel_resolution, max_annotations)
    _drop_notes(notes, "Synapses", shown, over, missing)
    if center_vx is None and shown:
        vs.position = _points(rows, position_column)[0].tolist()
        center_vx = vs.position
    vs.set_selected_layer(SEG_LAYER)
    return _finish(vs, name, url, shown, over + missing, notes, center_vx is not None)


def rows_link(ds: DatastackInfo, frame: pd.DataFrame, *, position_column: str | None = None,
              root_id_columns_: Sequence[str] | None = None, group_column: str | None = None,
              description_column: str | None = None, site: str | None = None,
              center_vx=None, max_annotations: int = MAX_ANNOTATIONS,
              max_segments: int = MAX_SEGMENTS, resolution: Sequence[float] | None = None,
              max_layers: int = 20) -> NeuroglancerLink:
    """Selected rows of any result: points at a position column, cells from id columns.

    With ``group_column`` (e.g. ``cell_type``) each value gets its own annotation layer
    (the most frequent ``max_layers`` values; the rest share an "other" layer).
    ``resolution`` is the positions' nm/voxel (default: the datastack's).
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
        raise InvalidInputError(f"No column '{group_column}' to split layers by.",
                                field="group_column")
    notes: list[str] = []
    ids = pd.unique(np.concatenate([as_root_ids(frame[c], c) for c in id_cols])) if id_cols \
        else np.zeros(0, dtype=np.int64)
    ids = [int(i) for i in ids if i != 0]
    if len(ids) > max_segments:
        notes.append(f"Selecting {max_segments} of {len(ids):,} cells (each loads a mesh).")
    if center_vx is None and pos_col is not None:
        pts = _points(frame, pos_col)
        good = pts[np.isfinite(pts).all(axis=1)]
        center_vx = good[0] if len(good) else None
    vs, name, url = _viewer(ds, site, center_vx, ids[:max_segments])
    n_ann = n_drop = 0
    if pos_col is not None:
        res = resolution or ds.voxel_resolution
        groups = _groups(frame, group_column, max_layers, notes)
        for layer, rows in groups:
            budget = int(round(max_annotations * len(rows) / len(frame)))
            shown, over, missing = _add_point_layer(vs, layer, rows, pos_col, id_cols, res,
                                                    budget, description_col=description_column)
            _drop_notes(notes, f"Layer '{layer}'", shown, over, missing)
            n_ann += shown
            n_drop += over + missing
    vs.set_selected_layer(SEG_LAYER if pos_col is None else vs.layers[-1].name)
    return _finish(vs, name, url, n_ann, n_drop, notes, center_vx is not None)


def _groups(frame: pd.DataFrame, column: str | None, max_layers: int, notes: list[str]):
    if column is None:
        return [("rows", frame)]
    labels = frame[column].astype("string").fillna("(none)")
    order = labels.value_counts(sort=True).index.tolist()
    out, used = [], {IMAGE_LAYER, SEG_LAYER, "other"}
    for v in order[:max_layers]:
        name = str(v)[:60] or "(empty)"
        while name in used:  # a layer name must be unique in the state
            name = f"{name} ({column})"
        used.add(name)
        out.append((name, frame[(labels == v).to_numpy()]))
    if len(order) > max_layers:
        rest = ~labels.isin(order[:max_layers]).to_numpy()
        out.append(("other", frame[rest]))
        notes.append(f"{len(order) - max_layers} less frequent values of '{column}' share "
                     "the layer 'other'.")
    return out


# ----------------------------------------------------------------------------- state & short links
def decode_state(url: str) -> dict:
    """The JSON state in a Neuroglancer URL's fragment (``#!{...}``)."""
    if "#!" not in url:
        raise InvalidInputError("This is not a Neuroglancer state URL (no '#!' fragment).",
                                field="url")
    text = urllib.parse.unquote(url.split("#!", 1)[1])
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidInputError("The Neuroglancer URL's state is not valid JSON.",
                                field="url") from None


Uploader = Callable[[dict, str], str]  # (state JSON, viewer base URL) -> short URL


def short_link(link: NeuroglancerLink, uploader: Uploader, server: str = "the state server"
               ) -> NeuroglancerLink:
    """Upload the link's state and return a link whose URL points at the stored state.

    ``uploader(state, base_url)`` is the source's (DataSource.upload_state); any failure
    of its client becomes one typed error."""
    from models.errors import CavernError
    from services.http_errors import map_exception
    _, base = site_url(link.site)
    try:
        url = uploader(link.state, base)
    except CavernError:
        raise
    except Exception as exc:
        raise map_exception(exc, "uploading the Neuroglancer state", server) from None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"The state server returned no link (got {url!r}).")
    return replace(link, url=url, notes=link.notes + (f"Short link to a state stored on "
                                                       f"{server} ({link.length:,} characters).",))
