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

from models.datastack import DatastackInfo, TableInfo, VersionInfo
from models.errors import CavernError, DataSourceError, InvalidInputError, NotFoundError
from models.filters import validate_filter
from models.query_spec import QueryResult, QuerySpec
from services.http_errors import map_exception
from services.cave.cave_http import (DEFAULT_BODY_DEADLINE_S, DEFAULT_MAX_RESPONSE_BYTES,
                                     DEFAULT_TIMEOUT, HttpLimits, run_abandonable)
from services.cave.cave_session import (NO_TOKEN_FILE, WarningLog, is_expired, prepare_session,
                                        quiet_caveclient, session_limits, when)
from services.cave.cave_records import check_datastack_names, check_version_records, uncached
from services.cave.cave_query import CaveQuery
from services.cave.cave_skeletons import CaveSkeletons
from services.cave.cave_states import CaveStates
from services.cave.cave_tables import CaveTables
from services.source import CancelToken, DataSource, check_cancel
from services.cave.token_store import normalise_server


class CaveSource(CaveTables, CaveSkeletons, CaveStates, DataSource):
    """A CAVE server as a :class:`DataSource`: clients and sessions, datastacks, versions,
    queries and root ids here; the table catalogue (:mod:`services.cave.cave_tables`),
    skeletons (:mod:`services.cave.cave_skeletons`) and Neuroglancer states and segment
    properties (:mod:`services.cave.cave_states`) are mixins that share this object's
    clients, locks and caches."""
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

    @classmethod
    def with_disk_cache(cls, server_address: str, token: str | None = None) -> "CaveSource":
        """A source that keeps materialized results, their pages and skeletons on disk
        (services.results.result_cache; live queries are never kept): the app's and the
        CLI's."""
        from services.results.result_cache import ResultCache
        return cls(server_address, token, cache=ResultCache())

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
        check_cancel(cancel)
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
        check_cancel(cancel)
        t0 = time.perf_counter()
        live = spec.timestamp is not None
        if live and spec.version is not None:
            raise InvalidInputError("A query has either a version or a timestamp, not both.",
                                    field="version")
        if not live:
            spec = spec.with_(version=self._check_version(spec.datastack, spec.version))
            hit = self.cache.get(self.server, spec) if self.cache is not None else None
            if hit is not None:
                check_cancel(cancel)
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
        check_cancel(cancel)
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

    # ---- chunkedgraph (DataSource capabilities; skeletons and states: the mixins) --
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



