"""Fixtures for end-to-end tests against the CAVE test server (tests/cave_server).

- ``cave_server``: the shared server (bundled samples, token "good-token"), reset for
  each test: no faults, empty request log, default row limit, no ToS gate, new API.
- ``make_cave_server(**kwargs)``: a private server with its own options, stopped after
  the test.
- ``cave_client``: a real ``caveclient.CAVEclient`` for pinky100_sample on ``cave_server``.

caveclient opens a web browser when a server reports missing terms of service; tests
must never do that, so ``webbrowser.open`` is replaced and its calls recorded in
``browser_opened``.
"""
from __future__ import annotations

import pytest

from tests.cave_server import CaveTestServer
from tests.cave_server.server import DEFAULT_ROW_LIMIT

GOOD_TOKEN = "good-token"


@pytest.fixture(autouse=True)
def browser_opened(monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    return opened


@pytest.fixture(scope="session")
def _shared_cave_server():
    server = CaveTestServer(tokens={GOOD_TOKEN}).start()
    yield server
    server.stop()


@pytest.fixture
def cave_server(_shared_cave_server):
    srv = _shared_cave_server
    srv.clear_faults()
    srv.clear_requests()
    srv.row_limit = DEFAULT_ROW_LIMIT
    srv.tos_required.clear()
    srv.expired_versions.clear()
    srv.tokens = {GOOD_TOKEN}
    srv.set_old_server(False)
    yield srv
    srv.clear_faults()


@pytest.fixture
def make_cave_server():
    started: list[CaveTestServer] = []

    def make(**kwargs) -> CaveTestServer:
        kwargs.setdefault("tokens", {GOOD_TOKEN})
        server = CaveTestServer(**kwargs).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


# The minnie65 sample's basket cell, replaced by an edit the test chunkedgraph dates 2024
# (after v0, materialized in 2020).
BASKET = 864691135101289504
NEWER = 864691135999999001


@pytest.fixture
def edited_source(make_cave_server):
    """A CaveSource on a loopback server whose chunkedgraph replaced BASKET by NEWER."""
    from services.cave.cave_source import CaveSource
    server = make_cave_server(root_updates={BASKET: [NEWER]})
    src = CaveSource(server.url, GOOD_TOKEN)
    yield src
    src.close()


def client_for(server, datastack="pinky100_sample", token=GOOD_TOKEN):
    """A plain caveclient on the loopback server, as a notebook makes it."""
    from caveclient import CAVEclient
    return CAVEclient(datastack, server_address=server.url, auth_token=token,
                      write_server_cache=False)


@pytest.fixture
def cave_client(cave_server):
    return client_for(cave_server)


@pytest.fixture
def plain_caveclient(monkeypatch):
    """caveclient as a notebook has it: CaveSource (other test modules) quiets its
    row-limit log and its web browser process-wide; tests that check both use this."""
    import logging
    import webbrowser

    import caveclient.base
    monkeypatch.setattr(caveclient.base, "webbrowser", webbrowser)
    log = logging.getLogger(caveclient.base.__name__)
    monkeypatch.setattr(log, "filters", [])


@pytest.fixture
def src(cave_server):
    """A CaveSource on the loopback server with the good token (no disk cache), closed
    after the test."""
    from services.cave.cave_source import CaveSource
    s = CaveSource(cave_server.url, GOOD_TOKEN)
    yield s
    s.close()
