"""One CAVE query, answered exactly and completely (the body of ``CaveSource.query``).

- Filters: :func:`models.filters.plan_filters` says what the server applies; the rest
  (``!=``/``not in``, which the server ignores on versioned queries) is applied here with
  SQL's answers (:mod:`services.cave.exact_filters`) on the superset the server returns.
- Row limit: an answer the server cuts is fetched again in pages that are disjoint by
  construction (:mod:`services.cave.cave_paging`): the superset is paged, never the
  filtered rows, so a small true answer inside a big superset is complete too.
- The user's own limit is the only limit on a result: ``limit`` rows with the server's
  "Limited query to {limit} rows" warning are complete as asked. The server's limit is
  learnt only from a cut that the user's limit does not explain.
- Progress: after each page, ``cancel.report(pages done, pages expected, rows, what)``
  (or an explicit ``progress(done, total, rows)`` callback).
- Resume: each page request of a materialized version (rows with the server's warning,
  or a count) is kept in the source's result cache and read from there when asked again,
  so a query re-run after a Cancel or a failure asks only for what it did not have.
"""
from __future__ import annotations

import re
from datetime import timezone

from models.datastack import TableInfo
from models.errors import CancelledError, DataSourceError, InvalidInputError
from models.filters import Filter, Op
from models.query_spec import QueryResult, QuerySpec
from services.cave.cave_paging import IN_BATCH, Answer, Pager, split_batches
from models.reference_join import reference_join_of
from services.cave.exact_filters import apply_post_filters

_LIMITED = re.compile(r"Limited query to\s+(\d[\d,]*)\s*rows", re.IGNORECASE)


def warned_limit(warnings) -> int | None:
    """N of the last "Limited query to N rows" warning (headers may join several)."""
    found = None
    for w in warnings:
        for m in _LIMITED.finditer(w):
            found = int(m.group(1).replace(",", ""))
    return found


def page_key(info: TableInfo) -> str | None:
    """The column pages are ranges of: ``id``, else an integer column (root ids first)."""
    kinds = info.kinds
    if not kinds or kinds.get("id") == "int":
        return "id"
    ints = [c for c, k in kinds.items() if k == "int"]
    ints.sort(key=lambda c: (not c.endswith("root_id"), c.endswith("supervoxel_id")))
    return ints[0] if ints else None


class CaveQuery:
    def __init__(self, source, spec: QuerySpec, info: TableInfo, cancel=None, progress=None):
        self.src, self.spec, self.info = source, spec, info
        self.cancel = cancel
        self.progress = progress if progress is not None else self._report_to_token
        self.page_cache = False  # set for the pages of run(), not for the column probe
        self.page_keys: list[str] = []  # cache entries of this query's pages
        self.cached_pages = 0
        self.plan = spec.filter_plan()
        self.key = page_key(info)
        self.requests = 0
        # A reference table is one join query with each filter keyed by the table that
        # has its column (a target column keyed by the reference table is a 500 on the
        # real engine). Live queries go through caveclient's live_query as they are.
        self.join = (reference_join_of(info) if spec.merge_reference
                     and spec.timestamp is None else None)

    def _report_to_token(self, done: int, total: int | None, rows: int) -> None:
        if self.cancel is None or not hasattr(self.cancel, "report"):
            return
        of = f" of {total:,}" if total else ""
        self.cancel.report(done, total, rows, f"page {done:,}{of} of {self.spec.table}")

    # ---- one request ----------------------------------------------------------------
    def request(self, spec: QuerySpec, count: bool = False):
        """(frame, warned N) of one request; for ``count`` the row count (None: live)."""
        if count and spec.timestamp is not None:
            return None  # live_query has no counts
        self._check()
        cache = self.src.cache if self.page_cache else None
        if cache is not None:
            hit = cache.get_page(self.src.server, spec, count=count)
            if hit is not None:
                self.cached_pages += 1
                self.page_keys.append(cache.page_key(self.src.server, spec, count))
                return hit
        out = self._ask(spec, count)
        if cache is not None:
            key = (cache.put_page(self.src.server, spec, count=out) if count else
                   cache.put_page(self.src.server, spec, out[0], warned_limit=out[1]))
            if key is not None:
                self.page_keys.append(key)
        return out

    def _ask(self, spec: QuerySpec, count: bool):
        src, info = self.src, self.info
        mat = src._mat(spec.datastack)
        kw = spec.cave_kwargs(info.voxel_resolution)
        kw["metadata"] = False  # df.attrs would cost extra metadata requests
        if info.kind != "view":  # query_view has no such argument (see quiet_caveclient)
            kw["log_warning"] = False  # warnings are read from the headers, never printed
        if count:
            kw["get_counts"] = True
            kw.pop("limit", None)
        what = f"{'counting' if count else 'querying'} '{spec.table}'"
        src._warnings.reset()
        self.requests += 1
        if spec.timestamp is not None:
            if info.kind == "view":
                raise InvalidInputError("Views cannot be queried live: pick a version.",
                                        field="version")
            frame = self._live(spec, mat, kw, what)
        elif info.kind == "view":
            frame = src._call(what, mat.query_view, spec.table,
                              materialization_version=spec.version, **kw)
        elif self.join is not None and count:
            # join queries have no counts (the engine passes get_count=False): the
            # reference table's own rows under its own filters bound the joined answer
            # from above, which is all paging needs (see cave_paging)
            frame = src._call(what, mat.query_table, spec.table,
                              materialization_version=spec.version, merge_reference=False,
                              **self.join.own_kwargs(kw))
        elif self.join is not None:
            frame = src._call(what, mat.join_query, self.join.tables_arg(),
                              suffixes=self.join.suffixes(),
                              materialization_version=spec.version,
                              **self.join.join_kwargs(kw))
        else:
            frame = src._call(what, mat.query_table, spec.table,
                              materialization_version=spec.version,
                              merge_reference=spec.merge_reference, **kw)
        warnings = list(src._warnings.items)
        self._check()  # an answer that came after Cancel is stale
        if count:
            try:
                return int(frame["count"].iloc[0])
            except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                raise DataSourceError(f"The server's answer to {what} has no count.") from None
        if not hasattr(frame, "columns"):
            raise DataSourceError(f"The server's answer to {what} is not a table.")
        return frame, warned_limit(warnings)

    def _live(self, spec: QuerySpec, mat, kw: dict, what: str):
        """A live query: ``live_live_query`` (annotations and root ids at the moment
        asked) where the server offers it; else caveclient's ``live_query``, which reads
        the latest materialized version and remaps its root ids, and says so in a note."""
        src = self.src
        src._prepare_live(spec.datastack)
        ts = spec.timestamp if spec.timestamp.tzinfo else spec.timestamp.replace(
            tzinfo=timezone.utc)
        # live_live_query reads one table as it is (merge_reference=False): a
        # reference table's target columns need live_query's join
        if spec.datastack not in src._no_live_live and not (
                self.info.reference_table and spec.merge_reference):
            frame = src._call(what, _live_live, mat, spec.table, ts, kw)
            if frame is not _NOT_OFFERED:
                self.live_how = "live_live"
                return frame
            src._no_live_live.add(spec.datastack)
        self.live_how = "live_query"
        return src._call(what, mat.live_query, spec.table, ts,
                         merge_reference=spec.merge_reference, **kw)

    def _live_note(self) -> str | None:
        how = getattr(self, "live_how", None)
        if how is None:
            return None
        at = f"{self.spec.timestamp:%Y-%m-%d %H:%M:%S}"
        if how == "live_live":
            return (f"Live data at {at} UTC (live_live_query): annotations and root ids "
                    "as they were at that moment.")
        try:
            v = self.src.default_version(self.spec.datastack)
            since = next((f" ({x.timestamp:%Y-%m-%d %H:%M} UTC)" for x in
                          self.src.versions(self.spec.datastack)
                          if x.version == v and x.timestamp), "")
        except Exception:  # noqa: BLE001 - the note is still right without the date
            v, since = None, ""
        base = f"materialized version {v}{since}" if v is not None else \
            "the latest materialized version"
        why = ("this server does not offer live_live_query" if self.spec.datastack in
               self.src._no_live_live else "a reference table is read joined to its target")
        return (f"Live data at {at} UTC through caveclient's live_query ({why}): the rows "
                f"are those of {base}, with root ids remapped to {at}. Annotations added, "
                f"changed or deleted after that version are not reflected.")

    def _check(self):
        if self.cancel is not None and self.cancel.cancelled:
            raise CancelledError()

    # ---- the whole answer -------------------------------------------------------------
    def run(self) -> QueryResult:
        spec, plan, key = self.spec, self.plan, self.key
        post = plan.post
        req = spec.with_(limit=None)
        if spec.columns:  # pages are ranges of the key, and the client filters need theirs
            extra = [key] if key else []
            req = req.with_(columns=tuple(dict.fromkeys(
                spec.columns + tuple(extra) + tuple(f.column for f in post))))
        batch_col, batches = self._batches()
        self.page_cache = spec.timestamp is None and self.src.cache is not None

        def spec_for(rng) -> QuerySpec:
            fs = list(spec.filters)
            if batch_col is not None and rng.batch is not None:
                fs.append(Filter(batch_col, Op.IN, batches[rng.batch]))
            return req.with_(filters=tuple(fs) + tuple(rng.filters(key)))

        first = None
        limit = spec.limit
        if limit is not None and not post and batch_col is None:
            # One request with the user's limit: the usual case, and all it needs.
            frame, warned = self.request(req.with_(limit=limit))
            n = len(frame)
            server_cut = ((warned is not None and warned < limit)
                          or (warned is None and self.src.row_limit is not None
                              and self.src.row_limit <= n < limit))
            if not server_cut:
                return self._result(frame, [], complete=n < limit)
            first = Answer(frame, warned)
        if key is None:  # nothing to page by: one request, and say what is missing
            frame, warned = self.request(req.with_(limit=limit) if not post else req)
            cut = warned is not None and (limit is None or warned < limit or bool(post))
            frame = apply_post_filters(frame, post)
            missing = ["the server's row limit cut the answer, and the table has no id or "
                       "integer column to fetch the rest by"] if cut else []
            if limit is not None:
                frame = frame.iloc[:limit].reset_index(drop=True)
            return self._result(frame, missing,
                                complete=not cut and (limit is None or len(frame) < limit))

        pager = Pager(
            fetch=lambda rng: Answer(*self.request(spec_for(rng))),
            count=(None if spec.timestamp is not None
                   else lambda rng: self.request(spec_for(rng), count=True)),
            key=key, batches=len(batches) if batch_col is not None else None,
            server_limit=self.src.row_limit, want=limit,
            post=(lambda f: apply_post_filters(f, post)) if post else None,
            progress=self.progress, cancel=self.cancel)
        res = pager.run(first)
        if pager.server_limit:
            self.src.row_limit = pager.server_limit
        complete = not res.missing and not res.stopped_at_limit and (
            limit is None or len(res.frame) < limit)
        out = self._result(res.frame, res.missing, complete=complete)
        if self.cached_pages:
            out.notes.append(f"{self.cached_pages:,} page requests were read from the local "
                             "cache (kept from an earlier, unfinished fetch).")
        if res.requests > 1:
            out.notes.append(f"Fetched in {res.pages:,} pages ({res.requests:,} requests"
                             f" and {res.counts:,} counts): the server's row limit is "
                             f"{pager.server_limit:,} rows." if pager.server_limit else
                             f"Fetched in {res.pages:,} pages.")
        return out

    def _batches(self):
        """The longest server-side ``in`` list, split when one request would be too big."""
        ins = [f for f in self.plan.server if f.op is Op.IN and len(f.value) > IN_BATCH]
        if not ins:
            return None, []
        f = max(ins, key=lambda f: len(f.value))
        return f.column, split_batches(f.value)

    def _result(self, frame, missing: list[str], complete: bool) -> QueryResult:
        spec = self.spec
        if spec.columns:  # the server adds X_supervoxel_id to X_root_id, and our key
            frame = frame[[c for c in spec.columns if c in frame.columns]]
        res = QueryResult(spec, frame.reset_index(drop=True), 0.0, source="cave")
        note = self._live_note()
        if note:
            res.notes.append(note)
        if missing:
            res.truncated = True
            res.notes.append("Rows are missing: " + "; ".join(missing[:5])
                             + (f" (and {len(missing) - 5} more)" if len(missing) > 5 else "")
                             + ". Add filters, or split the query, to get every row.")
        elif complete:
            res.total_rows = len(frame)
        elif spec.limit is not None and len(frame) >= spec.limit and not self.plan.post \
                and spec.timestamp is None and self.join is None:  # a join has no count
            try:  # "50 of 1,961 rows": one cheap count
                res.total_rows = self.request(spec.with_(limit=None), count=True)
            except CancelledError:
                raise
            except Exception as exc:  # the rows are fine; only the total is unknown
                res.notes.append(f"Row count unavailable: {getattr(exc, 'message', exc)}")
        return res


_NOT_OFFERED = object()


def _live_live(mat, table: str, ts, kw: dict):
    """caveclient's live_live_query with query_table's keyword arguments (its filters
    and columns are keyed by table); _NOT_OFFERED when the server has no such endpoint."""
    import requests
    from caveclient.base import ServerIncompatibilityError

    args = {}
    for k, v in kw.items():
        if k.startswith("filter_") and k.endswith("_dict"):
            args[k] = {table: v}
        elif k == "select_columns":
            args[k] = {table: v}
        elif k in ("limit", "desired_resolution", "metadata", "log_warning"):
            args[k] = v
    try:
        return mat.live_live_query(table, ts, **args)
    except ServerIncompatibilityError:
        return _NOT_OFFERED
    except requests.HTTPError as exc:
        if getattr(exc.response, "status_code", None) in (404, 405, 501):
            return _NOT_OFFERED
        raise
