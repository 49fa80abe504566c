"""SWC/JSON writing, the disk cache of CAVE skeletons, the PNG encoder and the synapse
selection's rows: Qt-free, against independent computations."""
import gzip
import json
import zlib

import numpy as np
import pandas as pd
import pytest

from models.errors import ExportError, InvalidInputError
from services.morphology.skeleton import AXON, Skeleton
from services.morphology.skeleton_cache import SkeletonCache
from services.morphology.skeleton_export import skeleton_dict, swc_text, write_swc
from services.morphology.skeleton_png import png_bytes, render_skeleton
from services.morphology.synapse_selection import selection_frame, selection_result
from services.results.export import write_bytes
from tests.unit.morphology.test_skeleton import _small


def _read_swc(path):
    return pd.read_csv(path, sep=r"\s+", comment="#", header=None,
                       names=["id", "type", "x", "y", "z", "radius", "parent"])


def test_swc_of_a_graph_with_cycles_and_pieces(tmp_path):
    sk = _small()  # a tree on 0..34 plus two cycles, a piece 35-37, lone vertices 38, 39
    path, notes = write_swc(sk, tmp_path / "s.swc")
    swc = _read_swc(path)
    assert len(swc) == 40 and swc.loc[0, "parent"] == -1
    # roots: the skeleton's root, the 35-37 piece, and the two lone vertices
    assert (swc["parent"] == -1).sum() == 4
    assert any("2 edges close a cycle" in n for n in notes)
    assert any("4 pieces" in n for n in notes)
    assert (swc["parent"].to_numpy() < swc["id"].to_numpy()).all()
    # each parent link is a skeleton edge (found by position): 34 + 2 of the 38 edges
    d = np.linalg.norm(swc[["x", "y", "z"]].to_numpy()[:, None] - sk.vertices[None], axis=2)
    idx = d.argmin(axis=1).tolist()
    assert d.min(axis=1).max() < 1e-3 and len(set(idx)) == 40  # 10 significant digits
    links = {frozenset((idx[k], idx[p - 1])) for k, p in enumerate(swc["parent"]) if p > 0}
    assert len(links) == 36 and links <= {frozenset(map(int, e)) for e in sk.edges}
    assert idx[0] == sk.root
    assert sorted(swc["type"]) == sorted(sk.compartment)


def test_swc_without_compartments_is_type_zero():
    sk = Skeleton(5, np.array([[0, 0, 0], [10, 0, 0.5]]), np.array([[1, 0]]), 0)
    text, _ = swc_text(sk)
    body = [line.split() for line in text.splitlines() if not line.startswith("#")]
    assert body == [["1", "0", "0", "0", "0", "0", "-1"], ["2", "0", "10", "0", "0.5", "0", "1"]]


def test_json_dict_round_trips():
    sk = _small()
    back = Skeleton.from_dict(json.loads(json.dumps(skeleton_dict(sk))), 1)
    assert np.array_equal(back.edges, sk.edges) and np.allclose(back.vertices, sk.vertices)
    assert np.array_equal(back.compartment, sk.compartment)


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "x.swc"
    target.write_text("old")
    with pytest.raises(ExportError, match="does not exist"):
        write_bytes(tmp_path / "missing" / "x.swc", b"new")
    with pytest.raises(ExportError, match="is a folder"):
        write_bytes(tmp_path, b"new")
    assert target.read_text() == "old"
    write_bytes(target, b"new")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["x.swc"]


def test_skeleton_cache(tmp_path):
    cache = SkeletonCache(tmp_path / "skel")
    d = {"vertices": np.zeros((2, 3)), "edges": np.array([[1, 0]]), "root": 0, "meta": {}}
    assert cache.get("https://s", "ds", 7, 4) is None
    assert cache.put("https://s/", "ds", 7, 4, d)
    got = cache.get("https://s", "ds", 7, 4)  # a trailing slash is the same server
    assert got["edges"] == [[1, 0]] and got["root"] == 0
    for other in (("https://t", "ds", 7, 4), ("https://s", "ds2", 7, 4),
                  ("https://s", "ds", 8, 4), ("https://s", "ds", 7, 3)):
        assert cache.get(*other) is None
    # a file holding another key's skeleton (copied over) is refused and removed
    a = cache.path({"server": "https://s", "datastack": "ds", "root_id": 7,
                    "skeleton_version": 4})
    b = cache.path({"server": "https://s", "datastack": "ds", "root_id": 9,
                    "skeleton_version": 4})
    b.write_bytes(a.read_bytes())
    assert cache.get("https://s", "ds", 9, 4) is None and not b.exists()
    a.write_bytes(gzip.compress(b"{not json"))
    assert cache.get("https://s", "ds", 7, 4) is None and not a.exists()
    small = SkeletonCache(tmp_path / "small", max_bytes=1)
    small.put("s", "ds", 1, 4, d)
    assert small.entries() == []  # over the limit: evicted at once
    assert SkeletonCache.beside(None) is None


def _decode_png(data: bytes) -> np.ndarray:
    """A minimal decoder for the encoder's own layout (IHDR, one IDAT, filter 0)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    pos, idat = 8, b""
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert zlib.crc32(kind + body) == int.from_bytes(data[pos + 8 + n:pos + 12 + n], "big")
        if kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * 3)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(h, w, 3)


def test_png_encoder_and_drawing():
    img = np.random.default_rng(1).integers(0, 255, (7, 5, 3), dtype=np.uint8)
    assert np.array_equal(_decode_png(png_bytes(img)), img)
    v = np.array([[0, 0, 0], [100000, 0, 0], [100000, 50000, 0]], float)
    sk = Skeleton(1, v, np.array([[1, 0], [2, 1]]), 0, np.array([1, AXON, 3]))
    out = render_skeleton(sk, v / 1000, "xy", size=400)
    out = out[:, 20:]  # not the legend's colour squares (x 8-18)
    axon = (out == [0x9E, 0xCA, 0xE1]).all(axis=2)
    dend = (out == [0x6A, 0x3D, 0x9A]).all(axis=2)
    rows_a = np.flatnonzero(axon.any(axis=1))
    cols_d = np.flatnonzero(dend.any(axis=0))
    assert axon.sum() > 300 and dend.sum() > 100
    # the axon runs along x at the top (y = 0 drawn at the top), the dendrite down x = max
    assert rows_a.max() - rows_a.min() < 40 and cols_d.max() - cols_d.min() < 40
    with pytest.raises(InvalidInputError, match="xy, zy or xz"):
        render_skeleton(sk, v / 1000, "yy")


def test_selection_rows():
    syn = pd.DataFrame({"id": [5, 6, 7], "pre_pt_root_id": [1, 9, 9],
                        "post_pt_root_id": [9, 2, 9], "is_input": [True, False, True],
                        "is_output": [False, True, True], "compartment": [3, 2, 1],
                        "x_nm": 0.0, "vertex": [1, 2, 3], "path_to_soma_um": [1.0, 2, 0]})
    f = selection_frame(syn, 9)
    assert f["direction"].tolist() == ["input", "output", "autapse"]
    assert f["compartment"].tolist() == ["basal dendrite", "axon", "soma"]
    assert "x_nm" not in f and "vertex" not in f and f.attrs["position_resolution"] == (1, 1, 1)

    class Ws:
        datastack, version, timestamp = "ds", 3, None

        class info:
            synapse_table = "syn"
    r = selection_result(Ws(), syn, 9)
    assert r.spec.table == "syn" and r.spec.filters[0].value == (5, 6, 7)
    assert r.notes[0].startswith("3 synapses box-selected") and "2 inputs, 2 outputs" in r.notes[0]
    with pytest.raises(InvalidInputError):
        selection_frame(syn.iloc[:0], 9)
