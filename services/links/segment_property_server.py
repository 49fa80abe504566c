"""Segment-properties documents served on 127.0.0.1 as Neuroglancer ``precomputed://``
sources, for the live viewer (Neuroglancer's Python server serves volumes, meshes and
skeletons, but no segment properties).

A ``precomputed://http://127.0.0.1:<port>/<token>/<n>`` source makes the viewer fetch
``.../info``, which answers the document. The port is random, the token too (as the
neuroglancer package does for its own server), and the server binds loopback only. The
viewer's page is on another port, so answers carry ``Access-Control-Allow-Origin``.
"""
from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    server_version = "CavernSegmentProperties"

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "*")

    def do_OPTIONS(self):  # noqa: N802 - http.server's name
        self.send_response(204)
        self._cors()
        self.end_headers()

    def do_GET(self):  # noqa: N802
        body = self.server.owner._answer(self.path)
        if body is None:
            self.send_response(404)
            self._cors()
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self._cors()
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_a) -> None:  # no request lines on stderr
        pass


class SegmentPropertyServer:
    def __init__(self) -> None:
        self._token = secrets.token_hex(16)
        self._docs: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._n = 0
        self.served = 0  # documents answered (the viewer asked for the labels)

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> None:
        if self._httpd is not None:
            return
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="cavern-segprops",
                                        kwargs={"poll_interval": 0.2})
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/{self._token}"

    def publish(self, document: dict) -> str:
        """Serve ``document``; returns its ``precomputed://`` source URL (a new one each
        time, so a viewer never shows a cached older document)."""
        self.start()
        body = json.dumps(document, separators=(",", ":")).encode("utf-8")
        with self._lock:
            self._n += 1
            key = str(self._n)
            self._docs = {key: body}  # only the newest is needed
        return f"precomputed://{self.base_url}/{key}"

    def _answer(self, path: str) -> bytes | None:
        parts = path.split("?", 1)[0].strip("/").split("/")
        if len(parts) != 3 or parts[0] != self._token or parts[2] != "info":
            return None
        with self._lock:
            body = self._docs.get(parts[1])
            self.served += body is not None
            return body

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None
