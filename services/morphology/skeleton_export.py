"""A skeleton written out for scripts: SWC (nm) or the skeleton service's dict as JSON,
each written atomically as every export is (services.results.export.write_bytes).

SWC rows are ``id type x y z radius parent``: ids 1..n in breadth-first order from the root
(a parent always comes before its children), parent -1 for the root of each connected
piece, type the SWC structure code (1 soma, 2 axon, 3 basal, 4 apical dendrite; 0 when the
skeleton has no compartment labels). An SWC file holds a forest: edges that close a cycle
cannot be written and are counted in the result's notes, never dropped silently.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from services.morphology.skeleton import COMPARTMENT_NAMES, Skeleton
from services.results.export import write_bytes


@dataclass
class SwcTree:
    order: np.ndarray  # vertex index of SWC row k (k = id - 1)
    parent_row: np.ndarray  # SWC parent id of row k (-1: a root)
    notes: list[str] = field(default_factory=list)


def swc_tree(skel: Skeleton) -> SwcTree:
    """Breadth-first rows from the root, then from each piece not joined to it."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order
    n = skel.n_vertices
    e = skel.edges
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
    seen = np.zeros(n, dtype=bool)
    order_parts, parent = [], np.full(n, -9999, dtype=np.int64)
    starts = [skel.root] + list(range(n))
    pieces = 0
    for s in starts:
        if seen[s]:
            continue
        nodes, pred = breadth_first_order(g, s, directed=False, return_predecessors=True)
        seen[nodes] = True
        parent[nodes] = pred[nodes]
        order_parts.append(nodes)
        pieces += 1
    order = np.concatenate(order_parts)
    row_of = np.empty(n, dtype=np.int64)
    row_of[order] = np.arange(n)
    par = parent[order]
    parent_row = np.where(par >= 0, row_of[np.maximum(par, 0)] + 1, -1)
    notes = []
    tree_edges = n - pieces
    unique_edges = len({(min(a, b), max(a, b)) for a, b in e.tolist() if a != b})
    if unique_edges > tree_edges:
        notes.append(f"{unique_edges - tree_edges:,} edges close a cycle and are not in the "
                     "SWC file (SWC holds a tree).")
    if pieces > 1:
        notes.append(f"The skeleton has {pieces:,} pieces: {pieces - 1:,} not joined to the "
                     "root start with parent -1.")
    return SwcTree(order, parent_row, notes)


def swc_text(skel: Skeleton) -> tuple[str, list[str]]:
    tree = swc_tree(skel)
    v = skel.vertices[tree.order]
    types = skel.compartment[tree.order] if skel.compartment is not None else \
        np.zeros(len(v), dtype=np.int64)
    radius = skel.radius[tree.order] if skel.radius is not None else np.zeros(len(v))
    names = ", ".join(f"{c} {COMPARTMENT_NAMES[c]}" for c in (1, 2, 3, 4))
    lines = [f"# skeleton of root id {skel.root_id} ({skel.source or 'Cavern'})",
             "# units: nm (x y z and radius)",
             f"# types: {names}; 0 undefined",
             "# id type x y z radius parent"]
    lines += [f"{k + 1} {int(t)} {x:.10g} {y:.10g} {z:.10g} {r:.6g} {int(p)}"
              for k, (t, (x, y, z), r, p) in enumerate(zip(types, v, radius, tree.parent_row))]
    return "\n".join(lines) + "\n", tree.notes


def skeleton_dict(skel: Skeleton) -> dict:
    """The skeleton service's dict (vertices nm, edges, root, compartment, radius, meta)."""
    d = {"vertices": skel.vertices.tolist(), "edges": skel.edges.tolist(),
         "root": int(skel.root), "meta": dict(skel.meta, root_id=int(skel.root_id))}
    if skel.compartment is not None:
        d["compartment"] = skel.compartment.tolist()
    if skel.radius is not None:
        d["radius"] = skel.radius.tolist()
    return d


def write_swc(skel: Skeleton, path) -> tuple[Path, list[str]]:
    text, notes = swc_text(skel)
    return write_bytes(path, text.encode()), notes


def write_json(skel: Skeleton, path) -> Path:
    return write_bytes(path, json.dumps(skeleton_dict(skel)).encode())
