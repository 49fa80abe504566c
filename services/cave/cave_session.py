"""Plumbing around caveclient's HTTP sessions and its version records.

- Every caveclient session gets, from birth, a (connect, read) timeout, a deadline for
  reading one answer and a size limit (:mod:`services.cave.cave_http`): ``requests``
  has none, and a server that never answers, or trickles, would hang a worker for ever.
- A response hook keeps each thread's ``Warning`` headers: the server reports its row
  limit only there, and caveclient just logs it.
- caveclient opens a web browser on a "missing terms of service" 403; a service in a
  worker must not, the UI shows the link carried by PermissionDeniedError instead.
"""
from __future__ import annotations

import os
import tempfile
import threading
from datetime import datetime, timezone

from services.cave.cave_http import DEFAULT_LIMITS, HttpLimits, read_body

# A token file path that never exists: with no token, caveclient must not pick up one
# from ~/.cloudvolume (Cavern's tokens come from the keyring only).
NO_TOKEN_FILE = os.path.join(tempfile.gettempdir(), "cavern-no-token", "none.json")


class _NoBrowser:
    @staticmethod
    def open(*_a, **_k) -> bool:
        return False


class _NoRowLimitLog:
    """Drops caveclient's logged row-limit warnings: Cavern reads the header itself and
    says what it means (a one-row column probe is not news to the user)."""

    def filter(self, record) -> bool:
        return "Limited query to" not in str(record.getMessage())


class _NoBetaNotice:
    def filter(self, record) -> bool:
        return "facilitate beta testing" not in str(record.getMessage())


def quiet_caveclient() -> None:
    import logging

    import caveclient.base
    caveclient.base.webbrowser = _NoBrowser()
    log = logging.getLogger(caveclient.base.__name__)
    if not any(isinstance(f, _NoRowLimitLog) for f in log.filters):
        log.addFilter(_NoRowLimitLog())
    root = logging.getLogger()  # live_live_query logs a "beta" notice on every call
    if not any(isinstance(f, _NoBetaNotice) for f in root.filters):
        root.addFilter(_NoBetaNotice())
    bound_every_session()


class WarningLog(threading.local):
    """Warning headers seen by the current thread since the last ``reset``."""

    def __init__(self):
        self.items: list[str] = []

    def reset(self) -> None:
        self.items = []

    def add(self, text: str) -> None:
        self.items = self.items + [text]


_born = threading.local()  # .limits: what sessions made on this thread start with


class session_limits:
    """Sessions caveclient makes inside this block (a client being built, a service
    first used) start with ``limits``, and so does its API-version probe."""

    def __init__(self, limits):
        self.limits = limits

    def __enter__(self):
        self.outer = getattr(_born, "limits", None)
        _born.limits = self.limits

    def __exit__(self, *exc):
        _born.limits = self.outer


def _session_config(session) -> dict:
    cfg = getattr(session, "_cavern", None)
    if cfg is None:
        cfg = {"limits": getattr(_born, "limits", None) or DEFAULT_LIMITS, "warnings": None}
        plain_request = session.request

        def request(method, url, **kw):
            if kw.get("timeout") is None:
                kw["timeout"] = cfg["limits"].timeout
            return plain_request(method, url, **kw)

        def bounded_body(response, *_a, **_k):
            read_body(response, cfg["limits"])  # before anyone touches .content

        def remember_warning(response, *_a, **_k):
            w = response.headers.get("Warning")
            if w and cfg["warnings"] is not None:
                cfg["warnings"].add(w)

        session.request = request
        hooks = session.hooks.setdefault("response", [])
        hooks[:0] = [bounded_body, remember_warning]
        session._cavern = cfg
    return cfg


def prepare_session(service, limits, warnings: WarningLog | None = None) -> None:
    """Give one caveclient service's session its source's limits (time-out, read
    deadline, size limit) and the Warning hook. Every caveclient session already has
    the default limits from birth (:func:`bound_every_session`); this makes them the
    source's own."""
    session = getattr(service, "session", None)
    if session is None:
        return
    if not isinstance(limits, HttpLimits):  # a bare (connect, read) timeout
        limits = HttpLimits(timeout=limits)
    cfg = _session_config(session)
    cfg["limits"] = limits
    if warnings is not None:
        cfg["warnings"] = warnings


def bound_every_session() -> None:
    """Every session caveclient makes (info, materialize, chunkedgraph, state, schema,
    auth...) gets a time-out, the read deadline and the size limit when it is made, and
    the API-version probe caveclient sends with bare ``requests.get`` gets a time-out."""
    import caveclient.base as base
    if getattr(base, "_cavern_bounded", False):
        return
    plain_patch = base._patch_session

    def patch_session(session, *a, **k):
        plain_patch(session, *a, **k)
        _session_config(session)

    def api_versions(server_name, server_address, endpoints_common, auth_header,
                     verify=True):
        import requests
        url_base = endpoints_common.get("get_api_versions", None)
        if url_base is None:
            return None
        session = requests.Session()
        _session_config(session)
        try:
            response = session.get(url_base.format_map({server_name: server_address}),
                                   headers=auth_header, verify=verify)
            base._raise_for_status(response)
            return response.json()
        finally:
            session.close()

    base._patch_session = patch_session
    base._api_versions = api_versions
    base._cavern_bounded = True


def when(ts) -> datetime | None:
    """A version record's time as an aware datetime; None for missing or 'never'."""
    if ts is None or ts == "":
        return None
    if isinstance(ts, str):
        try:
            ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(ts, datetime) or ts.year > 9000:  # caveclient's "never" is Timestamp.max
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def is_expired(rec: dict) -> bool:
    if rec.get("valid") is False:
        return True
    exp = when(rec.get("expires_on"))
    return exp is not None and exp < datetime.now(timezone.utc)
