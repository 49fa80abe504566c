"""A live Neuroglancer viewer in sync with Cavern, without Qt.

The ``neuroglancer`` package serves a viewer on 127.0.0.1 (random port; the viewer's random
token is in the URL path, as the package does) whose state Python reads and writes while
the user's browser shows it. Cavern pushes its selection (cells, their somas, a cell's
synapses tagged input/output, result rows tagged by a column) as layers built by the same
nglui builder as the links, so the sources are the links' ones.

The viewer talks back through ``on_event(ViewerEvent)``, called on the viewer's server
thread (or on the caller's while Cavern itself changes the state): segments the user
selected in the viewer (double click), and the ``i`` key binding, which asks Cavern to
inspect the segment under the mouse. The caller marshals events to its own thread.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import pandas as pd

from models.datastack import DatastackInfo
from models.errors import CavernError, InvalidInputError
from services.links import neuroglancer_links as ngl

INSPECT_ACTION = "cavern-inspect"
INSPECT_KEY = "keyi"  # Neuroglancer's name of the i key
SITE = "neuroglancer"
# The package's bundled client predates bool annotation properties: a layer with one is
# dropped whole in the browser (found by tests/e2e/test_viewer_browser.py). Tags go as
# uint8 properties, named by their tag (the client ignores Spelunker's "tag" key).
LIVE_CAPABILITIES = "live"
MAX_LIVE_ANNOTATIONS = 10_000  # no URL to keep short, but every point is sent to the browser


@dataclass(frozen=True)
class ViewerEvent:
    kind: str  # "selected": segments selected in the viewer; "inspect": the i key
    root_ids: tuple[int, ...]


@dataclass(frozen=True)
class Selection:
    """What Cavern shows in the viewer."""

    root_ids: tuple[int, ...] = ()
    colors: Mapping[int, str] | None = None
    soma_positions_vx: Mapping[int, Sequence[float]] | None = None
    synapses: pd.DataFrame | None = None  # synapse rows of root_ids[0] (tagged in/out)
    synapse_position: str = "ctr_pt_position"
    rows: pd.DataFrame | None = None  # result rows, positions in rows_resolution
    rows_resolution: Sequence[float] | None = None
    tag_column: str | None = None
    what: str = ""  # "3 result rows", "a matrix pair", ...


def selection_state(ds: DatastackInfo, sel: Selection,
                    max_annotations: int = MAX_LIVE_ANNOTATIONS) -> tuple[dict, list[str]]:
    """The viewer state (JSON) of a selection, and notes on what was left out."""
    ids = [int(i) for i in dict.fromkeys(sel.root_ids) if int(i) != 0][:ngl.MAX_SEGMENTS]
    somas = {int(k): v for k, v in (sel.soma_positions_vx or {}).items() if v is not None}
    center = next((somas[i] for i in ids if i in somas), None)
    from nglui.statebuilder.capabilities import Capabilities
    vs, _name, _url = ngl._viewer(ds, SITE, center, ids, sel.colors,
                                  capabilities=Capabilities(source=LIVE_CAPABILITIES))
    notes: list[str] = []
    firsts = [ngl._add_somas(vs, ds, ids, somas).first_vx] if somas else []
    if sel.synapses is not None and len(sel.synapses) and ids:
        tagged = ngl.tag_synapses(ids[0], sel.synapses)
        if sel.synapse_position in ngl.position_columns(tagged) and len(tagged):
            r = ngl._add_point_layer(vs, "synapses", tagged, sel.synapse_position,
                                     ["partner_root_id"], ds.voxel_resolution,
                                     max_annotations, tag_col="direction", ds=ds)
            ngl._drop_notes(notes, "Synapses", r.shown, r.over, r.missing)
            firsts.append(r.first_vx)
    rows = sel.rows
    if rows is not None and len(rows) and ngl.position_columns(rows):
        res = ngl.frame_resolution(rows, ds, sel.rows_resolution)
        tag = None
        if sel.tag_column and sel.tag_column in rows.columns:
            rows, tag = ngl.tagged_rows(rows, sel.tag_column, ngl.MAX_TAGS, notes), "_tag"
        r = ngl._add_point_layer(vs, "rows", rows, ngl.position_columns(rows)[0],
                                 ngl.root_id_columns(rows), res, max_annotations,
                                 tag_col=tag, ds=ds)
        ngl._drop_notes(notes, "Rows", r.shown, r.over, r.missing)
        firsts.append(r.first_vx)
    if center is None:
        center = next((f for f in firsts if f is not None), None)
        if center is not None:
            vs.position = center
    vs.set_selected_layer(ngl.SEG_LAYER)
    try:
        return _named_tags(vs.to_dict()), notes
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInputError(f"The Neuroglancer state could not be built: {exc}") from None


def _named_tags(state: dict) -> dict:
    """Tag properties named by their tag (``input``, ``t_23P``) rather than ``tag0``: the
    bundled client shows a property's id, and ids must be identifiers."""
    import re
    for lay in state.get("layers", []):
        used: set[str] = set()
        for prop in lay.get("annotationProperties") or []:
            tag = prop.get("tag")
            if not tag:
                continue
            name = re.sub(r"[^a-zA-Z0-9_]", "_", str(tag))
            name = name if re.match(r"^[a-z]", name) else f"t_{name}"
            while name in used:
                name += "_"
            used.add(name)
            prop["id"] = name
    return state


def with_labels(state: dict, labels_url: str | None) -> dict:
    """The state with ``labels_url`` (segment properties) as one more source of its
    segmentation layer."""
    from services.links.link_state import add_segment_source
    return add_segment_source(state, labels_url) if labels_url else state


def _root_id(value) -> int | None:
    """A segment id from a selected value (an int, a string, or a mapped entry)."""
    if value is None:
        return None
    for attr in ("key", "value"):  # SegmentIdMapEntry: the key is the shown segment
        inner = getattr(value, attr, None)
        if inner is not None and not isinstance(value, (int, str)):
            value = inner
            break
    try:
        rid = int(value)
    except (TypeError, ValueError):
        return None
    return rid or None


class LiveViewer:
    """One neuroglancer.Viewer served on 127.0.0.1, started and stopped by Cavern."""

    def __init__(self, on_event: Callable[[ViewerEvent], None]):
        self._on_event = on_event
        self._viewer = None
        self._ds: DatastackInfo | None = None
        self._known: set[int] = set()  # segments last seen selected (changed under the
        # viewer state's lock only: Cavern's own changes are never reported back)
        self._server = None
        self.notes: list[str] = []
        from services.links.segment_property_server import SegmentPropertyServer
        self._props = SegmentPropertyServer()  # cell-type labels, served on loopback
        self.labels_url: str | None = None

    @property
    def running(self) -> bool:
        return self._viewer is not None

    @property
    def viewer(self):
        return self._viewer

    @property
    def url(self) -> str | None:
        return None if self._viewer is None else self._viewer.get_viewer_url()

    def start(self, ds: DatastackInfo) -> str:
        """Serve a viewer of the datastack on loopback; returns its URL (with the token)."""
        import neuroglancer
        import neuroglancer.server as ng_server
        if self._viewer is None:
            neuroglancer.set_server_bind_address("127.0.0.1")  # never another interface
            try:
                viewer = neuroglancer.Viewer()
                viewer.get_viewer_url()  # starts the server now: a failure is said here
            except OSError as exc:
                raise CavernError("The Neuroglancer viewer could not be started on this "
                                  f"computer: {exc}", hint="Use a Neuroglancer link instead.")
            self._server = ng_server.global_server
            viewer.actions.add(INSPECT_ACTION, self._inspect_action)
            with viewer.config_state.txn() as s:
                s.input_event_bindings.viewer[INSPECT_KEY] = INSPECT_ACTION
                s.status_messages["cavern"] = "Cavern: press i over a cell to inspect it"
            viewer.shared_state.add_changed_callback(self._state_changed)
            self._viewer = viewer
        if self._ds is not None and self._ds.name != ds.name:
            self.labels_url = None  # another datastack's cells
        self._ds = None
        self.show(ds, Selection())
        return self.url

    def show(self, ds: DatastackInfo, sel: Selection) -> dict:
        """Show ``sel`` (replacing Cavern's previous selection); returns the state."""
        if self._viewer is None:
            raise CavernError("The Neuroglancer viewer is not running.")
        state, self.notes = selection_state(ds, sel)
        self.apply(ds, state)
        return state

    def apply(self, ds: DatastackInfo, state: dict) -> None:
        """Put a built state's layers in the viewer; the view (zoom, orientation) stays,
        it moves to the selection's position. A new datastack replaces everything."""
        import neuroglancer
        new = neuroglancer.ViewerState(with_labels(state, self.labels_url))
        segs = ({int(s) for s in new.layers[ngl.SEG_LAYER].segments}
                if ngl.SEG_LAYER in new.layers else set())
        with self._viewer.txn() as s:
            self._known = segs
            if self._ds is None or self._ds.name != ds.name:
                s.dimensions = new.dimensions
                s.layout = "xy-3d"
            s.layers = new.layers
            if new.position is not None and len(new.position):
                s.position = new.position
            s.selected_layer.layer = ngl.SEG_LAYER
            s.selected_layer.visible = False
        self._ds = ds

    def set_labels(self, ds: DatastackInfo, document: dict | None) -> str | None:
        """Serve a segment-properties document (labels, tags) and show it on the viewer's
        segmentation layer; None takes the labels away. Returns the source URL."""
        if self._viewer is None:
            raise CavernError("The Neuroglancer viewer is not running.")
        import neuroglancer
        old = self.labels_url
        self.labels_url = self._props.publish(document) if document else None
        if self._ds is None or self._ds.name != ds.name:
            return self.labels_url
        with self._viewer.txn() as s:  # only the layer's sources change: what the user
            if ngl.SEG_LAYER in s.layers:  # selected there since stays
                lay = s.layers[ngl.SEG_LAYER].layer.to_json()
                srcs = lay.get("source")
                srcs = list(srcs) if isinstance(srcs, list) else ([srcs] if srcs else [])
                srcs = [x for x in srcs if (x.get("url") if isinstance(x, dict) else x) != old]
                lay["source"] = srcs + ([{"url": self.labels_url}] if self.labels_url else [])
                s.layers[ngl.SEG_LAYER] = neuroglancer.SegmentationLayer(lay)
        return self.labels_url

    def selected_ids(self) -> list[int]:
        if self._viewer is None:
            return []
        layers = self._viewer.state.layers
        if ngl.SEG_LAYER not in layers:
            return []
        return [int(x) for x in layers[ngl.SEG_LAYER].segments]

    # ---- from the viewer (its server thread) ---------------------------------------
    def _state_changed(self) -> None:
        viewer = self._viewer
        if viewer is None:
            return
        layers = viewer.state.layers
        if ngl.SEG_LAYER not in layers:
            return
        now = {int(x) for x in layers[ngl.SEG_LAYER].segments}
        added = sorted(now - self._known)
        self._known = now
        if added:
            self._on_event(ViewerEvent("selected", tuple(added)))

    def _inspect_action(self, action_state) -> None:
        values = getattr(action_state, "selected_values", None)
        value = None
        try:
            layer = values[ngl.SEG_LAYER] if values is not None else None
            value = getattr(layer, "value", None)
        except (KeyError, TypeError):
            pass
        rid = _root_id(value)
        if rid is not None:
            self._on_event(ViewerEvent("inspect", (rid,)))

    def stop(self) -> None:
        """Stop the server and join its thread; the viewer's URL stops working."""
        viewer, self._viewer = self._viewer, None
        if viewer is None:
            return
        import neuroglancer
        viewer.shared_state.remove_changed_callback(self._state_changed)
        self._props.stop()
        self.labels_url = None
        server = self._server
        self._server = None
        neuroglancer.stop()  # joins the server's thread
        if server is not None:
            server.executor.shutdown(wait=True)
