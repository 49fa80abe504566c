"""Save version for offline use: copy tables of one version into a local datastack folder.

The folder follows the ``cavern-datastack/1`` format (manifest.json plus one Parquet file
per table carrying "cavern" metadata), so LocalSource opens it with no network. Tables are
fetched whole (CaveSource pages past the server's row limit); a table whose answer is still
incomplete is saved with a notice that says how many rows are missing.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from models.errors import CancelledError, CavernError, ExportError, InvalidInputError
from models.query_spec import QuerySpec
from services.local.metadata_checks import Fields, read_json_file
from services.source import CancelToken, DataSource

FORMAT = "cavern-datastack/1"


def save_version_offline(source: DataSource, datastack: str, version: int | None,
                         tables: Iterable[str], folder: Path,
                         cancel: CancelToken | None = None,
                         progress: Callable[[int, int, str], None] | None = None) -> Path:
    """Write ``tables`` of ``datastack`` at ``version`` into ``folder``; returns the folder.

    Re-saving into the same folder adds or replaces tables of that version and keeps
    the manifest's other versions.
    """
    tables = list(dict.fromkeys(tables))
    if not tables:
        raise InvalidInputError("Pick at least one table to save.", field="tables")
    folder = Path(folder).expanduser()
    if version is None:
        version = source.default_version(datastack)
    info = source.datastack_info(datastack)
    vinfo = next((v for v in source.versions(datastack) if v.version == version), None)
    old = _old_manifest(folder)  # before any table is written: a bad one stops here
    vdir = folder / f"v{version}"
    try:
        vdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"Cannot create the folder {vdir}: {exc.strerror}.") from None
    server = getattr(source, "server", "") or "local"
    saved_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for i, name in enumerate(tables):
        if cancel is not None and cancel.cancelled:
            raise CancelledError()
        if progress:
            progress(i, len(tables), name)
        tinfo = source.table_info(datastack, name, version)
        result = source.query(QuerySpec(name, datastack, version, is_view=tinfo.kind == "view"),
                              cancel)
        notice = tinfo.notice_text
        if result.truncated:
            of = f" of {result.total_rows:,}" if result.total_rows else ""
            notice = (notice + " " if notice else "") + (
                f"Offline copy holds only {result.n_rows:,}{of} rows: the server's row "
                "limit cut the table.")
        meta = {"description": tinfo.description, "schema": tinfo.schema, "kind": tinfo.kind,
                "voxel_resolution": list(tinfo.voxel_resolution),
                "provenance": f"{tinfo.provenance or server}; saved {saved_at}",
                "reference_table": tinfo.reference_table, "notice_text": notice,
                "units": {c: "vx" for c in tinfo.position_columns}}
        _write_table(result.frame, meta, vdir / f"{name}.parquet")
    if progress:
        progress(len(tables), len(tables), "")
    _write_manifest(folder, info, version, vinfo, server, old)
    return folder


def _position_array(values) -> pa.Array:
    """CAVE positions (arrays of 3) as fixed-size lists, ints when they are whole."""
    arr = np.stack([np.asarray(v if v is not None else [np.nan] * 3, dtype=float)
                     for v in values]) if len(values) else \
        np.zeros((0, 3))
    if np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        flat = pa.array(arr.astype(np.int64).ravel())
    else:
        flat = pa.array(arr.ravel())
    return pa.FixedSizeListArray.from_arrays(flat, 3)


def _write_table(frame, meta: dict, path: Path) -> None:
    frame = frame.copy(deep=False)
    frame.attrs = {}
    arrays, names = [], []
    for col in frame.columns:
        s = frame[col]
        if meta["units"].get(col) or (str(col).endswith("_position") and s.dtype == object):
            arrays.append(_position_array(list(s)))
            meta["units"][col] = "vx"
        else:
            arrays.append(pa.array(s, from_pandas=True))
        names.append(str(col))
    table = pa.Table.from_arrays(arrays, names=names)
    table = table.replace_schema_metadata({"cavern": json.dumps(meta)})
    tmp = path.with_suffix(".parquet.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except (OSError, pa.ArrowException) as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise ExportError(f"Writing {path.name} failed: {exc}") from None


def _old_manifest(folder: Path) -> dict:
    """The folder's manifest as {"versions": [...]}, checked, or {} when there is none."""
    path = folder / "manifest.json"
    if not path.exists() and not path.is_symlink():
        return {}
    fix = "Choose an empty folder, or fix or remove its manifest.json."
    try:
        m = Fields(read_json_file(path, f"The manifest in {folder}", fix),
                   f"The manifest in {folder}", fix)
        raw = m.obj.get("versions") or []
        if not isinstance(raw, list):
            m.fail("versions", "a list of versions", raw)
        for i, item in enumerate(raw):
            Fields(item, f"The manifest in {folder} (versions[{i}])", fix).version_number("version")
    except CavernError as exc:
        raise ExportError(f"Cannot save into {folder}: {exc}") from None
    return {"versions": raw}


def _write_manifest(folder: Path, info, version: int, vinfo, server: str,
                    old: dict | None = None) -> None:
    path = folder / "manifest.json"
    old = _old_manifest(folder) if old is None else old
    versions = [v for v in old.get("versions", []) if v.get("version") != version]
    versions.append({"version": version, "folder": f"v{version}",
                     "timestamp": vinfo.timestamp.isoformat() if vinfo and vinfo.timestamp
                     else None,
                     "description": f"{info.name} v{version} saved from {server}"})
    manifest = {
        "format": FORMAT, "name": info.name,
        "description": info.description or f"Offline copy of {info.name}",
        "voxel_resolution": list(info.voxel_resolution), "image_source": info.image_source,
        "segmentation_source": info.segmentation_source, "synapse_table": info.synapse_table,
        "soma_table": info.soma_table, "cell_type_tables": list(info.cell_type_tables),
        "proofreading_table": info.proofreading_table, "viewer_site": info.viewer_site,
        "credits": info.credits, "transform": dict(info.transform),
        "default_version": version,
        "versions": sorted(versions, key=lambda v: v["version"]),
    }
    tmp = path.with_suffix(".json.tmp")
    try:
        tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise ExportError(f"Writing the manifest in {folder} failed: {exc.strerror}.") from None
