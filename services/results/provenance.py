"""Where exported rows came from, written with every export: datastack, version or live
time, server, table, filters, columns, units, limit, row count and the source's notes
(what a methods section needs). Parquet carries it in the file's metadata
(``cavern_provenance``); CSV/TSV, and exports of on-disk results, in a sidecar
``<file>.provenance.json`` written atomically next to the file."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from models.query_spec import QueryResult

KEY = b"cavern_provenance"
SIDECAR_SUFFIX = ".provenance.json"


def positions_unit(spec) -> str:
    res = spec.desired_resolution
    if not res:
        return "voxels of the table (its voxel_resolution)"
    if tuple(float(v) for v in res) == (1.0, 1.0, 1.0):
        return "nm"
    return "voxels of " + " x ".join(f"{float(v):g}" for v in res) + " nm"


def context_provenance(datastack: str, version: int | None, timestamp: datetime | None,
                       server: str = "", app_version: str = "") -> dict:
    """Who exported, when, and the context read: server ("local" without one), datastack,
    and the materialization version or, live, the timestamp (the other one is None)."""
    return {
        "exported_by": f"Cavern {app_version}".strip(),
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "server": server or "local",
        "datastack": datastack,
        "materialization_version": None if timestamp is not None else version,
        "live_timestamp": timestamp.isoformat() if timestamp is not None else None,
    }


def result_provenance(result: QueryResult, server: str = "", n_rows: int | None = None,
                      app_version: str = "") -> dict:
    spec = result.spec
    return {
        **context_provenance(spec.datastack, spec.version, spec.timestamp, server,
                             app_version),
        "table": spec.table,
        "filters": [f.describe() for f in spec.filters],
        "columns": list(spec.columns) or "all",
        "limit": spec.limit,
        "positions": positions_unit(spec),
        "rows": len(result.frame) if n_rows is None else int(n_rows),
        "notes": list(dict.fromkeys(result.notes)),
    }


def encode(provenance: dict) -> bytes:
    return json.dumps(provenance, indent=1, default=str).encode()
