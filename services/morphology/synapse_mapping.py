"""Synapses onto a skeleton: nearest vertex, path distance to the soma, units check.

Vectorised: one KD-tree query (``scipy.spatial.cKDTree``) for all synapses and one
Dijkstra from the root (``Skeleton.path_distance_to_root``). Synapses farther than
``far_nm`` from every vertex are counted and reported, never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.errors import DataSourceError
from services.morphology.skeleton import Skeleton

FAR_NM = 5000.0  # a synapse more than 5 um from every vertex is not on this skeleton
SOMA_MISMATCH_NM = 20000.0  # skeleton root this far from the soma point: units disagree


@dataclass(frozen=True)
class SynapseMapping:
    vertex: np.ndarray  # (k,) nearest skeleton vertex of each synapse (-1: no position)
    distance_nm: np.ndarray  # (k,) distance to that vertex (nan: no position)
    path_um: np.ndarray  # (k,) path distance of that vertex to the root, um (nan: none)
    far_nm: float

    @property
    def n_far(self) -> int:
        return int(np.count_nonzero(self.distance_nm > self.far_nm))

    @property
    def n_unplaced(self) -> int:
        return int(np.count_nonzero(self.vertex < 0))


def nearest_vertices(vertices_nm: np.ndarray, points_nm: np.ndarray):
    """(index, distance) of the nearest vertex of each point; -1 / nan for missing points."""
    from scipy.spatial import cKDTree
    pts = np.asarray(points_nm, dtype=float).reshape(-1, 3)
    idx = np.full(len(pts), -1, dtype=np.int64)
    dist = np.full(len(pts), np.nan)
    ok = np.isfinite(pts).all(axis=1)
    if ok.any():
        d, i = cKDTree(np.asarray(vertices_nm, float)).query(pts[ok])
        idx[ok], dist[ok] = i, d
    return idx, dist


def map_synapses(skel: Skeleton, points_nm: np.ndarray, far_nm: float = FAR_NM,
                 path_nm: np.ndarray | None = None) -> SynapseMapping:
    """Each synapse's nearest vertex, its distance, and path distance to the root (um)."""
    idx, dist = nearest_vertices(skel.vertices, points_nm)
    if path_nm is None:
        path_nm = skel.path_distance_to_root()
    path = np.full(len(idx), np.nan)
    ok = idx >= 0
    path[ok] = path_nm[idx[ok]] / 1000.0
    path[~np.isfinite(path)] = np.nan  # a vertex in a piece not joined to the root
    return SynapseMapping(idx, dist, path, far_nm)


def check_units(skel: Skeleton, soma_nm) -> str:
    """'' when the skeleton's root lies at the soma point (nm); else why they disagree.

    A skeleton in voxels (or um) beside synapses in nm puts the root far from the soma:
    say by how much, and whether a voxel or um scale would explain it."""
    if soma_nm is None:
        return ""
    soma = np.asarray(soma_nm, dtype=float).reshape(3)
    if not np.isfinite(soma).all():
        return ""
    root = skel.vertices[skel.root]
    gap = float(np.linalg.norm(root - soma))
    if gap <= SOMA_MISMATCH_NM:
        return ""
    ratio = soma / np.where(root != 0, root, np.nan)
    return (f"The skeleton's root is {gap / 1000:,.0f} um from the cell's soma point (ratio "
            f"per axis {np.round(ratio, 2).tolist()}): the skeleton and the synapses seem to "
            "be in different units, so synapses cannot be placed on it.")


def require_same_units(skel: Skeleton, soma_nm) -> None:
    msg = check_units(skel, soma_nm)
    if msg:
        raise DataSourceError(msg, hint="Check the skeleton file's units (nm expected).")
