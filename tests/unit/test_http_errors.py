"""Error mapping of requests/caveclient failures, with hand-built responses (no network)."""
import json

import requests
from caveclient.base import AuthException, ServerIncompatibilityError
from urllib3.exceptions import MaxRetryError, NameResolutionError, ReadTimeoutError

from models.errors import (AuthError, DataSourceError, InvalidInputError, NetworkError,
                           NotFoundError, PermissionDeniedError)
from services.http_errors import map_exception, server_message
from services.cave.cave_schema import columns_from_schema, columns_from_view_schema

SERVER = "https://cave.example.org"


def _response(status, body=b"", content_type="application/json"):
    r = requests.models.Response()
    r.status_code = status
    r._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    r.headers["Content-Type"] = content_type
    r.url = SERVER + "/materialize/api/v3/datastack/x/version/1/table/t/query"
    return r


def _http(status, body=b"", content_type="application/json"):
    r = _response(status, body, content_type)
    return requests.HTTPError(f"{status} error", response=r)


def test_http_statuses_map_to_typed_errors():
    err = map_exception(_http(401, b"Unauthorized - Token Invalid", "text/html"), "x", SERVER)
    assert isinstance(err, AuthError) and "replace it" in str(err)
    tos = {"error": "missing_tos", "message": "accept",
           "data": {"tos_form_url": "https://t.org/tos/1/accept"}}
    err = map_exception(_http(403, tos), "reading", SERVER)
    assert isinstance(err, PermissionDeniedError) and err.tos_url == "https://t.org/tos/1/accept"
    err = map_exception(_http(403, {"message": "no access to group"}), "reading", SERVER)
    assert isinstance(err, PermissionDeniedError) and not err.tos_url
    assert "no access to group" in str(err)
    err = map_exception(_http(404, {"message": "version 117 has expired"}), "q", SERVER)
    assert isinstance(err, NotFoundError) and "version 117 has expired" in str(err)
    assert isinstance(map_exception(_http(400, {"message": "bad column"}), "q", SERVER),
                      InvalidInputError)
    err = map_exception(_http(502, b"<html>Bad gateway</html>", "text/html"), "q", SERVER)
    assert isinstance(err, DataSourceError) and "502" in str(err) and "<html>" not in str(err)


def test_connection_failures_map_to_network_errors():
    dns = requests.exceptions.ConnectionError(MaxRetryError(
        None, "/", NameResolutionError("cave.example.org", None, "Name or service not known")))
    assert "DNS" in str(map_exception(dns, "listing", SERVER))
    refused = requests.exceptions.ConnectionError("[Errno 111] Connection refused")
    err = map_exception(refused, "listing", SERVER)
    assert isinstance(err, NetworkError) and "refused" in str(err)
    read = requests.exceptions.ConnectionError(MaxRetryError(
        None, "/", ReadTimeoutError(None, "/", "Read timed out.")))
    assert "did not answer in time" in str(map_exception(read, "q", SERVER))
    assert isinstance(map_exception(requests.exceptions.ReadTimeout(), "q", SERVER), NetworkError)
    dropped = requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")
    assert "dropped" in str(map_exception(dropped, "q", SERVER))
    retry = requests.exceptions.RetryError("Max retries exceeded (too many 503 error responses)")
    err = map_exception(retry, "q", SERVER)
    assert isinstance(err, DataSourceError) and "503" in str(err)


def test_caveclient_and_parse_failures():
    assert isinstance(map_exception(AuthException("login"), "q", SERVER), AuthError)
    err = map_exception(ServerIncompatibilityError("needs >=5.13.0"), "querying", SERVER)
    assert isinstance(err, DataSourceError) and "too old" in str(err)
    err = map_exception(ValueError("Unknown response type: text/html"), "q", SERVER)
    assert isinstance(err, DataSourceError) and "could not be read" in str(err)
    err = map_exception(requests.exceptions.JSONDecodeError("x", "doc", 0), "q", SERVER)
    assert isinstance(err, DataSourceError)


def test_server_message_prefers_json_message():
    assert server_message(_response(500, {"message": "db down"})) == "db down"
    assert server_message(_response(500, b"plain text\nmore", "text/plain")) == "plain text"
    assert server_message(None) == ""


def test_schema_columns():
    nucleus = {"$ref": "#/definitions/Nuc", "definitions": {"Nuc": {"properties": {
        "pt": {"$ref": "#/definitions/BoundSpatialPoint"}, "volume": {"type": "number"},
        "valid": {"type": ["boolean", "null"]}, "bb_start": {"$ref": "#/definitions/SpatialPoint"}}}}}
    kinds = {c.name: c.kind for c in columns_from_schema(nucleus)}
    assert kinds["pt_position"] == "position" and kinds["pt_root_id"] == "int"
    assert kinds["volume"] == "float" and kinds["valid"] == "bool"
    assert kinds["bb_start_position"] == "position" and "bb_start_root_id" not in kinds
    view = columns_from_view_schema({"n_syn": {"type": "integer"}, "pt_position":
                                     {"type": "SpatialPoint"}, "sum_size": {"type": "float"}})
    assert [c.kind for c in view] == ["int", "position", "float"]
