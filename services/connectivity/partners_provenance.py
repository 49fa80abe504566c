"""Where an exported partner table of one cell came from: written with the partners (or
their groups) by the GUI and the CLI, as every export's provenance is
(services.results.provenance: Parquet metadata or a ``<file>.provenance.json`` sidecar).

It holds what a methods section needs: the context (server, datastack, version or live
time), the synapse table, the cell and the direction, the cell-type table and the column
its labels were read from, the proofreading table, the grouping (for the "Partners by
cell type" table: the type table and labelling rule that made its groups), the counts (partners and
synapses written, and the cell's own in that direction), the filters, the rows written and
the notes (e.g. a table read at another version). Qt-free.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from services.connectivity.aggregation import UNKNOWN_TYPE, as_root_ids
from services.results.provenance import context_provenance

if TYPE_CHECKING:
    import pandas as pd

    from services.connectivity.connectivity_queries import PartnersResult
    from services.workspace import Workspace

PRE, POST = "pre_pt_root_id", "post_pt_root_id"

#: direction -> (name, what a partner is, the cell's column, the partner's column)
DIRECTIONS = {
    "in": ("inputs", "cells that synapse onto the cell: the partner is presynaptic "
                     "(post_pt_root_id = the cell)", POST, PRE),
    "out": ("outputs", "cells the cell synapses onto: the partner is postsynaptic "
                       "(pre_pt_root_id = the cell)", PRE, POST),
}
#: how a partner gets its cell type (services.connectivity.aggregation.resolve_cell_types)
CELL_TYPE_RULE = ("the partner's most frequent label in the cell-type table (n_type_labels "
                  "> 1 flags a merged root); none when the table has no row of it")
#: the columns of a grouped export (services.connectivity.connectivity_queries.group_partners)
GROUP_COLUMNS = {"n_partners": "partners written with this value",
                 "n_synapses": "their synapses with the cell",
                 "synapse_share": "n_synapses / all synapses written (the column sums to 1)"}


def grouping(result: PartnersResult, group_by: str | None) -> dict | None:
    """How a grouped export's rows were made: the column and, for the "Partners by cell
    type" table, the cell-type table, its label column and the labelling rule."""
    if group_by is None:
        return None
    out = {"by": group_by, "columns": GROUP_COLUMNS}
    if group_by != "cell_type":
        return {**out, "missing_value_label": "(none)",
                "order": "n_synapses (descending), then the value"}
    table = result.type_table
    return {**out, "table": "partners by cell type",
            "cell_type_table": table, "cell_type_column": result.type_col if table else None,
            "labelling_rule": (CELL_TYPE_RULE if table else
                               "no cell-type table: every partner is untyped"),
            "untyped_label": UNKNOWN_TYPE,
            "order": f"n_synapses (descending), then cell type; '{UNKNOWN_TYPE}' last"}


def cell_counts(result: PartnersResult, direction: str) -> dict:
    """The cell's partners and synapses in ``direction`` before any filter, counted on
    its synapse rows (``result.synapses``)."""
    _name, _what, me, partner = DIRECTIONS[direction]
    syn = result.synapses
    if syn.empty:
        return {"partners": 0, "synapses": 0}
    mine = as_root_ids(syn[me]) == result.root_id
    return {"partners": int(np.unique(as_root_ids(syn[partner])[mine]).size),
            "synapses": int(mine.sum())}


def _filters(result: PartnersResult, proofreading: str | None, known_only: bool,
             proofread_only: bool, selected: tuple[int, int] | None,
             without_no_segment: int) -> list[str]:
    """The filters of an export, in words, in the order they were applied."""
    out = []
    if without_no_segment:
        out.append(f"partner root id 0 left out (no segment; {without_no_segment:,} "
                   "synapses)")
    if known_only:
        out.append(f"known cells only: partners with a cell type in '{result.type_table}'")
    if proofread_only:
        out.append(f"proofread only: partners listed in '{proofreading}'")
    if selected is not None:
        out.append(f"selected partners only: {selected[0]:,} of the {selected[1]:,} shown")
    return out


def partners_provenance(ws: Workspace, result: PartnersResult, direction: str,
                        frame: pd.DataFrame, *, partners: pd.DataFrame | None = None,
                        group_by: str | None = None, known_only: bool = False,
                        proofread_only: bool = False, selected_of: int | None = None,
                        without_no_segment: int = 0, app_version: str = "") -> dict:
    """The provenance of ``frame``, the exported partners of ``result.root_id`` in
    ``direction`` ("in" or "out") or, with ``group_by``, their groups by that column
    (``partners``: the partner rows grouped; without it, ``frame`` is them). The filters
    are stated as applied (``selected_of``: the partners shown when a selection of them
    was exported; ``without_no_segment``: synapses of partner id 0 left out)."""
    name, what, _me, _partner = DIRECTIONS[direction]
    partners = frame if partners is None else partners
    role = ws.synapse_table()
    proof = ws.proofreading_table() if result.has_proofreading else None
    selected = None if selected_of is None else (len(partners), selected_of)
    return {
        **context_provenance(ws.datastack, ws.version, ws.timestamp,
                             getattr(ws.source, "server", ""), app_version),
        "export": "partners of a cell" + (f", grouped by {group_by.replace('_', ' ')}"
                                          if group_by else ""),
        "synapse_table": role.name,
        "synapse_table_version": role.version,
        "cell": {"root_id": int(result.root_id)},
        "direction": name,
        "direction_description": what,
        "cell_type_table": result.type_table,
        "cell_type_table_version": result.type_table_version,
        "cell_type_column": result.type_col,
        "cell_type_rule": CELL_TYPE_RULE if result.type_table else None,
        "proofreading_table": None if proof is None else proof.name,
        "proofreading_table_version": None if proof is None else proof.version,
        "grouped_by": group_by,
        "grouping": grouping(result, group_by),
        "counts": {"partners": int(len(partners)),
                   "synapses": int(partners["n_synapses"].sum()) if len(partners) else 0,
                   "before_filters": cell_counts(result, direction)},
        "filters": _filters(result, None if proof is None else proof.name, known_only,
                            proofread_only, selected, without_no_segment),
        "columns": [str(c) for c in frame.columns],
        "rows": int(len(frame)),
        "notes": list(dict.fromkeys(result.notes)),
    }
