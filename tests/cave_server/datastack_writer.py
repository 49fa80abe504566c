"""Write a small local datastack folder (cavern-datastack/1) for a test to serve.

    write_datastack(tmp_path / "tiny", "tiny", {
        7: {"synapses": (df, {"schema": "synapse", "description": "..."}),
            "conn_view": (view_df, {"kind": "view"})},
    })

Position columns (``*_position``, lists of 3 ints) are stored as fixed-size lists, and the
per-table metadata goes to the Parquet "cavern" key, as in the bundled samples. A table
given as ``(df, meta, "csv")`` is written as CSV (positions as "[x, y, z]" text).

``cave_shaped_copy(sample, tmp_path / "x")`` copies a local datastack (a bundled sample)
with each reference table cut to its own columns, as a CAVE server has it: a local file
of a ``cell_type_reference`` table carries its target's columns, merged in and listed in
the "target_columns" metadata, because Cavern's local source does not join.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def write_datastack(folder: Path, name: str, versions: dict, timestamps: dict | None = None,
                    **manifest_fields) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    timestamps = timestamps or {}
    manifest = {
        "format": "cavern-datastack/1", "name": name, "description": f"{name} (test)",
        "voxel_resolution": [4.0, 4.0, 40.0],
        "image_source": "precomputed://gs://cavern-test/em",
        "segmentation_source": f"graphene://https://cavern.test/segmentation/table/{name}",
        "synapse_table": "synapses", "soma_table": "", "cell_type_tables": [],
        "proofreading_table": "", "viewer_site": "https://spelunker.cave-explorer.org/",
        "credits": "", "transform": {}, "default_version": max(versions),
        "versions": [{"version": v, "folder": f"v{v}", "timestamp": timestamps.get(v),
                      "description": f"version {v}"} for v in sorted(versions)],
    }
    manifest.update(manifest_fields)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    for v, tables in versions.items():
        vdir = folder / f"v{v}"
        vdir.mkdir(exist_ok=True)
        for tname, spec in tables.items():
            df, meta = spec[0], dict(spec[1])
            fmt = spec[2] if len(spec) > 2 else "parquet"
            meta.setdefault("kind", "table")
            meta.setdefault("voxel_resolution", manifest["voxel_resolution"])
            meta.setdefault("description", f"{tname} (test table)")
            if fmt == "csv":
                out = df.copy()
                for col in out.columns:
                    if col.endswith("_position"):
                        out[col] = [json.dumps([int(x) for x in p]) for p in out[col]]
                out.to_csv(vdir / f"{tname}.csv", index=False)
                continue
            table = pa.Table.from_pandas(df, preserve_index=False)
            for i, col in enumerate(table.column_names):
                if col.endswith("_position"):
                    values = [[int(x) for x in p] for p in df[col]]
                    table = table.set_column(i, col, pa.array(values, pa.list_(pa.int64(), 3)))
            md = dict(table.schema.metadata or {})
            md[b"cavern"] = json.dumps(meta).encode()
            pq.write_table(table.replace_schema_metadata(md), vdir / f"{tname}.parquet")
    return folder


def cave_shaped_copy(source: Path, folder: Path) -> Path:
    """Copy datastack ``source`` to ``folder``, dropping each Parquet table's
    "target_columns" (the reference target's columns merged in for local reading)."""
    source, folder = Path(source), Path(folder)
    shutil.copytree(source, folder, dirs_exist_ok=True)
    for path in sorted(folder.glob("*/*.parquet")):
        table = pq.read_table(path)
        md = dict(table.schema.metadata or {})
        meta = json.loads(md.get(b"cavern", b"{}"))
        merged = [c for c in meta.pop("target_columns", []) if c in table.column_names]
        if not (merged and meta.get("reference_table")):
            continue
        md[b"cavern"] = json.dumps(meta).encode()
        table = table.drop_columns(merged).replace_schema_metadata(md)
        pq.write_table(table, path, compression="zstd")
    return folder
