"""``python main.py skeleton ...`` run as a user runs it (a subprocess): SWC, JSON and PNG of
the bundled basket cell, checked against the sample's own skeleton file read here with
gzip + json; bad input gives one error line, no traceback, the documented exit status."""
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[3]
BASKET = "864691135101289504"
SAMPLE = ROOT / "resources" / "samples" / "minnie65_sample"
M65 = ["--datastack", "minnie65_sample"]


def run(argv, tmp):
    env = dict(os.environ, HOME=str(tmp), XDG_DATA_HOME=str(tmp), XDG_CONFIG_HOME=str(tmp),
               XDG_CACHE_HOME=str(tmp), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    return subprocess.run([sys.executable, "main.py", *argv], cwd=ROOT, capture_output=True,
                          text=True, env=env, timeout=120)


def _raw():
    return json.loads(gzip.decompress((SAMPLE / "skeletons" / f"{BASKET}.json.gz").read_bytes()))


def _one_error_line(out, status):
    assert out.returncode == status, (out.returncode, out.stderr)
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("cavern: error: "), out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_summary(tmp_path):
    out = run(["skeleton", BASKET, *M65], tmp_path)
    assert out.returncode == 0, out.stderr
    rows = dict(line.split("\t") for line in out.stdout.splitlines())
    raw = _raw()
    assert rows["vertices"] == str(len(raw["vertices"])) and rows["edges"] == str(len(raw["edges"]))
    v = np.asarray(raw["vertices"])
    e = np.asarray(raw["edges"])
    cable = np.linalg.norm(v[e[:, 0]] - v[e[:, 1]], axis=1).sum() / 1000
    assert float(rows["cable_um"]) == pytest.approx(cable, abs=0.1)


def test_swc_is_valid_and_holds_the_skeleton(tmp_path):
    path = tmp_path / "bc.swc"
    out = run(["skeleton", BASKET, *M65, "--swc", str(path)], tmp_path)
    assert out.returncode == 0 and out.stdout == "", out.stderr
    swc = pd.read_csv(path, sep=" ", comment="#", header=None,
                      names=["id", "type", "x", "y", "z", "radius", "parent"])
    raw = _raw()
    v, e = np.asarray(raw["vertices"]), np.asarray(raw["edges"])
    comp = np.asarray(raw["compartment"])
    assert len(swc) == len(v)
    assert (swc["id"].to_numpy() == np.arange(1, len(v) + 1)).all()
    parent = swc["parent"].to_numpy()
    assert (parent == -1).sum() == 1 and parent[0] == -1  # one tree, rooted at the soma
    assert ((parent < swc["id"].to_numpy()) & ((parent >= 1) | (parent == -1))).all()
    assert set(swc["type"]) <= {1, 2, 3, 4}
    assert swc["type"].value_counts().to_dict() == pd.Series(comp).value_counts().to_dict()
    assert swc.loc[0, "type"] == 1  # the root is the soma
    xyz = swc[["x", "y", "z"]].to_numpy()
    assert np.allclose(xyz[0], v[raw["root"]])
    # every SWC parent link is one of the skeleton's edges (as pairs of points)
    key = {tuple(p): i for i, p in enumerate(np.round(v, 0).tolist())}
    idx = np.array([key[tuple(p)] for p in np.round(xyz, 0).tolist()])
    assert len(set(idx)) == len(v)
    links = {frozenset((idx[k], idx[p - 1])) for k, p in enumerate(parent) if p > 0}
    assert links == {frozenset(map(int, ed)) for ed in e}
    assert np.allclose(swc["radius"].to_numpy(), np.asarray(raw["radius"])[idx], rtol=1e-5)


def test_json_round_trips(tmp_path):
    path = tmp_path / "bc.json"
    out = run(["skeleton", BASKET, *M65, "--json", str(path)], tmp_path)
    assert out.returncode == 0, out.stderr
    got, raw = json.loads(path.read_text()), _raw()
    for k in ("vertices", "edges", "root", "compartment", "radius"):
        assert np.allclose(np.asarray(got[k]), np.asarray(raw[k])), k
    assert got["meta"]["root_id"] == int(BASKET)


@pytest.mark.parametrize("projection", ["xy", "zy"])
def test_png_is_a_drawing_of_the_cell(tmp_path, projection):
    Image = pytest.importorskip("PIL.Image")  # an independent PNG decoder
    path = tmp_path / f"bc_{projection}.png"
    out = run(["skeleton", BASKET, *M65, "--png", str(path), "--projection", projection],
              tmp_path)
    assert out.returncode == 0, out.stderr
    img = np.asarray(Image.open(path).convert("RGB"))
    assert max(img.shape[:2]) == 1000
    colours = {tuple(c) for c in img.reshape(-1, 3)[::7]}
    axon, dendrite = (0x9E, 0xCA, 0xE1), (0x6A, 0x3D, 0x9A)
    n_axon = int((img == axon).all(axis=2).sum())
    n_dend = int((img == dendrite).all(axis=2).sum())
    # far more axon than dendrite cable (14,153 vs 2,566 vertices), both drawn
    assert n_axon > 2 * n_dend > 0 and axon in colours


def test_errors_are_one_line(tmp_path):
    _one_error_line(run(["skeleton", "12x", *M65], tmp_path), 2)
    none = run(["skeleton", "864691136362774498", *M65], tmp_path)  # synapses, no skeleton
    _one_error_line(none, 2)
    assert "No skeleton of 864691136362774498" in none.stderr
    _one_error_line(run(["skeleton", BASKET, *M65, "--swc", str(tmp_path / "no" / "a.swc")],
                        tmp_path), 1)
    _one_error_line(run(["skeleton", BASKET, *M65, "--projection", "xz"], tmp_path), 2)
    _one_error_line(run(["skeleton", BASKET, "--datastack", "no_such_stack"], tmp_path), 2)
    assert not (tmp_path / "no").exists()
