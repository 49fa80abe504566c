"""A box on the soma map: the somas inside it, and the same box in the table's voxels
(a ``within`` filter that the source answers with the same cells where the map is not
rotated, and with a superset where it is)."""
import numpy as np
import pandas as pd
import pytest

from models.errors import InvalidInputError
from services.connectivity.soma_box import box_in_voxels, somas_in_box, somas_in_polygon
from services.connectivity.soma_positions import soma_map
from services.workspace import Workspace
from tests.unit.connectivity.test_connectivity_matrix import PINKY


def _query_ids(ws, table, box, column="pt_position"):
    role = ws.table(table)
    rows = ws.complete_frame(role, [box.to_filter(column)], ("pt_root_id",))
    return set(rows["pt_root_id"].astype("int64"))


@pytest.mark.parametrize("view", ["top", "coronal"])
def test_pinky_box_converts_back_to_voxels_exactly(sample_source, view):
    ws = Workspace(sample_source, "pinky100_sample", 185)
    frame = soma_map(ws, "soma_valence")
    h, v = ("x_um", "z_um") if view == "top" else ("x_um", "y_um")
    hr = tuple(np.quantile(frame[h], [0.2, 0.7]))
    vr = tuple(np.quantile(frame[v], [0.3, 0.9]))
    ids = somas_in_box(frame, view, hr, vr)
    # independent: the parquet's voxel positions, scaled by hand
    somas = pd.read_parquet(PINKY / "soma_valence.parquet")
    xyz = np.vstack(somas.pt_position.to_numpy()) * [4, 4, 40] / 1000.0
    col = {"x_um": 0, "y_um": 1, "z_um": 2}
    inside = ((xyz[:, col[h]] >= hr[0]) & (xyz[:, col[h]] <= hr[1])
              & (xyz[:, col[v]] >= vr[0]) & (xyz[:, col[v]] <= vr[1]))
    assert set(ids) == set(somas.pt_root_id[inside]) and 0 < len(ids) < len(somas)
    box = box_in_voxels(frame, view, hr, vr, ws.info.transform, (4, 4, 40))
    assert box.exact
    assert box.lo[0] == pytest.approx(hr[0] * 1000 / 4) and box.hi[0] == pytest.approx(
        hr[1] * 1000 / 4)
    i, res = col[v], (4, 4, 40)[col[v]]
    assert box.lo[i] == pytest.approx(vr[0] * 1000 / res)
    assert _query_ids(ws, "soma_valence", box) == set(ids)  # the same cells, exactly
    assert box.text().count(",") == 5


def test_minnie65_rotated_frame_gives_a_voxel_box_around_the_drawn_one(sample_source):
    ws = Workspace(sample_source, "minnie65_sample", 343)
    table = "aibs_soma_nuc_metamodel_preds_v117"
    frame = soma_map(ws, table)
    hr = tuple(np.quantile(frame.x_um, [0.3, 0.6]))
    vr = tuple(np.quantile(frame.y_um, [0.2, 0.5]))
    ids = set(somas_in_box(frame, "coronal", hr, vr))
    box = box_in_voxels(frame, "coronal", hr, vr, ws.info.transform,
                        ws.table(table).info.voxel_resolution)
    assert not box.exact and "margin" in box.note
    got = _query_ids(ws, table, box)
    assert ids and ids <= got  # every boxed cell, and a margin


def test_unknown_view_is_an_input_error():
    with pytest.raises(InvalidInputError):
        somas_in_box(pd.DataFrame(columns=["pt_root_id", "x_um"]), "side", (0, 1), (0, 1))


def test_lasso_selects_the_somas_inside_the_polygon():
    frame = pd.DataFrame({"pt_root_id": np.arange(1, 7, dtype=np.int64),
                          "x_um": [0.5, 1.5, 3.0, 0.5, 2.5, 1.0],
                          "z_um": [0.5, 0.5, 0.5, 1.5, 1.5, 2.5], "y_um": 0.0})
    # an L-shaped lasso: the square (0..2, 0..1) plus (0..1, 1..2)
    lasso = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]
    assert sorted(somas_in_polygon(frame, "top", lasso)) == [1, 2, 4]
    assert len(somas_in_polygon(frame, "top", lasso[:2])) == 0  # not a polygon
