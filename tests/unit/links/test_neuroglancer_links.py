"""Neuroglancer links: decode each URL's state and check layers, segments and annotations."""
import socket

import numpy as np
import pandas as pd
import pytest
import neuroglancer
import requests

from models.datastack import DatastackInfo
from models.errors import InvalidInputError, NetworkError
from models.filters import Filter, Op
from models.query_spec import QuerySpec
from services.links import neuroglancer_links as ngl
from tests.unit.links.ngl_parse import ann_nm, position_nm, tags_of

BC = 864691135101289504  # V1-column basket cell (minnie65)
PT = 864691136362774498  # layer-5 PT cell (minnie65)
BC_SOMA_VX = (191712, 136928, 22487)


@pytest.fixture(scope="module")
def minnie(sample_source):
    return sample_source.datastack_info("minnie65_sample")


@pytest.fixture(scope="module")
def bc_synapses(sample_source):
    def q(col):
        spec = QuerySpec("synapses_pni_2", "minnie65_sample", 0,
                         filters=(Filter(col, Op.EQ, BC),))
        return sample_source.query(spec).frame
    return pd.concat([q("pre_pt_root_id"), q("post_pt_root_id")], ignore_index=True)


@pytest.fixture
def no_network(monkeypatch):
    """Any socket connection fails: building a link must work offline."""
    def refuse(*a, **k):
        raise OSError("network disabled in this test")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def layers(state):
    return {layer["name"]: layer for layer in state["layers"]}


def test_cells_link_selects_cells_and_centres_on_the_soma(minnie, no_network):
    link = ngl.cells_link(minnie, [BC, str(PT)], center_vx=BC_SOMA_VX)
    assert link.url.startswith("https://spelunker.cave-explorer.org/#!")
    state = ngl.decode_state(link.url)
    lay = layers(state)
    assert lay["imagery"]["type"] == "image"
    assert minnie.image_source in lay["imagery"]["source"][0]["url"]
    assert lay["segmentation"]["segments"] == [str(BC), str(PT)]  # exact 18-digit ids
    assert state["position"] == list(map(float, BC_SOMA_VX))
    assert state["dimensions"]["z"][0] == pytest.approx(40e-9)
    assert link.n_annotations == 0 and link.n_dropped == 0 and link.length == len(link.url)


def test_classic_neuroglancer_site_and_soma_points(minnie, no_network):
    link = ngl.cells_link(minnie, [BC, PT], site="neuroglancer",
                          soma_positions_vx={BC: BC_SOMA_VX})
    assert link.url.startswith("https://neuroglancer-demo.appspot.com/#!")
    state = ngl.decode_state(link.url)
    somas = layers(state)["somas"]["annotations"]
    assert len(somas) == 1 and somas[0]["segments"] == [[str(BC)]]
    assert state["position"] == list(map(float, BC_SOMA_VX))
    assert link.n_annotations == 1


def test_cell_synapses_link_points_are_linked_to_partners(minnie, bc_synapses, no_network):
    link = ngl.cell_synapses_link(minnie, BC, bc_synapses, center_vx=BC_SOMA_VX,
                                  max_annotations=600)
    lay = layers(ngl.decode_state(link.url))
    ins, outs = lay["inputs"]["annotations"], lay["outputs"]["annotations"]
    assert len(ins) + len(outs) == link.n_annotations == 600
    unique = bc_synapses.drop_duplicates("id")
    n_in = int((unique.post_pt_root_id == BC).sum())
    n_out = int((unique.pre_pt_root_id == BC).sum())
    assert link.n_dropped == n_in + n_out - 600
    assert any("showing" in n for n in link.notes)
    # each input point is linked to a real presynaptic partner at that synapse's position
    inputs = unique[unique.post_pt_root_id == BC]
    pre_at = {tuple(int(v) for v in p): str(r) for p, r in zip(inputs.ctr_pt_position,
                                                               inputs.pre_pt_root_id)}
    for a in ins:
        assert a["segments"][0][0] == pre_at[tuple(int(v) for v in a["point"])]
    assert lay["inputs"]["linkedSegmentationLayer"] == {"segments": "segmentation"}
    assert lay["segmentation"]["segments"] == [str(BC)]


def test_cell_synapses_inputs_only_without_cap(minnie, bc_synapses):
    pt_like = bc_synapses[bc_synapses.pre_pt_root_id == BC].head(30)
    link = ngl.cell_synapses_link(minnie, BC, pt_like, inputs=False)
    lay = layers(ngl.decode_state(link.url))
    assert "inputs" not in lay and len(lay["outputs"]["annotations"]) == 30
    assert link.n_dropped == 0
    with pytest.raises(InvalidInputError):
        ngl.cell_synapses_link(minnie, BC, pt_like, inputs=False, outputs=False)
    with pytest.raises(InvalidInputError):
        ngl.cell_synapses_link(minnie, "not-an-id", pt_like)


def test_pair_synapses_link(minnie, bc_synapses):
    out = bc_synapses[(bc_synapses.pre_pt_root_id == BC) & (bc_synapses.post_pt_root_id != BC)]
    post = int(out.post_pt_root_id.value_counts().index[0])
    n = int((out.post_pt_root_id == post).sum())
    link = ngl.pair_synapses_link(minnie, BC, post, bc_synapses)
    state = ngl.decode_state(link.url)
    lay = layers(state)
    assert lay["segmentation"]["segments"] == [str(BC), str(post)]
    anns = lay["synapses"]["annotations"]
    assert len(anns) == n == link.n_annotations
    assert all(a["segments"] == [[str(BC), str(post)]] for a in anns)
    assert state["position"] == anns[0]["point"]  # centred on the first synapse


def test_rows_link_tags_cell_types_in_one_layer_with_split_columns(sample_source):
    ds = sample_source.datastack_info("pinky100_sample")
    rows = sample_source.query(QuerySpec("soma_valence", "pinky100_sample")).frame.head(40)
    split = rows.drop(columns="pt_position")
    xyz = np.vstack(rows.pt_position.to_numpy())
    for i, a in enumerate("xyz"):
        split[f"pt_position_{a}"] = xyz[:, i]
    for site in ("spelunker", "neuroglancer"):
        link = ngl.rows_link(ds, split, group_column="cell_type", site=site)
        state = neuroglancer.parse_url(link.url)
        assert [lay.name for lay in state.layers] == ["imagery", "segmentation", "rows"]
        counts = {}
        for a in state.layers["rows"].annotations:
            (tag,) = tags_of(state.layers["rows"], a)
            counts[tag] = counts.get(tag, 0) + 1
        assert counts == rows.cell_type.astype(str).value_counts().to_dict()
        assert link.n_annotations == 40
        segs = sorted(map(str, state.layers["segmentation"].segments))
        assert segs == sorted(map(str, rows.pt_root_id))
    lay = layers(ngl.decode_state(link.url))
    assert ds.segmentation_source in lay["segmentation"]["source"][0]["url"]


def test_rows_link_caps_and_reports_missing_positions(minnie, bc_synapses):
    rows = bc_synapses.head(100).copy()
    rows.loc[rows.index[:5], "ctr_pt_position"] = None
    link = ngl.rows_link(minnie, rows, position_column="ctr_pt_position",
                         max_annotations=50, max_segments=10)
    lay = layers(ngl.decode_state(link.url))
    assert len(lay["rows"]["annotations"]) == 50 == link.n_annotations
    assert link.n_dropped == 50  # 45 over the cap + 5 without a position
    assert len(lay["segmentation"]["segments"]) == 10
    assert any("no position" in n for n in link.notes)


def test_rows_link_errors(minnie):
    with pytest.raises(InvalidInputError):
        ngl.rows_link(minnie, pd.DataFrame())
    with pytest.raises(InvalidInputError):
        ngl.rows_link(minnie, pd.DataFrame({"size": [1, 2]}))
    with pytest.raises(InvalidInputError):
        ngl.rows_link(minnie, pd.DataFrame({"pt_root_id": [1.0, 2.0]}))  # float ids
    with pytest.raises(InvalidInputError):
        ngl.cells_link(DatastackInfo("bare"), [BC])
    with pytest.raises(InvalidInputError):
        ngl.site_url("ftp://nope")
    with pytest.raises(InvalidInputError):
        ngl.decode_state("https://example.org/")


def test_short_link_through_an_uploader(minnie):
    link = ngl.cells_link(minnie, [BC], center_vx=BC_SOMA_VX)
    seen = {}

    class State:  # duck-typed like caveclient's client.state
        def upload_state_json(self, state):
            seen["state"] = state
            return 5712345

        def build_neuroglancer_url(self, state_id, ngl_url):
            # what caveclient builds for target_site="spelunker" (CaveSource names it)
            return f"{ngl_url}#!middleauth+https://global.daf-apis.com/nglstate/api/v1/{state_id}"

    class Client:
        state = State()

    def upload(state, base):  # what CaveSource.upload_state does with its client
        return Client.state.build_neuroglancer_url(Client.state.upload_state_json(state), base)
    short = ngl.short_link(link, upload, "global.daf-apis.com")
    assert short.url.endswith("/5712345") and short.url.startswith(ngl.SITES["spelunker"])
    assert seen["state"]["layers"][1]["segments"] == [str(BC)]
    assert short.length < link.length

    def down(state, base):
        raise requests.exceptions.ConnectionError("refused")
    with pytest.raises(NetworkError):
        ngl.short_link(link, down, "global.daf-apis.com")


def test_group_values_are_tags_and_never_clash_with_layers(sample_source):
    ds = sample_source.datastack_info("pinky100_sample")
    rows = sample_source.query(QuerySpec("soma_valence", "pinky100_sample", limit=6)).frame
    rows["kind"] = ["segmentation", "imagery", "segmentation", "x", "x", "x"]
    link = ngl.rows_link(ds, rows, group_column="kind")
    state = neuroglancer.parse_url(link.url)
    assert state.layers["segmentation"].type == "segmentation"
    anns = state.layers["rows"].annotations
    tags = [tags_of(state.layers["rows"], a) for a in anns]
    assert tags == [{"x"}] * 3 + [{"segmentation"}] * 2 + [{"imagery"}]  # most frequent first


def test_more_values_than_tags_share_other(sample_source):
    ds = sample_source.datastack_info("pinky100_sample")
    rows = sample_source.query(QuerySpec("soma_valence", "pinky100_sample", limit=30)).frame
    rows["kind"] = [f"k{i}" for i in range(30)]
    link = ngl.rows_link(ds, rows, group_column="kind", max_layers=5)
    lay = neuroglancer.parse_url(link.url).layers["rows"]
    tags = [t for a in lay.annotations for t in tags_of(lay, a)]
    assert tags.count("other") == 25 and len(set(tags)) == 6
    assert any("share the tag 'other'" in n for n in link.notes)


def test_the_skeleton_source_of_a_cave_datastack_is_kept(minnie):
    from dataclasses import replace
    skel = "precomputed://https://minnie.microns-daf.com/skeletoncache/api/v1/minnie65_public/precomputed/skeleton/"
    ds = replace(minnie, extra={**minnie.extra, "skeleton_source": skel})
    seg = layers(ngl.decode_state(ngl.cells_link(ds, [BC]).url))["segmentation"]
    sources = seg["source"] if isinstance(seg["source"], list) else [seg["source"]]
    urls = [s["url"] if isinstance(s, dict) else s for s in sources]
    assert skel in urls and any(u.startswith("graphene://") for u in urls)
    plain = layers(ngl.decode_state(ngl.cells_link(minnie, [BC]).url))["segmentation"]
    assert skel not in str(plain["source"])
