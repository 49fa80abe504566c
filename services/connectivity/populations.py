"""Population statistics of connections: the MICrONS tutorial's histograms, Qt-free.

A *connection* is a connected (pre, post) pair: its synapse count and summed synapse size.
The populations are all pairs of a matrix (:func:`matrix_connections`), a cell's partners
(:func:`partner_connections`) or any synapse table (:func:`synapse_connections`).

- :func:`synapses_per_connection`: discrete histogram (one bin per synapse count).
- :func:`broad_types` / :data:`MICRONS_BROAD_TYPES`: E / I per cell, from a cell-type
  table's classification column or a stated, editable mapping of MICrONS types.
- :func:`split_by_group`: the same histogram per (pre group -> post group), e.g. E->E
  beside I->E.
- :func:`size_histogram` and :func:`density_curve`: summed size per connection, linear or
  log x (log-spaced bins), with an optional Gaussian kernel density curve.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from models.errors import InvalidInputError
from services.connectivity.aggregation import aggregate_pairs, as_root_ids, require_columns

PRE, POST = "pre_pt_root_id", "post_pt_root_id"
EXCITATORY, INHIBITORY, OTHER = "E", "I", "other"

#: The tutorial's broad types of MICrONS cell types (edit a copy to change it). 5P-PT is
#: the V1-column tables' name of 5P-ET; v1718's proofread table drops the hyphen (5PIT);
#: pinky100's soma_valence labels cells e / i / g.
_EXC = ("23P", "4P", "5P-IT", "5P-ET", "5P-PT", "5P-NP", "6P-IT", "6P-CT")
MICRONS_BROAD_TYPES: dict[str, str] = {
    **{t: EXCITATORY for t in _EXC},
    **{t.replace("-", ""): EXCITATORY for t in _EXC if "-" in t},
    **{t: INHIBITORY for t in ("BC", "MC", "BPC", "NGC")},
    "e": EXCITATORY, "i": INHIBITORY,
}
#: Classification column values (e.g. allen tables' classification_system) -> broad type.
CLASSIFICATION_BROAD_TYPES: dict[str, str] = {
    "excitatory_neuron": EXCITATORY, "excitatory": EXCITATORY, "inhibitory_neuron": INHIBITORY,
    "inhibitory": INHIBITORY, "exc": EXCITATORY, "inh": INHIBITORY,
}


def describe_mapping(mapping: Mapping[str, str] = MICRONS_BROAD_TYPES) -> str:
    """'E: 23P, 4P, ...; I: BC, MC, ...' (what the UI and exports state)."""
    groups: dict[str, list[str]] = {}
    for t, b in mapping.items():
        groups.setdefault(b, []).append(t)
    return "; ".join(f"{b}: {', '.join(ts)}" for b, ts in groups.items()) + "; others: other"


def broad_types(cell_types, classification=None,
                mapping: Mapping[str, str] | None = None) -> np.ndarray:
    """Broad type (E / I / other) per cell: the ``classification`` value where it names one
    (excitatory_neuron / inhibitory_neuron), else ``mapping`` (default MICrONS) of the type."""
    mapping = MICRONS_BROAD_TYPES if mapping is None else mapping
    types = pd.Series(np.asarray(cell_types, dtype=object))
    out = types.map(lambda t: mapping.get(t, OTHER) if isinstance(t, str) else OTHER)
    if classification is not None:
        cls = pd.Series(np.asarray(classification, dtype=object)).map(
            lambda c: CLASSIFICATION_BROAD_TYPES.get(str(c).lower()) if isinstance(c, str)
            else None)
        out = cls.where(cls.notna(), out)
    return out.to_numpy(dtype=object)


# ----------------------------------------------------------------------------- populations
def synapse_connections(synapses: pd.DataFrame, size_col: str | None = "size"
                        ) -> pd.DataFrame:
    """Connections of a synapse table: pre_pt_root_id, post_pt_root_id, n_synapses,
    size_sum (NaN without a size column)."""
    require_columns(synapses, [PRE, POST], "synapse table")
    has_size = size_col is not None and size_col in synapses.columns
    pairs = aggregate_pairs(synapses[PRE], synapses[POST],
                            synapses[size_col] if has_size else None)
    if not has_size:
        pairs["size_sum"] = np.nan
    return pairs[[PRE, POST, "n_synapses", "size_sum"]].reset_index(drop=True)


def matrix_connections(matrix) -> pd.DataFrame:
    """Every connected pair of a ConnectivityMatrix, with pre_type / post_type if it has types."""
    pairs = matrix.pairs()
    if matrix.row_types is not None and matrix.col_types is not None:
        order = np.lexsort((matrix.cols, matrix.rows))
        pairs["pre_type"] = matrix.row_types[matrix.rows[order]]
        pairs["post_type"] = matrix.col_types[matrix.cols[order]]
    return pairs


def partner_connections(partners: pd.DataFrame, root_id, direction: str = "in"
                        ) -> pd.DataFrame:
    """A cell's partner table (connectivity_partners.cell_partners) as connections."""
    require_columns(partners, ["partner_root_id", "n_synapses"], "partner table")
    n = len(partners)
    me = np.full(n, int(root_id), dtype=np.int64)
    other = as_root_ids(partners["partner_root_id"])
    pre, post = (other, me) if direction == "in" else (me, other)
    out = pd.DataFrame({PRE: pre, POST: post, "n_synapses": partners["n_synapses"].to_numpy(),
                        "size_sum": partners["size_sum"].to_numpy(dtype=float)
                        if "size_sum" in partners.columns else np.nan})
    if "cell_type" in partners.columns:
        out["pre_type" if direction == "in" else "post_type"] = partners["cell_type"].to_numpy(
            dtype=object)
    return out


def types_from_synapses(synapses: pd.DataFrame, type_col: str, id_col: str = PRE
                        ) -> pd.Series:
    """Per-cell type from a per-synapse type column (e.g. cell_type_pre): the most frequent
    label of each cell's synapses, indexed by root id."""
    require_columns(synapses, [id_col, type_col], "synapse table")
    f = pd.DataFrame({"id": as_root_ids(synapses[id_col]),
                      "t": synapses[type_col].astype(object)}).dropna()
    top = (f.groupby(["id", "t"]).size().rename("n").reset_index()
           .sort_values(["id", "n", "t"], ascending=[True, False, True], kind="mergesort")
           .drop_duplicates("id"))
    return pd.Series(top["t"].to_numpy(dtype=object), index=top["id"].to_numpy(np.int64))


# ----------------------------------------------------------------------------- histograms
def synapses_per_connection(connections: pd.DataFrame, max_bin: int | None = None
                            ) -> pd.DataFrame:
    """Discrete histogram: n_synapses (1, 2, ... every integer up to the max, empty bins
    kept), n_connections, fraction. ``max_bin``: counts above it go into the last bin."""
    require_columns(connections, ["n_synapses"], "connections")
    n = connections["n_synapses"].to_numpy(dtype=np.int64)
    if max_bin is not None:
        n = np.minimum(n, int(max_bin))
    top = int(n.max()) if n.size else 0
    counts = np.bincount(n, minlength=top + 1)[1:]
    total = counts.sum()
    return pd.DataFrame({"n_synapses": np.arange(1, top + 1, dtype=np.int64),
                         "n_connections": counts.astype(np.int64),
                         "fraction": counts / total if total else np.zeros(len(counts))})


def label_groups(connections: pd.DataFrame, pre_labels=None, post_labels=None,
                 mapping: Mapping[str, str] | None = None, *, broad: bool = True
                 ) -> pd.DataFrame:
    """Add pre_group, post_group and group ('E→E') to connections.

    Labels are Series indexed by root id, or None to use the connections' own
    pre_type / post_type columns; ``broad`` maps them to E / I / other (``mapping``)."""
    out = connections.copy()
    for side, labels, col in (("pre", pre_labels, PRE), ("post", post_labels, POST)):
        if labels is not None:
            lab = pd.Series(labels)
            values = lab.reindex(as_root_ids(out[col])).to_numpy(dtype=object)
        elif f"{side}_type" in out.columns:
            values = out[f"{side}_type"].to_numpy(dtype=object)
        else:
            raise InvalidInputError(f"No {side}synaptic cell types to group by.",
                                    hint="Choose a cell-type table (or a column with types).")
        out[f"{side}_group"] = broad_types(values, mapping=mapping) if broad else np.where(
            pd.isna(values), OTHER, values).astype(str)
    out["group"] = out["pre_group"].astype(str) + "→" + out["post_group"].astype(str)
    return out


def split_by_group(connections: pd.DataFrame, groups=None, max_bin: int | None = None
                   ) -> pd.DataFrame:
    """Synapses-per-connection histogram per group (connections from :func:`label_groups`):
    group, n_synapses, n_connections, fraction (within the group). ``groups`` picks and
    orders them (e.g. ['E→E', 'I→E']); default all, most connections first."""
    require_columns(connections, ["group", "n_synapses"], "grouped connections")
    if groups is None:
        groups = connections["group"].value_counts().index.tolist()
    parts = []
    for g in groups:
        h = synapses_per_connection(connections[connections["group"] == g], max_bin)
        h.insert(0, "group", g)
        parts.append(h)
    if not parts:
        return pd.DataFrame(columns=["group", "n_synapses", "n_connections", "fraction"])
    return pd.concat(parts, ignore_index=True)


@dataclass
class SizeHistogram:
    edges: np.ndarray  # bin edges (size units), len(counts) + 1
    counts: np.ndarray
    log_x: bool
    n_missing: int  # connections without a size (or size <= 0 on log x)


def size_histogram(connections: pd.DataFrame, bins: int = 40, log_x: bool = False
                   ) -> SizeHistogram:
    """Histogram of summed synapse size per connection; log x uses log-spaced edges."""
    require_columns(connections, ["size_sum"], "connections")
    v = connections["size_sum"].to_numpy(dtype=float)
    ok = np.isfinite(v) & ((v > 0) if log_x else True)
    v = v[ok]
    if v.size == 0:
        raise InvalidInputError("No synapse sizes to plot.",
                                hint="The synapse table needs a size column.")
    lo, hi = v.min(), v.max()
    if hi == lo:
        hi = lo + 1
    edges = np.geomspace(lo, hi, bins + 1) if log_x else np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(v, edges)
    return SizeHistogram(edges, counts.astype(np.int64), log_x, int((~ok).sum()))


def density_curve(connections: pd.DataFrame, log_x: bool = False, points: int = 200
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian kernel density of summed size (of log10 size on log x), scaled to counts per
    bin of :func:`size_histogram` is up to the caller: returns (x in size units, density)."""
    from scipy.stats import gaussian_kde
    v = connections["size_sum"].to_numpy(dtype=float)
    v = v[np.isfinite(v) & (v > 0)] if log_x else v[np.isfinite(v)]
    if v.size < 2 or np.ptp(v) == 0:
        return np.zeros(0), np.zeros(0)
    data = np.log10(v) if log_x else v
    grid = np.linspace(data.min(), data.max(), points)
    dens = gaussian_kde(data)(grid)
    return (10 ** grid if log_x else grid), dens
