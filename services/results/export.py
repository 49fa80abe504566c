"""Writing a result to CSV or Parquet without ever leaving a broken file behind.

The rows go to a short hidden temporary file (``.cavern-XXXX.tmp``) in the target folder
and replace the target only once they are all written and synced (``os.replace`` is atomic within one file system), so a full disk,
a cancel or a crash leaves any older file of that name untouched.
"""
from __future__ import annotations

import errno
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from models.errors import CancelledError, ExportError
from services.source import CancelToken

if TYPE_CHECKING:  # frames are the callers': pandas is not imported for them at start-up
    import pandas as pd

FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
CHUNK_ROWS = 200_000  # rows written between cancel checks and progress reports


def export_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """'csv', 'tsv' or 'parquet', from ``fmt`` or else from the file's suffix."""
    if fmt:
        key = fmt.lower().lstrip(".")
        if key in FORMATS.values():
            return key
        raise ExportError(f"Cannot export as '{fmt}': the formats are CSV, TSV and Parquet.")
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"Cannot tell the format of '{Path(path).name}'.",
                          hint="End the file name with .csv, .tsv or .parquet.")
    return FORMATS[suffix]


def is_list_like(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def list_text(value) -> str:
    """A position as CAVE shows it: '[x, y, z]', whole numbers without '.0'."""
    parts = []
    for v in value:
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)
        parts.append(str(v))
    return "[" + ", ".join(parts) + "]"


def list_columns(frame: pd.DataFrame) -> list[str]:
    """Object columns whose first non-null value is a list/array, and compact position
    columns (positions)."""
    from services.results.positions import is_position_series
    out = []
    for name in frame.columns:
        col = frame[name]
        if is_position_series(col):
            out.append(name)
            continue
        if col.dtype != object:
            continue
        first = col.first_valid_index()
        if first is not None and is_list_like(col.loc[first]):
            out.append(name)
    return out


def frame_as_text(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """A copy whose list columns read '[x, y, z]' (for CSV, TSV and the clipboard)."""
    columns = list_columns(frame) if columns is None else columns
    if not columns:
        return frame
    out = frame.copy(deep=False)
    from services.results.positions import is_position_series, positions_text
    for name in columns:
        if is_position_series(frame[name]):  # vectorised: no object per row
            out[name] = positions_text(frame[name])
            continue
        out[name] = [list_text(v) if is_list_like(v) else None for v in frame[name].to_numpy()]
    return out


TMP_PREFIX, TMP_SUFFIX = ".cavern-", ".tmp"  # short and hidden: fits NAME_MAX, not seen
STALE_SECONDS = 600  # a temporary file older than this, unlocked, is left by a dead export


def export_frame(frame: pd.DataFrame, path: str | os.PathLike, fmt: str | None = None, *,
                 cancel: CancelToken | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 provenance: dict | None = None) -> Path:
    """Write ``frame`` to ``path`` atomically; returns the path written.

    ``provenance`` (services.results.provenance): in a Parquet file's metadata, or in a
    sidecar ``<file>.provenance.json`` for CSV/TSV. Raises ExportError (the old file, if
    any, is untouched) or CancelledError. A symlink is written through (its target file
    is replaced), so the link stays a link.
    """
    def write(fh, _tmp_name, kind):
        if kind == "parquet":
            _write_parquet(frame, fh, cancel, progress, provenance)
        else:
            _write_text(frame, fh, "\t" if kind == "tsv" else ",", cancel, progress)
    out = _atomic_write(path, fmt, write, cancel)
    if provenance is not None and export_format(out, fmt) != "parquet":
        write_sidecar(out, provenance)
    return out


#: _atomic_write's kind for a file of plain bytes (no table format behind it)
BYTES = "bytes"


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """``data`` to ``path`` as every export is written: a hidden temporary file beside it,
    synced, then moved over it (ExportError on failure; an older file stays as it was)."""
    return _atomic_write(path, BYTES, lambda fh, _tmp, _kind: fh.write(data), None)


def write_file(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """A file a writer makes by its path (Qt's image, SVG and PDF writers), written as
    every export is: ``write(tmp)`` fills a hidden temporary file beside ``path`` (its
    name ends in .tmp: give writers the format, not the suffix), which is synced, then
    moved over ``path``. ExportError when it fails or writes nothing; an older file of
    that name stays as it was."""
    def by_path(_fh, tmp: str, _kind) -> None:
        write(tmp)
        if os.path.getsize(tmp) == 0:
            raise ExportError(f"Nothing was written for '{Path(path).name}'.")
    return _atomic_write(path, BYTES, by_path, None)


def write_sidecar(path: str | os.PathLike, provenance: dict) -> Path:
    """The provenance of an exported file beside it, written atomically."""
    from services.results.provenance import SIDECAR_SUFFIX, encode
    real = Path(os.path.realpath(path))
    side = real.with_name(real.name + SIDECAR_SUFFIX)
    try:
        write_bytes(side, encode(provenance))
    except ExportError as exc:
        raise ExportError(f"The rows were written to '{real.name}', but where they came from "
                          f"could not be written beside it: {exc}",
                          hint="Use a shorter file name, or export to Parquet (its metadata "
                               "holds the provenance).") from None
    return side


def export_disk_rows(rows, path: str | os.PathLike, fmt: str | None = None, *,
                     view_rows=None, cancel: CancelToken | None = None,
                     progress: Callable[[int, int], None] | None = None,
                     provenance: dict | None = None) -> Path:
    """Write an on-disk result's rows (services.results.disk_rows.DiskRows: all rows of
    its current view, or these view rows) with DuckDB's COPY into the same hidden
    temporary file, then replace the target: the same atomic and cancel guarantees as
    export_frame, and the rows never pass through memory."""
    view = rows.view
    total = view.n if view_rows is None else len(view_rows)

    def write(fh, tmp_name, kind):
        fh.flush()
        _check(cancel)
        if progress:
            progress(0, total)
        rows.result.copy_to(view, tmp_name, kind, rows=view_rows, cancel=cancel)
        _check(cancel)
        if progress:
            progress(total, total)
    out = _atomic_write(path, fmt, write, cancel)
    if provenance is not None:  # COPY writes no metadata of ours: a sidecar for any format
        write_sidecar(out, provenance)
    return out


def _atomic_write(path, fmt, write, cancel) -> Path:
    target = Path(path)
    kind = BYTES if fmt == BYTES else export_format(target, fmt)
    real = Path(os.path.realpath(target)) if target.is_symlink() else target
    folder = real.parent if str(real.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"Cannot export to '{target}': the folder '{folder}' does not exist.")
    if real.is_dir():
        raise ExportError(f"Cannot export to '{target}': it is a folder.")
    remove_stale_temp_files(folder)
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=folder)
        with os.fdopen(fd, "wb") as fh:
            _lock(fh)  # held until closed: a concurrent export never takes it for stale
            write(fh, tmp_name, kind)
            fh.flush()
            os.fsync(fh.fileno())  # the inode's data, also what COPY wrote by its path
            _set_mode(tmp_name, real)
            # The last moment a Cancel counts: after this the old file is replaced, and the
            # export is reported as done (never "cancelled" with the target already new).
            _check(cancel)
            if os.name != "nt":  # POSIX renames an open file; keeps the lock to the end
                os.replace(tmp_name, real)
                tmp_name = None
        if tmp_name is not None:
            os.replace(tmp_name, real)
            tmp_name = None
        return target
    except CancelledError:
        raise
    except OSError as exc:
        raise ExportError(_os_message(exc, target)) from exc
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise ExportError(f"Could not write '{target.name}' as {kind.upper()}: {exc}",
                          hint="Try CSV, which accepts any column.") from exc
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


def _lock(fh) -> None:
    try:
        import fcntl
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):
        pass  # no flock (Windows, some network disks): the age test alone decides


def remove_stale_temp_files(folder: Path, now: float | None = None) -> int:
    """Remove temporary files a killed export left in ``folder``; returns how many.

    A file counts as stale when it is older than STALE_SECONDS and no live export holds
    its lock. Only Cavern's own names are touched (``.cavern-*.tmp``).
    """
    now = time.time() if now is None else now
    removed = 0
    try:
        names = [n for n in os.listdir(folder) if n.startswith(TMP_PREFIX) and n.endswith(TMP_SUFFIX)]
    except OSError:
        return 0
    for name in names:
        p = folder / name
        try:
            if not p.is_file() or p.is_symlink() or now - p.stat().st_mtime < STALE_SECONDS:
                continue
            with open(p, "rb") as fh:
                try:
                    import fcntl
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except ImportError:
                    pass
                os.unlink(p)
            removed += 1
        except OSError:
            continue  # locked by a running export, or not ours to remove
    return removed


def _chunks(n: int):
    for start in range(0, n, CHUNK_ROWS):
        yield start, min(n, start + CHUNK_ROWS)


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.cancelled:
        raise CancelledError("Export cancelled; no file was written.")


def _write_text(frame, fh, sep, cancel, progress) -> None:
    lists = list_columns(frame)
    n = len(frame)
    if n == 0:
        _write_csv_chunk(frame_as_text(frame, lists), fh, sep, header=True)
    for start, stop in _chunks(n):
        _check(cancel)
        chunk = frame_as_text(frame.iloc[start:stop], lists)
        _write_csv_chunk(chunk, fh, sep, header=start == 0)
        if progress:
            progress(stop, n)
    _check(cancel)


def _write_csv_chunk(chunk: pd.DataFrame, fh, sep: str, header: bool) -> None:
    # int64 columns print exactly; only floats go through float formatting.
    text = chunk.to_csv(None, sep=sep, index=False, header=header, lineterminator="\n")
    fh.write(text.encode("utf-8"))


def _write_parquet(frame, fh, cancel, progress, provenance: dict | None = None) -> None:
    # Chunk by chunk: the Arrow copy of a 50M-row frame would double the memory it needs.
    n = len(frame)
    schema = _parquet_schema(frame)
    if provenance is not None:
        from services.results.provenance import KEY, encode
        schema = schema.with_metadata({**(schema.metadata or {}), KEY: encode(provenance)})
    with pq.ParquetWriter(fh, schema) as writer:
        if n == 0:
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
        for start, stop in _chunks(n):
            _check(cancel)
            writer.write_table(pa.Table.from_pandas(frame.iloc[start:stop], schema=schema,
                                                    preserve_index=False))
            if progress:
                progress(stop, n)
    _check(cancel)


def _parquet_schema(frame: pd.DataFrame) -> pa.Schema:
    """The file's schema from the first rows; a column that is all missing there takes its
    type from its first values further down."""
    schema = pa.Schema.from_pandas(frame.iloc[:CHUNK_ROWS], preserve_index=False)
    for i, f in enumerate(schema):
        if pa.types.is_null(f.type) and len(frame) > CHUNK_ROWS:
            rest = frame[f.name] if isinstance(f.name, str) else frame.iloc[:, i]
            rest = rest.dropna()
            if len(rest):
                schema = schema.set(i, pa.field(f.name, pa.array(rest.iloc[:1000]).type))
    return _plain_list_metadata(schema)


def _plain_list_metadata(schema: pa.Schema) -> pa.Schema:
    """pandas metadata that reads compact position columns back as plain lists: pandas
    cannot rebuild an ArrowDtype with a size parameter from its name."""
    meta = schema.metadata or {}
    raw = meta.get(b"pandas")
    if not raw or b"fixed_size_list" not in raw:
        return schema
    import json
    info = json.loads(raw)
    for col in info.get("columns", []):
        if "fixed_size_list" in str(col.get("numpy_type", "")):
            col["numpy_type"], col["pandas_type"] = "object", "list[int64]"
    return schema.with_metadata({**meta, b"pandas": json.dumps(info).encode()})


def _set_mode(name: str, real: Path) -> None:
    """mkstemp makes the file private (0600): give it the old file's mode, else the
    default one."""
    try:
        mode = real.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(name, mode)


def _os_message(exc: OSError, target: Path) -> str:
    code = exc.errno
    if isinstance(exc, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return (f"Cannot write '{target}': permission denied. "
                "Choose a folder you can write to.")
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"Cannot write '{target}': the disk is full. Free some space or choose another disk."
    if code == errno.EROFS:
        return f"Cannot write '{target}': the disk is read-only. Choose another folder."
    if code == errno.ENAMETOOLONG:
        return f"Cannot write '{target}': the file name is too long."
    return f"Cannot write '{target}': {exc.strerror or exc}."
