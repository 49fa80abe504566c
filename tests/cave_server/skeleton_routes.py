"""The skeleton service (caveclient 8.2.1's ``skeletonservice_endpoints_v1``) and the
chunkedgraph's ``valid_nodes`` check that a skeleton request makes first.

Skeletons are the served datastack's own files, ``<folder>/skeletons/<root id>.json`` or
``.json.gz`` (the service's dict: vertices nm, edges, root, compartment, radius, meta), as
the bundled minnie65 sample holds its basket cell. The service reports version
``SKELETON_SERVICE_VERSION`` (>= 0.13.7, so caveclient asks the async endpoint, and >= 0.6.0,
so the dict travels as "flatdict": gzip-compressed JSON with the vertex properties at the top
level). Formats: flatdict, jsoncompressed (gzip, properties under "vertex_properties") and
json (the same, not compressed); SWC and precomputed are refused with a 400 that says so.

Answers: an unknown datastack or a root id with no file is a 404 with a JSON message, a
root id the chunkedgraph does not hold a 400 (the real service cannot skeletonize it), a
skeleton version this server does not hold a 400. Skeletons are never generated here.
"""
from __future__ import annotations

import gzip
import json

from flask import Flask, Response, jsonify, request

from tests.cave_server.app import json_error

SKELETON_SERVICE_VERSION = "0.22.3"  # >= 0.21 (refusal list), < 0.23.9 (no fetch_skeletons)
SKELETON_VERSIONS = [-1, 0, 1, 2, 3, 4]  # what the real service lists
HELD_VERSION = 4  # the files are v4 dicts (sk_dict_structure_version 4)
DICT_FORMATS = ("flatdict", "jsoncompressed", "json")
API = "/skeletoncache/api/v1/<ds>"


def _read_skeleton(ds, root_id: int) -> dict | None:
    """The datastack's skeleton file of ``root_id`` as the service's dict, or None."""
    if ds.folder is None:
        return None
    folder = ds.folder / str(ds.manifest.get("skeletons") or "skeletons")
    for path in (folder / f"{root_id}.json", folder / f"{root_id}.json.gz"):
        if path.is_file():
            raw = path.read_bytes()
            d = json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
            d.pop("cavern", None)  # the sample's own provenance note, not the service's
            return d
    return None


def _encode(d: dict, fmt: str) -> Response:
    if fmt == "flatdict":
        body = {k: v for k, v in d.items() if k != "vertex_properties"}
        body.update(d.get("vertex_properties") or {})
        return Response(gzip.compress(json.dumps(body).encode()),
                        content_type="application/octet-stream")
    props = {k: d[k] for k in ("radius", "compartment") if k in d}
    body = {k: v for k, v in d.items() if k not in props}
    body["vertex_properties"] = props
    text = json.dumps(body)
    if fmt == "jsoncompressed":
        return Response(gzip.compress(text.encode()), content_type="application/octet-stream")
    return Response(text, content_type="application/json")


def _known(state, node: int) -> bool:
    cg = state.chunkedgraph
    return node in cg.known_roots or node in cg.svid_roots


def register(app: Flask, state):
    def datastack(name):
        return state.datastacks.get(name)

    @app.get("/skeletoncache/api/version")
    def skeleton_service_version():
        return jsonify(SKELETON_SERVICE_VERSION)

    @app.get("/skeletoncache/api/versions")
    def skeleton_versions():
        return jsonify(SKELETON_VERSIONS)

    def precomputed_info(ds_name, skeleton_version):
        if datastack(ds_name) is None:
            return json_error(404, f"datastack '{ds_name}' not found")
        return jsonify({
            "@type": "neuroglancer_skeletons", "spatial_index": None,
            "transform": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0],
            "vertex_attributes": [
                {"id": "radius", "data_type": "float32", "num_components": 1},
                {"id": "compartment", "data_type": "uint8", "num_components": 1}],
            "skeleton_version": skeleton_version})

    @app.get(API + "/precomputed/skeleton/info")
    def skeleton_info(ds):
        return precomputed_info(ds, HELD_VERSION)

    @app.get(API + "/precomputed/skeleton/<int(signed=True):skv>/info")
    def skeleton_info_versioned(ds, skv):
        return precomputed_info(ds, skv)

    def get_skeleton(ds_name, skv, root_id, fmt):
        ds = datastack(ds_name)
        if ds is None:
            return json_error(404, f"datastack '{ds_name}' not found")
        if skv not in (HELD_VERSION, -1):
            return json_error(400, f"skeleton version {skv} is not held by this server "
                                   f"(only v{HELD_VERSION})")
        if fmt not in DICT_FORMATS:
            return json_error(400, f"output format '{fmt}' is not served here; use one of "
                                   f"{', '.join(DICT_FORMATS)}")
        if not _known(state, root_id):
            return json_error(400, f"Invalid root id: {root_id} is not in the chunkedgraph "
                                   f"of {ds_name}")
        d = _read_skeleton(ds, root_id)
        if d is None:
            return json_error(404, f"no skeleton of root id {root_id} in {ds_name}")
        return _encode(d, fmt)

    @app.get(API + "/precomputed/skeleton/<int(signed=True):skv>/<int:root_id>/<fmt>")
    def skeleton_sync(ds, skv, root_id, fmt):
        return get_skeleton(ds, skv, root_id, fmt)

    @app.get(API + "/async/get_skeleton/<int(signed=True):skv>/<int:root_id>/<fmt>")
    def skeleton_async(ds, skv, root_id, fmt):
        return get_skeleton(ds, skv, root_id, fmt)

    def exist(ds_name, root_ids):
        ds = datastack(ds_name)
        if ds is None:
            return json_error(404, f"datastack '{ds_name}' not found")
        answer = {str(r): _read_skeleton(ds, r) is not None for r in root_ids}
        return jsonify(answer if len(answer) != 1 else next(iter(answer.values())))

    @app.get(API + "/precomputed/skeleton/exists/<int(signed=True):skv>/<root_ids>")
    def skeletons_exist_get(ds, skv, root_ids):
        try:
            ids = [int(r) for r in root_ids.split(",") if r]
        except ValueError:
            return json_error(400, "root ids must be integers")
        return exist(ds, ids)

    @app.post(API + "/precomputed/skeleton/exists")
    def skeletons_exist_post(ds):
        try:
            ids = [int(r) for r in (request.get_json(silent=True) or {}).get("root_ids", [])]
        except (TypeError, ValueError):
            return json_error(400, "root ids must be integers")
        return exist(ds, ids)

    @app.get(API + "/precomputed/skeleton/get_refusal_list")
    def refusal_list(ds):
        if datastack(ds) is None:
            return json_error(404, f"datastack '{ds}' not found")
        return Response(gzip.compress(b""), content_type="application/octet-stream")

    # the chunkedgraph check caveclient's get_skeleton makes before asking for a skeleton
    @app.get("/segmentation/api/v1/table/<table_id>/valid_nodes")
    def valid_nodes(table_id):
        try:
            body = json.loads(request.get_data() or b"{}")
            ids = [int(i) for i in body.get("node_ids", [])]
        except (ValueError, TypeError, AttributeError):
            return json_error(400, "node_ids must be a JSON list of integers")
        return jsonify({"valid_roots": [i for i in ids if _known(state, i)]})
