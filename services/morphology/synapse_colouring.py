"""How synapses are grouped for colouring (Qt-free): each mode gives, per synapse row, a
group label, plus the groups in legend order with their colours (hex)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from services.morphology.skeleton import AXON, APICAL, BASAL, COMPARTMENT_NAMES, SOMA

GREY = "#b4b4b4"
# synapses must stand out from the skeleton: a pale axon, a dark dendrite
DIRECTION_COLOURS = {"input": "#e6550d", "output": "#08306b"}
COMPARTMENT_COLOURS = {SOMA: "#000000", AXON: "#9ecae1", BASAL: "#6a3d9a", APICAL: "#b15928",
                       0: "#808080"}
TARGET_COLOURS = {"spine": "#e7298a", "shaft": "#1b9e77", "soma": "#7570b3"}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#393b79", "#637939", "#843c39"]
DISTANCE_COLOURS = ["#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#fde725"]


def compartment_name(code: int) -> str:
    return COMPARTMENT_NAMES.get(int(code), f"type {int(code)}")


def direction_groups(syn: pd.DataFrame, outputs_first: bool = False):
    """'input' / 'output'; an autapse is both: it is labelled as the side drawn."""
    first, other = ("is_output", "output") if outputs_first else ("is_input", "input")
    rest = "input" if outputs_first else "output"
    labels = np.where(syn[first].to_numpy(), other, rest).astype(object)
    return labels, [(k, c) for k, c in DIRECTION_COLOURS.items() if (labels == k).any()]


def known_groups(syn: pd.DataFrame, known_ids, outputs_first: bool = False):
    """'known input' / 'known output' coloured, everything else grey."""
    known = syn["partner_root_id"].isin(set(int(i) for i in known_ids)).to_numpy()
    d = direction_groups(syn, outputs_first)[0]
    labels = np.where(known, np.char.add("known ", d.astype(str)), "not in table").astype(object)
    order = [("known input", DIRECTION_COLOURS["input"]),
             ("known output", DIRECTION_COLOURS["output"]), ("not in table", GREY)]
    return labels, [(k, c) for k, c in order if (labels == k).any()]


def category_groups(values: pd.Series | np.ndarray, missing: str = "not in table",
                    top: int = len(PALETTE)):
    """Categories by frequency; the ``top`` most common get colours, the rest 'other',
    missing values grey."""
    v = pd.Series(values, dtype=object).reset_index(drop=True)
    counts = v.dropna().value_counts()
    keep = list(counts.index[:top])
    labels = v.where(v.isin(keep), "other").where(v.notna(), missing).to_numpy(object)
    groups = [(str(k), PALETTE[i % len(PALETTE)]) for i, k in enumerate(keep)]
    if (labels == "other").any():
        groups.append(("other", "#555555"))
    if (labels == missing).any():
        groups.append((missing, GREY))
    return labels.astype(str).astype(object), groups


def target_groups(tags: pd.Series | np.ndarray):
    v = pd.Series(tags, dtype=object).reset_index(drop=True)
    labels = v.where(v.notna(), "no prediction").astype(str).to_numpy(object)
    present = [k for k in pd.unique(labels)]
    groups = [(k, TARGET_COLOURS.get(k, PALETTE[i % len(PALETTE)]))
              for i, k in enumerate(sorted(present, key=lambda k: (k == "no prediction", k)))]
    return labels, [(k, GREY if k == "no prediction" else c) for k, c in groups]


def distance_bins(path_um: np.ndarray, n: int = len(DISTANCE_COLOURS), rows=None):
    """Path distance to the soma in ``n`` equal bins of a round width (um) spanning the
    distances of ``rows`` (the synapses drawn; all if None)."""
    d = np.asarray(path_um, dtype=float)
    ok = np.isfinite(d)
    span = d[rows] if rows is not None and len(rows) else d
    span = span[np.isfinite(span)]
    top = float(span.max()) if len(span) else 1.0
    raw = max(top / n, 1.0)
    step = min((m * 10 ** e for e in range(0, 5) for m in (1, 2, 2.5, 5) if m * 10 ** e >= raw))
    n = int(min(n, np.ceil(top / step))) or 1
    edges = np.arange(n + 1) * step
    idx = np.clip(np.floor(np.where(ok, d, 0) / step).astype(int), 0, n - 1)
    names = [f"{edges[i]:g}–{edges[i + 1]:g} µm" for i in range(n)]
    labels = np.array([names[i] for i in idx], dtype=object)
    labels[~ok] = "not connected to soma"
    groups = [(names[i], DISTANCE_COLOURS[i]) for i in range(n) if (labels == names[i]).any()]
    if (~ok).any():
        groups.append(("not connected to soma", GREY))
    return labels, groups
