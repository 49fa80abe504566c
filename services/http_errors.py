"""Turn requests/caveclient failures into typed errors a researcher can act on.

caveclient raises ``requests.HTTPError`` (with the response), ``requests`` connection
errors, its own ``AuthException``/``ServerIncompatibilityError`` and plain ValueErrors
for responses it cannot read. Each becomes one :mod:`models.errors` type whose message
says what failed, why and what to do. Messages never include a token or a full URL
with query arguments.
"""
from __future__ import annotations

import json

import requests

from models.errors import (AuthError, CavernError, DataSourceError, InvalidInputError,
                           NetworkError, NotFoundError, PermissionDeniedError)


def server_message(response) -> str:
    """The server's own explanation from a JSON or text body, shortened."""
    if response is None:
        return ""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        body = None
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "msg"):
            v = body.get(key)
            if isinstance(v, str) and v and v != "missing_tos":
                return v.strip()[:300]
            if isinstance(v, dict) and isinstance(v.get("message"), str):
                return v["message"].strip()[:300]
    try:
        text = response.text
    except Exception:  # a body that cannot even be decoded says nothing useful
        return ""
    text = (text or "").strip()
    if text.startswith("<"):  # an HTML error page: the status says more
        return ""
    return text.splitlines()[0][:300] if text else ""


def tos_url_of(response) -> str:
    """The terms-of-service form a 403 points to (CAVE's 'missing_tos' answer)."""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError, AttributeError):
        return ""
    if isinstance(body, dict):
        data = body.get("data")
        if isinstance(data, dict):
            return str(data.get("tos_form_url") or data.get("tos_url") or "")
        return str(body.get("tos_form_url") or "")
    return ""


def map_http_error(response, what: str, server: str) -> CavernError:
    status = getattr(response, "status_code", 0) or 0
    msg = server_message(response)
    said = f" The server said: {msg}" if msg else ""
    if status == 401:
        return AuthError(f"{server} rejected the token while {what}.{said}",
                         hint="The token is missing, wrong or expired: replace it "
                              "(File > Replace CAVE token…).")
    if status == 403:
        tos = tos_url_of(response)
        if tos:
            return PermissionDeniedError(
                f"You have not yet accepted the terms of service needed for {what}.",
                hint="Open the terms of service, accept them, then try again.", tos_url=tos)
        return PermissionDeniedError(f"Your account has no permission for {what}.{said}",
                                     hint="Ask the datastack's administrators for access.")
    if status == 404:
        return NotFoundError(f"Not found while {what}.{said}",
                             hint="Check the datastack, table and version names.")
    if status in (400, 422):
        return InvalidInputError(f"The server refused the request while {what}.{said}",
                                 hint="Check the filters, columns and limit.")
    if status == 429:
        return DataSourceError(f"The server is rate-limiting requests ({what}).",
                               hint="Wait a minute and try again.")
    if status >= 500:
        return DataSourceError(f"Server error {status} while {what}.{said}",
                               hint="The CAVE server has a problem: try again later.")
    return DataSourceError(f"Unexpected answer {status} while {what}.{said}")


def map_exception(exc: BaseException, what: str, server: str) -> CavernError:
    """One typed error for anything raised while talking to ``server``."""
    if isinstance(exc, CavernError):
        return exc
    from caveclient.base import AuthException, ServerIncompatibilityError

    if isinstance(exc, requests.HTTPError):
        return map_http_error(exc.response, what, server)
    if isinstance(exc, requests.exceptions.RetryError):
        # urllib3 gave up after retrying 502/503/504 answers
        status = _retry_status(exc)
        return DataSourceError(
            f"{server} kept failing{f' (error {status})' if status else ''} while {what}.",
            hint="The server is overloaded or down: try again later.")
    if isinstance(exc, requests.exceptions.InvalidJSONError):
        return DataSourceError(f"The server's answer could not be read while {what} "
                               "(it is not valid JSON).",
                               hint="The server may run an incompatible version of CAVE.")
    if isinstance(exc, requests.exceptions.Timeout) or (
            isinstance(exc, requests.exceptions.ConnectionError)
            and "ReadTimeoutError" in repr(exc)):  # a read time-out after urllib3's retries
        return NetworkError(f"{server} did not answer in time while {what}.",
                            hint="The server may be busy, or the query too large: try again, "
                                 "or add filters or a row limit.")
    if isinstance(exc, requests.exceptions.SSLError):
        return NetworkError(f"A secure connection to {server} failed while {what}.",
                            hint="Check the address and your network (a proxy may interfere).")
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ConnectionError)):
        return NetworkError(_connection_text(exc, server, what),
                            hint="Check your network connection and the server address.")
    if isinstance(exc, AuthException):
        return AuthError(f"{server} asked for a sign-in while {what}: no valid token was sent.",
                         hint="Set a token for this server (File > Replace CAVE token…).")
    if isinstance(exc, ServerIncompatibilityError):
        return DataSourceError(f"The server is too old for {what}: {exc}",
                               hint="Ask the server's administrators to update it.")
    if isinstance(exc, requests.exceptions.InvalidURL) or \
            isinstance(exc, requests.exceptions.MissingSchema):
        return InvalidInputError(f"'{server}' is not a valid server address.", field="server")
    if isinstance(exc, requests.exceptions.RequestException):
        return NetworkError(f"The request to {server} failed while {what}: {type(exc).__name__}.")
    if isinstance(exc, (ValueError, KeyError, TypeError, IndexError, AttributeError)) \
            or _is_arrow_error(exc):
        return DataSourceError(
            f"The server's answer could not be read while {what} "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}).",
            hint="The server may run an incompatible version of CAVE.")
    return DataSourceError(f"Unexpected failure while {what}: {type(exc).__name__}.")


def _connection_text(exc: BaseException, server: str, what: str) -> str:
    text = repr(exc)
    if any(s in text for s in ("NameResolutionError", "Name or service not known",
                               "nodename nor servname", "getaddrinfo failed",
                               "Temporary failure in name resolution", "No address associated")):
        return f"The server name in {server} cannot be found (DNS) while {what}."
    if "refused" in text.lower():
        return f"{server} refused the connection while {what}: the server is not running there."
    if any(s in text for s in ("RemoteDisconnected", "Connection aborted", "reset by peer",
                               "IncompleteRead", "ProtocolError", "InvalidChunkLength")):
        return f"The connection to {server} dropped while {what}."
    if "unreachable" in text.lower():
        return f"There is no network route to {server} ({what})."
    return f"Cannot reach {server} while {what}."


def _retry_status(exc) -> str:
    import re
    m = re.search(r"too many (\d{3}) error", str(exc))
    return m.group(1) if m else ""


def _is_arrow_error(exc) -> bool:
    try:
        import pyarrow as pa
        return isinstance(exc, pa.ArrowException)
    except ImportError:
        return False
