"""Where a result came from, in one line for the status bar: datastack, version or
timestamp, server, filters and units (what a figure legend or a methods section needs)."""
from __future__ import annotations

from services.results.provenance import positions_unit


def provenance_text(spec, source=None) -> str:
    parts = [spec.datastack or "?"]
    if spec.timestamp is not None:
        parts.append(f"live at {spec.timestamp:%Y-%m-%d %H:%M:%S} UTC")
    elif spec.version is not None:
        parts.append(f"v{spec.version}")
    server = getattr(source, "server", "") if source is not None else ""
    parts.append(server or "local")
    parts.append(spec.table)
    filters = [f.describe() for f in spec.filters]
    parts.append("filters: " + "; ".join(filters) if filters else "no filters")
    parts.append("positions in " + positions_unit(spec))  # the same words as exports
    if spec.limit:
        parts.append(f"limit {spec.limit:,}")
    return " · ".join(parts)
