"""Faults a test can switch on at run time, per endpoint pattern, and the request log.

A fault matches when ``re.search(pattern, path)`` hits the request path (and the method,
if one is given). ``times`` limits how many requests it answers (None: all of them), so a
test can check that a client retries a dropped connection or a 503.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

KINDS = {
    "status",          # answer with `status` (401, 403, 404, 500, 502, 503...) and JSON message
    "unauthorized",    # 401 the way CAVE's auth middleware answers a bad token
    "missing_tos",     # 403 with CAVE's missing terms-of-service JSON (tos_url param)
    "missing_permission",  # 403 {"error": "missing_permission"} (no rights on the datastack)
    "not_found",       # 404: expired version, unknown table, or an endpoint an old server lacks
    "server_error",    # 500 with a JSON message
    "slow",            # wait `delay` seconds, then answer normally
    "drop",            # close the socket without answering
    "malformed_json",  # 200 with a body that is not JSON
    "garbage_arrow",   # 200 with Content-Type data.arrow and bytes that are not Arrow
    "row_limit",       # answer queries with the server row limit set to `limit`
    "trickle",         # send the normal answer `step` bytes (1) every `interval` seconds (1.0)
    "gzip_bomb",       # 200, Content-Encoding gzip: `size` bytes (2 GiB) of zeros in ~size/1000
                       # on the wire, as `content_type` (data.arrow)
    "json_body",       # 200 with `body` (any JSON value) instead of the real answer
}


@dataclass
class Fault:
    pattern: str
    kind: str
    params: dict
    method: str | None = None
    times: int | None = None
    hits: int = 0
    _regex: re.Pattern = field(init=False, repr=False)

    def __post_init__(self):
        self._regex = re.compile(self.pattern)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        return bool(self._regex.search(path))


@dataclass
class LoggedRequest:
    method: str
    path: str
    query_string: str
    url: str
    headers: dict
    status: int | None = None
    body: bytes = b""  # the request body (query filters travel here)


class FaultBook:
    """Thread-safe: the server answers requests on several threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.requests: list[LoggedRequest] = []

    def add(self, pattern: str, kind: str, method=None, times=None, **params) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(KINDS)}")
        fault = Fault(pattern, kind, params, method, times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self):
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str, kinds=None) -> Fault | None:
        """The first matching fault (of the given kinds), counted as used."""
        with self._lock:
            for fault in self._faults:
                if (kinds is None or fault.kind in kinds) and fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def peek(self, method: str, path: str, kind: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind == kind and fault.matches(method, path):
                    return fault
        return None

    def log(self, entry: LoggedRequest):
        with self._lock:
            self.requests.append(entry)
