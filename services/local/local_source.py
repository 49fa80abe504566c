"""LocalSource: DuckDB over local datastack folders (the bundled samples, or any folder).

Filters become SQL ``WHERE`` clauses with bound parameters, so DuckDB reads only the
row groups and columns a query needs; nothing loads a whole table to filter it.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterable

import duckdb
import pyarrow as pa
import pyarrow.feather as feather

from models.datastack import ColumnInfo, DatastackInfo, TableInfo, VersionInfo
from models.errors import (CancelledError, DataSourceError, InvalidInputError, NotFoundError)
from models.filters import Filter, Op, validate_filter
from models.query_spec import QueryResult, QuerySpec
from services.source import CancelToken, DataSource
from services.local.local_manifest import (LocalDatastack, TableFile, duck_kind, open_datastack)


def sample_folders() -> list[Path]:
    """The datastacks bundled in resources/samples, read through importlib.resources."""
    from importlib.resources import files
    root = Path(str(files("resources") / "samples"))
    return sorted(p for p in root.iterdir() if (p / "manifest.json").exists())


class LocalSource(DataSource):
    kind = "local"

    def __init__(self, folders: Iterable[Path] = ()):
        self._stacks: dict[str, LocalDatastack] = {}
        self._con = duckdb.connect(":memory:")
        self._lock = threading.Lock()  # guards _stacks and the parent connection
        for f in folders:
            self.add_folder(f)

    # ---- datastacks -----------------------------------------------------------
    def add_folder(self, folder: Path) -> str:
        """Open a datastack folder and return its name (File > Open datastack folder)."""
        stack = open_datastack(Path(folder))
        with self._lock:
            self._stacks[stack.info.name] = stack
        return stack.info.name

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

    def _file(self, datastack: str, table: str, version: int | None) -> TableFile:
        v = self._version(datastack, version)
        files = self._stack(datastack).tables(v)
        if table not in files:
            raise NotFoundError(f"Table '{table}' is not in '{datastack}' version {v}.",
                                hint="Tables here: " + ", ".join(files) + ".")
        return files[table]

    def _complete_info(self, tf: TableFile) -> TableInfo:
        """CSV files carry no schema: ask DuckDB once (it samples the file)."""
        if tf.info.columns or tf.info.notice_text.startswith("Unreadable"):
            return tf.info
        try:
            cur = _prepare(self._cursor(), tf)
            desc = cur.execute(f"DESCRIBE SELECT * FROM {_reader(tf)}").fetchall()
            cur.close()
        except duckdb.Error as exc:
            tf.info = replace(tf.info, notice_text=f"Unreadable file: {_short(exc)}")
            return tf.info
        cols = tuple(ColumnInfo(name, duck_kind(typ), typ.lower()) for name, typ, *_ in desc)
        tf.info = replace(tf.info, columns=cols)
        return tf.info

    def row_count(self, datastack: str, table: str, version: int | None = None,
                  filters: Iterable[Filter] = ()) -> int:
        tf = self._file(datastack, table, version)
        filters = tuple(filters)
        if tf.info.row_count is not None and not filters:
            return tf.info.row_count
        info = self._complete_info(tf)
        where, params = build_where(filters, info)
        cur = _prepare(self._cursor(), tf)
        try:
            return int(cur.execute(f"SELECT count(*) FROM {_reader(tf)}{where}", params).fetchone()[0])
        except duckdb.Error as exc:
            raise DataSourceError(f"Counting rows of '{table}' failed: {_short(exc)}") from None
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
        info = self._complete_info(tf)
        if info.notice_text.startswith("Unreadable"):
            raise DataSourceError(f"Table '{spec.table}' cannot be read: {info.notice_text}")
        missing = [c for c in spec.columns if c not in info.kinds]
        if missing:
            raise InvalidInputError(f"Column '{missing[0]}' is not in table '{spec.table}'.",
                                    field=missing[0])
        where, params = build_where(spec.filters, info)
        cols = ", ".join(_q(c) for c in spec.columns) if spec.columns else "*"
        limit = f" LIMIT {int(spec.limit)}" if spec.limit is not None else ""
        sql = f"SELECT {cols} FROM {_reader(tf)}{where}{limit}"
        cur = _prepare(self._cursor(), tf)
        if cancel is not None:
            cancel.on_cancel(cur.interrupt)
        t0 = time.perf_counter()
        try:
            cancel and cancel.raise_if_cancelled()
            frame = cur.execute(sql, params).df()
            total = None
            if spec.limit is not None and len(frame) == spec.limit:
                total = int(cur.execute(f"SELECT count(*) FROM {_reader(tf)}{where}",
                                        params).fetchone()[0])
        except duckdb.InterruptException:
            raise CancelledError() from None
        except duckdb.Error as exc:
            if cancel is not None and cancel.cancelled:
                raise CancelledError() from None
            raise DataSourceError(f"Query on '{spec.table}' failed: {_short(exc)}") from None
        finally:
            cur.close()
        if spec.desired_resolution:
            frame = rescale_positions(frame, info, spec.desired_resolution)
        spec = spec.with_(datastack=datastack, version=version)
        return QueryResult(spec, frame, time.perf_counter() - t0, total_rows=total,
                           source="local")

    def _cursor(self):
        with self._lock:
            return self._con.cursor()

    def close(self) -> None:
        self._con.close()


def rescale_positions(frame, info: TableInfo, desired):
    """Position columns converted from the table's voxels to ``desired`` (nm per unit),
    as CAVE's materialization service does for ``desired_resolution``."""
    import numpy as np
    scale = np.asarray(info.voxel_resolution, float) / np.asarray(desired, float)
    for col in info.position_columns:
        if col in frame and len(frame):
            c = info.column(col)
            factor = scale if (c is None or c.units in ("", "vx")) else 1.0 / np.asarray(desired, float)
            values = frame[col].to_numpy()
            ok = np.array([v is not None and len(v) == 3 for v in values])
            out = np.empty(len(values), dtype=object)
            if ok.any():
                xyz = np.vstack(values[ok]).astype(float) * factor
                out[np.flatnonzero(ok)] = list(xyz)
            frame[col] = out
    return frame


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]


def _reader(tf: TableFile) -> str:
    path = str(tf.path).replace("'", "''")
    if tf.fmt == "parquet":
        return f"read_parquet('{path}')"
    if tf.fmt == "csv":
        return f"read_csv('{path}', header=true, sample_size=20000)"
    # Feather/Arrow IPC: DuckDB scans a memory-mapped Arrow table registered on the cursor.
    return FEATHER_VIEW


FEATHER_VIEW = "_cavern_feather"


def _prepare(cur, tf: TableFile):
    """Register a Feather file's memory-mapped Arrow table on this cursor."""
    if tf.fmt == "feather":
        try:
            cur.register(FEATHER_VIEW, feather.read_table(tf.path, memory_map=True))
        except (pa.ArrowException, OSError) as exc:
            raise DataSourceError(f"'{tf.path.name}' cannot be read: {exc}") from None
    return cur


def build_where(filters: Iterable[Filter], info: TableInfo) -> tuple[str, list]:
    """Translate filters to a parameterised WHERE clause for the table's columns."""
    clauses, params = [], []
    kinds = info.kinds
    for f in filters:
        validate_filter(f, kinds)
        col = _q(f.column)
        if f.op is Op.WITHIN:
            lo, hi = _box_in_column_units(f, info)
            for i in range(3):
                clauses.append(f"{col}[{i + 1}] BETWEEN ? AND ?")
                params += [lo[i], hi[i]]
        elif f.op in (Op.IN, Op.NOT_IN):
            neg = "NOT " if f.op is Op.NOT_IN else ""
            clauses.append(f"{col} {neg}IN (SELECT unnest(?))")
            params.append(list(f.value))
        elif f.op is Op.BETWEEN:
            clauses.append(f"{col} BETWEEN ? AND ?")
            params += list(f.value)
        elif f.op is Op.REGEX:
            clauses.append(f"regexp_matches(CAST({col} AS VARCHAR), ?)")
            params.append(f.value)
        else:
            op = {Op.EQ: "=", Op.NE: "!=", Op.GT: ">", Op.GE: ">=", Op.LT: "<", Op.LE: "<="}[f.op]
            clauses.append(f"{col} {op} ?")
            params.append(f.value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _box_in_column_units(f: Filter, info: TableInfo):
    lo, hi = f.value
    col = info.column(f.column)
    res = info.voxel_resolution
    col_units = (col.units if col else "") or "vx"
    if f.units == col_units:
        return lo, hi
    if f.units == "nm":  # box in nm, column in voxels
        return [a / r for a, r in zip(lo, res)], [a / r for a, r in zip(hi, res)]
    return [a * r for a, r in zip(lo, res)], [a * r for a, r in zip(hi, res)]
