"""Reading a local datastack folder: its manifest, versions and table files.

Layout (``cavern-datastack/1``)::

    my_datastack/
      manifest.json          name, voxel resolution, sources, synapse table, versions...
      v185/                  one folder per materialization version
        synapses.parquet     tables as Parquet (or .feather / .arrow / .csv), each with
        soma_valence.parquet "cavern" metadata: description, schema, provenance, units

A folder with table files and no manifest opens too, as one datastack with one
version (0), so a researcher can point Cavern at any folder of Parquet/CSV files.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from models.datastack import ColumnInfo, DatastackInfo, TableInfo, VersionInfo
from models.errors import DataSourceError, NotFoundError

TABLE_SUFFIXES = {".parquet": "parquet", ".feather": "feather", ".arrow": "feather", ".csv": "csv"}
MANIFEST = "manifest.json"


@dataclass
class TableFile:
    path: Path
    fmt: str  # parquet, feather, csv
    info: TableInfo


@dataclass
class LocalDatastack:
    folder: Path
    info: DatastackInfo
    versions: list[VersionInfo]
    version_folders: dict[int, Path]
    default_version: int | None
    _tables: dict[int, dict[str, TableFile]] = field(default_factory=dict)

    def tables(self, version: int) -> dict[str, TableFile]:
        if version not in self.version_folders:
            known = ", ".join(str(v) for v in self.version_folders) or "none"
            raise NotFoundError(f"Version {version} is not in datastack '{self.info.name}'.",
                                hint=f"Versions here: {known}.")
        if version not in self._tables:
            self._tables[version] = scan_tables(self.version_folders[version],
                                                self.info.voxel_resolution)
        return self._tables[version]


def _ts(text) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def open_datastack(folder: Path) -> LocalDatastack:
    """Read a datastack folder; a corrupt manifest raises a DataSourceError that says so."""
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise NotFoundError(f"'{folder}' is not a folder.")
    mpath = folder / MANIFEST
    if not mpath.exists():
        return _bare_datastack(folder)
    try:
        m = json.loads(mpath.read_text(encoding="utf-8"))
        if not isinstance(m, dict):
            raise ValueError("the manifest is not a JSON object")
        vres = tuple(float(v) for v in m.get("voxel_resolution", (4, 4, 40)))
        info = DatastackInfo(
            name=str(m.get("name") or folder.name), description=m.get("description", ""),
            voxel_resolution=vres, image_source=m.get("image_source", ""),
            segmentation_source=m.get("segmentation_source", ""),
            synapse_table=m.get("synapse_table", ""), soma_table=m.get("soma_table", ""),
            cell_type_tables=tuple(m.get("cell_type_tables", ())),
            proofreading_table=m.get("proofreading_table", ""),
            viewer_site=m.get("viewer_site", ""), credits=m.get("credits", ""),
            transform=dict(m.get("transform") or {}),
            extra={"folder": str(folder), "local": True})
        versions, folders = [], {}
        for v in m.get("versions", []):
            num = int(v["version"])
            versions.append(VersionInfo(num, _ts(v.get("timestamp")), _ts(v.get("expires")),
                                        v.get("description", "")))
            folders[num] = folder / v.get("folder", f"v{num}")
    except (ValueError, KeyError, TypeError) as exc:
        raise DataSourceError(f"The manifest of '{folder.name}' cannot be read: {exc}.",
                              hint=f"Fix or remove {mpath}.") from None
    default = m.get("default_version")
    if default not in folders:
        default = max(folders) if folders else None
    return LocalDatastack(folder, info, versions, folders, default)


def _bare_datastack(folder: Path) -> LocalDatastack:
    if not any(p.suffix.lower() in TABLE_SUFFIXES for p in folder.iterdir()):
        raise DataSourceError(
            f"'{folder.name}' has no {MANIFEST} and no table files.",
            hint="Open a datastack folder (with manifest.json) or a folder of Parquet/CSV files.")
    info = DatastackInfo(name=folder.name, description=f"Tables in {folder}",
                         extra={"folder": str(folder), "local": True})
    return LocalDatastack(folder, info, [VersionInfo(0, description="unversioned folder")],
                          {0: folder}, 0)


def scan_tables(folder: Path, vres) -> dict[str, TableFile]:
    """Describe each table file from its schema and metadata, without reading rows."""
    out: dict[str, TableFile] = {}
    if not folder.is_dir():
        return out
    for p in sorted(folder.iterdir()):
        fmt = TABLE_SUFFIXES.get(p.suffix.lower())
        if fmt is None or p.stem in out:
            continue
        out[p.stem] = TableFile(p, fmt, describe_table_file(p, fmt, vres))
    return out


def describe_table_file(path: Path, fmt: str, vres) -> TableInfo:
    meta: dict = {}
    rows = None
    schema = None
    try:
        if fmt == "parquet":
            pf = pq.ParquetFile(path)
            schema, rows = pf.schema_arrow, pf.metadata.num_rows
        elif fmt == "feather":
            schema = feather.read_table(path, memory_map=True).schema
    except (pa.ArrowException, OSError) as exc:
        # A corrupt file is listed with the reason, so the rest of the datastack still opens.
        meta["notice_text"] = f"Unreadable file: {exc}"
    if schema is not None and schema.metadata and b"cavern" in schema.metadata:
        try:
            meta.update(json.loads(schema.metadata[b"cavern"]))
        except ValueError:
            pass
    side = path.with_suffix(".json")
    if side.exists():
        try:
            meta.update(json.loads(side.read_text(encoding="utf-8")))
        except ValueError:
            meta["notice_text"] = f"Its metadata file {side.name} is not valid JSON."
    units = meta.get("units", {})
    cols = tuple(ColumnInfo(f.name, arrow_kind(f.name, f.type), str(f.type),
                            units.get(f.name, "vx" if arrow_kind(f.name, f.type) == "position" else ""))
                 for f in (schema or []))
    return TableInfo(
        name=path.stem, description=meta.get("description", ""), schema=meta.get("schema", ""),
        kind=meta.get("kind", "table"), columns=cols, row_count=rows,
        voxel_resolution=tuple(meta.get("voxel_resolution", vres)),
        reference_table=meta.get("reference_table", ""),
        notice_text=meta.get("notice_text", ""), provenance=meta.get("provenance", ""),
        extra={k: v for k, v in meta.items() if k in ("classification_system",)})


def arrow_kind(name: str, t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "time"
    if (pa.types.is_list(t) or pa.types.is_fixed_size_list(t) or pa.types.is_large_list(t)) \
            and (pa.types.is_integer(t.value_type) or pa.types.is_floating(t.value_type)):
        return "position"
    return "string"


def duck_kind(duck_type: str) -> str:
    """Column kind from a DuckDB type name (used for CSV files)."""
    t = duck_type.upper()
    if t.endswith("[]") or t.endswith("[3]"):
        return "position"
    if t in ("BOOLEAN",):
        return "bool"
    if any(t.startswith(p) for p in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER")):
        return "int"
    if any(t.startswith(p) for p in ("DOUBLE", "FLOAT", "REAL", "DECIMAL")):
        return "float"
    if t.startswith("TIMESTAMP") or t == "DATE":
        return "time"
    return "string"
