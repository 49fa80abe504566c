"""The live viewer's hooks into the main window: View > Neuroglancer viewer, and Cavern's
selections (result rows, partners, a matrix pair) shown in it; what the user selects or
inspects (i) in the viewer opens in the inspector.

The main window makes the controller when it is first used (``window.neuroglancer``,
ui/main_window_menus.py): before, no viewer runs, so there is nothing to show or hear, and
this module (services.links, pandas) stays off the start-up path.

Only public parts of the panels are used; each hook is skipped when its panel lacks them,
so a panel being reworked never breaks the window. The Connectivity tab's hooks are made
when that tab is built (ui/common/lazy_pages.py): installing the viewer builds no tab.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QAction

from services.connectivity.aggregation import as_root_ids
from services.links import neuroglancer_links as ngl
from services.links.live_viewer import Selection
from ui.common.lazy_pages import when_built
from ui.neuroglancer.viewer_controller import NeuroglancerController

TAG_COLUMNS = ("cell_type", "cell_type_coarse", "classification_system")


def install_viewer(window, action: QAction, open_browser: bool = True) -> NeuroglancerController:
    """The controller, hooked to the window (its current context at once). ``action`` is the
    window's View > Neuroglancer viewer, which opens it (made with the menus, at start)."""
    ctl = NeuroglancerController(window, open_browser=open_browser)
    ctl.open_action = action
    window.contextChanged.connect(ctl.set_context)
    if getattr(window, "workspace", None) is not None:
        ctl.set_context(window.workspace)
    ctl.message.connect(window.show_message)
    ctl.inspectRequested.connect(window.inspect_cell)
    _hook_results(window, ctl)
    _hook_cell_selection(window, ctl)
    when_built(window, "connectivity", lambda conn: _hook_connectivity(window, ctl, conn))
    return ctl


def _hook_connectivity(window, ctl, conn) -> None:
    _hook_partners(window, ctl, conn)
    if hasattr(conn, "pairActivated"):
        conn.pairActivated.connect(lambda pre, post: _show_pair(window, ctl, pre, post))


# ---- the shared cell selection (ui.common.cell_selection) -------------------------------
def _hook_cell_selection(window, ctl) -> None:
    """Both ways: cells selected where no richer hook exists (the soma map's box or lasso)
    are shown in the viewer; segments selected in the viewer become the shared selection
    (ringed on the soma map, shaded in the matrix, selected in the tables)."""
    sel = getattr(window, "cell_selection", None)
    if sel is None:
        return
    ctl.echo_guard = False

    def from_cavern(ids, source):
        if source is ctl or not ctl.running or not ids:
            return
        if source in getattr(window, "selection_links", ()):
            return  # results, partners and the matrix push their rows and synapses themselves
        ctl.show_selection(Selection(tuple(sorted(int(i) for i in ids)),
                                     what=f"{len(ids):,} selected cells"))

    def from_viewer(ids):
        ctl.echo_guard = True  # the views follow; their own hooks must not push it back
        try:
            sel.set(ids, source=ctl)
        finally:
            ctl.echo_guard = False
    sel.changed.connect(from_cavern)
    ctl.segmentsSelected.connect(from_viewer)


def _echo(ctl) -> bool:
    return getattr(ctl, "echo_guard", False)


# ---- result rows ------------------------------------------------------------------------
def _hook_results(window, ctl) -> None:
    results = getattr(window, "results", None)
    view = getattr(results, "view", None)
    if view is None or view.selectionModel() is None:
        return
    view.selectionModel().selectionChanged.connect(lambda *_a: show_result_rows(window, ctl))


def show_result_rows(window, ctl) -> None:
    if not ctl.running or _echo(ctl):
        return
    frame = window.results.selectionFrame()
    if frame is None or len(frame) == 0:
        return
    result = getattr(window.results, "result", None)
    res = getattr(getattr(result, "spec", None), "desired_resolution", None)
    ids = []
    for c in ngl.root_id_columns(frame):
        try:
            ids.extend(int(v) for v in as_root_ids(frame[c], c) if v != 0)
        except Exception:  # noqa: BLE001 - a column that only looks like ids is not shown
            continue
    tag = next((c for c in TAG_COLUMNS if c in frame.columns), None)
    ctl.show_selection(Selection(tuple(dict.fromkeys(ids)), rows=frame, rows_resolution=res,
                                 tag_column=tag, what=f"{len(frame):,} result rows"))


# ---- partners -----------------------------------------------------------------------------
def _hook_partners(window, ctl, conn) -> None:
    partners = getattr(conn, "partners", None)
    views = getattr(partners, "views", None)
    if not views:
        return
    for v in views.values():
        if v.selectionModel() is not None:
            v.selectionModel().selectionChanged.connect(
                lambda *_a: show_partners(window, ctl))


def show_partners(window, ctl) -> None:
    pv = window.connectivity.partners
    if not ctl.running or _echo(ctl) or getattr(pv, "result", None) is None:
        return
    root = int(pv.result.root_id)
    chosen = [int(i) for i in pv.selected_ids()]
    syn = pv.result.synapses
    if syn is not None and len(syn) and chosen:
        pre = as_root_ids(syn["pre_pt_root_id"], "pre_pt_root_id")
        post = as_root_ids(syn["post_pt_root_id"], "post_pt_root_id")
        keep = np.isin(np.where(pre == root, post, pre), np.asarray(chosen, dtype=np.int64))
        syn = syn[keep]
    else:
        syn = None
    pos = _position_column(syn)
    ctl.show_selection(Selection((root, *chosen), colors={root: "#ffffff"}, synapses=syn,
                                 synapse_position=pos, what=f"{root} and {len(chosen)} partners"))


def _show_pair(window, ctl, pre: int, post: int) -> None:
    if not ctl.running or _echo(ctl):
        return
    model = getattr(getattr(window.connectivity, "matrix", None), "pair_model", None)
    syn = model.frame() if model is not None else None
    ctl.show_selection(Selection((int(pre), int(post)),
                                 colors={int(pre): "#ff6b3d", int(post): "#3da5ff"},
                                 synapses=syn, synapse_position=_position_column(syn),
                                 what=f"the pair {pre} -> {post}"))


def _position_column(syn) -> str:
    if syn is None:
        return "ctr_pt_position"
    return syn.attrs.get("position_column") or next(iter(ngl.position_columns(syn)),
                                                    "ctr_pt_position")
