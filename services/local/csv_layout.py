"""What a CSV table looks like (delimiter, encoding, column names and types), from a
bounded sample of its first lines, never the whole file.

A CSV with one enormous line, a ragged row or Latin-1 text gets a message that says so,
instead of a minute of sniffing, one column of everything, or "CSV Error on Line: 2".
"""
from __future__ import annotations

import atexit
import csv
import io
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from models.errors import DataSourceError

SNIFF_BYTES = 1024 * 1024  # the header and the rows used to guess types come from here
DELIMITERS = (",", "\t", ";", "|")

csv.field_size_limit(max(csv.field_size_limit(), 4 * SNIFF_BYTES))


@dataclass(frozen=True)
class CsvLayout:
    delimiter: str
    encoding: str  # "utf-8" or "latin-1"
    names: tuple[str, ...]
    types: tuple[str, ...]  # DuckDB type names, one per column


def _fail(path: Path, why: str, fix: str = "") -> DataSourceError:
    return DataSourceError(f"The CSV file '{path.name}' cannot be read: {why}",
                           hint=fix or "Fix the file, or save it again from a spreadsheet as CSV UTF-8.")


def read_sample(path: Path) -> tuple[str, str]:
    """(text of the first complete lines, encoding), at most SNIFF_BYTES of the file."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(SNIFF_BYTES + 1)
    except OSError as exc:
        raise _fail(path, f"{exc.strerror or exc}.", "Check that the file is readable.") from None
    if not raw.strip():
        raise _fail(path, "it is empty.", "Add a header line with the column names.")
    if b"\x00" in raw:
        raise _fail(path, "it holds binary data (NUL bytes), not text.")
    if len(raw) > SNIFF_BYTES:
        end = raw.rfind(b"\n", 0, SNIFF_BYTES)
        if end < 0:
            raise _fail(path, f"its first line is longer than {SNIFF_BYTES // 1024**2} MB, "
                        "so it is not a header of column names.")
        raw = raw[:end + 1]
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        # Latin-1 decodes any byte; Excel on Windows often saves CSV that way.
        return raw.decode("latin-1"), "latin-1"


def _rows(text: str, delimiter: str) -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]


def sniff_layout(path: Path) -> CsvLayout:
    text, encoding = read_sample(path)
    best = None
    try:
        for d in DELIMITERS:
            rows = _rows(text, d)
            width = len(rows[0]) if rows else 0
            if best is None or width > best[1]:
                best = (d, width, rows)
    except csv.Error as exc:
        raise _fail(path, f"{exc}.") from None
    delimiter, width, rows = best
    names = _unique([c.strip() or f"column{i}" for i, c in enumerate(rows[0])])
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise _fail(path, f"line {n} has {len(row)} fields, but the header has {width} "
                        f"(separated by {_delim_name(delimiter)}).",
                        "Every line needs the same number of fields as the header; quote "
                        "fields that contain the separator.")
    types = _sample_types(text, delimiter, width) if len(rows) > 1 else ("VARCHAR",) * width
    return CsvLayout(delimiter, encoding, tuple(names), types)


def _delim_name(d: str) -> str:
    return {",": "commas", "\t": "tabs", ";": "semicolons", "|": "bars"}[d]


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for n in names:
        base, k = n, 0
        while n in seen:
            k += 1
            n = f"{base}_{k}"
        seen.add(n)
        out.append(n)
    return out


def _sample_types(text: str, delimiter: str, width: int) -> tuple[str, ...]:
    """DuckDB's type guess for each column, from the sample only (bounded time)."""
    fd, tmp = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        con = _connection().cursor()
        try:
            rows = con.execute(
                f"DESCRIBE SELECT * FROM read_csv('{sql_path(tmp)}', header=true, "
                f"delim='{sql_text(delimiter)}', quote='\"', escape='\"', sample_size=-1)"
            ).fetchall()
        finally:
            con.close()
        types = tuple(str(r[1]) for r in rows)
        return types if len(types) == width else ("VARCHAR",) * width
    except duckdb.Error:
        return ("VARCHAR",) * width
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


_CON = None
_CON_LOCK = threading.Lock()


def _connection():
    """One in-memory DuckDB for type guessing (each call takes its own cursor)."""
    global _CON
    with _CON_LOCK:
        if _CON is None:
            _CON = duckdb.connect(":memory:")
            atexit.register(_CON.close)
        return _CON


def sql_text(text: str) -> str:
    return text.replace("'", "''")


def sql_path(path) -> str:
    """A file path as a DuckDB string literal body that is never a glob pattern: DuckDB
    globs on '*', '?' and '[', and a one-character class matches that character only."""
    return sql_text("".join("[" + c + "]" if c in "*?[" else c for c in str(path)))


def csv_reader_sql(path: Path, layout: CsvLayout) -> str:
    cols = ", ".join(f"'c{i}': '{sql_text(t)}'" for i, t in enumerate(layout.types))
    enc = ", encoding='latin-1'" if layout.encoding == "latin-1" else ""
    return (f"read_csv('{sql_path(path)}', header=true, delim='{sql_text(layout.delimiter)}', "
            f"quote='\"', escape='\"', columns={{{cols}}}{enc})")
