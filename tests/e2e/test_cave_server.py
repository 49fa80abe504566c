"""The CAVE test server, driven by the real caveclient as it drives global.daf-apis.com.

Rows come from the bundled pinky100 sample (resources/samples); each query's answer is
checked against the same filter done with pandas on the Parquet file.
"""
from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
import pytest
import requests

from tests.cave_server.datastack_writer import write_datastack
from tests.cave_server.server import SAMPLES
from tests.e2e.conftest import client_for

PINKY = SAMPLES / "pinky100_sample" / "v185"


pytestmark = pytest.mark.usefixtures("plain_caveclient")


@pytest.fixture(scope="module")
def synapses():
    return pd.read_parquet(PINKY / "synapses.parquet")


@pytest.fixture(scope="module")
def somas():
    return pd.read_parquet(PINKY / "soma_valence.parquet")


# -- info, versions, tables, metadata ----------------------------------------------------

def test_datastacks_info_and_versions(cave_client, cave_server):
    assert {"pinky100_sample", "minnie65_sample"} <= set(cave_client.info.get_datastacks())
    info = cave_client.info.get_datastack_info()
    assert info["local_server"] == cave_server.url
    assert info["synapse_table"] == "synapses" and info["soma_table"] == "soma_valence"
    assert info["aligned_volume"]["image_source"].startswith("precomputed://")
    assert cave_client.info.segmentation_source().startswith("precomputed://")
    assert cave_client.info.viewer_resolution().tolist() == [4.0, 4.0, 40.0]
    assert cave_client.materialize.get_versions() == [185]
    meta = cave_client.materialize.get_version_metadata(185)
    assert meta["valid"] and meta["time_stamp"] < meta["expires_on"]
    assert cave_client.materialize.get_timestamp(185) == meta["time_stamp"]
    assert set(cave_client.materialize.get_tables()) == {
        p.stem for p in PINKY.glob("*.parquet")}


def test_table_metadata_single_and_all(cave_client, synapses):
    md = cave_client.materialize.get_table_metadata("synapses")
    assert md["schema_type"] == "synapse" and md["voxel_resolution"] == [4.0, 4.0, 40.0]
    assert md["description"].startswith("Every synapse")
    everything = cave_client.materialize.get_tables_metadata()
    assert {m["table_name"] for m in everything} == set(cave_client.materialize.get_tables())
    assert cave_client.materialize.get_annotation_count("synapses") == len(synapses)


def test_minnie_versions_and_reference_table(cave_server):
    client = client_for(cave_server, "minnie65_sample")
    assert client.materialize.get_versions() == [0, 343, 795, 1718]
    assert "synapses_pni_2" in client.materialize.get_tables(version=795)
    # the reference table's target is served in v0: metadata names it, the served table
    # has only its own columns, and query_table joins the target's in
    md = client.materialize.get_table_metadata("allen_v1_column_types_slanted_ref", version=0)
    assert md["reference_table"] == "nucleus_detection_v0"
    own = client.materialize.query_table("allen_v1_column_types_slanted_ref",
                                         materialization_version=0, metadata=False, limit=5,
                                         merge_reference=False)
    assert len(own) == 5 and "pt_root_id" not in own.columns
    assert {"target_id", "cell_type", "classification_system"} <= set(own.columns)
    df = client.materialize.query_table("allen_v1_column_types_slanted_ref",
                                        materialization_version=0, metadata=False, limit=5)
    assert len(df) == 5 and df["pt_root_id"].dtype == "int64"
    assert {"id", "target_id", "id_ref", "pt_position", "pt_supervoxel_id"} <= set(df.columns)
    assert (df["target_id"] == df["id_ref"]).all()
    # a target column keyed by the reference table: the engine's KeyError (fact 3) ...
    basket = 864691135101289504
    with pytest.raises(requests.HTTPError, match="500"):
        client.materialize.query_table("allen_v1_column_types_slanted_ref",
                                       materialization_version=0, metadata=False,
                                       filter_equal_dict={"pt_root_id": basket})
    # ... and keyed by the target: the request client.materialize.tables.<ref>(
    # pt_root_id=...).query() sends (reference_tables_interface_ok.json)
    one = client.materialize.join_query(
        [["allen_v1_column_types_slanted_ref", "target_id"], ["nucleus_detection_v0", "id"]],
        filter_equal_dict={"nucleus_detection_v0": {"pt_root_id": basket}},
        materialization_version=0, metadata=False)
    assert len(one) == 1 and one["target_id"].iloc[0] == 294749
    assert one["cell_type"].iloc[0] == "BC"
    # a nucleus with no known position has NaN coordinates, not an error
    nuc = client.materialize.query_table("nucleus_detection_v0", materialization_version=0, metadata=False,
                                         limit=3, split_positions=True)
    assert nuc["pt_position_x"].dtype.kind == "f"


# -- query_table with every filter kind --------------------------------------------------

def _ids(df):
    return sorted(df["id"].tolist())


def test_query_filters_match_pandas(cave_client, synapses):
    q = cave_client.materialize.query_table
    roots = synapses.post_pt_root_id.unique()[:3].tolist()
    one = int(synapses.pre_pt_root_id.iloc[0])
    med = int(synapses["size"].median())
    cases = [
        (dict(filter_in_dict={"post_pt_root_id": roots}), synapses.post_pt_root_id.isin(roots)),
        # the real engine ignores filter_out_dict (caveclient's != / not in) on versioned
        # queries: every row comes back (../shared/cave_contract, notin_ignored_somas)
        (dict(filter_out_dict={"post_pt_root_id": roots}), synapses["id"].notna()),
        (dict(filter_equal_dict={"pre_pt_root_id": one}), synapses.pre_pt_root_id == one),
        (dict(filter_greater_dict={"size": med}), synapses["size"] > med),
        (dict(filter_less_dict={"size": med}), synapses["size"] < med),
        (dict(filter_greater_equal_dict={"size": med}), synapses["size"] >= med),
        (dict(filter_less_equal_dict={"size": med}), synapses["size"] <= med),
        (dict(filter_greater_dict={"size": med}, filter_in_dict={"post_pt_root_id": roots}),
         (synapses["size"] > med) & synapses.post_pt_root_id.isin(roots)),
    ]
    for kwargs, mask in cases:
        assert _ids(q("synapses", **kwargs)) == _ids(synapses[mask]), kwargs


def test_spatial_filter_matches_pandas(cave_client, synapses):
    pos = np.stack(synapses.ctr_pt_position.to_numpy())
    lo, hi = np.percentile(pos, 25, axis=0).astype(int), np.percentile(pos, 75, axis=0).astype(int)
    inside = np.all((pos >= lo) & (pos <= hi), axis=1)
    df = cave_client.materialize.query_table(
        "synapses", filter_spatial_dict={"ctr_pt_position": [lo.tolist(), hi.tolist()]})
    assert 0 < len(df) < len(synapses)
    assert _ids(df) == _ids(synapses[inside])


def test_regex_filter_matches_pandas(cave_client, somas):
    df = cave_client.materialize.query_table("soma_valence",
                                             filter_regex_dict={"cell_type": "^[ig]$"})
    assert sorted(df["id"]) == sorted(somas[somas.cell_type.isin(["i", "g"])]["id"])


def test_select_offset_limit_resolution_split(cave_client, synapses):
    q = cave_client.materialize.query_table
    df = q("synapses", select_columns=["id", "ctr_pt_position"], offset=10, limit=7)
    assert list(df.columns) == ["id", "ctr_pt_position"] and len(df) == 7
    assert df["id"].tolist() == synapses["id"].iloc[10:17].tolist()
    nm = q("synapses", limit=3, desired_resolution=[1, 1, 1])
    vx = q("synapses", limit=3)
    assert np.allclose(np.stack(nm.ctr_pt_position), np.stack(vx.ctr_pt_position) * [4, 4, 40])
    assert nm.attrs["dataframe_resolution"] == [1.0, 1.0, 1.0]
    split = q("synapses", limit=3, split_positions=True)
    assert {"ctr_pt_position_x", "ctr_pt_position_y", "ctr_pt_position_z"} <= set(split.columns)


def test_counts_and_json_answer(cave_client, synapses):
    counted = cave_client.materialize.query_table("synapses", get_counts=True,
                                                  filter_greater_dict={"size": 500})
    assert int(counted["count"].iloc[0]) == int((synapses["size"] > 500).sum())
    rows = cave_client.materialize.query_table("synapses", limit=2, return_df=False)
    assert [r["id"] for r in rows] == synapses["id"].iloc[:2].tolist()


def test_root_ids_stay_exact_int64(cave_client, synapses):
    df = cave_client.materialize.query_table("synapses", limit=50)
    assert df["pre_pt_root_id"].dtype == np.int64
    assert df["pre_pt_root_id"].tolist() == synapses["pre_pt_root_id"].iloc[:50].tolist()


# -- row limit ---------------------------------------------------------------------------

def test_row_limit_truncates_and_warns(cave_client, cave_server, synapses, caplog):
    cave_server.row_limit = 100
    with caplog.at_level(logging.WARNING):
        df = cave_client.materialize.query_table("synapses")
    assert len(df) == 100
    assert "Limited query to 100 rows" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert len(cave_client.materialize.query_table("synapses", limit=50)) == 50
    # the real engine warns with the user's own limit too (user_limit_warning.json), so a
    # warning alone does not say that the server cut the answer
    assert "Limited query to 50 rows" in caplog.text


def test_row_limit_fault_per_endpoint(cave_client, cave_server):
    cave_server.set_fault(r"/table/synapses/query", "row_limit", limit=10)
    assert len(cave_client.materialize.query_table("synapses")) == 10
    assert len(cave_client.materialize.query_table("soma_valence")) > 10


# -- views, live queries -----------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory, synapses, somas):
    syn = synapses.iloc[:60].reset_index(drop=True)
    conn = (syn.groupby(["pre_pt_root_id", "post_pt_root_id"]).agg(
        n_syn=("id", "size"), sum_size=("size", "sum")).reset_index())
    nuclei = somas[["id", "pt_root_id", "pt_position"]].iloc[:30].reset_index(drop=True)
    types = pd.DataFrame({"id": range(1, 31), "target_id": nuclei["id"],
                          "classification_system": "valence", "cell_type": somas.cell_type[:30]})
    return write_datastack(tmp_path_factory.mktemp("tiny") / "tiny", "tiny", {
        7: {"synapses": (syn, {"schema": "synapse"}),
            "nucleus_detection": (nuclei, {"schema": "nucleus_detection"}, "csv"),
            "cell_types": (types, {"schema": "cell_type_reference",
                                   "reference_table": "nucleus_detection"}),
            "connections": (conn, {"kind": "view", "description": "pairs with n_syn"})},
    }, timestamps={7: "2023-04-01T08:00:00"})


def test_views_metadata_schema_and_query(make_cave_server, tiny_dir):
    client = client_for(make_cave_server(datastack_dirs=[tiny_dir]), "tiny")
    assert set(client.materialize.get_views()) == {"connections"}
    assert "connections" not in client.materialize.get_tables()
    assert client.materialize.get_view_metadata("connections")["description"] == \
        "pairs with n_syn"
    schema = client.materialize.get_view_schema("connections")
    assert schema["n_syn"] == {"type": "integer"}
    assert set(client.materialize.get_view_schemas()) == {"connections"}
    df = client.materialize.query_view("connections", filter_greater_equal_dict={"n_syn": 2})
    conn = pd.read_parquet(tiny_dir / "v7" / "connections.parquet")
    assert len(df) == int((conn.n_syn >= 2).sum())


def test_reference_table_is_joined_and_csv_positions(make_cave_server, tiny_dir):
    client = client_for(make_cave_server(datastack_dirs=[tiny_dir]), "tiny")
    df = client.materialize.query_table("cell_types")
    assert len(df) == 30 and {"pt_root_id", "pt_position", "id_ref"} <= set(df.columns)
    assert df["pt_root_id"].dtype == np.int64 and len(df["pt_position"].iloc[0]) == 3


def test_live_query_serves_newest_version(make_cave_server, tiny_dir):
    client = client_for(make_cave_server(datastack_dirs=[tiny_dir]), "tiny")
    now = dt.datetime.now(dt.timezone.utc)
    syn = pd.read_parquet(tiny_dir / "v7" / "synapses.parquet")
    post = int(syn.post_pt_root_id.iloc[0])
    live = client.materialize.query_table("synapses", timestamp=now,
                                          filter_equal_dict={"post_pt_root_id": post})
    assert _ids(live) == _ids(syn[syn.post_pt_root_id == post])
    ll = client.materialize.live_live_query(
        "synapses", now, filter_equal_dict={"synapses": {"post_pt_root_id": post}})
    assert _ids(ll) == _ids(live)
    with pytest.raises(requests.HTTPError, match="400"):
        client.materialize.live_live_query("synapses", dt.datetime(2001, 1, 1))


# -- chunkedgraph, state server ----------------------------------------------------------

def test_chunkedgraph_latest_roots(make_cave_server, synapses):
    old, kept = int(synapses.pre_pt_root_id.iloc[0]), int(synapses.post_pt_root_id.iloc[0])
    new_a, new_b = 648518346349999001, 648518346349999002
    client = client_for(make_cave_server(root_updates={old: [new_a, new_b]}))
    cg = client.chunkedgraph
    assert cg.is_latest_roots([old, kept, new_a]).tolist() == [False, True, True]
    assert cg.suggest_latest_roots(old) == new_a
    assert cg.suggest_latest_roots(kept) == kept
    born = cg.get_root_timestamps([kept, new_a])
    assert born[0] < born[1]
    with pytest.raises(ValueError, match="expired"):
        client.materialize.query_table("synapses", timestamp=dt.datetime.now(dt.timezone.utc),
                                       filter_equal_dict={"pre_pt_root_id": old})


def test_state_upload_and_download(cave_client, cave_server):
    state = {"layers": [{"type": "segmentation", "name": "seg", "segments": ["1"]}],
             "position": [1, 2, 3]}
    state_id = cave_client.state.upload_state_json(state)
    assert cave_client.state.get_state_json(state_id) == state
    assert cave_server.state_json(state_id) == state
    # target_site given: otherwise caveclient fetches the viewer's version.json first
    url = cave_client.state.build_neuroglancer_url(state_id, target_site="spelunker")
    assert url.startswith("https://spelunker.cave-explorer.org/#!middleauth+")
    assert url.endswith(f"/nglstate/api/v1/{state_id}") and cave_server.url in url


def test_table_manager_reads_schemas(cave_client):
    tables = cave_client.materialize.tables
    assert len(tables.soma_valence(cell_type="e").query()) > 0


def test_auth_service_user_information(cave_client):
    users = cave_client.auth.get_user_information([1, 2])
    assert [u["id"] for u in users] == [1, 2]
    assert cave_client.auth.get_tokens()
