"""Materialization engine routes (caveclient's materialize v2 and v3 endpoints)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from flask import Flask, Response, jsonify, request

from tests.cave_server.app import json_error
from tests.cave_server.datastore import CREATED, ServedTable, cave_time, to_arrow_stream
from tests.cave_server.query_engine import QueryAnswer, join_positions, run_join, run_simple
from tests.cave_server.query_filters import EngineError, NotFound, QueryError

API = "/materialize/api/<any(v2,v3):api>/datastack/<ds>"


class _Abort(Exception):
    def __init__(self, response):
        self.response = response


def _flag(name: str, default: bool = False) -> bool:
    value = request.args.get(name)
    return default if value is None else value.lower() in ("true", "1", "yes")


def register(app: Flask, state):
    @app.errorhandler(_Abort)
    def _aborted(exc):
        return exc.response

    def need_v3(api):
        if api == "v3" and 3 not in state.mat_api_versions:
            raise _Abort(json_error(404, f"{request.path} not found on this server"))

    def datastack(name):
        ds = state.datastacks.get(name)
        if ds is None:
            raise _Abort(json_error(404, f"datastack '{name}' not found"))
        return ds

    def version(ds, num, for_data=True):
        v = ds.versions.get(num)
        if v is None:
            raise _Abort(json_error(404, f"version {num} not found for datastack '{ds.name}'"))
        if for_data and num in state.expired_versions.get(ds.name, set()):
            raise _Abort(json_error(404, f"version {num} of '{ds.name}' has expired"))
        return v

    def table(v, name, kind="table"):
        t = v.tables.get(name)
        if t is None or t.kind != kind:
            raise _Abort(json_error(404, f"{kind} '{name}' not found in version {v.version}"))
        return t

    def version_meta(ds, v):
        expired = v.version in state.expired_versions.get(ds.name, set())
        expires = (v.timestamp + timedelta(days=3650) if not expired
                   else datetime(2020, 1, 1) + timedelta(days=v.version % 365))
        ids = sorted(ds.versions)
        return {"version": v.version, "time_stamp": cave_time(v.timestamp),
                "expires_on": cave_time(expires), "valid": not expired,
                "id": ids.index(v.version) + 1, "datastack": ds.name,
                "status": "EXPIRED" if expired else "AVAILABLE", "is_merged": True}

    def listed_versions(ds):
        include_expired = _flag("expired")
        gone = state.expired_versions.get(ds.name, set())
        return [n for n in sorted(ds.versions) if include_expired or n not in gone]

    def table_meta(ds, v, t: ServedTable, flat=False):
        m = t.meta
        ref = m.get("reference_table") or ""
        if ref and ref not in v.tables:
            ref = ""  # caveclient would try to join a reference table this version lacks
        out = {"aligned_volume": f"{ds.name}_aligned_volume",
               "id": sorted(v.tables).index(t.name) + 1, "table_name": t.name,
               "annotation_table": t.name, "schema": m.get("schema", ""),
               "schema_type": m.get("schema", ""), "valid": True, "created": CREATED,
               "last_modified": CREATED, "description": m.get("description", ""),
               "notice_text": m.get("notice_text") or None, "reference_table": ref,
               "flat_segmentation_source": "", "segmentation_source": "", "user_id": "0",
               "write_permission": "PRIVATE", "read_permission": "PUBLIC"}
        for i, axis in enumerate("xyz"):
            out[f"voxel_resolution_{axis}"] = float(t.voxel_resolution[i])
        return out

    def view_meta(ds, t: ServedTable):
        out = {"id": sorted(ds.newest().tables).index(t.name) + 1 if t.name in
               ds.newest().tables else 0, "datastack_name": ds.name,
               "description": t.meta.get("description", ""),
               "notice_text": t.meta.get("notice_text") or None, "live_compatible": False,
               "voxel_resolution": [float(r) for r in t.voxel_resolution]}
        for i, axis in enumerate("xyz"):
            out[f"voxel_resolution_{axis}"] = float(t.voxel_resolution[i])
        return out

    @app.get("/materialize/api/versions")
    def api_versions():
        return jsonify(sorted(state.mat_api_versions))

    @app.get("/materialize/version")
    def server_version():
        return jsonify(state.mat_version)

    @app.get(API + "/versions")
    def versions(api, ds):
        return jsonify(listed_versions(datastack(ds)))

    @app.get(API + "/metadata")
    def versions_metadata(api, ds):
        d = datastack(ds)
        return jsonify([version_meta(d, d.versions[n]) for n in listed_versions(d)])

    @app.get(API + "/version/<int:num>")
    def one_version_metadata(api, ds, num):
        d = datastack(ds)
        return jsonify(version_meta(d, version(d, num, for_data=False)))

    @app.get(API + "/version/<int:num>/tables")
    def tables(api, ds, num):
        return jsonify(sorted(version(datastack(ds), num).by_kind("table")))

    @app.get(API + "/version/<int:num>/tables/metadata")
    def all_tables_metadata(api, ds, num):
        need_v3(api)
        d = datastack(ds)
        v = version(d, num)
        return jsonify([table_meta(d, v, t) for _, t in sorted(v.by_kind("table").items())])

    @app.get(API + "/version/<int:num>/table/<name>/metadata")
    def one_table_metadata(api, ds, num, name):
        d = datastack(ds)
        v = version(d, num)
        return jsonify(table_meta(d, v, table(v, name)))

    @app.get(API + "/version/<int:num>/table/<name>/count")
    def count(api, ds, num, name):
        # The engine answers MaterializedMetadata.row_count: the rows materialized into
        # that version, which are the valid ones.
        frame = table(version(datastack(ds), num), name).frame()
        n = int(frame["valid"].sum()) if "valid" in frame.columns else len(frame)
        return jsonify(n)

    @app.post(API + "/version/<int:num>/table/<name>/query")
    def simple_query(api, ds, num, name):
        v = version(datastack(ds), num)
        t = table(v, name)
        return _answer(state, lambda body, limit: run_simple(
            t, body, limit, count=_flag("count"), convert=api == "v3"), [t])

    @app.post(API + "/version/<int:num>/query")
    def join_query(api, ds, num):
        v = version(datastack(ds), num)
        spec = (_body() or {}).get("tables") or []
        used = [v.tables[s[0]] for s in spec if isinstance(s, list) and s and s[0] in v.tables]
        return _answer(state, lambda body, limit: run_join(
            v.by_kind("table"), body, limit, convert=api == "v3"), used)

    @app.get(API + "/version/<int:num>/views")
    def views(api, ds, num):
        need_v3(api)
        d = datastack(ds)
        return jsonify({n: view_meta(d, t) for n, t in
                        sorted(version(d, num).by_kind("view").items())})

    @app.get(API + "/version/<int:num>/views/<name>/metadata")
    def one_view_metadata(api, ds, num, name):
        need_v3(api)
        d = datastack(ds)
        return jsonify(view_meta(d, table(version(d, num), name, "view")))

    @app.get(API + "/version/<int:num>/views/<name>/schema")
    def view_schema(api, ds, num, name):
        need_v3(api)
        return jsonify(table(version(datastack(ds), num), name, "view").schema_columns())

    @app.get(API + "/version/<int:num>/views/schemas")
    def view_schemas(api, ds, num):
        need_v3(api)
        v = version(datastack(ds), num)
        return jsonify({n: t.schema_columns() for n, t in sorted(v.by_kind("view").items())})

    @app.post(API + "/version/<int:num>/views/<name>/query")
    def view_query(api, ds, num, name):
        need_v3(api)
        t = table(version(datastack(ds), num), name, "view")
        return _answer(state, lambda body, limit: run_simple(t, body, limit,
                                                             count=_flag("count")), [t])

    @app.get(API + "/table/<name>/unique_string_values")
    def unique_strings(api, ds, name):
        need_v3(api)
        t = table(datastack(ds).newest(), name)
        df = t.frame()
        return jsonify({c: sorted(map(str, df[c].dropna().unique())) for c in df.columns
                        if df[c].dtype == object and c[:-2] not in t.position_columns})

    @app.post(API + "/query")
    def live_live_query(api, ds):
        need_v3(api)
        d = datastack(ds)
        body = _body()
        if body.get("join_tables"):
            return json_error(400, "join_tables is not supported by this server")
        when = _parse_time(body.get("timestamp"))
        gone = state.expired_versions.get(d.name, set())
        usable = [v for n, v in sorted(d.versions.items())
                  if n not in gone and v.timestamp <= when]
        if not usable:
            return json_error(400, f"timestamp {when} is before the first valid version")
        name = body.get("table")
        t = with_live_additions(state, d.name, table(usable[-1], name), when)
        cols = body.get("select_columns")
        if isinstance(cols, dict):
            body = dict(body, select_columns=cols.get(name))
        # The live endpoint drops columns the user did not ask for (the supervoxel ids).
        return _answer(state, lambda b, limit: run_simple(t, b, limit, supervoxels=False),
                       [t], body=body, split_default=True)


def with_live_additions(state, datastack: str, t, when):
    """The table with the annotations added after its version up to ``when``: the live
    database has them, a materialized version does not (which is why caveclient's
    live_query misses them). Root ids are served as they are: this imitation has no
    per-row supervoxel lookup at ``when``."""
    added = [(created, row) for created, row in
             state.live_additions.get((datastack, t.name), []) if created <= when]
    if not added:
        return t
    import dataclasses
    import threading

    import pandas as pd
    extra = pd.DataFrame([row for _, row in added])
    frame = pd.concat([t.frame(), extra[t.frame().columns]], ignore_index=True)
    return dataclasses.replace(t, _frame=frame, _lock=threading.Lock())


def _body() -> dict:
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise _Abort(json_error(400, "the request body is not valid JSON"))
    if not isinstance(body, dict):
        raise _Abort(json_error(400, "the request body must be a JSON object"))
    return body


def _parse_time(value) -> datetime:
    if value is None:
        raise _Abort(json_error(400, "timestamp is required"))
    try:
        ts = datetime.fromisoformat(str(value))
    except ValueError:
        raise _Abort(json_error(400, f"timestamp {value!r} is not ISO 8601"))
    if ts.tzinfo is not None:
        ts = ts.astimezone(timezone.utc).replace(tzinfo=None)
    return ts


def _row_limit(state) -> int:
    fault = state.faults.take(request.method, request.path, kinds={"row_limit"})
    return int(fault.params.get("limit", state.row_limit)) if fault else state.row_limit


def engine_error(exc: EngineError) -> Response:
    """The engine's unhandled-exception answer (common.unhandled_exception)."""
    body = {"code": 500, "message": str(exc), "traceback": exc.traceback}
    return Response(json.dumps(body), status=500, content_type="application/json")


def warning_header(warnings: list) -> str:
    """The engine sets one header from a list; the client sees the values joined by ", "
    with newlines turned into spaces (join_warning_combined.json)."""
    return ", ".join(w.replace("\n", " ") for w in warnings)


def _answer(state, run, tables, body=None, split_default=False) -> Response:
    body = _body() if body is None else body
    try:
        ans: QueryAnswer = run(body, _row_limit(state))
    except QueryError as exc:
        return json_error(400, str(exc))
    except NotFound as exc:
        return json_error(404, str(exc))
    except EngineError as exc:
        return engine_error(exc)
    positions = [p for t in tables for p in t.position_columns]
    if ans.count is not None or not _flag("split_positions", split_default):
        frame = ans.frame if ans.count is not None else join_positions(ans.frame, positions)
    else:
        frame = ans.frame
    headers = {"Cache-Control": "no-cache", "column_names": str(ans.column_names)}
    if ans.resolution is not None:
        headers["dataframe_resolution"] = ", ".join(str(r) for r in ans.resolution)
    if ans.warnings:
        # The real server caps results at its row limit and says so only in this header,
        # which caveclient logs as a warning; it gives no total.
        headers["Warning"] = warning_header(ans.warnings)
    if _flag("return_pyarrow", True) or _flag("arrow_format", True):
        return Response(to_arrow_stream(frame), status=200, content_type="data.arrow",
                        headers=headers)
    return Response(frame.to_json(orient="records"), status=200,
                    content_type="application/json", headers=headers)
