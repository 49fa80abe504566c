"""Cell-type labels on Neuroglancer segments: a ``neuroglancer_segment_properties`` document
built from a cell-type table with nglui's ``SegmentProperties``.

Each root id of the table gets a label (its cell type; the distinct types, sorted and joined
by " / ", when the table gives it several), a description naming the table, and one tag per
type (plus the coarse class where the table has one), so the viewer's segment list can be
searched by label or filtered by tag (``#23P``). Qt-free; the live viewer serves the document
on loopback (``segment_property_server``).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from models.errors import NotFoundError
from services.connectivity.aggregation import as_root_ids
from services.workspace import TableRole, Workspace

TYPE_COLUMN = "cell_type"
COARSE_COLUMNS = ("classification_system", "cell_class", "cell_type_coarse")
MAX_TAGS = 200  # every tag is a checkbox in the viewer's segment list
SEPARATOR = " / "


@dataclass(frozen=True)
class SegmentLabels:
    document: dict  # neuroglancer_segment_properties
    table: str
    n_segments: int
    notes: tuple[str, ...] = ()


def label_table(ws: Workspace, table: str | None = None) -> TableRole:
    """The cell-type table that labels segments: ``table``, else the workspace's first
    cell-type table with root ids and a cell_type column."""
    roles = ws.cell_type_tables()
    for role in roles:
        if (table is None or role.name == table) and \
                {"pt_root_id", TYPE_COLUMN} <= set(role.info.kinds):
            return role
    raise NotFoundError(
        f"'{table}' is not a cell-type table with pt_root_id and cell_type columns."
        if table else f"Datastack '{ws.datastack}' has no cell-type table with pt_root_id "
                      "and cell_type columns, so segments cannot be labelled.")


def labels_frame(rows: pd.DataFrame, coarse: str | None = None) -> pd.DataFrame:
    """One row per root id: ``label`` (sorted distinct types joined by " / "), ``types``
    (that list) and ``coarse`` (likewise, when the table has a coarse class)."""
    ids = as_root_ids(rows["pt_root_id"], "pt_root_id")
    frame = pd.DataFrame({"pt_root_id": ids,
                          "t": rows[TYPE_COLUMN].astype("string").str.strip().to_numpy()})
    if coarse:
        frame["c"] = rows[coarse].astype("string").str.strip().to_numpy()
    frame = frame[(frame["pt_root_id"] != 0) & frame["t"].notna() & (frame["t"] != "")]

    def distinct(s):
        return sorted({str(v) for v in s.dropna() if str(v)})
    grouped = frame.groupby("pt_root_id", sort=True)
    out = pd.DataFrame({"types": grouped["t"].agg(distinct)})
    if coarse:
        out["coarse"] = grouped["c"].agg(distinct)
    out["label"] = out["types"].map(SEPARATOR.join)
    return out.reset_index()


def segment_properties(labels: pd.DataFrame, table: str) -> tuple[dict, list[str]]:
    """The segment-properties document of :func:`labels_frame`'s rows (nglui builds it)."""
    from nglui.segmentprops import SegmentProperties
    notes: list[str] = []
    tags = pd.Series([t for ts in labels["types"] for t in ts]).value_counts()
    if "coarse" in labels:
        tags = pd.concat([tags, pd.Series([c for cs in labels["coarse"] for c in cs])
                          .value_counts()])
    names = [str(t) for t in tags.index if not str(t).startswith("#")]
    names = list(dict.fromkeys(names))
    if len(names) > MAX_TAGS:
        notes.append(f"{len(names) - MAX_TAGS} rare types get no tag (labels are complete).")
        names = names[:MAX_TAGS]
    members = labels["types"].map(set)
    if "coarse" in labels:
        members = [a | set(b) for a, b in zip(members, labels["coarse"])]
    bools = pd.DataFrame({n: [n in m for m in members] for n in names}, index=labels.index)
    frame = pd.concat([labels[["pt_root_id", "label"]], bools], axis=1)
    frame["description"] = f"{table}: " + frame["label"]
    props = SegmentProperties.from_dataframe(
        frame, id_col="pt_root_id", label_col="label", description_col="description",
        tag_bool_cols=names or None)
    return props.to_dict(), notes


def cell_type_labels(ws: Workspace, table: str | None = None, cancel=None) -> SegmentLabels:
    """Labels of every root id of the cell-type table (its whole pt_root_id and type
    columns, fetched completely)."""
    role = label_table(ws, table)
    coarse = next((c for c in COARSE_COLUMNS if c in role.info.kinds), None)
    cols = ("pt_root_id", TYPE_COLUMN) + ((coarse,) if coarse else ())
    rows = ws.complete_frame(role, columns=cols, cancel=cancel)
    labels = labels_frame(rows, coarse)
    if not len(labels):
        raise NotFoundError(f"{role.name} has no rows with a root id and a cell type.")
    doc, notes = segment_properties(labels, role.label)
    if role.note:
        notes.append(role.note)
    return SegmentLabels(doc, role.label, int(len(labels)), tuple(notes))


def labels_of(document: dict) -> dict[int, str]:
    """root id -> label of a segment-properties document (for checks and the inspector)."""
    inline = document.get("inline") or {}
    ids = [int(i) for i in inline.get("ids", [])]
    for prop in inline.get("properties", []):
        if prop.get("type") == "label":
            return dict(zip(ids, (str(v) for v in prop.get("values", []))))
    return {}


LIVE_ONLY = ("Cell-type labels on segments are only in Cavern's live viewer "
             "(View > Neuroglancer viewer): {why}")


def label_link(ws: Workspace, link, cancel=None):
    """The link with its segments labelled by cell type where the server serves a
    cell-type table's segment properties (CAVE's segment-property path), else with a note
    saying the labels are only in the live viewer."""
    from dataclasses import replace
    from services.links.link_state import with_segment_properties
    try:
        role = label_table(ws)
    except NotFoundError:
        return link  # no cell types to label with: nothing to say
    if cancel is not None:
        cancel.raise_if_cancelled()
    url = ws.source.segment_property_source(ws.datastack, role.name, role.version)
    if url:
        return with_segment_properties(
            link, url, f"Segments are labelled with their cell types from {role.label} "
                       "(served by the CAVE server).")
    why = ("local data has no server to serve them to a browser." if ws.is_local else
           f"this server serves no segment properties for {role.name}.")
    return replace(link, notes=link.notes + (LIVE_ONLY.format(why=why),))


def cell_types_of(ws: Workspace, root_ids, cancel=None) -> tuple[dict[int, str], str | None]:
    """root id -> label (as :func:`labels_frame`) of these cells in the cell-type table, and
    the table's name; ({}, None) when the workspace has no cell-type table."""
    from models.filters import Filter, Op
    ids = tuple(dict.fromkeys(int(i) for i in root_ids if int(i) != 0))
    try:
        role = label_table(ws)
    except NotFoundError:
        return {}, None
    if not ids:
        return {}, role.label
    rows = ws.complete_frame(role, (Filter("pt_root_id", Op.IN, ids),),
                             ("pt_root_id", TYPE_COLUMN), cancel=cancel)
    labels = labels_frame(rows)
    return dict(zip(labels["pt_root_id"].astype("int64").tolist(), labels["label"])), role.label
