"""Where an exported connectivity matrix came from, and what its summary says: written with
the pairs (long) and the matrix (wide) by the GUI and the CLI, as every export's provenance
is (services.results.provenance: Parquet metadata or a ``<file>.provenance.json`` sidecar).

It holds what a methods section needs: the context (server, datastack, version or live
time), the synapse table, both cell sets (how they were chosen and how many cells), the
weight and its formula, the order, the layout, the summary with each density's formula
and numbers, the rows written and the notes. The density wording is the Summary tab's
(:func:`density_terms`; ui.connectivity.connectivity_matrix_view.density_text shows it).
Qt-free.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from services.connectivity.connectivity_matrix import WEIGHT_FORMULAS
from services.results.provenance import context_provenance

if TYPE_CHECKING:
    from services.connectivity.matrix_queries import CellSet, CellSetSpec, MatrixResult
    from services.workspace import Workspace

#: Each density of ConnectivityMatrix.summary: (label, formula), as the Summary tab states it.
DENSITY_FORMULAS = {
    "density_whole_set": (
        "Density of the whole set (tutorial)",
        "connected pairs / (rows × columns of the whole cell set, cells without synapses "
        "included)"),
    "density": (
        "Density of the matrix shown",
        "connected pairs / (rows × columns of the matrix shown)"),
    "density_connected_cells": (
        "Density over connected cells only",
        "connected pairs / (rows with a synapse here × columns with a synapse here)"),
}
#: the set sizes each density divides by (rows key, columns key of the summary)
_DENSITY_SIZES = {"density_whole_set": ("n_pre_all", "n_post_all"),
                  "density": ("n_pre", "n_post"),
                  "density_connected_cells": ("n_pre_connected", "n_post_connected")}
#: what each layout of an export holds
LAYOUTS = {
    "long": "one row per connected pair: pre_pt_root_id, post_pt_root_id, weight, "
            "n_synapses, weight_formula",
    "wide": "rows = presynaptic cells, columns = postsynaptic cells (root ids), zeros where "
            "unconnected (ln_size_sum: empty)",
}


def density_terms(s: dict) -> list[dict]:
    """The summary's two densities, each with its label, formula, numbers and value: the
    whole set's (``density_whole_set``; without the set sizes, ``density`` of the matrix
    shown), then over connected cells only (``s``: ConnectivityMatrix.summary)."""
    whole = "density_whole_set" if "density_whole_set" in s else "density"
    out = []
    for name in (whole, "density_connected_cells"):
        label, formula = DENSITY_FORMULAS[name]
        rows, cols = _DENSITY_SIZES[name]
        out.append({"name": name, "label": label, "formula": formula,
                    "numbers": f"{s['connected_pairs']:,} / ({s[rows]:,} × {s[cols]:,})",
                    "value": s[name]})
    return out


def _number(value) -> float | None:
    """A density for JSON: NaN (no cell pairs) is null, which JSON can hold."""
    return None if value is None or value != value else float(value)


def summary_provenance(s: dict) -> dict:
    """The summary as an export states it: the counts, then each density as
    {value, formula, computed} (``s``: ConnectivityMatrix.summary)."""
    out = {"connected_pairs": int(s["connected_pairs"]), "synapses": int(s["n_synapses"]),
           "n_pre": int(s["n_pre"]), "n_post": int(s["n_post"]),
           "n_pre_connected": int(s["n_pre_connected"]),
           "n_post_connected": int(s["n_post_connected"])}
    for key in ("n_pre_all", "n_post_all"):
        if key in s:
            out[key] = int(s[key])
    for t in density_terms(s):
        out[t["name"]] = {"value": _number(t["value"]), "formula": t["formula"],
                          "computed": t["numbers"]}
    return out


def cell_set_provenance(spec: CellSetSpec | None, cells: CellSet, n_shown: int) -> dict:
    """One cell set: how it was chosen (CellSetSpec.describe, its table, filters and type
    table, or the pasted ids; None when not known), its cells and those on the matrix's
    axis."""
    out = {"description": None if spec is None else spec.describe(),
           "table": None if spec is None else spec.table,
           "filters": [] if spec is None else [f.describe() for f in spec.filters],
           "type_table": None if spec is None else spec.type_table,
           "n_cells": int(len(cells.ids)), "n_cells_in_matrix": int(n_shown)}
    if spec is not None and spec.root_ids:
        out["root_ids"] = [int(i) for i in spec.root_ids]
    return out


def matrix_provenance(ws: Workspace, result: MatrixResult, pre_spec: CellSetSpec | None,
                      post_spec: CellSetSpec | None, weight: str, layout: str,
                      n_rows: int, app_version: str = "", order: str | None = None) -> dict:
    """The provenance of an exported matrix of ``result`` computed from these specs
    (compute_matrix's: ``post_spec`` None when the post cells are the pre cells); ``order``
    is the order asked for, stated when the matrix fell back to another."""
    m = result.matrix
    s = result.summary or m.summary(len(result.pre.ids), len(result.post.ids))
    role = ws.synapse_table()
    same = result.post is result.pre  # compute_matrix resolved one set for both axes
    post = cell_set_provenance(pre_spec if same else post_spec, result.post, m.shape[1])
    prov = {
        **context_provenance(ws.datastack, ws.version, ws.timestamp,
                             getattr(ws.source, "server", ""), app_version),
        "export": "connectivity matrix",
        "synapse_table": role.name,
        "synapse_table_version": role.version,
        "presynaptic_cells": cell_set_provenance(pre_spec, result.pre, m.shape[0]),
        "postsynaptic_cells": {**post, "same_as_presynaptic": same},
        "weight": weight,
        "weight_formula": WEIGHT_FORMULAS[weight],
        "order": m.row_order,
        "unconnected_cells_hidden": int(result.n_hidden),
        "layout": layout,
        "layout_description": LAYOUTS[layout],
        "summary": summary_provenance(s),
        "rows": int(n_rows),
        "notes": list(dict.fromkeys(result.notes)),
    }
    if order is not None and order != m.row_order:
        prov["order_requested"] = order
    return prov
