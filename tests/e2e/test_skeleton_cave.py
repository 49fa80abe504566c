"""The basket cell's skeleton "from CAVE": the loopback server's skeleton service
(tests/cave_server/skeleton_routes.py) read through the real caveclient by CaveSource, and
the Morphology view on that source. Compared with the project's own copy of the skeleton
(resources/samples/minnie65_sample/skeletons); faults, time-outs and Cancel give clear
messages; materialized versions are served from the disk cache the second time."""
from __future__ import annotations

import importlib
import json
import time
from datetime import datetime, timezone

import keyring
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models.errors import CavernError, InvalidInputError, NetworkError, NotFoundError
from services.cave.cave_source import CaveSource
from services.local.local_source import sample_folders
from services.local.skeletons import read_skeleton
from services.results.result_cache import ResultCache
from services.workspace import Workspace
from services.cave.token_store import TokenStore
from services.cli.cli_commands import cli_main
from tests.cave_server.datastack_writer import cave_shaped_copy
from tests.e2e.conftest import BASKET, GOOD_TOKEN
from tests.unit.cave.test_token_store import MemoryKeyring
from ui.morphology.morphology_view import MorphologyView

DS = "minnie65_sample"
NO_SKELETON = 864691136362774498  # the sample's layer-5 PT cell: synapses, no skeleton
GET = r"/skeletoncache/api/v1/.*/get_skeleton/"


def _sample():
    return next(f for f in sample_folders() if f.name == DS)


def _local_skeleton():
    return read_skeleton(_sample(), BASKET)


def _skeleton_requests(server):
    return [r for r in server.requests
            if r.path.startswith("/skeletoncache/") or r.path.endswith("/valid_nodes")]


@pytest.fixture
def src(cave_server, tmp_path):
    s = CaveSource(cave_server.url, GOOD_TOKEN, cache=ResultCache(tmp_path / "cache"),
                   timeout=(2.0, 10.0), max_retries=0)
    yield s
    s.close()


def _view(qtbot, source, version=0):
    view = MorphologyView()
    qtbot.addWidget(view)
    view.set_context(Workspace(source, DS, version))
    return view


def test_skeleton_from_cave_equals_the_local_copy(src, cave_server):
    sk = src.skeleton(DS, BASKET, 0)
    local = _local_skeleton()
    assert sk.n_vertices == local.n_vertices == 16720 and len(sk.edges) == 16719
    assert np.array_equal(sk.edges, local.edges) and sk.root == local.root
    assert np.allclose(sk.vertices, local.vertices)
    assert np.array_equal(sk.compartment, local.compartment)
    assert np.allclose(sk.radius, local.radius)
    assert np.allclose(sk.soma_point_nm(), local.soma_point_nm())
    assert sk.source == "CAVE skeleton service (v4)"
    paths = [r.path for r in _skeleton_requests(cave_server)]
    # caveclient 8.2.1's path for a server >= 0.13.7 with the dict ("flatdict") format
    assert f"/skeletoncache/api/v1/{DS}/async/get_skeleton/4/{BASKET}/flatdict" in paths
    assert any(p.endswith("/valid_nodes") for p in paths)


def test_caveclient_reads_the_service_as_the_real_one(cave_server):
    """caveclient's own calls: version, versions, skeletons_exist, and the flatdict body
    decoded by its decoder."""
    from caveclient import CAVEclient
    from caveclient.skeletonservice import SkeletonClient
    client = CAVEclient(DS, server_address=cave_server.url, auth_token=GOOD_TOKEN,
                        write_server_cache=False)
    sk = client.skeleton
    assert str(sk.server_version) == "0.22.3" and 4 in sk.get_versions()
    assert sk.skeletons_exist(root_ids=[BASKET, NO_SKELETON]) == {BASKET: True,
                                                                  NO_SKELETON: False}
    url = sk._build_get_skeleton_endpoint(BASKET, DS, 4, "flatdict", True, 0)
    d = SkeletonClient.decompressBytesToDict(sk.session.get(url).content)
    assert len(d["vertices"]) == 16720 and len(d["compartment"]) == 16720
    assert d["meta"]["root_id"] == BASKET and "vertex_properties" not in d
    missing = sk.session.get(sk._build_get_skeleton_endpoint(NO_SKELETON, DS, 4, "flatdict",
                                                             True, 0))
    assert missing.status_code == 404 and str(NO_SKELETON) in missing.json()["message"]
    swc = sk.session.get(sk._build_get_skeleton_endpoint(BASKET, DS, 4, "swccompressed",
                                                         True, 0))
    assert swc.status_code == 400 and "not served" in swc.json()["message"]
    # caveclient's own get_skeleton first needs an L2 cache, then builds a CloudVolume (the
    # cloud-volume package is no dependency): why CaveSource makes the request itself
    from caveclient.skeletonservice import NoL2CacheException
    with pytest.raises(NoL2CacheException):
        sk.get_skeleton(BASKET)
    with pytest.raises(ImportError):
        importlib.import_module("cloudvolume")


def test_morphology_view_draws_the_cell_from_cave(qtbot, src):
    view = _view(qtbot, src)
    with qtbot.waitSignal(view.loaded, timeout=60000):
        view.show_cell(BASKET)
    d = view.data
    assert d.skeleton.n_vertices == _local_skeleton().n_vertices
    assert len(d.skeleton.edges) == len(_local_skeleton().edges)
    assert "CAVE skeleton service" in view.title.text()
    syn = pd.read_parquet(_sample() / "v0" / "synapses_pni_2.parquet")
    assert view.counts["inputs"] == int((syn.post_pt_root_id == BASKET).sum()) == 12424
    assert view.counts["outputs"] == int((syn.pre_pt_root_id == BASKET).sum()) == 6514
    assert "12,424 inputs, 6,514 outputs" in view.counts_label.text()


def test_second_load_of_a_version_comes_from_the_disk_cache(src, cave_server, tmp_path):
    first = src.skeleton(DS, BASKET, 0)
    assert len([r for r in _skeleton_requests(cave_server) if "get_skeleton" in r.path]) == 1
    cave_server.clear_requests()
    # a new source (as after a restart) on the same cache folder asks nothing
    again = CaveSource(cave_server.url, GOOD_TOKEN, cache=ResultCache(tmp_path / "cache"))
    try:
        sk = again.skeleton(DS, BASKET, 343)  # a root id's skeleton is the same in any version
        assert _skeleton_requests(cave_server) == []
        assert "disk cache" in sk.source and np.array_equal(sk.edges, first.edges)
        assert np.allclose(sk.vertices, first.vertices)
        # live: never from the cache, and nothing written
        files = sorted((tmp_path / "cache" / "skeletons").iterdir())
        live = again.skeleton(DS, BASKET, None, datetime.now(timezone.utc))
        assert "disk cache" not in live.source
        assert len([r for r in _skeleton_requests(cave_server) if "get_skeleton" in r.path]) == 1
        assert sorted((tmp_path / "cache" / "skeletons").iterdir()) == files
        # a damaged file is a miss: asked again, then stored again
        files[0].write_bytes(b"not gzip")
        cave_server.clear_requests()
        sk = again.skeleton(DS, BASKET, 0)
        assert "disk cache" not in sk.source and sk.n_vertices == 16720
        assert len([r for r in _skeleton_requests(cave_server) if "get_skeleton" in r.path]) == 1
        assert "disk cache" in again.skeleton(DS, BASKET, 0).source
    finally:
        again.close()


def test_no_skeleton_and_bad_ids_are_typed_errors(qtbot, src):
    assert src.skeleton(DS, NO_SKELETON, 0) is None  # the service has none: 404
    with pytest.raises(NotFoundError, match="not a valid root id"):
        src.skeleton(DS, 864691135000000001, 0)
    # a supervoxel id (layer bits 1) is refused before any skeleton request
    with pytest.raises(InvalidInputError, match="layer-1 id"):
        src.skeleton(DS, (1 << 56) + 12345, 0)
    view = _view(qtbot, src)
    with qtbot.waitSignal(view.message, timeout=30000) as got:
        view.show_cell(NO_SKELETON)
    assert got.args[0].startswith(f"No skeleton of {NO_SKELETON}: the skeleton service has none")
    assert "Traceback" not in view.status_bar.label.text()


def test_server_without_skeleton_service(make_cave_server):
    server = make_cave_server()
    server.set_fault(r"^/skeletoncache/", "not_found")
    s = CaveSource(server.url, GOOD_TOKEN, max_retries=0)
    try:
        with pytest.raises(NotFoundError, match="has no skeleton service"):
            s.skeleton(DS, BASKET, 0)
    finally:
        s.close()


def test_server_fault_is_reported_and_the_view_recovers(qtbot, src, cave_server):
    cave_server.set_fault(GET, "server_error", message="skeleton worker crashed")
    with pytest.raises(CavernError) as err:
        src.skeleton(DS, BASKET, 0)
    text = str(err.value)
    assert f"getting the skeleton of {BASKET}" in text and "500" in text
    view = _view(qtbot, src)
    with qtbot.waitSignal(view.message, timeout=30000) as got:
        view.show_cell(BASKET)
    assert f"getting the skeleton of {BASKET}" in got.args[0]
    assert "error" in view.status_bar.kind
    cave_server.clear_faults()
    with qtbot.waitSignal(view.loaded, timeout=60000):
        view.show_cell(BASKET)
    assert view.data.skeleton.n_vertices == 16720


def test_slow_server_times_out_with_a_clear_message(cave_server):
    cave_server.set_fault(GET, "slow", delay=3.0)
    s = CaveSource(cave_server.url, GOOD_TOKEN, timeout=(2.0, 0.5), max_retries=0)
    try:
        t0 = time.perf_counter()
        with pytest.raises(NetworkError) as err:
            s.skeleton(DS, BASKET, 0)
        assert time.perf_counter() - t0 < 2.5
        assert "skeleton" in str(err.value) and "time" in str(err.value).lower()
    finally:
        s.close()


def test_cancel_frees_the_view_at_once(qtbot, src, cave_server):
    cave_server.set_fault(GET, "slow", delay=5.0, times=1)
    view = _view(qtbot, src)
    view.show_cell(BASKET)
    qtbot.waitUntil(lambda: any("get_skeleton" in r.path for r in cave_server.requests),
                    timeout=30000)
    assert view.runner.busy and view.status_bar.cancel_button.isEnabled()
    t0 = time.perf_counter()
    view.status_bar.cancel_button.click()
    qtbot.waitUntil(lambda: view.status_bar.label.text() == "Cancelled.", timeout=3000)
    assert time.perf_counter() - t0 < 1.5 and view.data is None
    with qtbot.waitSignal(view.loaded, timeout=60000):  # and the next request works
        view.show_cell(BASKET)
    assert view.data.skeleton.n_vertices == 16720


# ---- fig. 11: target compartments from a reference table on the synapse table ----------
TARGET_TABLE = "synapse_target_predictions_ssa_v2"
TAG_OF_DIGIT = {0: "spine", 1: "spine", 2: "spine", 3: "spine", 4: "spine", 5: "shaft",
                6: "shaft", 7: "soma"}  # last digit of the synapse id; 8, 9: no row


@pytest.fixture
def target_server(make_cave_server, tmp_path):
    """The minnie65 sample as CAVE has it, plus a TEST FIXTURE reference table on
    synapses_pni_2 with made-up spine/shaft/soma tags (the bundled data has no real one):
    tag by the last digit of the synapse id, ids ending in 8 or 9 have no prediction."""
    folder = cave_shaped_copy(_sample(), tmp_path / "m65")
    syn = pd.read_parquet(folder / "v0" / "synapses_pni_2.parquet", columns=["id"])
    ids = syn["id"].to_numpy(np.int64)
    keep = ids[np.isin(ids % 10, list(TAG_OF_DIGIT))]
    frame = pd.DataFrame({"id": np.arange(1, len(keep) + 1, dtype=np.int64),
                          "valid": True, "target_id": keep,
                          "tag": [TAG_OF_DIGIT[int(i % 10)] for i in keep]})
    meta = {"kind": "table", "schema": "reference_tag", "reference_table": "synapses_pni_2",
            "voxel_resolution": [4.0, 4.0, 40.0],
            "description": "TEST FIXTURE, not data: made-up synapse target tags"}
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({b"cavern": json.dumps(meta).encode()})
    pq.write_table(table, folder / "v0" / f"{TARGET_TABLE}.parquet")
    return make_cave_server(datastack_dirs=[folder]), frame


def test_target_compartment_colouring_on_cave(qtbot, target_server):
    server, tags = target_server
    src = CaveSource(server.url, GOOD_TOKEN, max_retries=0)
    try:
        view = _view(qtbot, src)
        with qtbot.waitSignal(view.loaded, timeout=60000):
            view.show_cell(BASKET)
        assert view.target_table == TARGET_TABLE
        with qtbot.waitSignal(view.redrawn, timeout=60000):
            view.set_choice(view.colour_combo, "target")
        qtbot.waitUntil(lambda: "spine" in view.counts, timeout=60000)
        syn = pd.read_parquet(_sample() / "v0" / "synapses_pni_2.parquet")
        cell = syn[(syn.pre_pt_root_id == BASKET) | (syn.post_pt_root_id == BASKET)]
        tag = cell["id"].map(tags.set_index("target_id")["tag"]).fillna("no prediction")
        want = tag.value_counts().to_dict()
        assert {k: view.counts[k] for k in want} == want
        assert set(want) == {"spine", "shaft", "soma", "no prediction"}
        assert f"Target compartment from {TARGET_TABLE}" in view.notes_label.text()
        names = {label.text for _s, label in view.plot.legend.items}
        assert f"spine ({want['spine']:,})" in names
        # inputs only: the counts follow the synapses drawn
        view.set_choice(view.synapse_combo, "in")
        ins = tag[cell.post_pt_root_id == BASKET].value_counts().to_dict()
        assert {k: view.counts[k] for k in ins} == ins
    finally:
        src.close()


def test_cli_skeleton_from_cave_equals_the_local_one(cave_server, tmp_path, capsys):
    before = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        TokenStore().set_token(cave_server.url, GOOD_TOKEN)
        cave, local = tmp_path / "cave.swc", tmp_path / "local.swc"
        assert cli_main(["skeleton", str(BASKET), "--server", cave_server.url, "--datastack",
                         DS, "--version", "0", "--swc", str(cave)]) == 0
        assert cli_main(["skeleton", str(BASKET), "--datastack", DS, "--swc", str(local)]) == 0
        body = [[line for line in p.read_text().splitlines() if not line.startswith("#")]
                for p in (cave, local)]
        assert body[0] == body[1] and len(body[0]) == 16720
        assert cli_main(["skeleton", str(NO_SKELETON), "--server", cave_server.url,
                         "--datastack", DS]) == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err == (f"cavern: error: No skeleton of {NO_SKELETON}: the skeleton service "
                       "has none. Check that the root id is current (the cell inspector says "
                       "whether it was edited since).")
        assert all(GOOD_TOKEN not in r.url for r in cave_server.requests)
    finally:
        keyring.set_keyring(before)


def test_inspector_morphology_window_on_cave(qtbot, ini_settings, src):
    """The whole window on the CAVE source: inspect the basket cell, open Morphology."""
    from ui.main_window import MainWindow
    w = MainWindow(src, ini_settings, DS, "test")
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.version_combo.findData(0) >= 0, timeout=30000)
    w.version_combo.setCurrentIndex(w.version_combo.findData(0))  # v0 holds the synapses
    assert w.inspector.ws.version == 0
    with qtbot.waitSignal(w.inspector.cellShown, timeout=60000):
        w.inspector.inspect(BASKET)
    w.inspector.morphology_button.click()
    view = w.inspector._morphology_view
    qtbot.waitUntil(lambda: view.data is not None or view.status_bar.kind == "error",
                    timeout=60000)
    assert view.data is not None, view.status_bar.label.text()
    assert view.data.skeleton.source.startswith("CAVE skeleton service")
    assert view.data.skeleton.n_vertices == _local_skeleton().n_vertices
    assert (view.counts["inputs"], view.counts["outputs"]) == (12424, 6514)
