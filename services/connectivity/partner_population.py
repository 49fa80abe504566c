"""A cell's partners as a population of connections (Qt-free): the tutorial's histograms
3–5 over one cell's inputs or outputs.

The synapse table is read with the cell's id pushed down as a filter (post = the cell for
its inputs, pre = the cell for its outputs), completely, through the same
:func:`~services.connectivity.population_queries.table_connections` as a whole synapse
table, so the partner types come from a per-synapse column or a cell-type table alike.
"""
from __future__ import annotations

import pandas as pd

from models.errors import InvalidInputError
from models.filters import Filter, Op
from models.ids import parse_id
from services.connectivity.population_queries import table_connections
from services.connectivity.populations import POST, PRE
from services.source import CancelToken
from services.workspace import Workspace

DIRECTIONS = {"in": "inputs", "out": "outputs"}


def partner_population(ws: Workspace, root_id, direction: str = "in",
                       synapse_table: str | None = None, *, pre_type_col: str | None = None,
                       type_table: str | None = None,
                       cancel: CancelToken | None = None) -> pd.DataFrame:
    """One connection per partner of ``root_id``: pre_pt_root_id, post_pt_root_id,
    n_synapses, size_sum (+ pre_type / post_type where types are given). ``direction``:
    "in" (its presynaptic partners) or "out" (its postsynaptic partners)."""
    if direction not in DIRECTIONS:
        raise InvalidInputError(f"Unknown direction '{direction}'.", field="direction",
                                hint="Choose 'in' (inputs) or 'out' (outputs).")
    root = parse_id(root_id, "root_id", "root id")
    side = POST if direction == "in" else PRE
    conns = table_connections(ws, synapse_table, pre_type_col=pre_type_col,
                              type_table=type_table, filters=(Filter(side, Op.EQ, root),),
                              cancel=cancel)
    table = conns.attrs.get("table", synapse_table or "")
    notes = list(conns.attrs.get("notes", []))
    if conns.empty:
        ws.check_root_ids([root], "root id")  # no synapses: perhaps an id of another version
        notes.append(f"No {DIRECTIONS[direction]} of {root} in '{table}'.")
    conns.attrs.update(table=f"{table} ({DIRECTIONS[direction]} of {root})", notes=notes,
                       root_id=root, direction=direction)
    return conns
