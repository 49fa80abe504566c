"""Cortical depth from soma positions, with values checked by hand or from publications."""
import math

import numpy as np
import pytest

from models.datastack import DatastackInfo
from models.errors import InvalidInputError
from services.cells.cortical_depth import DepthTransform, datastack_depth_um, depth_um, positions_nm

# standard-transform's minnie65 pia point (nm) and tilt: the point itself is at depth 0.
MINNIE_PIA_NM = np.array([183013, 83535, 21480]) * np.array([4, 4, 45])
# Soma of the V1-column basket cell 864691135101289504 (pcg_skel skeleton meta, nm).
BC_SOMA_NM = (766848.0, 547712.0, 899480.0)


def test_minnie_pia_point_is_depth_zero():
    assert depth_um([MINNIE_PIA_NM], {"kind": "minnie65"}, units="nm")[0] == pytest.approx(0, abs=1e-6)


def test_minnie_depth_follows_the_5_degree_tilt():
    # 100 um straight down the image y axis and 10 um along x, by hand with the 5 deg tilt
    a = math.radians(5)
    p = MINNIE_PIA_NM + np.array([10_000, 100_000, 0])
    expected = (10_000 * math.sin(a) + 100_000 * math.cos(a)) / 1000
    assert depth_um([p], {"kind": "minnie65"}, units="nm")[0] == pytest.approx(expected, rel=1e-9)


def test_basket_cell_sits_in_layer_2_3_and_vx_equals_nm():
    nm = depth_um([BC_SOMA_NM], {"kind": "minnie65"}, units="nm")[0]
    vx = depth_um([[BC_SOMA_NM[0] / 4, BC_SOMA_NM[1] / 4, BC_SOMA_NM[2] / 40]],
                  {"kind": "minnie65"}, (4, 4, 40))[0]
    assert nm == pytest.approx(215.79, abs=0.01)
    assert 100 < nm < 350  # layer 2/3 of mouse V1
    assert vx == pytest.approx(nm, abs=1e-9)


def test_linear_transform_axis_pia_angle_and_flip():
    res = (4, 4, 40)
    tf = {"kind": "linear", "axis": "y", "pia_nm": 100_000}
    # y = 50,000 vx * 4 nm = 200,000 nm -> 100 um below a pia at 100,000 nm
    assert depth_um([[0, 50_000, 0]], tf, res)[0] == pytest.approx(100.0)
    tilted = dict(tf, angle_deg=90)  # the depth axis is then +x
    assert depth_um([[50_000, 0, 0]], tilted, res)[0] == pytest.approx(100.0)
    flipped = dict(tf, flip=True)
    assert depth_um([[0, 0, 0]], flipped, res)[0] == pytest.approx(100.0)
    along_z = {"kind": "linear", "axis": "z", "pia_nm": 0}
    assert depth_um([[1, 2, 10]], along_z, res)[0] == pytest.approx(0.4)


def test_missing_positions_give_nan_and_no_transform_gives_nan():
    out = depth_um([[0, 1000, 0], None, [np.nan, 1, 2]], {"kind": "linear"}, (4, 4, 40))
    assert out[0] == pytest.approx(4.0)
    assert np.isnan(out[1]) and np.isnan(out[2])
    assert np.isnan(depth_um([[1, 2, 3]], {}, (4, 4, 40))).all()
    assert "no depth transform" in DepthTransform.from_manifest(None).describe()


def test_bad_transforms_and_positions_are_typed_errors():
    with pytest.raises(InvalidInputError):
        DepthTransform.from_manifest({"kind": "banana"})
    with pytest.raises(InvalidInputError):
        DepthTransform.from_manifest({"kind": "linear", "axis": "w"})
    with pytest.raises(InvalidInputError):
        DepthTransform.from_manifest({"kind": "linear", "pia_nm": "deep"})
    with pytest.raises(InvalidInputError):
        depth_um([[1, 2]], {"kind": "linear"})
    with pytest.raises(InvalidInputError):
        depth_um([[1, 2, 3]], {"kind": "minnie65", "version": "0.1"})
    with pytest.raises(InvalidInputError):
        positions_nm([[1, 2, 3]], units="um")


def test_datastack_depth_uses_the_manifest_transform(sample_source):
    ds = sample_source.datastack_info("pinky100_sample")
    assert ds.transform["kind"] == "linear"
    got = datastack_depth_um([[10, 250, 5]], ds)
    assert got[0] == pytest.approx(1.0)  # 250 vx * 4 nm, pia at 0
    minnie = DatastackInfo("m", transform={"kind": "minnie65"})
    assert datastack_depth_um([BC_SOMA_NM], minnie, units="nm")[0] == pytest.approx(215.79, abs=0.01)


def test_split_columns_as_an_array_and_one_point():
    arr = np.array([[0, 250, 0], [0, 500, 0]])
    assert depth_um(arr, {"kind": "linear"}, (4, 4, 40)).tolist() == [1.0, 2.0]
    assert depth_um([0, 250, 0], {"kind": "linear"}, (4, 4, 40)).tolist() == [1.0]


def test_cave_datastacks_get_the_transform_of_their_aligned_volume():
    """CAVE's info names an aligned volume, no transform: minnie65/v1dd depths still work."""
    from models.datastack import DatastackInfo
    from services.source import DataSource
    from services.workspace import Workspace

    class InfoOnly(DataSource):
        kind = "cave"

        def __init__(self, volume):
            self.volume = volume

        def datastacks(self):
            return ["ds"]

        def datastack_info(self, datastack):
            return DatastackInfo("ds", extra={"aligned_volume": self.volume})

        def versions(self, datastack):
            return []

        def tables(self, datastack, version=None):
            return []

        def row_count(self, datastack, table, version=None):
            return 0

        def query(self, spec, cancel=None):
            raise AssertionError("not queried")

    minnie = Workspace(InfoOnly("minnie65_phase3"), "ds", 1).info
    assert minnie.transform == {"kind": "minnie65", "version": "1.4"}
    depth = DepthTransform.from_manifest(minnie.transform).depth_um([[732052, 534140, 966600]],
                                                                     units="nm")[0]
    assert 150 < depth < 250  # 200 um below the pia point along the slanted axis
    assert Workspace(InfoOnly("v1dd"), "ds", 1).info.transform["version"] == "2.0"
    assert Workspace(InfoOnly("fanc"), "ds", 1).info.transform == {}
