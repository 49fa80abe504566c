"""Populations of connections read from a workspace, for the histograms (Qt-free).

- :func:`table_connections`: every connection of a synapse table (filters pushed down),
  with pre/post cell types from a per-synapse column (e.g. ``cell_type_pre``) or a
  cell-type table looked up for the pair's cells only.
- :func:`set_connections`: all pairs of the connectivity matrix of a cell set.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from models.errors import InvalidInputError
from services.connectivity.connectivity_queries import cell_annotations
from services.connectivity.matrix_queries import CellSetSpec, compute_matrix
from services.connectivity.populations import (POST, PRE, matrix_connections,
                                               synapse_connections, types_from_synapses)
from services.source import CancelToken
from services.workspace import Workspace


def table_connections(ws: Workspace, synapse_table: str | None = None, *,
                      pre_type_col: str | None = None, type_table: str | None = None,
                      filters=(), cancel: CancelToken | None = None) -> pd.DataFrame:
    """pre_pt_root_id, post_pt_root_id, n_synapses, size_sum, pre_type, post_type."""
    role = ws.table(synapse_table, "synapse") if synapse_table else ws.synapse_table()
    cols = [c for c in (PRE, POST, "size", pre_type_col) if c and c in role.info.kinds]
    if pre_type_col and pre_type_col not in role.info.kinds:
        raise InvalidInputError(f"'{role.name}' has no column '{pre_type_col}'.",
                                field="pre_type_col")
    syn = ws.complete_frame(role, filters, cols, cancel)
    conns = synapse_connections(syn, "size" if "size" in syn.columns else None)
    notes = [role.note] if role.note else []
    if pre_type_col:
        pre = types_from_synapses(syn, pre_type_col, PRE)
        conns["pre_type"] = pre.reindex(conns[PRE].to_numpy()).to_numpy(dtype=object)
    if type_table:
        ids = np.union1d(conns[PRE].to_numpy(), conns[POST].to_numpy())
        ann = cell_annotations(ws, ids, type_table, cancel=cancel)["cell_type"]
        notes += ann.attrs.get("notes", []) if hasattr(ann, "attrs") else []
        if not pre_type_col:
            conns["pre_type"] = ann.reindex(conns[PRE].to_numpy()).to_numpy(dtype=object)
        conns["post_type"] = ann.reindex(conns[POST].to_numpy()).to_numpy(dtype=object)
    conns.attrs.update(table=role.name, notes=notes,
                       n_synapses_total=int(conns["n_synapses"].sum()))
    return conns


def set_connections(ws: Workspace, cell_table: str, filters=(),
                    cancel: CancelToken | None = None) -> pd.DataFrame:
    """All connected pairs of the matrix of a cell table's rows (typed by that table)."""
    res = compute_matrix(ws, CellSetSpec(cell_table, tuple(filters), type_table=cell_table),
                         order="id", cancel=cancel)
    conns = matrix_connections(res.matrix)
    conns.attrs.update(table=ws.synapse_table().name, notes=res.notes,
                       n_cells=len(res.pre.ids))
    return conns
