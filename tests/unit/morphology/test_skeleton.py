"""The Qt-free morphology core against independent (brute-force) computations."""
import numpy as np
import pandas as pd
import pytest

from services.morphology.skeleton import AXON, Skeleton
from services.morphology.synapse_mapping import check_units, map_synapses, nearest_vertices
from services.morphology import synapse_colouring as sc


def _brute_path(vertices, edges, root):
    """Bellman-Ford by plain relaxation: no scipy, no networkx."""
    n = len(vertices)
    dist = [float("inf")] * n
    dist[root] = 0.0
    for _ in range(n):
        changed = False
        for a, b in edges:
            w = float(np.sqrt(((vertices[a] - vertices[b]) ** 2).sum()))
            for u, v in ((a, b), (b, a)):
                if dist[u] + w < dist[v]:
                    dist[v], changed = dist[u] + w, True
        if not changed:
            break
    return np.array(dist)


def _small():
    rng = np.random.default_rng(3)
    v = rng.uniform(0, 10000, (40, 3))
    edges = [(i, int(rng.integers(0, i))) for i in range(1, 35)]  # a tree on 0..34
    edges += [(5, 20), (12, 30)]  # and two cycles
    edges += [(36, 35), (37, 36)]  # a piece not joined to the root (38, 39 alone)
    return Skeleton(1, v, np.array(edges), 0, np.where(np.arange(40) < 20, 3, AXON))


def test_path_distance_matches_brute_force():
    sk = _small()
    got = sk.path_distance_to_root()
    want = _brute_path(sk.vertices, sk.edges.tolist(), 0)
    assert np.allclose(got, want)
    assert np.isinf(got[35:]).all()


def test_nearest_vertex_matches_brute_force():
    sk = _small()
    pts = np.random.default_rng(4).uniform(-2000, 12000, (300, 3))
    pts[7] = np.nan
    idx, dist = nearest_vertices(sk.vertices, pts)
    d = np.linalg.norm(pts[:, None, :] - sk.vertices[None], axis=2)
    ok = np.arange(300) != 7
    assert (idx[ok] == d[ok].argmin(axis=1)).all()
    assert np.allclose(dist[ok], d[ok].min(axis=1))
    assert idx[7] == -1 and np.isnan(dist[7])
    m = map_synapses(sk, pts, far_nm=1500)
    assert m.n_unplaced == 1 and m.n_far == int((dist[ok] > 1500).sum())


def test_swc_and_dict_agree():
    sk = _small()
    parent = np.full(40, -1)
    tree = sk.edges[:34]
    parent[tree[:, 0]] = tree[:, 1]
    frame = pd.DataFrame({"id": np.arange(40) + 1, "type": sk.compartment,
                          "x": sk.vertices[:, 0], "y": sk.vertices[:, 1],
                          "z": sk.vertices[:, 2], "radius": 1.0,
                          "parent": np.where(parent >= 0, parent + 1, -1)})
    swc = Skeleton.from_swc(frame, 1)
    assert swc.root == 0 and len(swc.edges) == 34
    assert (swc.compartment == sk.compartment).all()
    d = Skeleton.from_dict({"vertices": sk.vertices.tolist(), "edges": tree.tolist(),
                            "root": 0, "compartment": sk.compartment.tolist()}, 1)
    assert np.allclose(np.sort(d.path_distance_to_root()), np.sort(swc.path_distance_to_root()))


def test_units_mismatch_is_detected():
    sk = _small()
    assert check_units(sk, sk.vertices[0]) == ""
    assert "different units" in check_units(sk, sk.vertices[0] * np.array([4, 4, 40]) + 1e5)


def test_sample_basket_cell_skeleton():
    from services.local.local_source import sample_folders
    from services.local.skeletons import read_skeleton
    folder = next(f for f in sample_folders() if f.name == "minnie65_sample")
    sk = read_skeleton(folder, 864691135101289504)
    assert sk.n_vertices == 16720 and len(sk.edges) == 16719
    assert sk.compartment_counts() == {"soma": 1, "axon": 14153, "basal dendrite": 2566}
    assert np.allclose(sk.vertices[sk.root], sk.soma_point_nm())
    assert read_skeleton(folder, 1) is None
    # a few vertices' distance by hand: walk child -> parent edges to the root
    parent = dict(map(tuple, sk.edges.tolist()))
    dist = sk.path_distance_to_root()
    for v in (0, 500, 9000, 16000):
        total, node = 0.0, v
        while node != sk.root:
            total += float(np.linalg.norm(sk.vertices[node] - sk.vertices[parent[node]]))
            node = parent[node]
        assert dist[v] == pytest.approx(total, rel=1e-9)


def test_colour_groups():
    syn = pd.DataFrame({"is_input": [True, True, False, True], "is_output": [False, False,
                        True, True], "partner_root_id": [1, 2, 3, 9]})
    labels, groups = sc.known_groups(syn, [1, 3])
    assert labels.tolist() == ["known input", "not in table", "known output", "not in table"]
    assert sc.direction_groups(syn, outputs_first=True)[0].tolist() == \
        ["input", "input", "output", "output"]
    labels, groups = sc.distance_bins(np.array([0, 49, 51, 260, np.nan]))
    assert labels[0] == labels[1] != labels[2] and labels[-1] == "not connected to soma"
