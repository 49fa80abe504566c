"""Bounded HTTP for caveclient's sessions: time-outs, a read deadline, a size limit, and
requests a cancelled worker can walk away from.

- ``requests`` has no default time-out, and its read time-out is per socket read: a
  server that sends one byte every few seconds never trips it. Every body is therefore
  read here in pieces (one socket read each) against a deadline for the whole body.
- A hostile or broken server can send a small gzip answer that inflates to gigabytes;
  bodies are decompressed piece by piece and reading stops at ``max_response_bytes``
  of DECOMPRESSED data, before it is all in memory.
- A blocking call cannot be interrupted from outside, so :func:`run_abandonable` runs it
  on a private daemon thread: the caller (a UI worker from a shared pool) returns as
  soon as the request is cancelled, and the abandoned call stops at its next read (the
  socket is shut down when it can be reached) or at its time-out.
"""
from __future__ import annotations

import socket
import threading
import time
import zlib
from dataclasses import dataclass

from models.errors import CancelledError, DataSourceError, NetworkError

DEFAULT_TIMEOUT = (10.0, 300.0)  # (connect, read) seconds
DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024**3  # decompressed bytes of one answer
DEFAULT_BODY_DEADLINE_S = 900.0  # for one whole answer body
_PIECE = 1 << 20  # at most this many decompressed bytes per read


@dataclass
class HttpLimits:
    """What bounds each request of one CaveSource (changed at run time by tests)."""
    timeout: tuple = DEFAULT_TIMEOUT
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    body_deadline_s: float = DEFAULT_BODY_DEADLINE_S
    server: str = "the CAVE server"


DEFAULT_LIMITS = HttpLimits()


class ResponseTooLarge(DataSourceError):
    """An answer bigger than the size limit (after decompression)."""


class _Holder:
    """The request a private thread is running, so a canceller can stop it."""

    def __init__(self):
        self.abandoned = threading.Event()
        self.response = None


_current = threading.local()  # .holder: the _Holder of this thread's request, if any


def _what(response) -> str:
    req = getattr(response, "request", None)
    url = str(getattr(req, "path_url", "") or getattr(response, "url", "") or "")
    path = url.split("?", 1)[0]  # never query arguments (they may hold a token)
    return f"the answer to {path}" if path else "an answer"


def _shutdown(response) -> None:
    """Close the socket under a response, so a read blocked on it returns at once."""
    raw = getattr(response, "raw", None)
    conn = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(conn, "sock", None)
    try:
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def read_body(response, limits: HttpLimits) -> None:
    """Read ``response``'s body now, within ``limits``, into ``response._content``.

    Raises NetworkError (deadline), ResponseTooLarge (size) or CancelledError (the
    request was abandoned); the connection is closed then, never put back in the pool."""
    raw = getattr(response, "raw", None)
    if raw is None or getattr(response, "_content_consumed", False) \
            or not hasattr(raw, "read1"):
        return
    import requests
    from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

    holder = getattr(_current, "holder", None)
    if holder is not None:
        holder.response = response
    start = time.monotonic()
    parts: list[bytes] = []
    size = 0
    encoding = (response.headers.get("Content-Encoding") or "").strip().lower()
    # gzip/deflate are inflated here, in bounded pieces: urllib3 inflates every gzip
    # member after the first at once (a 2 MiB answer of many members -> GiBs)
    inflater = _Inflater() if encoding in ("gzip", "x-gzip", "deflate") else None
    try:
        while True:
            if holder is not None and holder.abandoned.is_set():
                raise CancelledError()
            try:
                data = raw.read1(_PIECE, decode_content=inflater is None)
            except ProtocolError as exc:
                raise requests.exceptions.ChunkedEncodingError(exc) from None
            except DecodeError as exc:
                raise requests.exceptions.ContentDecodingError(exc) from None
            except ReadTimeoutError as exc:
                raise requests.exceptions.ConnectionError(exc) from None
            except SSLError as exc:
                raise requests.exceptions.SSLError(exc) from None
            except (OSError, ValueError):
                if holder is not None and holder.abandoned.is_set():
                    raise CancelledError() from None  # we shut the socket ourselves
                raise
            if not data:
                break
            for piece in (inflater.feed(data) if inflater is not None else (data,)):
                size += len(piece)
                if size > limits.max_response_bytes:
                    raise ResponseTooLarge(
                        f"{_what(response).capitalize()} from {limits.server} is larger than "
                        f"{_size(limits.max_response_bytes)} (after decompression), so "
                        "Cavern stopped reading it.",
                        hint="Narrow the query: add filters (a root id, a box, a value "
                             "range), select fewer columns or set a row limit.")
                parts.append(piece)
            if time.monotonic() - start > limits.body_deadline_s:
                raise NetworkError(
                    f"{_what(response).capitalize()} from {limits.server} came too slowly: "
                    f"{_size(size)} in {limits.body_deadline_s:g} s, so Cavern gave up on it.",
                    hint="The server or the network is very slow: try again later, or "
                         "narrow the query (filters, fewer columns, a row limit).")
    except BaseException:
        _shutdown(response)
        try:
            response.close()
        except Exception:  # closing a broken connection may fail too; it is dropped anyway
            pass
        raise
    response._content = b"".join(parts)
    response._content_consumed = True
    try:
        raw.release_conn()
    except Exception:  # the body is in hand; a connection not reused is harmless
        pass


class _Inflater:
    """gzip (any number of members) or zlib/raw deflate, inflated in pieces of at most
    _PIECE bytes, so the caller can stop at its limit before the next piece exists."""

    def __init__(self):
        self._d = zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib header
        self._started = False

    def feed(self, data: bytes):
        import requests
        buf = data
        while buf:
            try:
                piece = self._d.decompress(buf, _PIECE)
            except zlib.error as exc:
                if self._started:
                    raise requests.exceptions.ContentDecodingError(exc) from None
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate
                self._started = True
                continue
            self._started = True
            if piece:
                yield piece
            if self._d.eof:  # the next gzip member, if any, starts in unused_data
                buf = self._d.unused_data
                self._d = zlib.decompressobj(32 + zlib.MAX_WBITS)
            else:
                buf = self._d.unconsumed_tail


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def run_abandonable(job, cancel, poll_s: float = 0.02):
    """``job()`` on a private daemon thread; the caller waits for it or for ``cancel``.

    On cancel the caller raises CancelledError at once; the job is told to stop (its
    body read checks, its socket is shut down when reachable) and ends in the
    background, bounded by the session's time-outs. Its late answer is dropped."""
    holder = _Holder()
    box: dict = {}
    done = threading.Event()

    def target():
        _current.holder = holder
        try:
            box["value"] = job()
        except BaseException as exc:  # handed to the caller, who raises it
            box["error"] = exc
        finally:
            _current.holder = None
            done.set()

    thread = threading.Thread(target=target, name="cavern-cave-request", daemon=True)
    thread.start()
    while not done.wait(poll_s):
        if cancel.cancelled:
            holder.abandoned.set()
            if holder.response is not None:
                _shutdown(holder.response)
            raise CancelledError()
    if "error" in box:
        raise box["error"]
    return box["value"]
