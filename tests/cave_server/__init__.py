"""A CAVE-compatible HTTP server for tests (info, auth, materialize, chunkedgraph, state)."""
from tests.cave_server.server import CaveTestServer, sample_dirs

__all__ = ["CaveTestServer", "sample_dirs"]
