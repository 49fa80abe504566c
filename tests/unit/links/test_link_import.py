"""Importing Neuroglancer links: links the app builds come back as the same cells and the
same points in the rows' own units; hidden segments stay hidden; foreign and broken links
give one clear error."""
import json
import urllib.parse

import numpy as np
import pytest

from models.errors import InvalidInputError
from models.query_spec import QuerySpec
from services.links import neuroglancer_links as ngl
from services.links.link_import import import_link, import_state, read_link, state_id

CELLS = [864691135101289504, 864691136362774498, 864691135776832352]  # minnie65 sample


@pytest.fixture(scope="module")
def minnie(sample_source):
    return sample_source.datastack_info("minnie65_sample")


@pytest.fixture(scope="module")
def pinky(sample_source):
    return sample_source.datastack_info("pinky100_sample")


@pytest.mark.parametrize("site", ["spelunker", "neuroglancer"])
def test_link_of_three_cells_gives_those_three_ids_exactly(minnie, site):
    somas = {CELLS[0]: [180000.0, 90000.0, 20000.0]}
    link = ngl.cells_link(minnie, CELLS, site=site, soma_positions_vx=somas)
    got = import_link(link.url, minnie)
    assert list(got.segments) == CELLS and got.hidden == ()
    assert got.layers[0].name == ngl.SEG_LAYER and got.layers[0].visible == 3
    assert not any("not minnie65_sample" in n for n in got.notes)  # its own segmentation
    soma = got.points[got.points.layer == "somas"]
    assert soma.pt_root_id.tolist() == [CELLS[0]]
    assert np.allclose(soma.pt_position.iloc[0], somas[CELLS[0]])
    assert np.allclose(got.center_vx, somas[CELLS[0]])


@pytest.mark.parametrize("res", [None, (1, 1, 1), (8, 8, 40)])
def test_rows_link_points_come_back_in_the_rows_units(sample_source, pinky, res):
    spec = QuerySpec("soma_valence", "pinky100_sample", limit=9, desired_resolution=res)
    rows = sample_source.query(spec).frame
    link = ngl.rows_link(pinky, rows, resolution=res, group_column="cell_type")
    got = import_link(link.url, pinky)
    pts = got.points.sort_values("pt_root_id")
    src = rows.sort_values("pt_root_id")
    assert pts.pt_root_id.tolist() == src.pt_root_id.astype("int64").tolist()
    row_units = np.asarray(res or pinky.voxel_resolution, dtype=float)
    truth = np.vstack(src.pt_position.to_numpy()).astype(float)  # the rows' own units
    nm = pts[["x_nm", "y_nm", "z_nm"]].to_numpy()
    assert np.allclose(nm / row_units, truth)  # back in the rows' units
    assert np.allclose(np.vstack(pts.pt_position.to_numpy()) * pinky.voxel_resolution, nm)
    assert pts.tags.tolist() == src.cell_type.astype(str).tolist()  # one tag per point
    assert sorted(got.segments) == sorted(set(src.pt_root_id.astype("int64")))


def _state(layers, dims=(8e-9, 8e-9, 40e-9)):
    return {"dimensions": {a: [s, "m"] for a, s in zip("xyz", dims)}, "layers": layers,
            "position": [100, 200, 30]}


def test_hidden_segments_and_hidden_layers_are_not_selected(minnie):
    state = _state([
        {"type": "segmentation", "name": "a", "source": minnie.segmentation_source,
         "segments": ["11", "!12", "13"]},
        {"type": "segmentation", "name": "b", "source": "precomputed://gs://x",
         "segments": ["21"], "visible": False},
        {"type": "segmentation_with_graph", "name": "c", "source": "graphene://x",
         "segments": ["31", "11"]},
        {"type": "annotation", "name": "ann", "annotations": [
            {"type": "point", "id": "p", "point": [10, 20, 3]}]}])
    got = import_state(state, minnie)
    assert list(got.segments) == [11, 13, 31] and list(got.hidden) == [12, 21]
    # the annotation layer has no transform: the state's 8 x 8 x 40 nm dimensions
    assert np.allclose(got.points[["x_nm", "y_nm", "z_nm"]].to_numpy()[0], [80, 160, 120])
    assert np.allclose(got.points.pt_position.iloc[0], [20, 40, 3])  # minnie: 4 x 4 x 40
    assert np.allclose(got.center_vx, [200, 400, 30])


def test_annotation_layers_with_their_own_space_and_matrix(minnie):
    tr = {"outputDimensions": {"x": [1e-9, "m"], "y": [1e-9, "m"], "z": [1e-9, "m"]},
          "matrix": [[2, 0, 0, 100], [0, 1, 0, 0], [0, 0, 1, -40]]}
    state = _state([
        {"type": "annotation", "name": "own", "source": {"url": "local://annotations",
                                                          "transform": tr},
         "annotations": [{"type": "point", "id": "a", "point": [10, 20, 400],
                          "segments": [["77"]], "description": "syn"},
                         {"type": "line", "id": "b", "pointA": [0, 0, 40],
                          "pointB": [4, 8, 80]}]},
        {"type": "annotation", "name": "legacy", "voxelSize": [4, 4, 40],
         "annotations": [{"type": "point", "id": "c", "point": [1, 2, 3]}]}])
    got = import_state(state, minnie)
    p = got.points.set_index("annotation_id")
    assert np.allclose(p.loc["a", ["x_nm", "y_nm", "z_nm"]].astype(float), [120, 20, 360])
    assert p.loc["a", "pt_root_id"] == 77 and p.loc["a", "description"] == "syn"
    assert np.allclose(p.loc["b", "pt_position"], [25, 0, 0])
    assert np.allclose(p.loc["b", "end_position"], [27, 2, 1])
    assert np.allclose(p.loc["c", "pt_position"], [1, 2, 3])  # legacy voxelSize = minnie's
    assert got.segments == ()


def test_foreign_segmentation_is_said(minnie, pinky):
    link = ngl.cells_link(pinky, [648518346349540057])
    got = import_link(link.url, minnie)
    assert got.segments == (648518346349540057,)
    assert any("not minnie65_sample's" in n for n in got.notes)


@pytest.mark.parametrize("text, words", [
    ("", "Paste a Neuroglancer link"),
    ("hello there", "not a web link"),
    ("https://example.org/page", "no Neuroglancer state"),
    ("https://spelunker.cave-explorer.org/#!%7B%22layers%22%3A%5B", "not valid JSON"),
    ("https://x.org/#!" + urllib.parse.quote(json.dumps({"a": 1})), "not a Neuroglancer state"),
    ('{"foo": [1, 2]}', "not a Neuroglancer state"),
    ("https://x.org/?json_url=ftp://a/b", "not a web address"),
    ("https://x.org/#!middleauth+ftp://a/b", "no Neuroglancer state"),
])
def test_bad_links_give_one_clear_message(minnie, text, words):
    with pytest.raises(InvalidInputError) as err:
        import_link(text, minnie)
    assert words in str(err.value)


def test_short_links_are_recognised_and_need_a_state_server(minnie):
    base = "https://global.daf-apis.com/nglstate/api/v1/5550001"
    for text in (f"https://spelunker.cave-explorer.org/#!middleauth+{base}",
                 f"https://neuroglancer.org/?json_url={urllib.parse.quote(base)}", base):
        assert read_link(text).state_url == base
    assert state_id(base) == 5550001
    with pytest.raises(InvalidInputError, match="short link"):
        import_link(base, minnie)
    state = json.loads(json.dumps(ngl.cells_link(minnie, CELLS[:2]).state, default=str))
    asked = []
    got = import_link(base, minnie, lambda url: asked.append(url) or state)
    assert asked == [base] and list(got.segments) == CELLS[:2] and got.state_url == base
    with pytest.raises(InvalidInputError, match="not a Neuroglancer state"):
        import_link(base, minnie, lambda url: ["not", "a", "state"])


def test_segment_rows_name_each_segments_layer_and_visibility(minnie):
    state = _state([
        {"type": "segmentation", "name": "a", "source": "precomputed://gs://x",
         "segments": ["11", "!12"]},
        {"type": "segmentation", "name": "b", "source": "precomputed://gs://x",
         "segments": ["12", "13"], "visible": False}])
    rows = import_state(state, minnie).segment_rows
    assert rows.values.tolist() == [[11, "a", True], [12, "a", False], [13, "b", False]]
