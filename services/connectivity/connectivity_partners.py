"""Partners of one cell: who it receives synapses from (inputs) or sends them to (outputs).

Plus the tables and histograms a cell view shows next to them: partners grouped by cell
type, synapses per connection, synapse size (linear or log bins), partner soma depth.
"""
from __future__ import annotations

from models.ids import parse_id

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.errors import InvalidInputError
from services.connectivity.aggregation import (
    UNKNOWN_TYPE, aggregate_pairs, as_root_ids, require_columns,
    resolve_cell_types)

DIRECTIONS = ("in", "out")
PARTNER_COLUMNS = ("partner_root_id", "n_synapses", "size_sum", "size_mean", "cell_type",
                   "n_type_labels", "known", "proofread")


def cell_partners(synapses: pd.DataFrame, root_id, direction: str = "in", *,
                  cell_types: pd.DataFrame | None = None, proofread_ids=None,
                  known_only: bool = False, proofread_only: bool = False,
                  pre_col: str = "pre_pt_root_id", post_col: str = "post_pt_root_id",
                  size_col: str | None = "size", type_root_col: str = "pt_root_id",
                  type_col: str = "cell_type") -> pd.DataFrame:
    """One row per partner of ``root_id``.

    direction "in": synapses onto the cell (post == root), partner = presynaptic cell;
    "out": synapses from the cell (pre == root), partner = postsynaptic cell.

    Columns (:data:`PARTNER_COLUMNS`): partner_root_id (int64), n_synapses, size_sum,
    size_mean, cell_type (None if unknown), n_type_labels (distinct labels of the partner in
    the cell-type table; > 1 flags a merged root, see
    :func:`services.connectivity.aggregation.resolve_cell_types` for which label wins), known (partner
    has a cell type), proofread (partner in ``proofread_ids``; None when no proofreading
    list was given). Sorted by n_synapses, then size_sum (both descending), then id.

    known_only keeps partners with a cell type; proofread_only keeps proofread partners
    (requires ``proofread_ids``). A cell without synapses in that direction gives an empty
    table, not an error.
    """
    if direction not in DIRECTIONS:
        raise InvalidInputError(f"Unknown direction '{direction}'.", field="direction",
                                hint="Use 'in' (inputs) or 'out' (outputs).")
    if proofread_only and proofread_ids is None:
        raise InvalidInputError("'Proofread only' needs a proofreading table.",
                                hint="Choose a proofreading table or clear the filter.")
    if known_only and cell_types is None:
        raise InvalidInputError("'Known cells only' needs a cell-type table.",
                                hint="Choose a cell-type table or clear the filter.")
    root = parse_id(root_id, "root_id", "root id")
    require_columns(synapses, [pre_col, post_col], "synapse table")
    self_col, partner_col = (post_col, pre_col) if direction == "in" else (pre_col, post_col)
    mine = as_root_ids(synapses[self_col], f"'{self_col}' values") == root
    sub = synapses.loc[mine]
    size = sub[size_col] if size_col and size_col in sub.columns else None
    partner = as_root_ids(sub[partner_col], f"'{partner_col}' values")
    # Aggregating (partner, constant) pairs reuses the exact int64 path of the matrix code.
    pairs = aggregate_pairs(partner, np.full(partner.shape[0], root, dtype=np.int64), size)
    out = pd.DataFrame({"partner_root_id": pairs["pre_pt_root_id"].to_numpy(),
                        "n_synapses": pairs["n_synapses"].to_numpy(),
                        "size_sum": pairs["size_sum"].to_numpy(),
                        "size_mean": pairs["size_mean"].to_numpy()})
    if cell_types is not None:
        types = resolve_cell_types(cell_types, root_col=type_root_col, type_col=type_col)
        ids = out["partner_root_id"].to_numpy()
        out["cell_type"] = types["cell_type"].reindex(ids).to_numpy(dtype=object)
        out["n_type_labels"] = types["n_type_labels"].reindex(ids).fillna(0).to_numpy(
            dtype=np.int64)
    else:
        out["cell_type"] = np.full(len(out), None, dtype=object)
        out["n_type_labels"] = np.zeros(len(out), dtype=np.int64)
    out["cell_type"] = out["cell_type"].where(out["cell_type"].notna(), None)
    out["known"] = out["cell_type"].notna().to_numpy()
    if proofread_ids is not None:
        proof = pd.unique(as_root_ids(proofread_ids, "proofread cell ids"))
        out["proofread"] = np.isin(out["partner_root_id"].to_numpy(), proof)
    else:
        out["proofread"] = np.full(len(out), None, dtype=object)
    if known_only:
        out = out[out["known"]]
    if proofread_only:
        out = out[out["proofread"].astype(bool)]
    order = np.lexsort((out["partner_root_id"].to_numpy(), -out["size_sum"].to_numpy(),
                        -out["n_synapses"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def partners_by_type(partners: pd.DataFrame) -> pd.DataFrame:
    """Partners grouped by cell type: cell_type, n_partners, n_synapses, synapse_share.

    synapse_share is the type's fraction of all synapses in ``partners`` (sums to 1).
    Partners without a type are grouped under :data:`UNKNOWN_TYPE`, always last; the other
    rows are sorted by n_synapses (descending), then type name.
    """
    require_columns(partners, ["cell_type", "n_synapses"], "partner table")
    labels = partners["cell_type"].where(partners["cell_type"].notna(), UNKNOWN_TYPE)
    grouped = (pd.DataFrame({"cell_type": labels.astype(str).to_numpy(),
                             "n_synapses": partners["n_synapses"].to_numpy()})
               .groupby("cell_type", sort=True)["n_synapses"].agg(["size", "sum"])
               .rename(columns={"size": "n_partners", "sum": "n_synapses"}).reset_index())
    total = grouped["n_synapses"].sum()
    grouped["synapse_share"] = grouped["n_synapses"] / total if total else np.nan
    grouped["_unknown"] = grouped["cell_type"] == UNKNOWN_TYPE
    grouped = grouped.sort_values(["_unknown", "n_synapses", "cell_type"],
                                  ascending=[True, False, True], kind="mergesort")
    return grouped.drop(columns="_unknown").reset_index(drop=True).astype(
        {"n_partners": np.int64, "n_synapses": np.int64})


# ----------------------------------------------------------------------------- histograms
@dataclass
class Histogram:
    """counts[i] values fell in [edges[i], edges[i + 1]); ``excluded`` values were left out
    (missing, or not positive on a log axis)."""
    counts: np.ndarray
    edges: np.ndarray
    log: bool = False
    excluded: int = 0


def synapses_per_connection_histogram(n_synapses) -> Histogram:
    """One bin per whole number of synapses, 1..max (edges at half-integers)."""
    values = np.asarray(n_synapses, dtype=np.int64)
    top = int(values.max()) if values.size else 1
    counts = np.bincount(values, minlength=top + 1)[1:top + 1]
    excluded = int((values < 1).sum())
    return Histogram(counts.astype(np.int64), np.arange(0.5, top + 1.0, 1.0), False, excluded)


def synapse_size_histogram(sizes, bins: int = 50, *, log: bool = False) -> Histogram:
    """Histogram of synapse sizes; ``log`` uses geometrically spaced bins over the positive
    sizes (non-positive sizes cannot be placed on a log axis and are counted as excluded)."""
    return _histogram(sizes, bins, log=log)


def depth_histogram(depths, bins: int = 50, value_range: tuple[float, float] | None = None
                    ) -> Histogram:
    """Histogram of partner soma depths (micrometres); missing depths are excluded."""
    return _histogram(depths, bins, value_range=value_range)


def _histogram(values, bins: int, *, log: bool = False,
               value_range: tuple[float, float] | None = None) -> Histogram:
    if bins < 1:
        raise InvalidInputError("A histogram needs at least one bin.", field="bins")
    arr = pd.to_numeric(pd.Series(np.asarray(values)), errors="coerce").to_numpy(np.float64)
    ok = np.isfinite(arr) & ((arr > 0) if log else True)
    kept = arr[ok]
    excluded = int(arr.size - kept.size)
    if kept.size == 0:
        return Histogram(np.zeros(bins, dtype=np.int64), np.linspace(0.0, 1.0, bins + 1),
                         log, excluded)
    lo, hi = value_range if value_range is not None else (kept.min(), kept.max())
    if log:
        lo = max(lo, kept.min()) if value_range is None else lo
        if lo <= 0:
            raise InvalidInputError("A log-scaled histogram needs a positive lower limit.")
        hi = hi if hi > lo else lo * 10.0
        edges = np.geomspace(lo, hi, bins + 1)
    else:
        hi = hi if hi > lo else lo + 1.0
        edges = np.linspace(lo, hi, bins + 1)
    counts, edges = np.histogram(kept, bins=edges)
    return Histogram(counts.astype(np.int64), edges, log, excluded)
