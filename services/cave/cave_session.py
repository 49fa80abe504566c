"""Plumbing around caveclient's HTTP sessions and its version records.

- Every session gets a default (connect, read) timeout: ``requests`` has none, and a
  server that never answers would hang a worker for ever.
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


def quiet_caveclient() -> None:
    import logging

    import caveclient.base
    caveclient.base.webbrowser = _NoBrowser()
    log = logging.getLogger(caveclient.base.__name__)
    if not any(isinstance(f, _NoRowLimitLog) for f in log.filters):
        log.addFilter(_NoRowLimitLog())


class WarningLog(threading.local):
    """Warning headers seen by the current thread since the last ``reset``."""

    def __init__(self):
        self.items: list[str] = []

    def reset(self) -> None:
        self.items = []

    def add(self, text: str) -> None:
        self.items = self.items + [text]


def prepare_session(service, timeout, warnings: WarningLog) -> None:
    """Give one caveclient service's session a default timeout and the Warning hook."""
    session = getattr(service, "session", None)
    if session is None or getattr(session, "_cavern_ready", False):
        return
    plain_request = session.request

    def request(method, url, **kw):
        if kw.get("timeout") is None:
            kw["timeout"] = timeout
        return plain_request(method, url, **kw)

    def remember_warning(response, *_a, **_k):
        w = response.headers.get("Warning")
        if w:
            warnings.add(w)

    session.request = request
    session.hooks.setdefault("response", []).append(remember_warning)
    session._cavern_ready = True


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
