"""The CAVE test server, driven by the real caveclient as it drives global.daf-apis.com."""
from __future__ import annotations

import pandas as pd
import pytest

from tests.cave_server.server import SAMPLES

PINKY = SAMPLES / "pinky100_sample" / "v185"


def test_datastacks_info_and_versions(cave_client, cave_server):
    assert "pinky100_sample" in cave_client.info.get_datastacks()
    info = cave_client.info.get_datastack_info()
    assert info["local_server"] == cave_server.url
    assert info["synapse_table"] == "synapses"
    assert info["aligned_volume"]["image_source"].startswith("precomputed://")
    assert cave_client.info.viewer_resolution().tolist() == [4.0, 4.0, 40.0]
    assert cave_client.materialize.get_versions() == [185]
    assert "synapses" in cave_client.materialize.get_tables()


def test_query_table_equal_filter_matches_pandas(cave_client):
    full = pd.read_parquet(PINKY / "synapses.parquet")
    root = int(full.pre_pt_root_id.iloc[0])
    df = cave_client.materialize.query_table("synapses",
                                             filter_equal_dict={"pre_pt_root_id": root})
    expected = full[full.pre_pt_root_id == root]
    assert sorted(df["id"]) == sorted(expected["id"])
    assert df["pre_pt_root_id"].dtype == "int64"
    assert list(df["ctr_pt_position"].iloc[0]) == list(
        expected.set_index("id").loc[df["id"].iloc[0], "ctr_pt_position"])
