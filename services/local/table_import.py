"""Bringing a big table (a CSV/Parquet dump of a CAVE table) into a local datastack.

The whole minnie65 synapse table (synapses_pni_2, 337M rows) is ~15 GB as Parquet: far
more than a laptop holds, yet one cell's synapses are a few thousand rows. DuckDB finds
them without reading the file when the file is *sorted* by the column the query filters
on and cut into row groups: each row group's min/max statistics then cover a narrow id
range, so ``pre_pt_root_id IN (100 ids)`` touches at most ~100 row groups out of ~20,000.

How to bring a table in (or ``main.py import-table DUMP --into FOLDER``):

    from services.local.table_import import import_table
    import_table("synapses_pni_2.csv.gz", "my_stack/v1300/synapses_pni_2.parquet",
                 sort_by=("pre_pt_root_id", "post_pt_root_id"))

The sort runs in DuckDB out of core (``memory_limit``; it spills to ``temp_directory``),
the result is written next to the target and renamed into place only when complete, so
a cancel or a full disk never leaves half a table in the datastack. Sort by the column
you query most: outputs of cells -> pre_pt_root_id; inputs -> post_pt_root_id. A
second copy sorted the other way (another table name) serves the other direction.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import duckdb

from models.errors import CancelledError, DataSourceError, InvalidInputError
from services.local.csv_layout import sql_path
from services.source import CancelToken

#: Rows per row group: DuckDB decodes every column of a group the filter touches, so
#: small groups keep one cell's read small (100 cells at 10M rows: 0.12 s with 16k-row
#: groups, 0.5 s with 122k); the footer stays a few MB even at 337M rows (~20k groups).
ROW_GROUP_ROWS = 16_384
DEFAULT_MEMORY = "2GB"


def _reader(src: Path) -> str:
    name = src.name.lower()
    p = sql_path(src)
    if name.endswith((".parquet", ".pq")) or src.is_dir():
        pattern = f"{p}/**/*.parquet" if src.is_dir() else p
        return f"read_parquet('{pattern}')"
    if name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")):
        return f"read_csv('{p}', header=true)"
    raise InvalidInputError(f"Cannot tell the format of '{src.name}'.",
                            hint="Import a .parquet, .csv or .csv.gz file.")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def import_table(source, target, *, sort_by: Sequence[str] = ("pre_pt_root_id",
                                                              "post_pt_root_id"),
                 row_group_rows: int = ROW_GROUP_ROWS, memory_limit: str = DEFAULT_MEMORY,
                 threads: int | None = None, cancel: CancelToken | None = None,
                 progress: Callable[[str], None] | None = None) -> dict:
    """Write ``source`` (CSV/Parquet file or folder of Parquet) to ``target`` as Parquet
    sorted by ``sort_by`` in row groups of ``row_group_rows``; returns figures
    (rows, seconds, bytes, row_groups)."""
    src, dst = Path(source), Path(target)
    if not src.exists():
        raise InvalidInputError(f"'{src}' does not exist.", field="source")
    if not dst.parent.is_dir():
        raise InvalidInputError(f"The folder '{dst.parent}' does not exist.", field="target")
    reader = _reader(src)
    con = duckdb.connect(":memory:")
    if cancel is not None:
        cancel.on_cancel(con.interrupt)
    tmp = None
    t0 = time.perf_counter()
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        spill = tempfile.mkdtemp(prefix=".cavern-sort-", dir=dst.parent)
        con.execute(f"SET temp_directory = '{sql_path(Path(spill))}'")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        names = [d[0] for d in con.execute(f"SELECT * FROM {reader} LIMIT 0").description]
        missing = [c for c in sort_by if c not in names]
        if missing:
            raise InvalidInputError(f"'{src.name}' has no column '{missing[0]}' to sort by.",
                                    field="sort_by", hint="Columns: " + ", ".join(names))
        fd, tmp = tempfile.mkstemp(prefix=".cavern-", suffix=".tmp", dir=dst.parent)
        os.close(fd)
        order = ", ".join(_q(c) for c in sort_by)
        if progress:
            progress(f"Sorting {src.name} by {', '.join(sort_by)}")
        con.execute(f"COPY (SELECT * FROM {reader} ORDER BY {order}) TO '{sql_path(Path(tmp))}' "
                    f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {int(row_group_rows)})")
        if cancel is not None:
            cancel.raise_if_cancelled()
        meta = con.execute(f"SELECT count(DISTINCT row_group_id), sum(row_group_num_rows) "
                           f"FROM (SELECT DISTINCT row_group_id, row_group_num_rows FROM "
                           f"parquet_metadata('{sql_path(Path(tmp))}'))").fetchone()
        os.replace(tmp, dst)
        tmp = None
        return {"rows": int(meta[1] or 0), "row_groups": int(meta[0] or 0),
                "seconds": time.perf_counter() - t0, "bytes": dst.stat().st_size}
    except duckdb.InterruptException:
        raise CancelledError("Import cancelled; nothing was written.") from None
    except duckdb.Error as exc:
        if cancel is not None and cancel.cancelled:
            raise CancelledError("Import cancelled; nothing was written.") from None
        raise DataSourceError(f"Importing '{src.name}' failed: "
                              f"{str(exc).splitlines()[0][:300]}") from None
    finally:
        con.close()
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        try:
            import shutil
            shutil.rmtree(spill, ignore_errors=True)
        except NameError:
            pass


def row_group_ranges(path, column: str) -> list[tuple[int, int]]:
    """(min, max) of ``column`` per row group, from the footer (for tests and checks)."""
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(
            f"SELECT row_group_id, stats_min_value, stats_max_value FROM "
            f"parquet_metadata('{sql_path(Path(path))}') WHERE path_in_schema = ? "
            f"ORDER BY row_group_id", [column]).fetchall()
    finally:
        con.close()
    return [(int(a), int(b)) for _, a, b in rows]
