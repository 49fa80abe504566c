"""EMAnnotationSchemas routes: JSON schemas derived from the served tables' columns.

caveclient's table manager (client.materialize.tables) reads these to learn which columns
a table has; a position ``X_position`` with an ``X_root_id`` column is a BoundSpatialPoint
``X``, a position alone an (unbound) SpatialPoint.
"""
from __future__ import annotations

from flask import Flask, jsonify, request

from tests.cave_server.app import json_error

_TYPES = {"i": "integer", "u": "integer", "f": "float", "b": "boolean"}
_POINTS = {
    "BoundSpatialPoint": {"type": "object", "properties": {
        "position": {"type": "array", "items": {"type": "number"}},
        "root_id": {"type": "integer"}, "supervoxel_id": {"type": "integer"}}},
    "SpatialPoint": {"type": "object", "properties": {
        "position": {"type": "array", "items": {"type": "number"}}}},
}


def _definition(schema_name: str, tables) -> dict:
    props: dict = {}
    for t in tables:
        df = t.frame()
        bound = {p[: -len("_position")] for p in t.position_columns
                 if p[: -len("_position")] + "_root_id" in df.columns}
        for p in t.position_columns:
            base = p[: -len("_position")]
            kind = "BoundSpatialPoint" if base in bound else "SpatialPoint"
            props[base] = {"$ref": f"#/definitions/{kind}"}
        for col in df.columns:
            if col == "valid":
                continue  # bookkeeping column of every annotation, not in the schemas
            if col[:-2] in t.position_columns or any(
                    col in (f"{b}_root_id", f"{b}_supervoxel_id") for b in bound):
                continue
            props.setdefault(col, {"type": _TYPES.get(df[col].dtype.kind, "string")})
    title = "".join(w.capitalize() for w in schema_name.split("_")) or "Annotation"
    return {"$schema": "http://json-schema.org/draft-07/schema#",
            "$ref": f"#/definitions/{title}",
            "definitions": {title: {"type": "object", "properties": props,
                                    "required": sorted(props)[:1]}, **_POINTS}}


def register(app: Flask, state):
    def by_schema() -> dict:
        out: dict = {}
        for ds in state.datastacks.values():
            for v in ds.versions.values():
                for t in v.by_kind("table").values():
                    name = t.meta.get("schema")
                    if name:
                        out.setdefault(name, []).append(t)
        return out

    @app.get("/schema/versions")
    def schema_versions():
        return jsonify([1, 2])

    @app.get("/schema/api/v2/type")
    def schema_names():
        return jsonify(sorted(by_schema()))

    @app.get("/schema/api/v2/type/<name>")
    def schema_one(name):
        tables = by_schema().get(name)
        if tables is None:
            return json_error(404, f"schema '{name}' not found")
        return jsonify(_definition(name, tables))

    @app.get("/schema/api/v2/types_all")
    def schema_all():
        return jsonify({n: _definition(n, ts) for n, ts in sorted(by_schema().items())})

    @app.post("/schema/api/v2/types")
    def schema_multi():
        wanted = [s for s in request.args.get("schema_names", "").split(",") if s]
        known = by_schema()
        return jsonify({n: _definition(n, known[n]) for n in wanted if n in known})
