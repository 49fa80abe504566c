"""CaveTestServer: a CAVE look-alike on 127.0.0.1 for tests, driven by the real caveclient.

    with CaveTestServer(datastack_dirs=[...], tokens={"good-token"}) as srv:
        client = CAVEclient("pinky100_sample", server_address=srv.url,
                            auth_token="good-token", write_server_cache=False)

Every service (info, auth, materialize, segmentation, nglstate) answers on the one host,
and the info document's local_server points back at it, as on global.daf-apis.com.
"""
from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from tests.cave_server.app import create_app
from tests.cave_server.chunkedgraph_model import RootHistory
from tests.cave_server.datastore import ServedDatastack, load_datastack
from tests.cave_server.faults import FaultBook

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
DEFAULT_ROW_LIMIT = 200_000  # the engine's default QUERY_LIMIT_SIZE
MAT_VERSION = "5.26.4"  # the release recorded in tests/cave_server/contract (>= 5.13.0 for caveclient 8)


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: the request log lives in CaveTestServer.requests."""

    def log_request(self, *args, **kwargs):
        pass


def sample_dirs() -> list[Path]:
    """Every bundled sample datastack folder (those with a manifest.json)."""
    if not SAMPLES.is_dir():
        return []
    return sorted(p for p in SAMPLES.iterdir() if (p / "manifest.json").is_file())


class CaveTestServer:
    def __init__(self, datastack_dirs=None, tokens=("good-token",),
                 row_limit: int = DEFAULT_ROW_LIMIT, tos_required: dict | None = None,
                 expired_versions: dict | None = None, root_updates: dict | None = None,
                 root_update_time: datetime | None = None, host: str = "127.0.0.1",
                 no_permission: set | None = None):
        """
        datastack_dirs: local datastack folders; None serves every bundled sample.
        tokens: bearer tokens that are accepted; any other (or none) gets a 401.
        tos_required: {datastack: tos_url} answered with CAVE's 403 missing-ToS JSON.
        expired_versions: {datastack: {version, ...}} listed only with expired=True and
            answered 404 for data.
        root_updates: {old_root: [new_root, ...]} for the chunkedgraph.
        row_limit: the materialization engine's QUERY_LIMIT_SIZE (see query_engine.py).
        no_permission: datastacks the token has no "view" right on (403 missing_permission).
        """
        dirs = sample_dirs() if datastack_dirs is None else [Path(d) for d in datastack_dirs]
        self.datastacks: dict[str, ServedDatastack] = {}
        for i, folder in enumerate(dirs, start=1):
            ds = load_datastack(folder, aligned_volume_id=i)
            self.datastacks[ds.name] = ds
        self.tokens = set(tokens)
        self.row_limit = int(row_limit)
        self.tos_required = dict(tos_required or {})
        self.no_permission = set(no_permission or ())
        self.default_tos_url = "https://global.daf-apis.com/sticky_auth/api/v1/tos/1/accept"
        self.expired_versions = {k: set(v) for k, v in (expired_versions or {}).items()}
        self.mat_api_versions = {2, 3}
        self.mat_version = MAT_VERSION
        self.chunkedgraph = RootHistory(root_updates, root_update_time)
        self._index_supervoxels()
        self.faults = FaultBook()
        self.ngl_states: dict[int, dict] = {}
        # {(datastack, table): [(created, row)]}: annotations newer than every version,
        # served by live_live_query only (see materialize_routes.with_live_additions)
        self.live_additions: dict[tuple[str, str], list] = {}
        self.next_state_id = 5_000_000_000_000_000  # 16+ digits like the real service
        self.lock = threading.Lock()
        self.dropped = 0
        self.host = host
        self.url = ""
        self._server = None
        self._thread = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> "CaveTestServer":
        if self._server is not None:
            return self
        self._server = make_server(self.host, 0, create_app(self), threaded=True,
                                   request_handler=_QuietHandler)
        self.url = f"http://{self.host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="cave-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- controls for tests ------------------------------------------------------------
    def set_fault(self, pattern: str, kind: str, *, method=None, times=None, **params):
        """Make requests whose path matches regex `pattern` fail; see faults.KINDS."""
        return self.faults.add(pattern, kind, method=method, times=times, **params)

    def add_live_annotation(self, datastack: str, table: str, row: dict, created: datetime):
        """An annotation added after the latest version (``row``: the table's split
        columns, e.g. pt_position_x/_y/_z); ``created`` naive UTC."""
        self.live_additions.setdefault((datastack, table), []).append((created, dict(row)))

    def clear_faults(self):
        self.faults.clear()

    def set_old_server(self, old: bool = True, mat_version: str = "4.30.1"):
        """Pretend to be a materialization server from before API v3: /api/v3 answers
        404 and /materialize/version reports an old release."""
        self.mat_api_versions = {2} if old else {2, 3}
        self.mat_version = mat_version if old else MAT_VERSION

    @property
    def requests(self):
        """Log of every request: method, path, query_string, url, headers, status."""
        return self.faults.requests

    def clear_requests(self):
        with self.faults._lock:
            self.faults.requests.clear()

    def state_json(self, state_id: int) -> dict | None:
        return self.ngl_states.get(state_id)

    @property
    def query_limit_size(self) -> int:
        """The engine's name for row_limit."""
        return self.row_limit

    @query_limit_size.setter
    def query_limit_size(self, value: int):
        self.row_limit = int(value)

    def _index_supervoxels(self):
        """Tell the chunkedgraph every root id the tables hold (ids it does not know are
        not latest, as in PyChunkedGraph) and which supervoxel belongs to which root."""
        for ds in self.datastacks.values():
            for v in ds.versions.values():
                for t in v.tables.values():
                    df = t.frame()
                    for col in df.columns:
                        if col.endswith("root_id"):
                            self.chunkedgraph.add_roots(df[col].dropna().unique())
                        if col.endswith("supervoxel_id"):
                            root = col[: -len("supervoxel_id")] + "root_id"
                            if root in df.columns:
                                self.chunkedgraph.add_supervoxels(zip(df[col], df[root]))
