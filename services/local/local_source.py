"""LocalSource: DuckDB over local datastack folders (the bundled samples, or any folder).

Filters become SQL ``WHERE`` clauses with bound parameters, so DuckDB reads only the
row groups and columns a query needs; nothing loads a whole table to filter it.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterable

import duckdb

from models.datastack import DatastackInfo, TableInfo, VersionInfo
from models.errors import (CancelledError, CavernError, DataSourceError, InvalidInputError,
                           NotFoundError)
from models.filters import Filter
from models.query_spec import QueryResult, QuerySpec
from services.source import CancelToken, DataSource
from services.local.local_manifest import LocalDatastack, TableFile, open_datastack
from services.local.local_sql import (build_where, col_ref, explain_error, filtered_reader,
                                      prepare_cursor, quote_ident, reader_sql)


def sample_folders() -> list[Path]:
    """The datastacks bundled in resources/samples, read through importlib.resources."""
    from importlib.resources import files
    root = Path(str(files("resources") / "samples"))
    return sorted(p for p in root.iterdir() if (p / "manifest.json").exists())


class DatastackNameTakenError(InvalidInputError):
    """A second folder claims the name of an open datastack; ``suggestion`` is free."""

    def __init__(self, name: str, folder: Path, open_folder: Path):
        super().__init__(
            f"A datastack named '{name}' is already open (from {open_folder}); the folder "
            f"{folder} uses the same name in its manifest.", field="name",
            hint="Open it under another name, or close the other one first.")
        self.name, self.folder, self.open_folder = name, folder, open_folder
        self.suggestion = f"{name} ({folder.name})" if folder.name != name else f"{name} (2)"


class LocalSource(DataSource):
    kind = "local"

    def __init__(self, folders: Iterable[Path] = ()):
        self._stacks: dict[str, LocalDatastack] = {}
        self._con = duckdb.connect(":memory:")
        try:  # footers of big sorted tables are read once, not per query
            self._con.execute("SET parquet_metadata_cache = true")
        except duckdb.Error:
            pass
        try:  # DuckDB's allocator gives a big query's freed pages back within a second
            # (without its background thread they stay: +4 B/row on a 2M-row result)
            self._con.execute("SET allocator_background_threads = true")
        except duckdb.Error:
            pass
        self._lock = threading.Lock()  # guards _stacks and the parent connection
        #: bytes a query's result may take in memory; above it the result stays on disk
        #: (services.results.disk_result). None: CAVERN_MEMORY_BUDGET or 1 GB.
        self.memory_budget: int | None = None
        for f in folders:
            self.add_folder(f)

    # ---- datastacks -----------------------------------------------------------
    def add_folder(self, folder: Path, name: str | None = None) -> str:
        """Open a datastack folder and return its name (File > Open datastack folder).

        Reopening the same folder reloads it. A folder whose manifest uses the name of an
        already open datastack from another folder raises DatastackNameTakenError (it never
        replaces that one); pass ``name`` to open it under another name."""
        stack = open_datastack(Path(folder))
        if name is not None:
            name = str(name).strip()
            if not name:
                raise InvalidInputError("Type a name for the datastack.", field="name")
            stack.info = replace(stack.info, name=name)
        key = stack.info.name
        with self._lock:
            old = self._stacks.get(key)
            if old is not None and old.folder != stack.folder:
                raise DatastackNameTakenError(key, stack.folder, old.folder)
            self._stacks[key] = stack
        return key

    def datastacks(self) -> list[str]:
        return list(self._stacks)

    def _stack(self, datastack: str) -> LocalDatastack:
        try:
            return self._stacks[datastack]
        except KeyError:
            raise NotFoundError(f"No local datastack named '{datastack}'.",
                                hint="Open its folder with File > Open datastack folder.") from None

    def datastack_info(self, datastack: str) -> DatastackInfo:
        return self._stack(datastack).info

    def versions(self, datastack: str) -> list[VersionInfo]:
        return list(self._stack(datastack).versions)

    def default_version(self, datastack: str) -> int | None:
        return self._stack(datastack).default_version

    def _version(self, datastack: str, version: int | None) -> int:
        v = self.default_version(datastack) if version is None else int(version)
        if v is None:
            raise NotFoundError(f"Datastack '{datastack}' has no versions.")
        return v

    # ---- tables ---------------------------------------------------------------
    def tables(self, datastack: str, version: int | None = None) -> list[TableInfo]:
        files = self._stack(datastack).tables(self._version(datastack, version))
        return [self._complete_info(tf) for tf in files.values()]

    def table_info(self, datastack: str, table: str, version: int | None = None) -> TableInfo:
        return self._complete_info(self._file(datastack, table, version))

    def prepare(self, datastack: str, version: int | None = None) -> None:
        """Read the footers of the version's big Parquet tables, with the statistics of
        their root-id columns (row_group_stats.prepare), so that a cell's first query
        does not wait for them; with a big table, also import what turns its first result
        into a frame (pandas: 0.3 s), which the app otherwise loads on first use."""
        from services.local.row_group_stats import prepare
        try:
            files = self._stack(datastack).tables(self._version(datastack, version))
        except CavernError:
            return
        big = False
        for tf in files.values():
            if tf.fmt != "parquet" or tf.problem or tf.path.is_dir():
                continue
            ids = [c for c, k in tf.info.kinds.items() if k == "int" and c.endswith("root_id")]
            try:
                big = prepare(tf.path, ids) or big
            except Exception:  # noqa: BLE001 - a hint: the query reads the file itself
                continue
        if big:
            import pandas  # noqa: F401

    def _file(self, datastack: str, table: str, version: int | None) -> TableFile:
        v = self._version(datastack, version)
        files = self._stack(datastack).tables(v)
        if table not in files:
            raise NotFoundError(f"Table '{table}' is not in '{datastack}' version {v}.",
                                hint="Tables here: " + (", ".join(files) or "none") + ".")
        return files[table]

    def _complete_info(self, tf: TableFile) -> TableInfo:
        """The table's info; columns and types come from its schema or CSV layout."""
        return tf.info

    @staticmethod
    def _usable(tf: TableFile, table: str) -> None:
        if tf.problem:
            raise DataSourceError(f"Table '{table}' cannot be read: {tf.problem}")

    def row_count(self, datastack: str, table: str, version: int | None = None,
                  filters: Iterable[Filter] = ()) -> int:
        tf = self._file(datastack, table, version)
        filters = tuple(filters)
        if tf.info.row_count is not None and not filters:
            return tf.info.row_count
        self._usable(tf, table)
        info = self._complete_info(tf)
        where, params, ids = build_where(filters, info, tf)
        cur = prepare_cursor(self._cursor(), tf, ids)
        try:
            reader = filtered_reader(cur, tf, filters)
            return int(cur.execute(f"SELECT count(*) FROM {reader}{where}", params).fetchone()[0])
        except duckdb.Error as exc:
            raise DataSourceError(f"Counting rows of '{table}' failed: {explain_error(exc, tf)}") from None
        finally:
            cur.close()

    # ---- queries --------------------------------------------------------------
    def query(self, spec: QuerySpec, cancel: CancelToken | None = None) -> QueryResult:
        if spec.timestamp is not None:
            raise InvalidInputError("A local datastack has no live data: pick a version.",
                                    field="version")
        spec.check()
        datastack = spec.datastack or next(iter(self._stacks), "")
        version = self._version(datastack, spec.version)
        tf = self._file(datastack, spec.table, version)
        self._usable(tf, spec.table)
        info = self._complete_info(tf)
        missing = [c for c in spec.columns if c not in info.kinds]
        if missing:
            raise InvalidInputError(f"Column '{missing[0]}' is not in table '{spec.table}'.",
                                    field=missing[0])
        where, params, ids = build_where(spec.filters, info, tf)
        names = list(spec.columns) if spec.columns else [c.name for c in info.columns]
        # By position, under the exact name: DuckDB would take "ID" for "id".
        cols = ", ".join(f"{col_ref(tf, c)} AS {quote_ident(c)}" for c in names) or "*"
        limit = f" LIMIT {int(spec.limit)}" if spec.limit is not None else ""
        if not spec.desired_resolution and len(set(names)) == len(names):
            disk = self._disk_result(spec, tf, info, names, cols, where, params, ids, cancel)
            if disk is not None:
                spec = spec.with_(datastack=datastack, version=version)
                return QueryResult(spec, disk, disk.elapsed_s, source="local",
                                   notes=[f"{len(disk):,} rows: more than fit in memory, so "
                                          "the result stays on disk"])
        t0 = time.perf_counter()
        with self._duck(tf, cancel, f"Query on '{spec.table}' failed", ids) as cur:
            reader = filtered_reader(cur, tf, spec.filters)  # a cell's few row groups
            cancel and cancel.raise_if_cancelled()
            frame = fetch_frame(cur, f"SELECT {cols} FROM {reader}{where}{limit}", params)
            if names and len(frame.columns) == len(names):
                frame.columns = names  # keep the exact names, duplicates included
            total = None
            if spec.limit is not None and len(frame) == spec.limit:
                total = int(cur.execute(f"SELECT count(*) FROM {reader}{where}",
                                        params).fetchone()[0])
        if spec.desired_resolution:
            from services.results.positions import rescale_positions
            frame = rescale_positions(frame, info, spec.desired_resolution)
        spec = spec.with_(datastack=datastack, version=version)
        return QueryResult(spec, frame, time.perf_counter() - t0, total_rows=total,
                           source="local")

    def _disk_result(self, spec, tf, info, names, cols, where, params, ids, cancel):
        """The result as a DiskResult (rows kept in DuckDB) when rows x row width exceeds
        the memory budget; else None. Counting first is cheap: Parquet footers, or a
        filtered count pushed down, only when the whole table would not fit."""
        from services.results import disk_result
        budget = self.memory_budget if self.memory_budget is not None else (
            disk_result.memory_budget())
        width = disk_result.row_width(info.kinds.get(c, "string") for c in names)
        n = info.row_count if info.row_count is not None else None
        if n is not None and spec.limit is not None:
            n = min(n, int(spec.limit))
        if n is not None and n * width <= budget:
            return None
        if spec.filters and tf.fmt == "parquet" and not tf.path.is_dir():
            # the footer may already show it fits (a sorted table, one cell's rows): no count
            from services.local.row_group_stats import rows_bound
            bound = rows_bound(tf.path, spec.filters)
            if bound is not None and bound * width <= budget:
                return None
        if n is None or spec.filters:
            n = self.row_count(spec.datastack or next(iter(self._stacks), ""), spec.table,
                               spec.version, spec.filters)
            if spec.limit is not None:
                n = min(n, int(spec.limit))
        if n * width <= budget:
            return None
        t0 = time.perf_counter()
        limit = f" LIMIT {int(spec.limit)}" if spec.limit is not None else ""
        plain = tf.fmt == "parquet" and not where and not limit
        if plain:  # the file's own row numbers: nothing is copied
            reader = reader_sql(tf).replace("')", "', file_row_number = true)", 1)
            sql = f"SELECT file_row_number, {cols} FROM {reader}"
        else:
            sql = f"SELECT {cols} FROM {reader_sql(tf)}{where}{limit}"
        prepare = (lambda cur: prepare_cursor(cur, tf, ids)) if tf.fmt == "feather" or ids \
            else None
        result = disk_result.DiskResult(sql, params, cancel=cancel, prepare=prepare,
                                        row_number="file_row_number" if plain else None)
        result.elapsed_s = time.perf_counter() - t0
        return result

    def synapse_pairs(self, datastack: str, table: str, version: int | None = None,
                      filters: Iterable[Filter] = (), cancel: CancelToken | None = None,
                      pre: str = "pre_pt_root_id", post: str = "post_pt_root_id",
                      size: str | None = "size", *, min_rows: int = 0):
        """Connected pairs of a synapse table aggregated in DuckDB (a streaming GROUP BY
        that spills to disk), for matrices whose synapses do not fit in memory. Same
        columns and order as services.connectivity.aggregation.aggregate_pairs. None when
        no more than ``min_rows`` synapses match (the caller aggregates them in memory)."""
        if min_rows and (self.row_count(datastack, table, version) <= min_rows  # footers
                         or self.row_count(datastack, table, version, filters) <= min_rows):
            return None
        tf = self._file(datastack, table, version)
        self._usable(tf, table)
        info = self._complete_info(tf)
        where, params, ids = build_where(filters, info, tf)
        has_size = size is not None and size in info.kinds
        s_sum = "CAST(0 AS BIGINT)"
        if has_size:  # int sizes stay exact int64 (DuckDB would widen the sum to int128)
            s_sum = (f"CAST(sum({col_ref(tf, size)}) AS BIGINT)" if info.kinds[size] == "int"
                     else f"sum({col_ref(tf, size)})")
        s_mean = f"avg({col_ref(tf, size)})" if has_size else "CAST(NULL AS DOUBLE)"
        sql = (f"SELECT {col_ref(tf, pre)} AS pre_pt_root_id, {col_ref(tf, post)} AS post_pt_root_id, "
               f"count(*) AS n_synapses, {s_sum} AS size_sum, {s_mean} AS size_mean "
               f"FROM {reader_sql(tf)}{where} GROUP BY 1, 2 ORDER BY 1, 2")
        with self._duck(tf, cancel, f"Aggregating '{table}' failed", ids) as cur:
            frame = cur.sql(sql, params=params or None).to_arrow_table().to_pandas()
        frame["n_synapses"] = frame["n_synapses"].astype("int64")
        return frame

    def sorted_synapse_scan(self, datastack: str, table: str, version: int | None, pre_ids,
                            pre: str = "pre_pt_root_id", post: str = "post_pt_root_id",
                            size: str | None = "size"):
        """A batch-by-batch reader of a Parquet synapse table sorted by (pre, post) over the
        row groups that can hold a cell of ``pre_ids`` (services.local.sorted_scan), or None
        when the table is not such a file."""
        from services.local.sorted_scan import sorted_scan
        tf = self._file(datastack, table, self._version(datastack, version))
        self._usable(tf, table)
        if tf.fmt != "parquet" or tf.path.is_dir():
            return None
        return sorted_scan(tf.path, pre, post, size, pre_ids)

    def distinct_values(self, datastack: str, table: str, column: str,
                        version: int | None = None, limit: int = 1000, prefix: str = "",
                        cancel: CancelToken | None = None) -> list[str] | None:
        """SELECT DISTINCT of a column (as text), sorted, at most ``limit`` values."""
        version = self._version(datastack, version)
        tf = self._file(datastack, table, version)
        self._usable(tf, table)
        info = self._complete_info(tf)
        if column not in info.kinds:
            raise InvalidInputError(f"Column '{column}' is not in table '{table}'.",
                                    field=column)
        col = f"CAST({col_ref(tf, column)} AS VARCHAR)"
        where, params = f" WHERE {col} IS NOT NULL AND {col} <> ''", []
        if prefix:
            where += f" AND starts_with(lower({col}), ?)"
            params.append(prefix.lower())
        sql = (f"SELECT DISTINCT {col} AS v FROM {reader_sql(tf)}{where} "
               f"ORDER BY v LIMIT {max(0, int(limit))}")
        with self._duck(tf, cancel, f"Listing values of '{table}.{column}' failed") as cur:
            cancel and cancel.raise_if_cancelled()
            return [r[0] for r in cur.execute(sql, params).fetchall()]

    def _cursor(self):
        with self._lock:
            return self._con.cursor()

    @contextmanager
    def _duck(self, tf, cancel: CancelToken | None, failed: str, id_tables=None):
        """A prepared cursor (prepare_cursor) that Cancel interrupts; DuckDB errors leave
        as typed ones."""
        cur = prepare_cursor(self._cursor(), tf, id_tables)
        if cancel is not None:
            cancel.on_cancel(cur.interrupt)
        try:
            yield cur
        except duckdb.InterruptException:
            raise CancelledError() from None
        except duckdb.Error as exc:
            if cancel is not None and cancel.cancelled:
                raise CancelledError() from None
            raise DataSourceError(f"{failed}: {explain_error(exc, tf)}") from None
        finally:
            cur.close()

    def skeleton(self, datastack: str, root_id: int, version: int | None = None,
                 timestamp=None, cancel: CancelToken | None = None):
        """The cell's skeleton from the datastack's skeletons/ folder, or None."""
        from services.local.skeletons import read_skeleton
        return read_skeleton(self._stack(datastack).folder, root_id)

    def close(self) -> None:
        self._con.close()


def fetch_frame(cur, sql: str, params):
    """A query's rows as a DataFrame, position lists kept as one (n, 3) Arrow block
    (services.results.positions) instead of a numpy object per row."""
    # A relation (not a DB-API result) hands its Arrow batches over without a copy.
    from services.results.memory import release_freed_memory
    from services.results.positions import frame_from_arrow  # pandas: not at start-up
    frame = frame_from_arrow(cur.sql(sql, params=params or None).to_arrow_table())
    release_freed_memory(len(frame))  # DuckDB's scan buffers, freed but still mapped
    return frame
