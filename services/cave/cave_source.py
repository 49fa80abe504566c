"""CaveSource: a CAVE server (MICrONS, FlyWire, H01...) through the real ``caveclient``.

``CAVEclient`` talks to the server while it is built, so one is built lazily per
datastack, from the worker that first needs it. Every failure leaves as a typed error
(:mod:`services.http_errors`). Requests cannot be aborted mid-flight: a cancelled query
is checked before and after each request, and its late answer is thrown away.

Row limit: caveclient only logs the server's row-limit warning. Each session gets a
response hook that records the ``Warning`` header per thread; an answer the server cut is
fetched again in disjoint pages and ``!=``/``not in`` are applied on the client
(:mod:`services.cave.cave_query`), so every result is exact and complete, or says what
is missing.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace

from models.datastack import DatastackInfo, TableInfo, VersionInfo
from models.errors import (CancelledError, CavernError, DataSourceError, InvalidInputError,
                           NotFoundError)
from models.filters import validate_filter
from models.query_spec import QueryResult, QuerySpec, ReferenceJoin
from services.http_errors import map_exception
from services.cave.cave_http import (DEFAULT_BODY_DEADLINE_S, DEFAULT_MAX_RESPONSE_BYTES,
                                     DEFAULT_TIMEOUT, HttpLimits, run_abandonable)
from services.cave.cave_session import (NO_TOKEN_FILE, WarningLog, is_expired, prepare_session,
                                        quiet_caveclient, session_limits, when)
from services.cave.cave_records import (check_datastack_names, check_version_records,
                                        innermost, uncached)
from services.cave.cave_query import CaveQuery
from models.query_spec import reference_join_of
from services.cave.cave_schema import (columns_from_frame, columns_from_schema,
                                       columns_from_view_schema, joined_columns, joined_owners)
from services.source import CancelToken, DataSource
from services.cave.token_store import normalise_server



class CaveSource(DataSource):
    kind = "cave"
    has_state_server = True

    def __init__(self, server_address: str, token: str | None = None, *, cache=None,
                 timeout=DEFAULT_TIMEOUT, max_retries: int = 2, row_limit: int | None = None,
                 max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
                 body_deadline_s: float = DEFAULT_BODY_DEADLINE_S):
        self.server = normalise_server(server_address)
        self._token = token or None
        self.cache = cache  # services.results.result_cache.ResultCache or None
        # every session of this source: time-outs, a deadline for one answer's body and
        # a limit on its decompressed size (services.cave.cave_http)
        self.limits = HttpLimits(tuple(timeout), int(max_response_bytes),
                                 float(body_deadline_s), self.server)
        self.max_retries = max_retries
        self.row_limit = row_limit  # the server's row limit, once known
        self._clients: dict[str, object] = {}
        self._global = None
        self._lock = threading.RLock()
        self._versions: dict[str, list[dict]] = {}
        self._tables: dict[tuple[str, int], list[TableInfo]] = {}
        self._probed: dict[tuple[str, int, str], TableInfo] = {}
        self._unique: dict[tuple[str, str, int], dict] = {}  # get_unique_string_values
        self._segprops: dict[tuple[str, str, int], str | None] = {}  # segment_property_source
        self._warnings = WarningLog()
        self._ctx = threading.local()  # .cancel: the token of this thread's query
        self._no_live_live: set[str] = set()  # datastacks whose server lacks live_live_query
        quiet_caveclient()

    # ---- clients ------------------------------------------------------------------
    def _auth_kwargs(self) -> dict:
        if self._token:
            return {"auth_token": self._token}
        return {"auth_token_file": NO_TOKEN_FILE}

    @property
    def timeout(self):
        return self.limits.timeout

    def _prepare(self, service) -> None:
        prepare_session(service, self.limits, self._warnings)

    def _service(self, datastack: str, name: str):
        """A datastack's chunkedgraph/state/... client with this source's limits (built
        on first use, which may contact the server)."""
        c = self.client(datastack)

        def get():
            svc = getattr(c, name)
            self._prepare(svc)
            return svc
        return self._call(f"connecting to the {name} service", get)

    def _call(self, what: str, fn, *args, **kwargs):
        """``fn`` with every failure typed. Inside a query with a cancel token, ``fn``
        runs on a private thread and a Cancel frees the calling worker at once."""
        cancel = getattr(self._ctx, "cancel", None)
        if cancel is None:
            return self._call_here(what, fn, *args, **kwargs)
        _check(cancel)
        warnings = self._warnings

        def job():  # the Warning headers are per thread: hand them back to the caller
            warnings.reset()
            out = self._call_here(what, fn, *args, **kwargs)
            return out, list(warnings.items)
        out, seen = run_abandonable(job, cancel)
        for w in seen:
            warnings.add(w)
        return out

    def _call_here(self, what: str, fn, *args, **kwargs):
        try:
            with session_limits(self.limits):
                return fn(*args, **kwargs)
        except CavernError:
            raise
        except Exception as exc:  # every library failure leaves as a typed error
            raise map_exception(exc, what, self.server) from None

    def global_client(self):
        with self._lock:
            if self._global is None:
                from caveclient import CAVEclient

                def build():
                    c = CAVEclient(server_address=self.server, global_only=True,
                                   max_retries=self.max_retries, **self._auth_kwargs())
                    self._prepare(c.info)
                    return c
                self._global = self._call("connecting", build)
            return self._global

    def client(self, datastack: str):
        """The CAVEclient of a datastack (built on first use: it contacts the server)."""
        if not datastack:
            raise InvalidInputError("Pick a datastack first.", field="datastack")
        with self._lock:
            if datastack not in self._clients:
                from caveclient import CAVEclient

                def build():
                    c = CAVEclient(datastack, server_address=self.server,
                                   write_server_cache=False, max_retries=self.max_retries,
                                   **self._auth_kwargs())
                    self._prepare(c.info)
                    self._prepare(c.materialize)
                    return c
                self._clients[datastack] = self._call(
                    f"opening datastack '{datastack}'", build)
            return self._clients[datastack]

    def _mat(self, datastack: str):
        return self.client(datastack).materialize

    # ---- datastacks and versions -----------------------------------------------------
    def datastacks(self) -> list[str]:
        names = self._call("listing datastacks", lambda: self.global_client().info.get_datastacks())
        return sorted(check_datastack_names(names, self.server))

    def datastack_info(self, datastack: str) -> DatastackInfo:
        d = self._call(f"reading the info of '{datastack}'",
                       lambda: self.client(datastack).info.get_datastack_info())
        if not isinstance(d, dict):
            raise DataSourceError(f"The info of datastack '{datastack}' could not be read.")
        av = d.get("aligned_volume") if isinstance(d.get("aligned_volume"), dict) else {}

        def text(v) -> str:  # a wrongly typed field is left empty, never a crash
            return v if isinstance(v, str) else ""
        res = [d.get(f"viewer_resolution_{a}") for a in "xyz"]
        ok = all(isinstance(r, (int, float)) and not isinstance(r, bool) and r > 0
                 for r in res)
        vres = tuple(float(r) for r in res) if ok else (4.0, 4.0, 40.0)
        return DatastackInfo(
            name=datastack, description=text(d.get("description")), voxel_resolution=vres,
            image_source=text(av.get("image_source")) or text(d.get("image_source")),
            segmentation_source=text(d.get("segmentation_source")),
            synapse_table=text(d.get("synapse_table")), soma_table=text(d.get("soma_table")),
            proofreading_table=(text(d.get("proofreading_status_table"))
                                or text(d.get("proofreading_review_table"))),
            viewer_site=text(d.get("viewer_site")),
            extra={"server": self.server, "local_server": text(d.get("local_server")),
                   "aligned_volume": text(av.get("name")),
                   "cell_identification_table": text(d.get("cell_identification_table")),
                   "skeleton_source": text(d.get("skeleton_source"))})

    def _version_records(self, datastack: str) -> list[dict]:
        if datastack not in self._versions:
            mat = self._mat(datastack)
            # caveclient keeps every answer, a broken one too, for 12 hours: ask past its
            # cache, and keep only good answers (a bad one is asked again next time)
            recs = self._call(f"listing versions of '{datastack}'",
                              uncached(mat.get_versions_metadata), expired=True)
            self._versions[datastack] = check_version_records(recs, datastack, self.server)
        return self._versions[datastack]

    def versions(self, datastack: str) -> list[VersionInfo]:
        """Versions that can be queried now (expired ones are left out), newest last."""
        out = []
        for r in self._version_records(datastack):
            if is_expired(r):
                continue
            out.append(VersionInfo(int(r["version"]), when(r.get("time_stamp")),
                                   when(r.get("expires_on")), str(r.get("status") or "")))
        return sorted(out, key=lambda v: v.version)

    def default_version(self, datastack: str) -> int | None:
        vs = self.versions(datastack)
        return vs[-1].version if vs else None

    def _check_version(self, datastack: str, version: int | None) -> int:
        if version is None:
            v = self.default_version(datastack)
            if v is None:
                raise NotFoundError(f"Datastack '{datastack}' has no materialized version.")
            return v
        recs = {int(r["version"]): r for r in self._version_records(datastack)}
        r = recs.get(int(version))
        if r is None:
            known = ", ".join(str(v.version) for v in self.versions(datastack)) or "none"
            raise NotFoundError(f"Version {version} does not exist in '{datastack}'.",
                                hint=f"Available versions: {known}.")
        if is_expired(r):
            gone = when(r.get("expires_on"))
            raise NotFoundError(
                f"Version {version} of '{datastack}' has expired"
                + (f" (on {gone:%Y-%m-%d})." if gone else "."),
                hint="Pick a newer version, or a timestamp for a live query.")
        return int(version)

    # ---- tables ---------------------------------------------------------------------
    def tables(self, datastack: str, version: int | None = None) -> list[TableInfo]:
        v = self._check_version(datastack, version)
        key = (datastack, v)
        if key not in self._tables:
            infos = self._table_infos(datastack, v) + self._view_infos(datastack, v)
            self._tables[key] = sorted(infos, key=lambda t: (t.kind != "table", t.name))
        return list(self._tables[key])

    def _table_infos(self, datastack: str, v: int) -> list[TableInfo]:
        from caveclient.base import ServerIncompatibilityError
        mat = self._mat(datastack)
        what = f"listing tables of '{datastack}' v{v}"
        try:
            if not _api_at_least(mat, 3):
                raise ServerIncompatibilityError("tables metadata needs API v3")
            # caveclient caches this by (datastack, version) alone for 12 hours, shared
            # by every client and server in the process: ask it directly
            metas = innermost(mat.get_tables_metadata)(version=v, log_warning=False)
        except ServerIncompatibilityError:  # an older server: one request per table
            names = self._call(what, mat.get_tables, version=v)
            metas = [dict(self._call(what, mat.get_table_metadata, n, version=v,
                                     log_warning=False), table_name=n) for n in names]
        except Exception as exc:
            raise map_exception(exc, what, self.server) from None
        if not isinstance(metas, list) or not all(isinstance(m, dict) for m in metas):
            raise DataSourceError(f"The table list of '{datastack}' v{v} from {self.server} "
                                  "could not be read (it is not a list of tables).",
                                  hint="The server may run an incompatible version of CAVE.")
        schemas = self._schemas({m.get("schema_type") or m.get("schema") for m in metas})
        infos = [self._info_from_meta(m, datastack, v, "table", schemas) for m in metas]
        # A reference table is queried joined to its target: it lists the target's columns
        # too (pt_root_id, pt_position, ...), as the joined answer has them.
        by_name = {i.name: i for i in infos}
        for n, info in enumerate(infos):
            target = by_name.get(info.reference_table)
            if target is None or (datastack, v, info.name) in self._probed:
                continue
            if info.columns and target.columns:
                cols, owners = joined_columns(info.columns, target.columns, info.name,
                                              target.name)
                infos[n] = replace(info, columns=cols,
                                   extra=dict(info.extra, reference_columns=owners))
        return infos

    def _schemas(self, types) -> dict:
        """Schema definitions, best effort: columns are refined by a probe when needed."""
        types = sorted(t for t in types if t)
        if not types:
            return {}
        try:
            schema = self.global_client().schema
            self._prepare(schema)
            out = schema.schema_definition_multi(types)
            return out if isinstance(out, dict) else {}
        except Exception:  # no schema service: columns come from a probe query instead
            return {}

    def _view_infos(self, datastack: str, v: int) -> list[TableInfo]:
        mat = self._mat(datastack)
        try:
            views = mat.get_views(version=v)
            schemas = mat.get_view_schemas(materialization_version=v)
        except Exception as exc:
            err = map_exception(exc, f"listing views of '{datastack}'", self.server)
            if isinstance(err, (NotFoundError, DataSourceError)):
                return []  # a server without views (or an older API) simply has none
            raise err from None
        if isinstance(views, list):
            views = {n: {} for n in views}
        if not isinstance(views, dict):
            return []
        out = []
        for name, meta in views.items():
            meta = dict(meta or {}, table_name=name)
            info = self._info_from_meta(meta, datastack, v, "view", {})
            cols = columns_from_view_schema((schemas or {}).get(name, {}))
            out.append(replace(info, columns=cols))
        return out

    def _info_from_meta(self, m: dict, datastack: str, v: int, kind: str,
                        schemas: dict) -> TableInfo:
        res = m.get("voxel_resolution") or [m.get(f"voxel_resolution_{a}") for a in "xyz"]
        vres = tuple(float(r) for r in res) if res and all(res) else (4.0, 4.0, 40.0)
        schema = m.get("schema_type") or m.get("schema") or ""
        name = str(m.get("table_name") or m.get("name") or "")
        probed = self._probed.get((datastack, v, name))
        cols = probed.columns if probed else (
            columns_from_schema(schemas[schema]) if schema in schemas else ())
        return TableInfo(
            name=name, description=(m.get("description") or "").strip(), schema=schema,
            kind=kind, columns=cols, voxel_resolution=vres,
            reference_table=m.get("reference_table") or "", notice_text=m.get("notice_text") or "",
            provenance=f"CAVE {self.server}, datastack {datastack}, version {v}",
            extra={k: m[k] for k in ("created", "last_modified", "read_permission",
                                      "live_compatible", "aligned_volume") if k in m})

    def table_info(self, datastack: str, table: str, version: int | None = None) -> TableInfo:
        """A table's metadata with its exact columns (a one-row probe query, cached)."""
        v = self._check_version(datastack, version)
        info = next((t for t in self.tables(datastack, v) if t.name == table), None)
        if info is None:
            raise NotFoundError(f"Table '{table}' is not in '{datastack}' version {v}.",
                                hint="Pick a table from the list.")
        key = (datastack, v, table)
        if info.kind == "view" and info.columns:
            return info
        if key not in self._probed:
            probe = QuerySpec(table, datastack, v, limit=1, is_view=info.kind == "view")
            try:
                frame = self._run(probe, info)
            except (DataSourceError, InvalidInputError) as exc:
                if not info.columns:
                    raise
                # The schema's columns still let the user build a query; say why they may differ.
                return replace(info, notice_text=(info.notice_text + " ").lstrip() +
                               f"Columns come from the schema: a test query failed ({exc.message})")
            cols = columns_from_frame(frame)
            extra = info.extra
            if info.reference_table and info.kind == "table":
                owners = joined_owners([c.name for c in cols], self._target_columns(
                    datastack, v, info.reference_table), table, info.reference_table)
                extra = dict(extra, reference_columns=owners)
            self._probed[key] = replace(info, columns=cols, extra=extra)
        return self._probed[key]

    def _target_columns(self, datastack: str, v: int, target: str) -> list[str]:
        """The column names of a reference table's target (its probe, else its schema)."""
        try:
            return [c.name for c in self.table_info(datastack, target, v).columns]
        except CavernError:
            info = next((t for t in self.tables(datastack, v) if t.name == target), None)
            return [c.name for c in info.columns] if info else []

    def reference_join(self, datastack: str, table: str,
                       version: int | None = None) -> ReferenceJoin | None:
        """How a reference table is joined to its target (None: not a reference table):
        which answer column belongs to which table. Also for generated code
        (``QuerySpec.to_caveclient_code(..., reference=...)``)."""
        info = self.table_info(datastack, table, version)
        return reference_join_of(info)

    def distinct_values(self, datastack: str, table: str, column: str,
                        version: int | None = None, limit: int = 1000, prefix: str = "",
                        cancel: CancelToken | None = None) -> list[str] | None:
        """The server's unique string values of a column (caveclient's
        get_unique_string_values), fetched once per (datastack, table, version)."""
        v = self._check_version(datastack, version)
        key = (datastack, table, v)
        with self._lock:
            answer = self._unique.get(key)
        if answer is None:
            outer = getattr(self._ctx, "cancel", None)
            self._ctx.cancel = cancel
            try:
                answer = self._call(f"listing the values of '{table}'",
                                    self._mat(datastack).get_unique_string_values, table)
            finally:
                self._ctx.cancel = outer
            answer = answer if isinstance(answer, dict) else {}
            with self._lock:
                self._unique[key] = answer
        values = answer.get(column) or []
        needle = prefix.lower()
        out = sorted({str(x) for x in values if x is not None and str(x) != ""
                      and str(x).lower().startswith(needle)})
        return out[:max(0, int(limit))]

    def row_count(self, datastack: str, table: str, version: int | None = None) -> int:
        v = self._check_version(datastack, version)
        n = self._call(f"counting rows of '{table}'", self._mat(datastack).get_annotation_count,
                       table, version=v)
        if isinstance(n, dict):  # some servers answer {"count": n}
            n = n.get("count")
        try:
            return int(n)
        except (TypeError, ValueError):
            raise DataSourceError(f"The row count of '{table}' could not be read.") from None

    # ---- queries --------------------------------------------------------------------
    def query(self, spec: QuerySpec, cancel: CancelToken | None = None,
              progress=None) -> QueryResult:
        """Every row of the exact answer (see :mod:`services.cave.cave_query`).

        Progress goes to ``cancel.report`` after each page of an answer bigger than the
        server's row limit (or to ``progress(pages_done, pages_total, rows)`` when
        given); ``cancel`` is checked between pages, and a Cancel returns at once even
        while a request is in flight (the request is left to end on its own thread).
        Pages of materialized versions are kept in ``cache``, so a cancelled or failed
        fetch resumes where it stopped.
        """
        outer = getattr(self._ctx, "cancel", None)
        self._ctx.cancel = cancel
        try:
            return self._query(spec, cancel, progress)
        finally:
            self._ctx.cancel = outer

    def _query(self, spec: QuerySpec, cancel, progress) -> QueryResult:
        spec.check()
        if not spec.datastack:
            raise InvalidInputError("Pick a datastack first.", field="datastack")
        _check(cancel)
        t0 = time.perf_counter()
        live = spec.timestamp is not None
        if live and spec.version is not None:
            raise InvalidInputError("A query has either a version or a timestamp, not both.",
                                    field="version")
        if not live:
            spec = spec.with_(version=self._check_version(spec.datastack, spec.version))
            hit = self.cache.get(self.server, spec) if self.cache is not None else None
            if hit is not None:
                _check(cancel)
                return hit
        meta_version = spec.version if not live else self.default_version(spec.datastack)
        info = next((t for t in self.tables(spec.datastack, meta_version)
                     if t.name == spec.table), None)
        if info is None:
            raise NotFoundError(f"Table '{spec.table}' is not in '{spec.datastack}'.",
                                hint="Pick a table from the list.")
        spec = spec.with_(is_view=info.kind == "view")
        # columns pick the key that pages are ranges of; a reference table's probe also
        # says which columns are the target's (their filters are keyed by the target)
        if not info.columns or (info.reference_table and info.kind == "table"):
            try:
                info = self.table_info(spec.datastack, spec.table, meta_version)
            except CavernError:
                pass
        if info.columns:
            kinds = info.kinds
            for f in spec.filters:
                validate_filter(f, kinds)
        _check(cancel)
        query = CaveQuery(self, spec, info, cancel, progress)
        result = query.run()
        result.elapsed_s = time.perf_counter() - t0
        if self.cache is not None and not live and self.cache.put(self.server, result):
            self.cache.drop_pages(query.page_keys)  # the whole answer is kept now
        return result

    def _run(self, spec: QuerySpec, info: TableInfo):
        """One request, as it is (the column probe); warnings are not printed."""
        return CaveQuery(self, spec, info).request(spec)[0]

    def _prepare_live(self, datastack: str) -> None:
        self._service(datastack, "chunkedgraph")

    # ---- chunkedgraph and state server (DataSource capabilities) ------------------
    def root_id_status(self, datastack: str, root_id: int, version: int | None = None,
                       timestamp=None):
        """Current at the time of ``version`` (its materialization timestamp) or at
        ``timestamp`` (live); now when neither is given."""
        from services.cave.cave_roots import root_id_status
        self._service(datastack, "chunkedgraph")
        return root_id_status(self.client(datastack), root_id, self.server,
                              self._time_of(datastack, version, timestamp))

    def stale_root_ids(self, datastack: str, root_ids, version: int | None = None,
                       timestamp=None):
        from services.cave.cave_roots import stale_root_ids
        self._service(datastack, "chunkedgraph")
        return stale_root_ids(self.client(datastack), root_ids, self.server,
                              self._time_of(datastack, version, timestamp))

    def _time_of(self, datastack: str, version: int | None, timestamp):
        """``timestamp``, or the materialization time of ``version``."""
        if timestamp is None and version is not None:
            timestamp = next((v.timestamp for v in self.versions(datastack)
                              if v.version == version), None)
        return timestamp

    def skeleton(self, datastack: str, root_id: int, version: int | None = None,
                 timestamp=None, cancel: CancelToken | None = None):
        """The skeleton service's skeleton (dict format: vertices nm, edges, root,
        compartment, radius, meta) of a current root id; None when the service has none.

        caveclient 8.2.1's ``get_skeleton`` first asks for an L2 cache and builds a
        CloudVolume (the cloud-volume package, not installed, and the segmentation's
        storage) only to check that the id is a root-layer id: that check is made here from
        the chunkedgraph's info (the id's layer bits), the chunkedgraph's ``is_valid_nodes``
        check is kept, and the request uses caveclient's own endpoint builder and decoding.
        Materialized versions read and fill the disk cache beside the result cache; a
        Cancel frees the caller at once (the request ends on its own thread)."""
        from services.morphology.skeleton import Skeleton
        from services.morphology.skeleton_cache import SkeletonCache
        _check(cancel)
        rid = int(root_id)
        cache = SkeletonCache.beside(self.cache) if version is not None and \
            timestamp is None else None
        hit = cache.get(self.server, datastack, rid, 4) if cache is not None else None
        if hit is not None:
            return Skeleton.from_dict(hit, rid, source="CAVE skeleton service (v4, disk cache)")
        outer = getattr(self._ctx, "cancel", None)
        self._ctx.cancel = cancel
        try:
            skv, d = self._call(f"getting the skeleton of {rid}", self._skeleton_dict,
                                datastack, rid)
        finally:
            self._ctx.cancel = outer
        _check(cancel)
        if d is None:
            return None
        if cache is not None:
            cache.put(self.server, datastack, rid, skv, d)
        return Skeleton.from_dict(d, rid, source=f"CAVE skeleton service (v{skv})")

    def _skeleton_dict(self, datastack: str, rid: int):
        """(skeleton version, the service's dict or None when it has no skeleton)."""
        from caveclient.skeletonservice import SkeletonClient
        from packaging.version import Version
        sk = self._service(datastack, "skeleton")
        cg = self._service(datastack, "chunkedgraph")
        graph = (cg.segmentation_info or {}).get("graph") or {}
        bits, layers = graph.get("n_bits_for_layer_id"), graph.get("n_layers")
        if isinstance(bits, int) and isinstance(layers, int) and 0 < bits < 64 and \
                0 < rid >> (64 - bits) < layers:  # a root id's layer is the top one
            raise InvalidInputError(
                f"{rid} is a layer-{rid >> (64 - bits)} id (a supervoxel or an L2 chunk), "
                "not a root id, so it has no skeleton.", field="root_id",
                hint="Use the cell's root id (pt_root_id), not a supervoxel id.")
        if not cg.is_valid_nodes(rid).all():
            raise NotFoundError(f"{rid} is not a valid root id of {datastack}.",
                                hint="Check the id (a supervoxel id is not a root id).")
        versions = sk.get_versions()
        if versions is None and sk._server_version is None:
            raise NotFoundError(f"{self.server} has no skeleton service (its skeletoncache "
                                "answers 404).", hint="Use a local datastack with skeletons.")
        versions = versions or [4]
        skv = 4 if 4 in versions else max(versions)
        new = sk._server_version is None or sk._server_version >= Version("0.6.0")
        fmt = "flatdict" if new else "jsoncompressed"
        is_async = sk._server_version is None or sk._server_version >= Version("0.13.7")
        url = sk._build_get_skeleton_endpoint(rid, datastack, skv, fmt, is_async, 0)
        response = sk.session.get(url)
        if response.status_code == 404:
            return skv, None
        sk.raise_for_status(response, log_warning=False)
        try:
            d = SkeletonClient.decompressBytesToDict(response.content)
        except (OSError, EOFError, ValueError) as exc:
            raise DataSourceError(f"The skeleton service's answer for {rid} could not be "
                                  f"read ({type(exc).__name__}: {exc}).") from None
        if not isinstance(d, dict):
            raise DataSourceError(f"The skeleton service's answer for {rid} is not a "
                                  "skeleton.")
        d.update(d.pop("vertex_properties", None) or {})
        return skv, d

    def state_server_name(self) -> str:
        return self.server

    def upload_state(self, datastack: str, state: dict, base_url: str) -> str:
        # The viewer site is named, so caveclient does not ask it over the network.
        client = self.client(datastack)
        self._service(datastack, "state")
        state_id = self._call("uploading the Neuroglancer state",
                              client.state.upload_state_json, state)
        return client.state.build_neuroglancer_url(state_id, base_url, target_site="spelunker")

    def segment_property_source(self, datastack: str, table: str,
                                version: int | None = None) -> str | None:
        # newer materialization servers serve a cell table's segment properties; one probe
        # of its info per table says whether this one does (remembered)
        v = self._check_version(datastack, version)
        key = (datastack, table, v)
        with self._lock:
            if key in self._segprops:
                return self._segprops[key]
        mat = self._mat(datastack)
        try:
            info = self._call(f"asking for the segment properties of {table}",
                              mat.neuroglancer_segprop_info, table, datastack, v)
        except CancelledError:
            raise
        except CavernError:
            info = None
        ok = isinstance(info, dict) and info.get("@type") == "neuroglancer_segment_properties"
        url = mat.neuroglancer_segprop_path(table, datastack, v) if ok else None
        with self._lock:
            self._segprops[key] = url
        return url

    def fetch_state(self, datastack: str, url: str) -> dict:
        # Only this source's own state server is asked: the token goes nowhere else.
        import re
        from urllib.parse import urlsplit
        svc = self._service(datastack, "state")
        here, there = urlsplit(str(svc.server_address)).netloc, urlsplit(url).netloc
        m = re.search(r"/nglstate/(?:api/v1/)?(?:raw/)?(\d+)/?$", urlsplit(url).path)
        if there.lower() != here.lower() or m is None:
            raise InvalidInputError(
                f"This short link's state is at {there or url}, not on {here}'s state "
                "server, so Cavern does not read it (your token goes to your server only).",
                field="url", hint="Connect to the server the link belongs to, or paste the "
                                  "full link.")
        return self._call("reading the Neuroglancer state", svc.get_state_json, int(m.group(1)))

    def refresh(self) -> None:
        """Forget cached versions and table lists (a new version may have appeared)."""
        with self._lock:
            self._versions.clear()
            self._tables.clear()

    def close(self) -> None:
        with self._lock:
            for c in list(self._clients.values()) + [self._global]:
                for name in ("_info", "_materialize", "_chunkedgraph", "_schema"):
                    svc = getattr(c, name, None)
                    if svc is not None and getattr(svc, "session", None) is not None:
                        svc.session.close()
            self._clients.clear()
            self._global = None


def _api_at_least(mat, major: int) -> bool:
    try:
        return int(str(mat.api_version).split(".")[0]) >= major
    except (AttributeError, TypeError, ValueError):
        return True  # unknown: try, and fall back on ServerIncompatibilityError


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.cancelled:
        raise CancelledError()

