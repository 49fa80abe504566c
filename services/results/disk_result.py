"""A query result too big for memory, kept in DuckDB: the query's relation over the files
plus, in a private on-disk database, one table per sorted or filtered view of it.

Every view has a stable row number (the base: Parquet's ``file_row_number`` or a
materialised table's ``rowid``; a sort/filter table: its ``rowid``, insertion order being
preserved), so a window of rows is ``WHERE pos BETWEEN a AND b``, which DuckDB answers
from a few row groups. Each view keeps the base row number as ``__cavern_rn``.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import weakref

import duckdb
import pyarrow as pa

from models.errors import CancelledError, DataSourceError

RN = "__cavern_rn"
DEFAULT_BUDGET = 1 << 30  # bytes a result may take in memory before it stays on disk
ROW_BYTES = {"int": 8, "float": 8, "bool": 1, "timestamp": 8, "time": 8, "position": 25}
TEXT_BYTES = 48  # a Python str per row plus the pointer


def memory_budget() -> int:
    """The in-memory budget in bytes: CAVERN_MEMORY_BUDGET (e.g. '1GB', '500MB') or 1 GB."""
    text = os.environ.get("CAVERN_MEMORY_BUDGET", "").strip().upper()
    if not text:
        return DEFAULT_BUDGET
    for unit, mult in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)):
        if text.endswith(unit):
            try:
                return int(float(text[:-len(unit)]) * mult)
            except ValueError:
                return DEFAULT_BUDGET
    try:
        return int(text)
    except ValueError:
        return DEFAULT_BUDGET


def row_width(kinds) -> int:
    """Bytes per row in memory of columns of these kinds (models' column kinds)."""
    return sum(ROW_BYTES.get(k, TEXT_BYTES) for k in kinds) or 8


def q(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _rmtree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


class View:
    """One ordering/filtering of the result: rows of ``rel`` at positions ``pos``."""

    def __init__(self, rel: str, pos: str, n: int, key=None, needle: str = ""):
        self.rel, self.pos, self.n, self.key, self.needle = rel, pos, n, key, needle


class DiskResult:
    """The rows of one query, on disk. Safe to use from a worker and the GUI at once:
    each call takes its own DuckDB cursor."""

    on_disk = True

    def __init__(self, base_sql: str, params=(), *, row_number: str | None = None,
                 prepare=None, temp_dir: str | None = None, memory_limit: str = "1GB",
                 cancel=None):
        """``base_sql`` selects the result's columns; ``row_number`` names a column of it
        that is a dense 0-based row number in file order (Parquet's file_row_number),
        else the result is copied once into the private database."""
        self.dir = tempfile.mkdtemp(prefix="cavern-result-", dir=temp_dir)
        self._finalizer = weakref.finalize(self, _rmtree, self.dir)
        self._lock = threading.Lock()
        self._serial = 0
        self._views: dict = {}
        try:
            self.con = duckdb.connect(os.path.join(self.dir, "result.duckdb"))
            for setting in (f"SET memory_limit = '{memory_limit}'",
                            f"SET temp_directory = '{os.path.join(self.dir, 'spill')}'",
                            "SET preserve_insertion_order = true"):
                self.con.execute(setting)
            cur = self.con.cursor()
            if prepare is not None:
                prepare(cur)
            if cancel is not None:
                cancel.on_cancel(cur.interrupt)
            if row_number is not None and prepare is None:
                self.con.execute(f"CREATE VIEW base AS SELECT {q(row_number)} AS {RN}, * "
                                 f"EXCLUDE ({q(row_number)}) FROM ({base_sql})", list(params))
            else:  # filtered rows or an in-memory Arrow view: copied once, numbered by rowid
                cur.execute(f"CREATE TABLE base_t AS {base_sql}", list(params))
                self.con.execute(f"CREATE VIEW base AS SELECT rowid AS {RN}, * FROM base_t")
            cur.close()
            rel = self.con.sql("SELECT * FROM base LIMIT 0").to_arrow_table()
            self.schema = pa.schema([f for f in rel.schema if f.name != RN])
            self.names = list(self.schema.names)
            n = int(self.con.execute("SELECT count(*) FROM base").fetchone()[0])
        except duckdb.InterruptException:
            self.close()
            raise CancelledError() from None
        except duckdb.Error as exc:
            self.close()
            if cancel is not None and cancel.cancelled:
                raise CancelledError() from None
            raise DataSourceError(f"Keeping the result on disk failed: {exc}") from None
        self.n = n
        self.base = View("base", RN, n)
        self._views[(None, "")] = self.base

    def __len__(self) -> int:
        return self.n

    @property
    def columns(self) -> list[str]:
        return list(self.names)

    def cursor(self):
        return self.con.cursor()

    def close(self) -> None:
        try:
            self.con.close()
        except Exception:  # noqa: BLE001 - closing twice, or never opened
            pass
        self._finalizer()

    # ---- windows -----------------------------------------------------------------------
    def fetch(self, view: View, start: int, stop: int) -> pa.Table:
        """Rows [start, stop) of a view, in view order, with the base row number RN."""
        cur = self.cursor()
        try:
            return cur.sql(f"SELECT * FROM {view.rel} WHERE {view.pos} BETWEEN ? AND ? "
                           f"ORDER BY {view.pos}", params=[int(start), int(stop) - 1]
                           ).to_arrow_table()
        finally:
            cur.close()

    def fetch_rows(self, view: View, rows) -> pa.Table:
        """These view rows (sorted, unique), in that order."""
        rows = [int(r) for r in rows]
        if not rows:
            return self.fetch(view, 0, 0)
        lo, hi = rows[0], rows[-1]
        if hi - lo + 1 == len(rows):
            return self.fetch(view, lo, hi + 1)
        cur = self.cursor()
        try:
            return cur.sql(
                f"SELECT * FROM {view.rel} WHERE {view.pos} BETWEEN ? AND ? AND {view.pos} IN "
                f"(SELECT unnest(?)) ORDER BY {view.pos}", params=[lo, hi, rows]).to_arrow_table()
        finally:
            cur.close()

    # ---- sort and filter in DuckDB --------------------------------------------------------
    def view(self, key, needle: str, kinds, cancel=None) -> View:
        """The view sorted by ``key`` = (column, descending) or None, filtered by ``needle``;
        built once (a table in the private database) and cached."""
        needle = needle.strip().lower()
        with self._lock:
            found = self._views.get((key, needle))
        if found is not None:
            return found
        if not needle:  # sort of the whole result
            return self._build(self.base, key, "", kinds, cancel)
        sorted_whole = self._views.get((key, ""))
        if key is None or sorted_whole is not None:  # filter an existing order
            return self._build(sorted_whole or self.base, None, needle, kinds, cancel, key)
        filtered = self.view(None, needle, kinds, cancel)  # filter, then sort fewer rows
        return self._build(filtered, key, needle, kinds, cancel)

    def _build(self, src: View, key, needle: str, kinds, cancel, result_key=None) -> View:
        order = self._order_by(key, kinds, src) if key is not None else ""
        where, params = self._where(needle, kinds) if needle and key is None else ("", [])
        with self._lock:
            self._serial += 1
            name = f"v{self._serial}"
        cur = self.cursor()
        if cancel is not None:
            cancel.on_cancel(cur.interrupt)
        try:
            if cancel is not None and cancel.cancelled:
                raise CancelledError()
            keep = f"{RN}, " + ", ".join(q(n) for n in self.names)
            cur.execute(f"CREATE TABLE {name} AS SELECT {keep} FROM (SELECT {src.pos} AS "
                        f"__pos, * FROM {src.rel}) {where} {order or 'ORDER BY __pos'}",
                        params)
            n = int(cur.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
        except duckdb.InterruptException:
            raise CancelledError() from None
        except duckdb.Error as exc:
            if cancel is not None and cancel.cancelled:
                raise CancelledError() from None
            raise DataSourceError(f"Sorting or filtering the on-disk result failed: {exc}") \
                from None
        finally:
            cur.close()
        final_key = key if result_key is None else result_key
        view = View(name, "rowid", n, final_key, needle or src.needle)
        with self._lock:
            self._views[(final_key, view.needle)] = view
        return view

    def _order_by(self, key, kinds, src: View) -> str:
        column, descending = key
        name, kind = q(self.names[column]), kinds[column]
        if kind == "text":
            expr = f"lower(CAST({name} AS VARCHAR))"
        elif kind == "float":  # NaN with the missing values, last (as in memory)
            expr = f"CASE WHEN isnan({name}) THEN NULL ELSE {name} END"
        elif kind == "other":
            expr = f"CAST({name} AS VARCHAR)"
        else:
            expr = name
        return f"ORDER BY {expr} {'DESC' if descending else 'ASC'} NULLS LAST, __pos"

    def _where(self, needle: str, kinds) -> tuple[str, list]:
        """Rows whose text contains ``needle`` in any column (lower case)."""
        chars = set(needle)
        parts, params = [], []
        for name, kind in zip(self.names, kinds):
            if kind in CHARS and not chars <= CHARS[kind]:
                continue  # e.g. letters never occur in an id column
            parts.append(f"contains(lower(CAST({q(name)} AS VARCHAR)), ?)")
            params.append(needle)
        return ("WHERE " + (" OR ".join(parts) if parts else "FALSE")), params

    # ---- export ------------------------------------------------------------------------------
    def copy_to(self, view: View, tmp_path: str, kind: str, rows=None, cancel=None) -> None:
        """COPY the view's rows (all, or these view rows) to ``tmp_path`` in view order."""
        cols = ", ".join(q(n) for n in self.names)
        sel, params = "", []
        if rows is not None:
            sel, params = " WHERE __pos IN (SELECT unnest(?))", [[int(r) for r in rows]]
        options = ("FORMAT parquet, COMPRESSION zstd" if kind == "parquet" else
                   f"FORMAT csv, HEADER, DELIMITER '{chr(9) if kind == 'tsv' else ','}'")
        path = tmp_path.replace("'", "''")
        cur = self.cursor()
        if cancel is not None:
            cancel.on_cancel(cur.interrupt)
        try:
            cur.execute(f"COPY (SELECT {cols} FROM (SELECT {view.pos} AS __pos, * FROM "
                        f"{view.rel}){sel} ORDER BY __pos) TO '{path}' ({options}, "
                        f"USE_TMP_FILE false)", params)
        except duckdb.InterruptException:
            raise CancelledError("Export cancelled; no file was written.") from None
        except duckdb.IOException as exc:
            raise OSError(str(exc)) from None
        finally:
            cur.close()


CHARS = {"int": set("0123456789-"), "float": set("0123456789-.e+naif"),
         "bool": set("truefals"), "list": set("0123456789-.[], e+")}
