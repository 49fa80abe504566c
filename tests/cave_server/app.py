"""The Flask app: CAVE's URL layout under one host, with auth, faults and a request log.

Routes mirror caveclient 8.2.1's endpoints.py (info v2, materialize v2/v3, segmentation v1,
nglstate v1, auth v1, skeletoncache v1); materialization routes live in materialize_routes.py,
the chunkedgraph ones in chunkedgraph_routes.py and the skeleton service in skeleton_routes.py.
"""
from __future__ import annotations

import json
import socket
import time

from flask import Flask, Response, jsonify, request

from tests.cave_server.faults import LoggedRequest

INFO_VERSION = "4.5.0"  # >= 4.3.1 so caveclient allows image_mirror
JSON_VERSION = "0.5.0"  # >= 0.4.0 so property uploads are allowed
PUBLIC_PATHS = ("/materialize/api/versions", "/segmentation/api/versions", "/schema/versions")


def json_error(status: int, message: str) -> Response:
    resp = jsonify({"message": message, "code": status})
    resp.status_code = status
    return resp


def create_app(state) -> Flask:
    app = Flask("cave_test_server")
    app.config["MAX_CONTENT_LENGTH"] = 512 * 1024 * 1024

    @app.before_request
    def _gate():
        path = request.path
        state.faults.log(LoggedRequest(request.method, path,
                                       request.query_string.decode("latin-1"), request.url,
                                       dict(request.headers),
                                       body=request.get_data(cache=True)))
        fault = state.faults.take(request.method, path,
                                  kinds={k for k in _EARLY_FAULTS})
        if fault is not None:
            answer = _EARLY_FAULTS[fault.kind](state, fault)
            if answer is not None:
                return answer
        if path.startswith(PUBLIC_PATHS):
            return None  # version negotiation: the real servers answer it without a token
        denied = _check_token(state)
        if denied is not None:
            return denied
        return _check_tos(state, path)

    @app.after_request
    def _record(resp):
        fault = state.faults.take(request.method, request.path, kinds={"trickle"})
        if fault is not None:
            resp = _trickle(resp, fault)
        with state.faults._lock:
            for entry in reversed(state.faults.requests):
                if entry.url == request.url and entry.status is None:
                    entry.status = resp.status_code
                    break
        return resp

    @app.errorhandler(404)
    def _not_found(_exc):
        return json_error(404, f"{request.path} not found on this server")

    @app.errorhandler(405)
    def _bad_method(_exc):
        return json_error(405, f"{request.method} is not allowed on {request.path}")

    _info_routes(app, state)
    _auth_routes(app, state)
    _state_routes(app, state)
    from tests.cave_server.materialize_routes import register as register_materialize
    from tests.cave_server.chunkedgraph_routes import register as register_cg
    from tests.cave_server.schema_routes import register as register_schema
    from tests.cave_server.skeleton_routes import register as register_skeleton
    register_materialize(app, state)
    register_cg(app, state)
    register_schema(app, state)
    register_skeleton(app, state)
    return app


def _token_of_request() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer "):].strip() or None
    return request.cookies.get("middle_auth_token") or request.args.get("middle_auth_token")


AUTHORIZE_URI = "https://global.daf-apis.com/sticky_auth/api/v1/authorize"


def auth_error(status: int, code: str, message: str, data: dict | None = None,
               www_authenticate: str | None = None) -> Response:
    """middle_auth_client's API error: {"error": code, "message": ..., "data": ...}."""
    body = {"error": code, "message": message}
    if data is not None:
        body["data"] = data
    resp = Response(json.dumps(body), status=status, content_type="application/json")
    if www_authenticate:
        resp.headers["WWW-Authenticate"] = www_authenticate
    return resp


def invalid_token_response() -> Response:
    return auth_error(401, "invalid_token", "Invalid/Expired Token",
                      www_authenticate=f'Bearer realm="{AUTHORIZE_URI}", error="invalid_token", '
                                       'error_description="Invalid/Expired Token"')


def no_token_response() -> Response:
    # Programmatic access (caveclient sends Authorization or is non-browser) gets a 401;
    # a browser would be redirected (302) to /authorize instead, which is not imitated.
    return auth_error(401, "no_token", "Unauthorized - No Token Provided",
                      www_authenticate=f'Bearer realm="{AUTHORIZE_URI}"')


def _check_token(state) -> Response | None:
    token = _token_of_request()
    if token is None:
        return no_token_response()
    if token not in state.tokens:
        return invalid_token_response()
    return None


def missing_tos_response(datastack: str, tos_url: str) -> Response:
    # caveclient's _raise_for_status looks for exactly this: status 403, content-type
    # application/json, {"error": "missing_tos", "data": {"tos_form_url": ...}}.
    return auth_error(403, "missing_tos", "Need to accept Terms of Service to access resource.",
                      data={"tos_id": 1, "tos_name": f"{datastack} terms of service",
                            "tos_form_url": tos_url})


def missing_permission_response(datastack: str, permission: str = "view") -> Response:
    return auth_error(403, "missing_permission",
                      f"Missing permission: {permission} for dataset {datastack}")


def _datastack_of(path: str) -> str | None:
    for marker in ("/datastack/full/", "/datastack/"):
        if marker in path:
            return path.split(marker, 1)[1].split("/", 1)[0] or None
    return None


def _check_tos(state, path: str) -> Response | None:
    name = _datastack_of(path)
    if name is None:
        return None
    if name in state.tos_required:
        return missing_tos_response(name, state.tos_required[name])
    if name in state.no_permission:
        return missing_permission_response(name)
    return None


def _fault_status(state, fault):
    status = int(fault.params.get("status", 500))
    return json_error(status, fault.params.get("message", f"injected HTTP {status}"))


def _fault_unauthorized(state, fault):
    return invalid_token_response()


def _fault_tos(state, fault):
    return missing_tos_response(fault.params.get("datastack", "this datastack"),
                                fault.params.get("tos_url", state.default_tos_url))


def _fault_permission(state, fault):
    return missing_permission_response(fault.params.get("datastack", "this datastack"))


def _fault_not_found(state, fault):
    return json_error(404, fault.params.get("message", f"{request.path} not found"))


def _fault_server_error(state, fault):
    return json_error(500, fault.params.get("message", "Internal Server Error (injected)"))


def _fault_slow(state, fault):
    time.sleep(float(fault.params.get("delay", 1.0)))  # server side: simulates a slow CAVE
    return None


def _fault_drop(state, fault):
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    state.dropped += 1
    return Response(b"", status=200)  # never reaches the client: the socket is closed


def _fault_malformed_json(state, fault):
    return Response(b'{"versions": [1, 2,', status=200, content_type="application/json")


def _fault_garbage_arrow(state, fault):
    return Response(b"ARROW1\x00\x00this is not an arrow stream", status=200,
                    content_type="data.arrow")


def _trickle(resp, fault):
    """The same answer, sent a few bytes at a time with pauses (a server that keeps the
    connection alive but never finishes: each read gets data, so read time-outs never
    fire)."""
    data = resp.get_data()
    step = max(1, int(fault.params.get("step", 1)))
    interval = float(fault.params.get("interval", 1.0))

    def pieces():
        for i in range(0, len(data), step):
            time.sleep(interval)
            yield data[i:i + step]
    out = Response(pieces(), status=resp.status_code, headers=dict(resp.headers),
                   direct_passthrough=True)
    out.headers["Content-Length"] = str(len(data))
    return out


_BOMB_MEMBER = None


def _fault_gzip_bomb(state, fault):
    """A gzip answer of `size` zero bytes: gzip members of 1 MiB each, concatenated (a
    valid gzip stream), about 1 KiB per MiB on the wire."""
    import gzip
    global _BOMB_MEMBER
    if _BOMB_MEMBER is None:
        _BOMB_MEMBER = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
    size = int(fault.params.get("size", 2 * 1024**3))
    members = max(1, size >> 20)
    body = _BOMB_MEMBER * members
    return Response(body, status=200, content_type=fault.params.get("content_type", "data.arrow"),
                    headers={"Content-Encoding": "gzip"})


def _fault_json_body(state, fault):
    return Response(json.dumps(fault.params.get("body")), status=200,
                    content_type="application/json")


_EARLY_FAULTS = {
    "status": _fault_status, "unauthorized": _fault_unauthorized, "missing_tos": _fault_tos,
    "missing_permission": _fault_permission,
    "not_found": _fault_not_found, "server_error": _fault_server_error, "slow": _fault_slow,
    "drop": _fault_drop, "malformed_json": _fault_malformed_json,
    "garbage_arrow": _fault_garbage_arrow, "gzip_bomb": _fault_gzip_bomb,
    "json_body": _fault_json_body,
}


def _info_routes(app: Flask, state):
    @app.get("/info/version")
    def info_version():
        return jsonify(INFO_VERSION)

    @app.get("/info/api/v2/datastacks")
    def datastacks():
        return jsonify(sorted(state.datastacks))

    @app.get("/info/api/v2/datastack/full/<name>")
    def datastack_info(name):
        ds = state.datastacks.get(name)
        if ds is None:
            return json_error(404, f"datastack '{name}' not found")
        return jsonify(ds.info_document(state.url))

    @app.get("/info/api/v2/aligned_volume")
    def aligned_volumes():
        return jsonify([ds.info_document(state.url)["aligned_volume"]
                        for ds in state.datastacks.values()])

    @app.get("/info/api/v2/aligned_volume/<av_name>")
    def aligned_volume(av_name):
        for ds in state.datastacks.values():
            doc = ds.info_document(state.url)["aligned_volume"]
            if doc["name"] == av_name:
                return jsonify(doc)
        return json_error(404, f"aligned volume '{av_name}' not found")

    @app.get("/info/api/v2/aligned_volume/<av_name>/datastacks")
    def av_datastacks(av_name):
        return jsonify([n for n, ds in state.datastacks.items()
                        if ds.info_document(state.url)["aligned_volume"]["name"] == av_name])


def _auth_routes(app: Flask, state):
    def me():
        return {"id": 1, "name": "Cavern Test User", "email": "tester@example.org",
                "admin": False, "groups": ["default"],
                "permissions_v2": {n: ["view"] for n in state.datastacks
                                   if n not in state.no_permission},
                "missing_tos": [{"tos_id": 1, "tos_name": n, "dataset_name": n}
                                for n in state.tos_required]}

    @app.get("/auth/api/v1/user/cache")
    def user_cache():
        return jsonify(me())

    @app.get("/auth/api/v1/user")
    def users():
        ids = [s for s in request.args.get("id", "1").split(",") if s]
        return jsonify([dict(me(), id=int(i)) for i in ids if i.isdigit()])

    @app.get("/auth/api/v1/user/token")
    def tokens():
        return jsonify([{"id": i, "user_id": 1, "token": "(hidden)"}
                        for i, _ in enumerate(sorted(state.tokens), start=1)])


def _state_routes(app: Flask, state):
    @app.get("/nglstate/api/v1/version")
    def ngl_version():
        return jsonify(JSON_VERSION)

    @app.post("/nglstate/api/v1/post")
    def post_state():
        try:
            doc = json.loads(request.get_data() or b"null")
        except ValueError:
            return json_error(400, "the state is not valid JSON")
        if not isinstance(doc, dict):
            return json_error(400, "the state must be a JSON object")
        with state.lock:
            state_id = state.next_state_id
            state.next_state_id += 1
            state.ngl_states[state_id] = doc
        # The real service answers with the URL of the stored state; caveclient takes the
        # trailing number as the id.
        return jsonify(f"{state.url}/nglstate/api/v1/{state_id}")

    @app.get("/nglstate/api/v1/<int:state_id>")
    @app.get("/nglstate/api/v1/raw/<int:state_id>")
    def get_state(state_id):
        doc = state.ngl_states.get(state_id)
        if doc is None:
            return json_error(404, f"state {state_id} not found")
        return Response(json.dumps(doc), content_type="application/json")
