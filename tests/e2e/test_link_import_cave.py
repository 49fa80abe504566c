"""Short links through the loopback CAVE state server and the real caveclient: a link the app
stores comes back as the same cells and points; short links Cavern must not or cannot read
give one clear message."""
from __future__ import annotations

import numpy as np
import pytest

from models.errors import CavernError, InvalidInputError, NotFoundError
from models.query_spec import QuerySpec
from services.cave.cave_source import CaveSource
from services.links import neuroglancer_links as ngl
from services.links.link_import import import_link, read_link
from tests.e2e.conftest import GOOD_TOKEN

PINKY = "pinky100_sample"


def _fetch(src):
    return lambda url: src.fetch_state(PINKY, url)


def test_short_link_round_trip_through_the_state_server(src, cave_server):
    ds = src.datastack_info(PINKY)
    rows = src.query(QuerySpec("soma_valence", PINKY, version=185, limit=3,
                               desired_resolution=(1, 1, 1))).frame
    ids = [int(r) for r in rows.pt_root_id]
    link = ngl.rows_link(ds, rows, resolution=(1, 1, 1))
    short = ngl.short_link(link, lambda state, base: src.upload_state(PINKY, state, base))
    assert short.url.startswith(ngl.SITES["spelunker"]) and len(short.url) < 200
    state_url = read_link(short.url).state_url
    assert state_url.startswith(cave_server.url + "/nglstate/")
    got = import_link(short.url, ds, _fetch(src))
    assert sorted(got.segments) == sorted(ids) and got.state_url == state_url
    pts = got.points.sort_values("pt_root_id")
    truth = np.vstack(rows.sort_values("pt_root_id").pt_position.to_numpy()).astype(float)
    assert np.allclose(pts[["x_nm", "y_nm", "z_nm"]].to_numpy(), truth)  # the rows' nm
    assert any(r.path.startswith("/nglstate/api/v1/") and r.method == "GET"
               for r in cave_server.requests)  # read from the server, not from memory


def test_short_links_cavern_does_not_read(src, cave_server, sample_source):
    ds = src.datastack_info(PINKY)
    with pytest.raises(InvalidInputError, match="not on .*state server"):
        import_link("https://spelunker.cave-explorer.org/#!middleauth+"
                    "https://global.daf-apis.com/nglstate/api/v1/123", ds, _fetch(src))
    with pytest.raises(NotFoundError):  # a state id the server does not have
        import_link(f"{cave_server.url}/nglstate/api/v1/987654321", ds, _fetch(src))
    # a local datastack has no state server: one clear message
    with pytest.raises(NotFoundError, match="Local data has no Neuroglancer state server"):
        import_link(f"{cave_server.url}/nglstate/api/v1/1", ds,
                    lambda url: sample_source.fetch_state(PINKY, url))


def test_short_link_on_an_unreachable_server(make_cave_server):
    server = make_cave_server()
    gone = CaveSource(server.url, GOOD_TOKEN)
    ds = gone.datastack_info(PINKY)
    server.stop()
    try:
        with pytest.raises(CavernError) as err:
            import_link(f"{server.url}/nglstate/api/v1/1", ds,
                        lambda url: gone.fetch_state(PINKY, url))
        assert "Traceback" not in str(err.value) and str(err.value)
    finally:
        gone.close()


def test_links_on_cave_say_where_labels_are(src, cave_server):
    from services.links.segment_labels import label_link
    from services.workspace import Workspace
    ws = Workspace(src, PINKY, 185)
    link = label_link(ws, ngl.cells_link(ws.info, [648518346349540057]))
    # the loopback server has no segment-property route: asked once, and said honestly
    asked = [r for r in cave_server.requests if "/version/185/table/soma_valence" in r.path]
    assert asked and asked[-1].path.endswith("/info")
    assert any("only in Cavern's live viewer" in n and "serves no segment properties" in n
               for n in link.notes)
    assert src.segment_property_source(PINKY, "soma_valence", 185) is None
    again = [r for r in cave_server.requests if "/version/185/table/soma_valence" in r.path]
    assert len(again) == len(asked)  # remembered
