"""A neuron skeleton as a Qt-free value: vertices (nm), edges, root, compartments.

Built from the CAVE skeleton service's dict (``client.skeleton.get_skeleton(...,
output_format="dict")``: vertices nm, edges, root, compartment, radius, meta) or from SWC
rows (id, type, x, y, z, radius, parent). Compartments are SWC codes; a skeleton without
them has ``compartment is None`` and is labelled only as what the data says (the root is
the soma point when the meta says so).

Why no skeleton library (ossify, navis, osteoid): the view needs a graph, path lengths and a
nearest-vertex look-up, which numpy/scipy give in a few lines; ossify needs matplotlib and
the L2/chunkedgraph services, navis pulls in a large stack. Neither helps offline.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.errors import DataSourceError

# SWC structure codes (the skeleton service and pcg_skel use them)
SOMA, AXON, BASAL, APICAL = 1, 2, 3, 4
COMPARTMENT_NAMES = {0: "undefined", SOMA: "soma", AXON: "axon", BASAL: "basal dendrite",
                     APICAL: "apical dendrite"}


@dataclass(frozen=True, eq=False)
class Skeleton:
    root_id: int
    vertices: np.ndarray  # (n, 3) float, nm
    edges: np.ndarray  # (m, 2) int, vertex indices (child, parent in the service's dicts)
    root: int  # index of the root vertex (the soma for a cell with a soma)
    compartment: np.ndarray | None = None  # (n,) int SWC codes, None when not given
    radius: np.ndarray | None = None  # (n,) nm
    meta: dict = field(default_factory=dict)
    source: str = ""  # where it came from, for the user

    def __post_init__(self):
        n = len(self.vertices)
        if self.vertices.ndim != 2 or self.vertices.shape[1] != 3 or n == 0:
            raise DataSourceError(f"The skeleton of {self.root_id} has no (x, y, z) vertices.")
        if len(self.edges) and (self.edges.min() < 0 or self.edges.max() >= n):
            raise DataSourceError(f"The skeleton of {self.root_id} has edges to vertices it "
                                  "does not have.")
        if not 0 <= self.root < n:
            raise DataSourceError(f"The skeleton of {self.root_id} has no root vertex.")
        if self.compartment is not None and len(self.compartment) != n:
            raise DataSourceError(f"The skeleton of {self.root_id} has {len(self.compartment)}"
                                  f" compartment labels for {n} vertices.")

    # ---- construction ---------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict, root_id: int | None = None, source: str = "") -> "Skeleton":
        """The skeleton service's dict (or its JSON, as the sample stores it)."""
        try:
            verts = np.asarray(d["vertices"], dtype=float).reshape(-1, 3)
            edges = np.asarray(d.get("edges", []), dtype=np.int64).reshape(-1, 2)
            root = int(d.get("root", 0))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataSourceError(f"The skeleton could not be read: {exc}.") from None
        meta = dict(d.get("meta") or {})
        rid = root_id if root_id is not None else meta.get("root_id", 0)
        comp = d.get("compartment")
        comp = None if comp is None or len(comp) == 0 else np.asarray(comp, dtype=np.int64)
        rad = d.get("radius")
        rad = None if rad is None or len(rad) == 0 else np.asarray(rad, dtype=float)
        return cls(int(rid), verts, edges, root, comp, rad, meta, source)

    @classmethod
    def from_swc(cls, frame, root_id: int, source: str = "") -> "Skeleton":
        """SWC rows (a DataFrame with id, type, x, y, z, radius, parent; parent -1 = root).
        Coordinates are taken as nm (the skeleton service's SWC is in nm)."""
        ids = frame["id"].to_numpy(np.int64)
        index = {int(v): i for i, v in enumerate(ids)}
        parent = frame["parent"].to_numpy(np.int64)
        child_rows = np.flatnonzero(parent >= 0)
        try:
            edges = np.array([[i, index[int(parent[i])]] for i in child_rows],
                             dtype=np.int64).reshape(-1, 2)
        except KeyError as exc:
            raise DataSourceError(f"The SWC skeleton names a parent {exc} it does not "
                                  "have.") from None
        roots = np.flatnonzero(parent < 0)
        types = frame["type"].to_numpy(np.int64)
        return cls(int(root_id), frame[["x", "y", "z"]].to_numpy(float), edges,
                   int(roots[0]) if len(roots) else 0,
                   types if (types > 0).any() else None,
                   frame["radius"].to_numpy(float) if "radius" in frame else None, {}, source)

    # ---- what it holds --------------------------------------------------------------
    @property
    def n_vertices(self) -> int:
        return len(self.vertices)

    @property
    def has_compartments(self) -> bool:
        return self.compartment is not None

    def compartment_counts(self) -> dict[str, int]:
        """Vertices per compartment name (only codes the data has)."""
        if self.compartment is None:
            return {}
        codes, counts = np.unique(self.compartment, return_counts=True)
        return {COMPARTMENT_NAMES.get(int(c), f"type {int(c)}"): int(n)
                for c, n in zip(codes, counts)}

    def soma_point_nm(self) -> np.ndarray | None:
        """The soma point the meta records (pcg_skel: soma_pt_x/y/z), else None."""
        m = self.meta
        if all(f"soma_pt_{a}" in m for a in "xyz"):
            return np.array([m["soma_pt_x"], m["soma_pt_y"], m["soma_pt_z"]], dtype=float)
        return None

    def edge_lengths(self) -> np.ndarray:
        v = self.vertices
        return np.linalg.norm(v[self.edges[:, 0]] - v[self.edges[:, 1]], axis=1)

    def cable_length_um(self, mask: np.ndarray | None = None) -> float:
        """Total cable (um), of the edges whose both ends are in ``mask`` if given."""
        keep = self.edge_mask(mask)
        return float(self.edge_lengths()[keep].sum() / 1000.0)

    def edge_mask(self, vertex_mask: np.ndarray | None) -> np.ndarray:
        if vertex_mask is None:
            return np.ones(len(self.edges), dtype=bool)
        return vertex_mask[self.edges[:, 0]] & vertex_mask[self.edges[:, 1]]

    def dendrite_mask(self) -> np.ndarray | None:
        """Vertices that are not axon (soma and dendrites); None without compartments."""
        if self.compartment is None:
            return None
        return self.compartment != AXON

    def path_distance_to_root(self) -> np.ndarray:
        """Distance (nm) from every vertex to the root along the edges (inf if unreached)."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import dijkstra
        n = self.n_vertices
        w = self.edge_lengths()
        # a zero-length edge would vanish from a sparse matrix: keep it as a tiny length
        w = np.where(w > 0, w, 1e-9)
        g = coo_matrix((w, (self.edges[:, 0], self.edges[:, 1])), shape=(n, n)).tocsr()
        return dijkstra(g, directed=False, indices=self.root)
