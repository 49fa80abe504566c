"""A set of synapses selected on the Morphology view, as rows any part of Cavern takes: a
QueryResult for the results table, rows with their units for a Neuroglancer link, and the
provenance an export writes. Qt-free.

The rows are the synapse table's own columns (positions in nm, as they were read with
``desired_resolution`` 1 nm) plus what the view computed: which side of the cell each
synapse is on, the skeleton compartment it maps to and its path distance to the soma.
Its spec is the synapse table filtered to the selected ids, so a re-run, "Copy as Python"
and the export's provenance say exactly which rows these are.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from models.errors import InvalidInputError
from models.filters import Filter, Op
from models.query_spec import QueryResult, QuerySpec
from services.links.link_rows import RESOLUTION_ATTR
from services.morphology.skeleton import COMPARTMENT_NAMES

NM = (1.0, 1.0, 1.0)
# columns the view adds for drawing only
_INTERNAL = ("is_input", "is_output", "x_nm", "y_nm", "z_nm", "vertex", "vertex_distance_nm")


def selection_frame(synapses: pd.DataFrame, root_id: int) -> pd.DataFrame:
    """The selected rows without the drawing columns; ``direction`` (input/output/autapse),
    ``compartment`` by name and ``path_to_soma_um`` kept. attrs: positions in nm."""
    if synapses is None or len(synapses) == 0:
        raise InvalidInputError("No synapses are selected.",
                                hint="Shift+drag a box around synapses on the skeleton.")
    s = synapses
    direction = np.where(s["is_input"] & s["is_output"], "autapse",
                         np.where(s["is_input"], "input", "output"))
    out = s.drop(columns=[c for c in _INTERNAL if c in s.columns]).reset_index(drop=True)
    out.insert(min(3, len(out.columns)), "direction", direction)
    if "compartment" in out:
        out["compartment"] = [COMPARTMENT_NAMES.get(int(c), f"type {int(c)}")
                              for c in out["compartment"]]
    out.attrs = {RESOLUTION_ATTR: NM, "position_column": s.attrs.get("position_column"),
                 "morphology_of": int(root_id)}
    return out


def selection_result(ws, synapses: pd.DataFrame, root_id: int,
                     synapse_table: str | None = None) -> QueryResult:
    """The selection as a result: spec = synapse table, ``id in`` the selected ids, nm."""
    frame = selection_frame(synapses, root_id)
    table = synapse_table or ws.info.synapse_table or "synapses"
    ids = tuple(int(i) for i in frame["id"]) if "id" in frame else ()
    filters = (Filter("id", Op.IN, ids),) if ids else ()
    spec = QuerySpec(table, ws.datastack, ws.version, ws.timestamp, filters,
                     desired_resolution=NM)
    n_in = int((frame["direction"] != "output").sum())
    n_out = int((frame["direction"] != "input").sum())
    note = (f"{len(frame):,} synapses box-selected on the morphology of {int(root_id)} "
            f"({n_in:,} inputs, {n_out:,} outputs); positions in nm")
    return QueryResult(spec, frame, 0.0, source="morphology", notes=[note])
