"""A small chunkedgraph (segmentation api v1) for root-id freshness checks.

Every root id is "latest" unless the server was given ``root_updates={old: [new, ...]}``:
then ``old`` stopped being a root at ``update_time`` and the new ids were created then.
Supervoxel -> root lookups use the *_supervoxel_id / *_root_id column pairs of the served
tables, followed through the updates. suggest_latest_roots works through get_leaves and
get_roots on synthetic chunk ids, so the first listed successor gets the most overlap.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
from flask import Flask, Response, jsonify, request

from tests.cave_server.app import json_error

CG_VERSION = "2.18.0"
PREFIX = "/segmentation/api/v1/table/<table_id>"


def _ids_from_json() -> tuple[list[int], dict]:
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        return [], {"error": "the request body is not valid JSON"}
    ids = body.get("node_ids", body.get("root_ids", []))
    try:
        return [int(i) for i in ids], {}
    except (TypeError, ValueError):
        return [], {"error": "node ids must be integers"}


def _time_arg(name: str):
    value = request.args.get(name)
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(float(value), timezone.utc)
    except ValueError:
        return None


def register(app: Flask, state):
    cg = state.chunkedgraph

    @app.get("/segmentation/api/versions")
    def cg_api_versions():
        return jsonify([0, 1])

    @app.get("/segmentation/api/version")
    def cg_version():
        return jsonify(CG_VERSION)

    @app.get("/segmentation/table/<table_id>/info")
    def cg_info(table_id):
        return jsonify({"app": {"supported_api_versions": [0, 1]}, "chunks_start_at_voxel_offset": True,
                        "data_dir": f"gs://cavern-test/{table_id}", "type": "segmentation",
                        "graph": {"chunk_size": [256, 256, 512], "n_layers": 6,
                                  "n_bits_for_layer_id": 8, "spatial_bit_masks": {}},
                        "scales": [{"resolution": [8, 8, 40], "size": [1, 1, 1],
                                    "voxel_offset": [0, 0, 0], "key": "8_8_40",
                                    "chunk_sizes": [[256, 256, 512]], "encoding": "raw"}],
                        "num_channels": 1, "data_type": "uint64", "mesh": "graphene_meshes"})

    @app.post(PREFIX + "/is_latest_roots")
    def is_latest_roots(table_id):
        ids, err = _ids_from_json()
        if err:
            return json_error(400, err["error"])
        when = _time_arg("timestamp")
        return jsonify({"is_latest": [cg.is_latest(i, when) for i in ids]})

    @app.post(PREFIX + "/root_timestamps")
    def root_timestamps(table_id):
        ids, err = _ids_from_json()
        if err:
            return json_error(400, err["error"])
        latest = request.args.get("latest", "False").lower() == "true"
        when = _time_arg("timestamp") or datetime.now(timezone.utc)
        return jsonify({"timestamp": [cg.root_time(i, latest, when).timestamp() for i in ids]})

    @app.get(PREFIX + "/past_id_mapping")
    def past_id_mapping(table_id):
        ids, err = _ids_from_json()
        if err:
            return json_error(400, err["error"])
        return jsonify({"past_id_map": {str(i): cg.past_ids(i) for i in ids},
                        "future_id_map": {str(o): cg.updates[o] for i in ids
                                          for o in cg.past_ids(i) if o in cg.updates}})

    @app.post(PREFIX + "/roots_binary")
    def roots_binary(table_id):
        svids = np.frombuffer(request.get_data(), dtype=np.uint64)
        when = _time_arg("timestamp")
        roots = np.array([cg.root_of(int(s), when) for s in svids], dtype=np.uint64)
        return Response(roots.tobytes(), content_type="application/octet-stream")

    @app.get(PREFIX + "/node/<int:root_id>/leaves")
    def leaves(table_id, root_id):
        return jsonify({"leaf_ids": [int(c) for c in cg.leaves(root_id)]})

    @app.post(PREFIX + "/lineage_graph_multiple")
    def lineage_graph(table_id):
        ids, err = _ids_from_json()
        if err:
            return json_error(400, err["error"])
        return jsonify(cg.lineage(ids))
