"""Datastacks served by the CAVE test server, read from local datastack folders.

A folder holds ``manifest.json`` and one sub-folder per materialization version with
tables as Parquet/Feather/CSV; each Parquet file may carry a "cavern" JSON metadata key
(description, schema, kind table|view, voxel_resolution, reference_table, notice_text).

Position columns (CAVE-style fixed-size lists named ``*_position``) are split into
``<name>_x/_y/_z`` int64 columns once at load time, because the real materialization
server answers caveclient's queries with split positions and filtering is then vectorised.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

SUFFIXES = (".parquet", ".feather", ".arrow", ".csv")
# Versions without a timestamp in the manifest get a deterministic one: base + N days.
SYNTHETIC_EPOCH = datetime(2020, 1, 1, 0, 0, 0)
CREATED = "2020-01-01T00:00:00.000000"


def cave_time(ts: datetime) -> str:
    """The timestamp format caveclient parses (convert_timestamp: no zone, microseconds)."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")


@dataclass
class ServedTable:
    name: str
    path: Path
    kind: str  # "table" or "view"
    meta: dict
    voxel_resolution: list
    _frame: pd.DataFrame | None = None
    position_columns: list = field(default_factory=list)
    # Columns of the file that belong to the reference target (meta "target_columns"),
    # dropped when the target is served in the same version: a CAVE reference table has
    # only its own columns, and the engine joins the target's in.
    merged_target_columns: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def frame(self) -> pd.DataFrame:
        """Rows with positions split into _x/_y/_z; read on first use and kept."""
        with self._lock:  # requests run on several threads; read the file once
            if self._frame is None:
                raw = _read_table(self.path)
                if self.merged_target_columns:
                    raw = raw.drop(columns=[c for c in self.merged_target_columns
                                            if c in raw.columns])
                frame, self.position_columns = _split_positions(raw)
                if self.kind == "table":
                    frame = _annotation_columns(frame, self.position_columns)
                self._frame = frame
        return self._frame

    def schema_columns(self) -> dict:
        """{column: {"type": ...}} the way the views-schema endpoint answers."""
        df = self.frame()
        out = {}
        for col in _unsplit_columns(df.columns, self.position_columns):
            if col in self.position_columns:
                out[col] = {"type": "SpatialPoint"}
            else:
                kind = df[col].dtype.kind
                out[col] = {"type": {"i": "integer", "u": "integer", "f": "float",
                                     "b": "boolean", "M": "datetime"}.get(kind, "string")}
        return out


@dataclass
class ServedVersion:
    version: int
    timestamp: datetime
    description: str
    tables: dict  # name -> ServedTable (tables and views)

    def by_kind(self, kind: str) -> dict:
        return {n: t for n, t in self.tables.items() if t.kind == kind}


@dataclass
class ServedDatastack:
    name: str
    manifest: dict
    versions: dict  # version -> ServedVersion
    aligned_volume_id: int
    folder: Path | None = None  # where it was read from (skeleton_routes serves its skeletons/)

    def newest(self) -> ServedVersion:
        return self.versions[max(self.versions)]

    def info_document(self, server_url: str) -> dict:
        """The info service's full datastack document, shaped like the real one."""
        m = self.manifest
        vx, vy, vz = (float(v) for v in m.get("voxel_resolution", (4, 4, 40)))
        return {
            "description": m.get("description", ""),
            "local_server": server_url,
            "aligned_volume": {
                "name": f"{self.name}_aligned_volume",
                "id": self.aligned_volume_id,
                "image_source": m.get("image_source", ""),
                "display_name": self.name,
                "description": m.get("description", ""),
            },
            "synapse_table": m.get("synapse_table") or None,
            "soma_table": m.get("soma_table") or None,
            "viewer_site": m.get("viewer_site") or None,
            "segmentation_source": m.get("segmentation_source", ""),
            "analysis_database": None,
            "proofreading_status_table": m.get("proofreading_table") or None,
            "proofreading_review_table": None,
            "cell_identification_table": None,
            "viewer_resolution_x": vx,
            "viewer_resolution_y": vy,
            "viewer_resolution_z": vz,
        }


def load_datastack(folder: Path, aligned_volume_id: int = 1) -> ServedDatastack:
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    default_res = [float(v) for v in manifest.get("voxel_resolution", (4, 4, 40))]
    versions = {}
    for entry in manifest.get("versions", []):
        num = int(entry["version"])
        ts = entry.get("timestamp")
        when = (datetime.fromisoformat(ts).replace(tzinfo=None) if ts
                else SYNTHETIC_EPOCH + timedelta(days=num))
        vfolder = folder / entry.get("folder", f"v{num}")
        versions[num] = ServedVersion(num, when, entry.get("description", ""),
                                      _scan(vfolder, default_res))
    return ServedDatastack(manifest.get("name") or folder.name, manifest, versions,
                           aligned_volume_id, folder)


def _scan(folder: Path, default_res: list) -> dict:
    tables = {}
    if not folder.is_dir():
        return tables
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in SUFFIXES:
            continue
        meta = {}
        if path.suffix.lower() == ".parquet":
            raw = (pq.read_schema(path).metadata or {}).get(b"cavern")
            meta = json.loads(raw) if raw else {}
        elif path.suffix.lower() in (".feather", ".arrow"):
            raw = (feather.read_table(path).schema.metadata or {}).get(b"cavern")
            meta = json.loads(raw) if raw else {}
        res = [float(v) for v in meta.get("voxel_resolution") or default_res]
        tables[path.stem] = ServedTable(path.stem, path, meta.get("kind", "table"), meta, res)
    for t in tables.values():
        ref = t.meta.get("reference_table")
        if ref and ref in tables and t.meta.get("target_columns"):
            t.merged_target_columns = [str(c) for c in t.meta["target_columns"]]
    return tables


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pq.read_table(path).to_pandas()
    if suffix in (".feather", ".arrow"):
        return feather.read_table(path).to_pandas()
    # CSV: ids must stay exact int64; positions may be written as "[x, y, z]" text.
    df = pd.read_csv(path)
    for col in df.columns:
        if col.endswith("_position") and df[col].dtype == object:
            df[col] = [np.array(json.loads(v), dtype=np.int64) for v in df[col]]
    return df


def _split_positions(df: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    out, positions = {}, []
    for col in df.columns:
        values = df[col]
        first = next((v for v in values if v is not None), None) \
            if values.dtype == object else None
        if col.endswith("_position") and first is not None and np.ndim(first) == 1:
            # a NULL position (None) is a row of NaN, as the engine's split columns have it
            arr = np.stack([np.full(3, np.nan) if v is None else np.asarray(v)
                            for v in values.to_numpy()])
            positions.append(col)
            for i, axis in enumerate("xyz"):
                out[f"{col}_{axis}"] = arr[:, i]
        elif col.endswith("_position") and values.dtype == object:
            positions.append(col)  # empty table (or no position known): typed columns
            for axis in "xyz":
                out[f"{col}_{axis}"] = (np.zeros(0, dtype=np.int64) if not len(values)
                                        else np.full(len(values), np.nan))
        else:
            out[col] = values.to_numpy()
    return pd.DataFrame(out), positions


SUPERVOXEL_LAYER = 1 << 56  # layer 1 in the top byte, as PyChunkedGraph ids have


def synthetic_supervoxel(root: int, row: int) -> int:
    """A deterministic made-up supervoxel id of `root` (0 stays 0)."""
    if pd.isna(root) or int(root) == 0:
        return 0
    return SUPERVOXEL_LAYER | ((int(root) & 0xFFFFFFFFFF) << 12) | (row & 0xFFF)


def _annotation_columns(df: pd.DataFrame, positions: list) -> pd.DataFrame:
    """Columns every real annotation table has even when a sample file lacks them:
    ``id`` (1..N, first), ``valid`` (true) after it, and ``X_supervoxel_id`` before ``X_root_id`` for each
    bound point X (X_position with X_root_id). The supervoxel ids are made up (see
    synthetic_supervoxel) and registered with the test chunkedgraph."""
    if "id" not in df.columns:
        df.insert(0, "id", np.arange(1, len(df) + 1, dtype=np.int64))
    cols = list(df.columns)
    if "valid" not in cols:
        at = cols.index("id") + 1 if "id" in cols else 0
        df.insert(at, "valid", np.ones(len(df), dtype=bool))
    for pos in positions:
        base = pos[: -len("position")]
        root, sv = base + "root_id", base + "supervoxel_id"
        if root in df.columns and sv not in df.columns:
            roots = df[root].to_numpy()
            values = np.array([synthetic_supervoxel(r, i) for i, r in enumerate(roots)],
                              dtype=np.int64)
            df.insert(list(df.columns).index(root), sv, values)
    return df


def _unsplit_columns(columns, positions) -> list:
    """Column names as the table defines them (a position once, not as _x/_y/_z)."""
    names = []
    for col in columns:
        base = col[:-2]
        if base in positions:
            if base not in names:
                names.append(base)
        else:
            names.append(col)
    return names


def to_arrow_stream(df: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(df, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()
