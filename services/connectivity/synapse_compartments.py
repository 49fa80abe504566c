"""Synapse compartments (Qt-free): a reference table on the synapse table that tags each
synapse (MICrONS' ``synapse_target_predictions_ssa``: spine / shaft / soma), joined onto
the synapses to filter or colour them by tag.

A reference table is answered joined to its target (models.reference_join.ReferenceJoin): its
own columns (``target_id``, the tag) and the synapse's (pre/post root ids, size), so a
filter on a synapse column (``post_pt_root_id`` = a cell) is keyed by the synapse table,
as CAVE's ``join_query`` needs it, and read completely like any table
(Workspace.complete_frame). Where the datastack has no such table,
:func:`missing_compartments_text` says which table it needs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.errors import InvalidInputError, NotFoundError
from models.filters import Filter, Op
from models.ids import parse_id
from services.connectivity.population_queries import table_connections
from services.connectivity.populations import POST, PRE
from services.source import CancelToken
from services.workspace import Workspace

#: The MICrONS table this feature is made for (named to the user where none exists).
EXAMPLE_TABLE = "synapse_target_predictions_ssa"
#: Tag columns, most likely first (CAVE's reference_tag schema calls it "tag").
TAG_COLUMNS = ("tag", "compartment", "classification", "cell_type", "value")
UNTAGGED = "(untagged)"


@dataclass(frozen=True)
class CompartmentTable:
    name: str  # the reference table
    tag_column: str
    synapse_table: str  # the table it references


def compartment_tables(ws: Workspace, cancel: CancelToken | None = None
                       ) -> list[CompartmentTable]:
    """Reference tables of this version on the workspace's synapse table with a text tag."""
    syn = ws.synapse_table_name
    out = []
    for name, info in sorted(ws.tables().items()):
        if info.kind != "table" or info.reference_table != syn or not syn:
            continue
        tag = next((c for c in TAG_COLUMNS if info.kinds.get(c) == "string"), None)
        if tag is not None:
            out.append(CompartmentTable(name, tag, syn))
    return out


def missing_compartments_text(ws: Workspace) -> str:
    syn = ws.synapse_table_name or "the synapse table"
    return (f"No synapse compartments here: this needs a reference table on '{syn}' with a "
            f"tag column (e.g. MICrONS' '{EXAMPLE_TABLE}': spine / shaft / soma).")


def _table(ws: Workspace, name: str) -> CompartmentTable:
    for t in compartment_tables(ws):
        if t.name == name:
            return t
    raise NotFoundError(f"'{name}' is not a compartment table of '{ws.synapse_table_name}' "
                        f"here.", hint=missing_compartments_text(ws))


def _cell_filters(root_id, direction: str) -> tuple[Filter, ...]:
    if root_id is None:
        return ()
    if direction not in ("in", "out"):
        raise InvalidInputError(f"Unknown direction '{direction}'.", field="direction")
    return (Filter(POST if direction == "in" else PRE, Op.EQ,
                   parse_id(root_id, "root_id", "root id")),)


def tagged_synapses(ws: Workspace, table: str, *, root_id=None, direction: str = "in",
                    tags=None, cancel: CancelToken | None = None) -> pd.DataFrame:
    """The tagged synapses (of one cell's inputs/outputs if ``root_id``): target_id,
    pre_pt_root_id, post_pt_root_id, size (if any) and ``tag``. ``tags``: keep these only
    (filtered at the source)."""
    ct = _table(ws, table)
    role = ws.table(table)
    filters = list(_cell_filters(root_id, direction))
    if tags:
        tags = tuple(str(t) for t in tags)
        filters.append(Filter(ct.tag_column, Op.EQ, tags[0]) if len(tags) == 1
                       else Filter(ct.tag_column, Op.IN, tags))
    cols = [c for c in ("target_id", PRE, POST, "size", ct.tag_column) if c in role.info.kinds]
    frame = ws.complete_frame(role, filters, cols, cancel)
    frame = frame.rename(columns={ct.tag_column: "tag"})
    frame.attrs.update(table=table, tag_column=ct.tag_column,
                       notes=[role.note] if role.note else [])
    return frame


def compartment_counts(tagged: pd.DataFrame, n_synapses: int | None = None) -> pd.DataFrame:
    """tag, n_synapses, n_connections, fraction (of the tagged synapses), most first.
    ``n_synapses``: all synapses of the population; the rest are counted as UNTAGGED."""
    tag = tagged["tag"].astype(object).where(tagged["tag"].notna(), UNTAGGED)
    g = pd.DataFrame({"tag": tag.to_numpy(), PRE: tagged[PRE].to_numpy(),
                      POST: tagged[POST].to_numpy()}).groupby("tag", sort=True)
    out = pd.DataFrame({"n_synapses": g.size(),
                        "n_connections": g[[PRE, POST]].apply(
                            lambda d: len(d.drop_duplicates()))}).reset_index()
    if n_synapses is not None and n_synapses > len(tagged):
        out = pd.concat([out, pd.DataFrame({"tag": [UNTAGGED], "n_synapses": [
            int(n_synapses) - len(tagged)], "n_connections": [np.nan]})], ignore_index=True)
    total = out["n_synapses"].sum()
    out["fraction"] = out["n_synapses"] / total if total else np.nan
    return out.sort_values(["n_synapses", "tag"], ascending=[False, True],
                           kind="mergesort").reset_index(drop=True)


def compartment_connections(ws: Workspace, table: str, tags, *, root_id=None,
                            direction: str = "in", pre_type_col: str | None = None,
                            type_table: str | None = None,
                            cancel: CancelToken | None = None) -> pd.DataFrame:
    """Connections (histograms 3–5) counting only the synapses tagged ``tags``, of the
    whole synapse table or of one cell's inputs / outputs."""
    ct = _table(ws, table)
    tags = tuple(str(t) for t in tags)
    flt = Filter(ct.tag_column, Op.EQ, tags[0]) if len(tags) == 1 else Filter(
        ct.tag_column, Op.IN, tags)
    conns = table_connections(ws, table, pre_type_col=pre_type_col, type_table=type_table,
                              filters=(*_cell_filters(root_id, direction), flt),
                              cancel=cancel)
    where = "" if root_id is None else f", {'inputs' if direction == 'in' else 'outputs'} of {root_id}"
    conns.attrs["table"] = f"{table} ({ct.tag_column} in {', '.join(tags)}{where})"
    return conns
