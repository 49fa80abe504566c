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

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from models.datastack import ColumnInfo, DatastackInfo, TableInfo, VersionInfo
from models.errors import DataSourceError, NotFoundError
from services.local.csv_layout import CsvLayout, sniff_layout
from services.local.metadata_checks import (Fields, MetadataError, parse_json_bytes,
                                            read_json_file)

TABLE_SUFFIXES = {".parquet": "parquet", ".feather": "feather", ".arrow": "feather", ".csv": "csv"}
MANIFEST = "manifest.json"


@dataclass
class TableFile:
    path: Path
    fmt: str  # parquet, feather, csv
    info: TableInfo
    problem: str = ""  # why the table cannot be queried (shown as its notice)
    csv: CsvLayout | None = None

    def column_index(self, name: str) -> int:
        """Position of a column in the file: SQL refers to columns by position because
        DuckDB matches names case-insensitively (``id`` and ``ID`` are one to it)."""
        for i, c in enumerate(self.info.columns):
            if c.name == name:
                return i
        raise KeyError(name)


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
        vdir = self.version_folders[version]
        if not vdir.is_dir():
            raise NotFoundError(
                f"The folder of version {version} of '{self.info.name}' is missing: {vdir}.",
                hint=f"Restore the folder '{vdir.name}' in {self.folder}, or remove version "
                     f"{version} from its {MANIFEST}.")
        if version not in self._tables:
            self._tables[version] = scan_tables(vdir, self.info.voxel_resolution, self.folder)
        return self._tables[version]


def _ts(text) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def inside(path: Path, root: Path) -> bool:
    """True when ``path`` (links followed) is in ``root``: nothing is read outside the
    folder the user opened."""
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def open_datastack(folder: Path) -> LocalDatastack:
    """Read a datastack folder; any bad manifest raises a DataSourceError that says why."""
    try:
        folder = Path(folder).expanduser().resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise NotFoundError(f"'{folder}' cannot be opened: {exc}.") from None
    if not folder.is_dir():
        raise NotFoundError(f"'{folder}' is not a folder.",
                            hint="Choose the datastack folder (the one with manifest.json).")
    mpath = folder / MANIFEST
    if not mpath.exists() and not mpath.is_symlink():
        return _bare_datastack(folder)
    fix = f"Fix or remove {mpath}."
    where = f"The manifest of '{folder.name}'"
    if not inside(mpath, folder):
        raise MetadataError(f"{where} is a link to a file outside the folder; Cavern reads "
                            "nothing outside the folder you opened.", hint=fix)
    m = Fields(read_json_file(mpath, where, fix), where, fix)
    try:
        vres = m.resolution("voxel_resolution", (4.0, 4.0, 40.0))
        info = DatastackInfo(
            name=m.text("name").strip() or folder.name, description=m.text("description"),
            voxel_resolution=vres, image_source=m.text("image_source"),
            segmentation_source=m.text("segmentation_source"),
            synapse_table=m.text("synapse_table"), soma_table=m.text("soma_table"),
            cell_type_tables=m.texts("cell_type_tables"),
            proofreading_table=m.text("proofreading_table"),
            viewer_site=m.text("viewer_site"), credits=m.text("credits"),
            transform=m.mapping("transform"), cave_datastack=m.text("cave_datastack").strip(),
            extra={"folder": str(folder), "local": True})
        versions, folders = _versions(m, folder, where, fix)
        default = m.obj.get("default_version")
        if default is None:
            default = max(folders) if folders else None
        else:
            default = m.version_number("default_version")
            if default not in folders:
                known = ", ".join(str(v) for v in folders) or "none"
                raise MetadataError(f"In {where}, default_version {default} is not one of its "
                                    f"versions ({known}).", hint=fix)
    except RecursionError:
        raise MetadataError(f"{where} is nested too deeply to read.", hint=fix) from None
    return LocalDatastack(folder, info, versions, folders, default)


def _versions(m: Fields, folder: Path, where: str, fix: str):
    raw = m.obj.get("versions")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        m.fail("versions", "a list of versions", raw)
    versions, folders = [], {}
    for i, item in enumerate(raw):
        v = Fields(item, f"{where} (versions[{i}])", fix)
        num = v.version_number("version")
        if num in folders:
            raise MetadataError(f"{where} lists version {num} twice.",
                                hint=f"Keep one entry per version in {MANIFEST}.")
        sub = v.text("folder", f"v{num}")
        rel = Path(sub)
        if not sub.strip() or rel.is_absolute() or rel.anchor or ".." in rel.parts:
            raise MetadataError(
                f"In {where}, the folder of version {num} ('{sub}') is not a folder inside "
                f"'{folder.name}'; Cavern reads nothing outside the folder you opened.",
                hint="Give a folder name inside the datastack folder, e.g. \"v%d\"." % num)
        vdir = folder / rel
        if not inside(vdir, folder):
            raise MetadataError(
                f"In {where}, the folder of version {num} ('{sub}') is a link to a place "
                f"outside '{folder.name}'; Cavern reads nothing outside the folder you opened.",
                hint="Copy the tables into the datastack folder instead of linking them.")
        for key in ("timestamp", "expires"):
            v.text(key)  # text or null; an unreadable date is shown as unknown
        cave_v = v.version_number("cave_version") if v.has("cave_version") else None
        versions.append(VersionInfo(num, _ts(v.obj.get("timestamp")),
                                    _ts(v.obj.get("expires")), v.text("description"),
                                    cave_version=cave_v))
        folders[num] = vdir
    return versions, folders


def _bare_datastack(folder: Path) -> LocalDatastack:
    try:
        names = [p for p in folder.iterdir()]
    except OSError as exc:
        raise DataSourceError(f"'{folder.name}' cannot be listed: {exc.strerror or exc}.",
                              hint="Check that you may read this folder.") from None
    if not any(p.suffix.lower() in TABLE_SUFFIXES for p in names):
        raise DataSourceError(
            f"'{folder.name}' has no {MANIFEST} and no table files.",
            hint="Open a datastack folder (with manifest.json) or a folder of Parquet/CSV files.")
    info = DatastackInfo(name=folder.name, description=f"Tables in {folder}",
                         extra={"folder": str(folder), "local": True})
    return LocalDatastack(folder, info, [VersionInfo(0, description="unversioned folder")],
                          {0: folder}, 0)


def scan_tables(folder: Path, vres, root: Path | None = None) -> dict[str, TableFile]:
    """Describe each table file from its schema and metadata, without reading rows.

    A bad file or sidecar marks only that table (its notice says why); the others open."""
    out: dict[str, TableFile] = {}
    root = folder if root is None else root
    try:
        paths = sorted(folder.iterdir())
    except OSError as exc:
        raise DataSourceError(f"The folder {folder} cannot be listed: {exc.strerror or exc}.",
                              hint="Check that you may read this folder.") from None
    for p in paths:
        fmt = TABLE_SUFFIXES.get(p.suffix.lower())
        if fmt is None or p.stem in out or p.is_dir():
            continue
        out[p.stem] = describe_table(p, fmt, vres, root)
    return out


def describe_table(path: Path, fmt: str, vres, root: Path) -> TableFile:
    """A TableFile; any problem is kept as ``problem`` (and the notice), never raised."""
    try:
        if not inside(path, root):
            raise DataSourceError(f"'{path.name}' is a link to a file outside the datastack "
                                  "folder; Cavern reads nothing outside the folder you opened.",
                                  hint="Copy the file into the folder instead of linking it.")
        return _describe(path, fmt, vres)
    except DataSourceError as exc:
        problem = str(exc)
    except RecursionError:
        problem = f"The metadata of '{path.name}' is nested too deeply to read."
    info = TableInfo(name=path.stem, voxel_resolution=tuple(vres),
                     notice_text=f"Unreadable: {problem}")
    return TableFile(path, fmt, info, problem=problem)


def _describe(path: Path, fmt: str, vres) -> TableFile:
    rows = schema = layout = None
    try:
        if fmt == "parquet":  # the footer, parsed once for the queries too
            from services.local.row_group_stats import metadata
            md = metadata(path) or pq.ParquetFile(path).metadata  # the reader's own error
            schema, rows = md.schema.to_arrow_schema(), md.num_rows
        elif fmt == "feather":
            try:  # Feather v2 / Arrow IPC: the schema alone
                with pa.memory_map(str(path)) as src:
                    schema = pa.ipc.open_file(src).schema
            except pa.ArrowInvalid:  # Feather v1
                schema = feather.read_table(path, memory_map=True).schema
        else:
            layout = sniff_layout(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataSourceError(f"'{path.name}' is not a readable {fmt} file: {_first(exc)}",
                              hint="Replace it with a good copy.") from None
    fix = "Fix or remove it."
    meta: dict = {}
    if schema is not None and schema.metadata and b"cavern" in schema.metadata:
        where = f"The 'cavern' metadata inside '{path.name}'"
        obj = parse_json_bytes(schema.metadata[b"cavern"], where, "Save the table again.")
        meta.update(Fields(obj, where, "Save the table again.").obj)
    side = path.with_suffix(".json")
    if side.exists() or side.is_symlink():
        where = f"The metadata file '{side.name}'"
        fix = f"Fix or remove {side.name}."
        if not inside(side, path.parent):
            raise MetadataError(f"{where} is a link to a file outside the folder.", hint=fix)
        meta.update(Fields(read_json_file(side, where, fix), where, fix).obj)
        where = f"{where} (with the table's own metadata)"
    else:
        where, fix = f"The 'cavern' metadata inside '{path.name}'", "Save the table again."
    m = Fields(meta, where, fix)
    units = m.text_mapping("units")
    if layout is not None:
        cols = tuple(ColumnInfo(n, duck_kind(t), t.lower(), units.get(n, ""))
                     for n, t in zip(layout.names, layout.types))
    else:
        cols = tuple(ColumnInfo(f.name, arrow_kind(f.name, f.type), str(f.type),
                                units.get(f.name, "vx" if arrow_kind(f.name, f.type) == "position"
                                          else ""))
                     for f in schema)
    kind = m.text("kind", "table")
    if kind not in ("table", "view"):
        m.fail("kind", '"table" or "view"', got=repr(kind))
    extra = {}
    if m.has("classification_system"):
        extra["classification_system"] = m.text("classification_system")
    if m.has("target_columns"):  # a reference table's columns merged from its target
        extra["target_columns"] = list(m.texts("target_columns"))
    info = TableInfo(
        name=path.stem, description=m.text("description"), schema=m.text("schema"),
        kind=kind, columns=cols, row_count=rows,
        voxel_resolution=m.resolution("voxel_resolution", vres),
        reference_table=m.text("reference_table"),
        notice_text=m.text("notice_text"), provenance=m.text("provenance"), extra=extra)
    return TableFile(path, fmt, info, csv=layout)


def _first(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0][:300] if text else type(exc).__name__)


def describe_table_file(path: Path, fmt: str, vres) -> TableInfo:
    """The TableInfo of one file (kept for callers that need only the description)."""
    return describe_table(path, fmt, vres, path.parent).info


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
