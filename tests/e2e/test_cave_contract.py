"""Contract tests: the loopback CAVE server answers like the real MaterializationEngine 5.26.4.

Each JSON file in tests/cave_server/contract/ is one exchange recorded between caveclient
8.2.1 and the real engine (QUERY_LIMIT_SIZE = 500; copied from the team's recordings, see
its "why"). The request is replayed here against the test server serving the same data
(pinky100_test and minnie65_test, rebuilt from resources/samples) and the answer's status,
Warning header, row count and column_names are compared with the recording.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import requests
from caveclient import CAVEclient

from tests.cave_server import CaveTestServer
from tests.cave_server.datastack_writer import write_datastack
from tests.cave_server.server import SAMPLES
from tests.e2e.conftest import GOOD_TOKEN

CONTRACT = Path(__file__).resolve().parents[1] / "cave_server" / "contract"
RECORDED_LIMIT = 500
BC = 864691135101289504
PINKY = SAMPLES / "pinky100_sample" / "v185"
MINNIE = SAMPLES / "minnie65_sample" / "v0"


def recordings() -> list[str]:
    return sorted(p.name for p in CONTRACT.glob("*.json"))


def load(name: str) -> dict:
    return json.loads((CONTRACT / name).read_text(encoding="utf-8"))


# -- the recorded datastacks, rebuilt from the bundled samples ---------------------------

def _pinky100_test(folder: Path) -> Path:
    somas = pd.read_parquet(PINKY / "soma_valence.parquet")
    somas.insert(1, "classification_system", "valence")
    synapses = pd.read_parquet(PINKY / "synapses.parquet").drop(columns=["spine_vol_um3"])
    types = somas.drop_duplicates("pt_root_id").set_index("pt_root_id")["cell_type"]
    view = synapses[["id", "pre_pt_root_id", "post_pt_root_id", "size", "ctr_pt_position"]].copy()
    view["pre_cell_type"] = view.pre_pt_root_id.map(types)
    view["post_cell_type"] = view.post_pt_root_id.map(types)
    return write_datastack(folder, "pinky100_test", {2: {
        "somas": (somas, {"schema": "cell_type_local",
                          "description": "pinky100 v185 soma valence (e/i/g)"}),
        "synapses": (synapses, {"schema": "synapse"}),
        "connections_ei": (view, {"kind": "view", "description": "synapses with cell types"}),
    }}, soma_table="somas")


def _minnie65_test(folder: Path) -> Path:
    ref = pd.read_parquet(MINNIE / "allen_v1_column_types_slanted_ref.parquet")
    rng = np.random.default_rng(7)  # made-up nucleus positions, as in the recording
    pos = [[int(x), int(y), int(z)] for x, y, z in zip(
        rng.integers(150_000, 250_000, len(ref)), rng.integers(50_000, 250_000, len(ref)),
        rng.integers(15_000, 25_000, len(ref)))]
    nucleus = pd.DataFrame({
        "id": ref["target_id"].to_numpy(), "volume": rng.uniform(100, 500, len(ref)),
        "pt_position": pos, "pt_root_id": ref["pt_root_id"].to_numpy(),
        "bb_start_position": [[x - 300, y - 300, z - 30] for x, y, z in pos],
        "bb_end_position": [[x + 300, y + 300, z + 30] for x, y, z in pos]})
    # A cell_type_reference table has only its own columns; pt_root_id is the target's.
    cell_types = pd.DataFrame({"id": ref["id"].to_numpy(), "target_id": ref["target_id"],
                               "classification_system": "allen_v1_column_types_slanted",
                               "cell_type": ref["cell_type"]})
    synapses = pd.read_parquet(MINNIE / "synapses_pni_2.parquet")
    return write_datastack(folder, "minnie65_test", {1: {
        "nucleus_detection_v0": (nucleus, {"schema": "nucleus_detection"}),
        "allen_v1_column_types_slanted_ref": (cell_types, {
            "schema": "cell_type_reference", "reference_table": "nucleus_detection_v0"}),
        "synapses_pni_2": (synapses, {"schema": "synapse"}),
    }}, synapse_table="synapses_pni_2", soma_table="nucleus_detection_v0")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("contract")
    srv = CaveTestServer(datastack_dirs=[_pinky100_test(root / "pinky100_test"),
                                         _minnie65_test(root / "minnie65_test")],
                         tokens={GOOD_TOKEN}, row_limit=RECORDED_LIMIT).start()
    yield srv
    srv.stop()


@pytest.fixture
def srv(server):
    server.clear_faults()
    server.row_limit = RECORDED_LIMIT
    server.tos_required.clear()
    server.no_permission.clear()
    server.tokens = {GOOD_TOKEN}
    return server


def _rebuilt_body(rec: dict, server) -> dict:
    """matrix_set_synapses_cut.json: the recorder cut the body (a filter_in_dict of every
    soma's root id); rebuild it from the same table."""
    assert rec["recorded_from"] == "matrix_set_synapses_cut.json", rec["recorded_from"]
    roots = [int(r) for r in server.datastacks["pinky100_test"].versions[2]
             .tables["somas"].frame()["pt_root_id"].unique()]
    return {"filter_in_dict": {"synapses": {"pre_pt_root_id": roots,
                                            "post_pt_root_id": roots}},
            "select_columns": ["id", "pre_pt_root_id", "post_pt_root_id", "size",
                               "ctr_pt_position"]}


def replay(rec: dict, server, token=GOOD_TOKEN) -> requests.Response:
    body = rec["body"] if rec["body"] is not None or "body_note" not in rec \
        else _rebuilt_body(rec, server)
    url = server.url + rec["path"] + ("?" + rec["query"] if rec["query"] else "")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    return requests.request(rec["method"], url, data=data, headers=headers, timeout=30)


def _rows(resp: requests.Response) -> int:
    return pa.ipc.open_stream(resp.content).read_all().num_rows


@pytest.mark.parametrize("name", recordings())
def test_replayed_exchange_matches_the_recording(srv, name):
    rec = load(name)
    exp = rec["expected"]
    resp = replay(rec, srv)
    assert resp.status_code == exp["status"], resp.text[:300]
    if rec["path"].startswith("/segmentation/"):
        # The recorded chunkedgraph was an imitation that answered []; PyChunkedGraph
        # answers one flag per id (this root is in the tables, so it is latest).
        assert resp.json() == {"is_latest": [True]}
        return
    assert resp.headers.get("Warning") == exp["warning"]
    if "rows" in exp:
        assert resp.headers["Content-Type"] == "data.arrow"
        assert _rows(resp) == exp["rows"]
    if "column_names" in exp:
        assert ast.literal_eval(resp.headers["column_names"]) == \
            ast.literal_eval(exp["column_names"])
    if "dataframe_resolution" in exp:
        assert resp.headers["dataframe_resolution"] == exp["dataframe_resolution"]
    if exp.get("content_type") == "application/json" and exp["status"] < 300 \
            and rec["path"].startswith("/materialize/"):
        got = resp.json()
        if isinstance(exp.get("json"), list):  # table metadata: same tables
            assert {t["table_name"] for t in got} == {t["table_name"] for t in exp["json"]}
        elif "json" in exp:
            assert got == exp["json"]
    if exp["status"] == 500:
        got = resp.json()
        assert got["code"] == 500 and exp["json_excerpt"].startswith(
            '{"code": 500, "message": ' + json.dumps(got["message"]))


# -- the same facts through caveclient ---------------------------------------------------

def client(server, datastack="pinky100_test", token=GOOD_TOKEN) -> CAVEclient:
    return CAVEclient(datastack, server_address=server.url, auth_token=token,
                      write_server_cache=False)


def test_not_equal_is_ignored_by_query_table_but_live_query_filters_again(srv):
    c = client(srv)
    somas = c.materialize.query_table("somas", filter_out_dict={"cell_type": ["e"]})
    assert len(somas) == 456 and (somas.cell_type == "e").sum() == 364
    live = c.materialize.live_query("somas", pd.Timestamp.now(tz="UTC"),
                                    filter_out_dict={"cell_type": ["e"]})
    assert len(live) == 92  # caveclient's live_query filters again on the client


def test_get_counts_is_a_filtered_count_without_warning(srv):
    c = client(srv)
    n = c.materialize.query_table("synapses", get_counts=True,
                                  filter_greater_equal_dict={"size": 1000})
    assert int(n["count"].iloc[0]) == 175
    resp = requests.post(f"{srv.url}/materialize/api/v3/datastack/pinky100_test/version/2/"
                         "table/synapses/query?count=true&arrow_format=True",
                         json={}, headers={"Authorization": f"Bearer {GOOD_TOKEN}"})
    assert "Warning" not in resp.headers
    assert c.materialize.get_annotation_count("synapses") == 1961


def test_exactly_limit_rows_also_warn(srv):
    srv.row_limit = 456
    c = client(srv)
    resp = replay(load("ne_ignored_somas.json"), srv)
    assert _rows(resp) == 456 and resp.headers["Warning"] == '201 - "Limited query to 456 rows'
    assert len(c.materialize.query_table("somas", limit=455)) == 455


def test_root_id_brings_its_supervoxel_id(srv):
    df = client(srv).materialize.query_table("synapses", select_columns=["pre_pt_root_id"],
                                             limit=3)
    assert list(df.columns) == ["pre_pt_supervoxel_id", "pre_pt_root_id"]


def test_spatial_box_faces_are_inclusive_and_min_must_be_below_max(srv):
    syn = srv.datastacks["pinky100_test"].versions[2].tables["synapses"].frame()
    x, y, z = (int(syn[f"ctr_pt_position_{a}"].iloc[0]) for a in "xyz")
    q = client(srv).materialize.query_table
    on_faces = q("synapses", filter_spatial_dict={"ctr_pt_position": [[x, y, z],
                                                                      [x + 1, y + 1, z + 1]]})
    assert int(syn["id"].iloc[0]) in on_faces["id"].tolist()
    on_max = q("synapses", filter_spatial_dict={"ctr_pt_position": [[x - 1, y - 1, z - 1],
                                                                    [x, y, z]]})
    assert int(syn["id"].iloc[0]) in on_max["id"].tolist()
    with pytest.raises(requests.HTTPError, match="500") as err:
        q("synapses", filter_spatial_dict={"ctr_pt_position": [[x, y, z], [x + 5, y, z + 5]]})
    assert "must be less than max bounds" in err.value.response.json()["message"]


def test_regex_is_postgres_search_on_strings_only(srv):
    q = client(srv).materialize.query_table
    assert len(q("somas", filter_regex_dict={"cell_type": "e"})) == 364 + 1  # uncertain
    assert len(q("somas", filter_regex_dict={"cell_type": "^e$"})) == 364
    assert len(q("somas", filter_regex_dict={"cell_type": r"\mun"})) == 1
    assert len(q("somas", filter_regex_dict={"cell_type": r"\bun"})) == 0  # \b: backspace
    assert len(q("somas", filter_regex_dict={"cell_type": "^[[:alpha:]]$"})) == 455
    with pytest.raises(requests.HTTPError, match="500") as err:
        q("somas", filter_regex_dict={"pt_root_id": "^6"})
    assert "only supported on string columns" in err.value.response.json()["message"]


def test_reference_table_filters(srv):
    c = client(srv, "minnie65_test")
    with pytest.raises(requests.HTTPError, match="500"):
        c.materialize.query_table("allen_v1_column_types_slanted_ref",
                                  filter_equal_dict={"pt_root_id": BC})
    df = c.materialize.tables.allen_v1_column_types_slanted_ref(pt_root_id=BC).query()
    assert len(df) == 1 and df["pt_root_id"].iloc[0] == BC


def test_unknown_root_ids_are_not_latest(srv):
    cg = client(srv).chunkedgraph
    known = int(srv.datastacks["pinky100_test"].versions[2].tables["somas"]
                .frame()["pt_root_id"].iloc[0])
    assert cg.is_latest_roots([known, 648518346300000001]).tolist() == [True, False]


def test_auth_answers(srv, browser_opened):
    rec = load("probe_limit1_warning.json")
    bad = replay(rec, srv, token="wrong-token")
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"
    none = replay(rec, srv, token=None)
    assert none.status_code == 401 and none.json()["error"] == "no_token"
    srv.tos_required["pinky100_test"] = "https://cavern.test/tos/3/accept"
    tos = replay(rec, srv)
    assert tos.status_code == 403 and tos.json()["error"] == "missing_tos"
    assert set(tos.json()["data"]) == {"tos_id", "tos_name", "tos_form_url"}
    srv.tos_required.clear()
    srv.no_permission.add("pinky100_test")
    denied = replay(rec, srv)
    assert denied.status_code == 403 and denied.json()["error"] == "missing_permission"
