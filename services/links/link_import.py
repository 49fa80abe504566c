"""Neuroglancer links read back into Cavern: visible segments and annotation points.

A pasted link holds its state in the URL fragment (``#!{...}``) or points at a state stored
on a state server: a CAVE short link (``#!middleauth+https://.../nglstate/api/v1/<id>``),
a ``?json_url=`` link, or the state server's own address. :func:`read_link` tells which;
the stored state is fetched by the caller (``DataSource.fetch_state``, in a worker), so
this module needs no network. :func:`import_state` parses the state with Neuroglancer's own
``neuroglancer.ViewerState``:

- segments: every segmentation layer's visible segments, in order; ``!`` (hidden) segments
  and the segments of hidden or archived layers are counted apart, never selected;
- points: every annotation (point; line and box from their first corner; ellipsoid from
  its centre) as a row, its position converted from its layer's coordinate space (the
  source transform's dimensions and matrix, a legacy ``voxelSize``, else the state's
  dimensions) to the datastack's voxels (``pt_position``) and nm (``x_nm``/``y_nm``/``z_nm``).

Qt-free. Every unusable text gives one :class:`InvalidInputError` saying what is wrong.
"""
from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.datastack import DatastackInfo
from models.errors import InvalidInputError
from services.links.link_rows import RESOLUTION_ATTR

# a state stored on a CAVE state server (nglstate), by id
STATE_PATH = re.compile(r"/nglstate/(?:api/v1/)?(?:raw/)?(\d+)/?$")
SEGMENTATION_TYPES = {"segmentation"}
LEGACY_TYPES = {"segmentation_with_graph": "segmentation"}  # seunglab's viewer (FlyWire)
KNOWN_TYPES = {"image", "segmentation", "annotation", "mesh"}  # what Cavern reads of them
POINT_KEYS = {"point": "point", "line": "pointA", "axis_aligned_bounding_box": "pointA",
              "ellipsoid": "center"}


@dataclass(frozen=True)
class LinkRef:
    """What a pasted text points at: a state in the URL itself, or one stored elsewhere."""
    state: dict | None = None
    state_url: str | None = None


@dataclass(frozen=True)
class SegmentLayer:
    name: str
    source: str
    visible: int  # segments shown
    hidden: int  # segments listed but hidden ("!" or a hidden layer)
    layer_visible: bool = True


@dataclass(frozen=True)
class ImportedLink:
    """What a link shows, in the datastack's terms."""
    segments: tuple[int, ...]  # visible segments of all segmentation layers, in order
    hidden: tuple[int, ...]  # listed but not visible (and not visible in another layer)
    points: pd.DataFrame  # one row per annotation (see the module docstring)
    segment_rows: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False)
    layers: tuple[SegmentLayer, ...] = ()
    center_vx: tuple[float, float, float] | None = None
    notes: tuple[str, ...] = ()
    state_url: str | None = None  # where a short link's state came from
    state: dict = field(default_factory=dict, compare=False, repr=False)

    def summary(self) -> str:
        parts = [f"{len(self.segments):,} visible segment{'s' * (len(self.segments) != 1)}"]
        if self.hidden:
            parts.append(f"{len(self.hidden):,} hidden")
        parts.append(f"{len(self.points):,} annotation point{'s' * (len(self.points) != 1)}")
        return ", ".join(parts)


def _bad(text: str, hint: str = "") -> InvalidInputError:
    return InvalidInputError(text, field="url", hint=hint or
                             "Paste the whole link from the viewer's address bar, or its "
                             "short link (Share > Copy link in Neuroglancer or Spelunker).")


def read_link(text: str) -> LinkRef:
    """The state a pasted link holds, or the address of the state it points at."""
    url = (text or "").strip()
    if not url:
        raise _bad("Paste a Neuroglancer link first.")
    if url.startswith("{"):  # a state's JSON itself (Neuroglancer's "Edit JSON state")
        return LinkRef(state=_json_state(url))
    if not re.match(r"^https?://", url, re.IGNORECASE):
        raise _bad("This is not a web link (it should start with https://).")
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    if query.get("json_url"):
        return LinkRef(state_url=_state_address(query["json_url"][0]))
    fragment = parts.fragment
    if fragment:
        from neuroglancer.url_state import url_fragment_to_json
        body = urllib.parse.unquote(fragment).lstrip("!")
        if re.match(r"^(middleauth\+)?https?://", body, re.IGNORECASE):
            return LinkRef(state_url=_state_address(body))
        if body.startswith("{"):
            return LinkRef(state=_json_state(url_fragment_to_json(fragment)))
    if STATE_PATH.search(parts.path):
        return LinkRef(state_url=url)
    raise _bad("This link holds no Neuroglancer state (no '#!{…}' state, no short link).")


def _state_address(url: str) -> str:
    url = url.strip()
    if url.lower().startswith("middleauth+"):
        url = url[len("middleauth+"):]
    if not re.match(r"^https?://", url, re.IGNORECASE):
        raise _bad(f"The link points at a state at '{url[:80]}', which is not a web address.")
    return url


def _json_state(text: str) -> dict:
    try:
        state = json.loads(text)
    except ValueError:
        raise _bad("The link's state is not valid JSON (was the link cut short?).") from None
    return check_state(state)


def check_state(state) -> dict:
    """``state`` if it looks like a Neuroglancer state, else one clear error."""
    if not isinstance(state, dict) or not isinstance(state.get("layers"), (list, dict)):
        raise _bad("This JSON is not a Neuroglancer state (it has no layers).",
                   hint="Paste a link made by Neuroglancer, Spelunker or Cavern.")
    return state


def state_id(url: str) -> int | None:
    """The id of a state on a CAVE state server (``.../nglstate/api/v1/<id>``), else None."""
    m = STATE_PATH.search(urllib.parse.urlsplit(url).path)
    return int(m.group(1)) if m else None


# ----------------------------------------------------------------------------- the state
def _normalised(state: dict, notes: list[str]) -> dict:
    """A copy Neuroglancer's ViewerState can read: legacy layer types renamed, layers of
    types it does not know left out (with a note), a legacy global voxel size kept."""
    layers = state["layers"]
    if isinstance(layers, dict):  # very old states keep layers by name
        layers = [dict(v, name=k) for k, v in layers.items() if isinstance(v, dict)]
    kept, skipped = [], []
    for lay in layers:
        if not isinstance(lay, dict):
            continue
        lay = dict(lay, type=LEGACY_TYPES.get(lay.get("type"), lay.get("type")))
        lay.setdefault("name", f"layer {len(kept) + 1}")
        if lay["type"] in KNOWN_TYPES:
            kept.append(lay)
        else:
            skipped.append(str(lay.get("name")))
    if skipped:
        notes.append("Layers of kinds Cavern does not read are left out: "
                     + ", ".join(skipped[:5]) + ".")
    out = dict(state, layers=kept)
    if "dimensions" not in out:  # seunglab: navigation.pose.position.voxelSize (nm)
        vox = (((state.get("navigation") or {}).get("pose") or {}).get("position") or {})
        if isinstance(vox.get("voxelSize"), list) and len(vox["voxelSize"]) == 3:
            out["dimensions"] = {a: [float(v) * 1e-9, "m"] for a, v in zip("xyz", vox["voxelSize"])}
            if isinstance(vox.get("voxelCoordinates"), list):
                out.setdefault("position", vox["voxelCoordinates"])
    return out


def _space_nm(space) -> np.ndarray | None:
    """nm per unit of the x, y, z dimensions of a neuroglancer CoordinateSpace (None when
    it has no x/y/z in metres)."""
    if space is None:
        return None
    try:
        names = list(space.names)
        out = []
        for a in "xyz":
            i = names.index(a)
            if space.units[i] != "m":
                return None
            out.append(float(space.scales[i]) * 1e9)
    except (ValueError, AttributeError, IndexError, TypeError):
        return None
    return np.asarray(out, dtype=float)


def _layer_to_nm(layer, raw: dict, state_nm: np.ndarray | None):
    """A function mapping the layer's annotation coordinates (n, k) to nm (n, 3), or None."""
    vox = raw.get("voxelSize")  # legacy annotation layers: points in these voxels (nm)
    if isinstance(vox, list) and len(vox) == 3:
        scale = np.asarray(vox, dtype=float)
        return lambda p: p[:, :3] * scale
    src = layer.source[0] if len(layer.source) else None
    tr = getattr(src, "transform", None)
    out_space = getattr(tr, "output_dimensions", None) if tr is not None else None
    if out_space is None:
        if state_nm is None:
            return None
        return lambda p: p[:, :3] * state_nm
    out_nm = _space_nm(out_space)
    if out_nm is None:
        return None
    names = list(out_space.names)
    rows = [names.index(a) for a in "xyz"]
    matrix = getattr(tr, "matrix", None)
    if matrix is None:
        return lambda p: p[:, rows] * out_nm
    m = np.asarray(matrix, dtype=float)  # output rows x (input dims + translation)
    n_in = m.shape[1] - 1

    def convert(p):
        full = p[:, :n_in] @ m[:, :n_in].T + m[:, n_in]
        return full[:, rows] * out_nm
    return convert


def _annotation_rows(layer, raw: dict, state_nm, ds_nm, notes) -> list[dict]:
    anns = list(layer.annotations) if hasattr(layer.layer, "annotations") else []
    if not anns:
        return []
    to_nm = _layer_to_nm(layer, raw, state_nm)
    if to_nm is None:
        notes.append(f"Annotation layer '{layer.name}' is not in x/y/z metres, so its "
                     f"{len(anns):,} annotations are not imported.")
        return []
    props = list(getattr(layer.layer, "annotation_properties", []) or [])
    # tags: Spelunker's uint8 properties naming a "tag", classic bool properties by id
    tag_names = [(i, p.to_json().get("tag") or p.id) for i, p in enumerate(props)
                 if (p.type == "uint8" and p.to_json().get("tag")) or p.type == "bool"]
    starts, ends, kinds, meta = [], [], [], []
    for a in anns:
        key = POINT_KEYS.get(a.type)
        if key is None:
            continue
        start = np.asarray(a.to_json()[key], dtype=float)
        end = a.to_json().get("pointB") if a.type != "point" and key == "pointA" else None
        starts.append(start)
        ends.append(np.asarray(end, dtype=float) if end is not None else None)
        kinds.append(a.type)
        values = list(a.props or [])
        tags = [name for i, name in tag_names if i < len(values) and values[i]]
        segs = [int(s) for group in (a.segments or []) for s in group]
        meta.append((a.id, a.description or "", ", ".join(tags), segs))
    if not starts:
        return []
    nm = to_nm(np.vstack([s.reshape(1, -1) for s in starts]))
    rows = []
    for i, (aid, desc, tags, segs) in enumerate(meta):
        row = {"layer": layer.name, "annotation_id": aid, "type": kinds[i],
               "pt_root_id": segs[0] if segs else 0,
               "pt_position": [float(v) for v in nm[i] / ds_nm],
               "x_nm": float(nm[i][0]), "y_nm": float(nm[i][1]), "z_nm": float(nm[i][2]),
               "description": desc, "tags": tags,
               "segments": " ".join(str(s) for s in segs)}
        if ends[i] is not None:
            row["end_position"] = [float(v) for v in to_nm(ends[i].reshape(1, -1))[0] / ds_nm]
        rows.append(row)
    return rows


def import_state(state: dict, ds: DatastackInfo, state_url: str | None = None) -> ImportedLink:
    """The visible segments and annotation points of a Neuroglancer state (JSON)."""
    import neuroglancer
    notes: list[str] = []
    norm = _normalised(check_state(state), notes)
    try:
        vs = neuroglancer.ViewerState(norm)
        layers = list(vs.layers)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _bad(f"Neuroglancer cannot read this state ({exc or type(exc).__name__}).",
                   hint="Paste a link made by Neuroglancer, Spelunker or Cavern.") from None
    raw_layers = {lay["name"]: lay for lay in norm["layers"]}
    state_nm = _space_nm(vs.dimensions) if vs.dimensions is not None else None
    ds_nm = np.asarray(ds.voxel_resolution, dtype=float)
    shown: dict[int, None] = {}
    listed: dict[int, None] = {}
    seg_layers, rows, seg_rows = [], [], []
    for lay in layers:
        if lay.type in SEGMENTATION_TYPES:
            on = bool(lay.visible) and not bool(getattr(lay, "archived", False))
            stars = [(int(k), bool(v)) for k, v in lay.layer.starred_segments.items()]
            vis = [k for k, v in stars if v and on]
            for k in vis:
                shown[k] = None
            for k, v in stars:
                if k not in listed:
                    seg_rows.append((k, lay.name, v and on))
                listed[k] = None
            src = lay.source[0].url if len(lay.source) else ""
            seg_layers.append(SegmentLayer(lay.name, str(src), len(vis), len(stars) - len(vis), on))
        elif lay.type == "annotation":
            rows.extend(_annotation_rows(lay, raw_layers.get(lay.name, {}), state_nm, ds_nm,
                                         notes))
    hidden = tuple(k for k in listed if k not in shown)
    _source_note(seg_layers, ds, notes)
    if not seg_layers and not rows:
        notes.append("The link has no segmentation or annotation layer: nothing to import.")
    center = None
    if vs.position is not None and len(vs.position) >= 3 and state_nm is not None:
        c = np.asarray(vs.position[:3], dtype=float) * state_nm / ds_nm
        if np.isfinite(c).all():
            center = tuple(float(v) for v in c)
    segs = pd.DataFrame(seg_rows, columns=["pt_root_id", "layer", "visible"])
    segs["pt_root_id"] = segs["pt_root_id"].astype("int64")
    segs["visible"] = segs["pt_root_id"].isin(list(shown))  # visible in some layer
    return ImportedLink(tuple(shown), hidden, points_frame(rows, ds), segs, tuple(seg_layers),
                        center, tuple(notes), state_url, state)


def points_frame(rows: list[dict], ds: DatastackInfo) -> pd.DataFrame:
    cols = ["layer", "annotation_id", "type", "pt_root_id", "pt_position", "x_nm", "y_nm",
            "z_nm", "description", "tags", "segments"]
    if any("end_position" in r for r in rows):
        cols.append("end_position")
    frame = pd.DataFrame(rows, columns=cols)
    frame["pt_root_id"] = frame["pt_root_id"].astype("int64")
    for c in ("x_nm", "y_nm", "z_nm"):
        frame[c] = frame[c].astype(float)
    frame.attrs[RESOLUTION_ATTR] = tuple(float(v) for v in ds.voxel_resolution)
    return frame


def _source_note(layers: list[SegmentLayer], ds: DatastackInfo, notes: list[str]) -> None:
    """Say when none of the link's segmentations is the datastack's: its ids may be of
    another volume (or another version of the segmentation)."""
    if not layers or not ds.segmentation_source:
        return

    def bare(url: str) -> str:
        u = re.sub(r"^[a-z]+://", "", url.strip().rstrip("/").replace("middleauth+", ""))
        return re.sub(r"^https?://", "", u)
    mine = bare(ds.segmentation_source)
    if not any(bare(lay.source) == mine for lay in layers):
        notes.append(f"The link's segmentation ({layers[0].source}) is not "
                     f"{ds.name}'s ({ds.segmentation_source}): its ids may not be cells "
                     "of this datastack.")


def import_link(text: str, ds: DatastackInfo, fetch_state=None) -> ImportedLink:
    """:func:`read_link` then :func:`import_state`; a short link's state is read with
    ``fetch_state(url) -> dict`` (the source's, e.g. ``DataSource.fetch_state``)."""
    ref = read_link(text)
    if ref.state is not None:
        return import_state(ref.state, ds)
    if fetch_state is None:
        raise _bad("This is a short link: its state is stored on a state server, which "
                   "this data source cannot read.",
                   hint="Connect to the CAVE server the link belongs to, or paste the "
                        "full link.")
    return import_state(check_state(fetch_state(ref.state_url)), ds, ref.state_url)
