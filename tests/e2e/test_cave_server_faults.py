"""The CAVE test server's authentication and faults, driven by the real caveclient: a
token on every request and never in a URL, terms of service, HTTP and transport faults,
expired versions, slowness and an old server."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
import requests
from caveclient import CAVEclient
from caveclient.base import ServerIncompatibilityError

from tests.e2e.conftest import GOOD_TOKEN, client_for

pytestmark = pytest.mark.usefixtures("plain_caveclient")


def test_token_checked_on_every_endpoint_and_never_in_url(cave_client, cave_server):
    cave_client.materialize.query_table("synapses", limit=1)
    cave_client.chunkedgraph.is_latest_roots([1])
    assert cave_server.requests
    for r in cave_server.requests:
        assert GOOD_TOKEN not in r.url
        if not r.path.endswith("/api/versions"):
            assert r.headers.get("Authorization") == f"Bearer {GOOD_TOKEN}", r.path
    with pytest.raises(requests.HTTPError, match="401"):
        client_for(cave_server, token="wrong-token")
    with pytest.raises(requests.HTTPError, match="401"):
        CAVEclient("pinky100_sample", server_address=cave_server.url,
                   write_server_cache=False, auth_token_file="/nonexistent/token.json")
    cave_server.tokens = {"rotated"}
    with pytest.raises(requests.HTTPError, match="401"):
        cave_client.materialize.get_tables()


def test_missing_terms_of_service(cave_server, browser_opened):
    cave_server.tos_required["pinky100_sample"] = "https://cavern.test/tos/7/accept"
    with pytest.raises(requests.HTTPError, match="403") as info:
        client_for(cave_server)
    assert info.value.response.json()["error"] == "missing_tos"
    assert browser_opened == ["https://cavern.test/tos/7/accept"]
    assert client_for(cave_server, "minnie65_sample").materialize.get_versions()


def test_http_error_faults(cave_client, cave_server):
    q = cave_client.materialize.query_table
    cave_server.set_fault(r"/query$", "server_error", times=1)
    with pytest.raises(requests.HTTPError, match="500 Server Error"):
        q("synapses", limit=1)
    cave_server.set_fault(r"/tables$", "unauthorized", times=1)
    with pytest.raises(requests.HTTPError, match="401"):
        cave_client.materialize.get_tables()
    cave_server.set_fault(r"/query$", "missing_tos", times=1)
    with pytest.raises(requests.HTTPError, match="403"):
        q("synapses", limit=1)
    with pytest.raises(requests.HTTPError, match="404"):
        q("no_such_table")
    with pytest.raises(requests.HTTPError, match="500"):  # the engine's KeyError
        q("synapses", filter_equal_dict={"no_such_column": 1})
    cave_server.set_fault(r"/query$", "status", status=503, times=2)
    assert len(q("synapses", limit=2)) == 2  # caveclient retries 502/503/504


def test_expired_version_is_404(cave_client, cave_server):
    cave_server.expired_versions["pinky100_sample"] = {185}
    assert cave_client.materialize.get_versions() == []
    assert cave_client.materialize.get_versions(expired=True) == [185]
    with pytest.raises(requests.HTTPError, match="404"):
        cave_client.materialize.query_table("synapses", materialization_version=185)


def test_transport_faults(cave_client, cave_server):
    q = cave_client.materialize.query_table
    cave_server.set_fault(r"/query$", "drop")
    with pytest.raises(requests.ConnectionError):
        q("synapses", limit=1)
    cave_server.clear_faults()
    cave_server.set_fault(r"/query$", "drop", times=1)
    assert len(q("synapses", limit=1)) == 1  # one drop is retried by caveclient
    cave_server.set_fault(r"/query$", "garbage_arrow", times=1)
    with pytest.raises(pa.ArrowInvalid):
        q("synapses", limit=1)
    cave_server.set_fault(r"/tables$", "malformed_json", times=1)
    with pytest.raises(requests.JSONDecodeError):
        cave_client.materialize.get_tables()


def test_slow_response(cave_server):
    client = client_for(cave_server)
    url = f"{client.materialize.server_address}/materialize/api/v2/datastack/" \
          "pinky100_sample/version/185/tables"
    cave_server.set_fault(r"/tables$", "slow", delay=0.4)
    # caveclient's session retries a read timeout; when retries run out requests raises
    # ConnectionError (MaxRetryError from ReadTimeoutError), not requests.Timeout
    with pytest.raises(requests.ConnectionError, match="Read timed out"):
        client.materialize.session.get(url, timeout=0.1)
    cave_server.clear_faults()
    cave_server.set_fault(r"/tables$", "slow", delay=0.3, times=1)
    started = dt.datetime.now()
    assert client.materialize.get_tables()
    assert (dt.datetime.now() - started).total_seconds() >= 0.3


def test_old_server_mode(cave_server):
    cave_server.set_old_server(True)
    client = client_for(cave_server)
    assert client.materialize.api_version == 2
    with pytest.raises(ServerIncompatibilityError, match="5.13.0"):
        client.materialize.query_table("synapses", limit=1)
    with pytest.raises(ServerIncompatibilityError):
        client.materialize.get_views()
    cave_server.set_old_server(False)
    newer = client_for(cave_server)
    assert newer.materialize.api_version == 3  # built now: materialize is created lazily
    cave_server.set_old_server(True)  # a v3 endpoint vanishes under a client that chose v3
    with pytest.raises(requests.HTTPError, match="404"):
        newer.materialize.get_views()
