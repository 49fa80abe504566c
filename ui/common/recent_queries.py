"""Recent queries per table: the last few queries run on a table of a datastack, kept in
QSettings (key ``recent_queries/<datastack>/<table>``) as a JSON list, newest first.

An entry is the query as the builder shows it (ui.common.session.query_state without the
table): filters as column, operator, value text and units; the columns (None: all); the
row limit; the position units. Queries hold no server address and never a token.
"""
from __future__ import annotations

import json

from PySide6.QtCore import QSettings

MAX_RECENT = 10
GROUP = "recent_queries"
POSITIONS = ("voxels", "nm")  # the builder's "Positions in" entries, by index


def _key(datastack: str, table: str) -> str:
    safe = lambda s: (s or "_").replace("/", "_").replace("\\", "_")  # noqa: E731
    return f"{GROUP}/{safe(datastack)}/{safe(table)}"


class RecentQueries:
    def __init__(self, settings: QSettings, limit: int = MAX_RECENT):
        self.settings, self.limit = settings, limit

    def entries(self, datastack: str, table: str) -> list[dict]:
        raw = self.settings.value(_key(datastack, table), "", str)
        try:
            found = json.loads(raw) if raw else []
        except ValueError:
            return []  # a hand-edited or damaged entry: no recents, no error
        return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []

    def add(self, datastack: str, table: str, state: dict) -> list[dict]:
        entry = {k: state.get(k) for k in ("filters", "columns", "limit", "positions")}
        entry["filters"] = list(entry["filters"] or [])
        entries = [e for e in self.entries(datastack, table) if e != entry]
        entries = ([entry] + entries)[: self.limit]
        self.settings.setValue(_key(datastack, table), json.dumps(entries))
        return entries


def describe(entry: dict) -> str:
    """One line for the Recent menu: 'size >= 300 · pt_root_id in (2) · 3 columns · 1,000 rows · nm'."""
    parts = []
    for f in entry.get("filters") or []:
        value = str(f.get("value", "")).replace("\n", ",")
        n = len([v for v in value.replace(",", " ").split() if v])
        shown = value if len(value) <= 24 else (f"({n} values)" if n > 1 else value[:23] + "…")
        parts.append(f"{f.get('column')} {f.get('op')} {shown}")
    if not parts:
        parts.append("no filters")
    cols = entry.get("columns")
    parts.append("all columns" if cols is None else f"{len(cols)} columns")
    limit = int(entry.get("limit") or 0)
    parts.append(f"{limit:,} rows" if limit else "no limit")
    pos = int(entry.get("positions") or 0)
    parts.append(POSITIONS[pos] if 0 <= pos < len(POSITIONS) else "voxels")
    return " · ".join(parts)
