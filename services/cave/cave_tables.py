"""CaveTables: the table catalogue of a CAVE datastack, a mixin of :class:`CaveSource`.

Tables and views of a version with their columns (schema definitions, refined by a one-row
probe query), reference tables joined to their targets, distinct string values and row
counts. Table lists, probed columns and distinct values are kept per (datastack, version).

It is not a source on its own: it uses the host's clients, locks and caches
(``_call``, ``_mat``, ``_check_version``, ``_run``, ``global_client``, ``_prepare``,
``_lock``, ``_ctx``, ``_tables``, ``_probed``, ``_unique``, ``server``), all set up by
``CaveSource.__init__``.
"""
from __future__ import annotations

from dataclasses import replace

from models.datastack import TableInfo
from models.errors import CavernError, DataSourceError, InvalidInputError, NotFoundError
from models.query_spec import QuerySpec
from models.reference_join import ReferenceJoin, reference_join_of
from services.http_errors import map_exception
from services.cave.cave_records import innermost
from services.cave.cave_schema import (columns_from_frame, columns_from_schema,
                                       columns_from_view_schema, joined_columns, joined_owners)
from services.source import CancelToken


class CaveTables:
    """Tables, views, columns, distinct values and row counts of a CAVE datastack."""

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


def _api_at_least(mat, major: int) -> bool:
    try:
        return int(str(mat.api_version).split(".")[0]) >= major
    except (AttributeError, TypeError, ValueError):
        return True  # unknown: try, and fall back on ServerIncompatibilityError

