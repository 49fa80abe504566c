"""The context every service and view works in: source, datastack, version, table roles.

A :class:`Workspace` is made when the user picks a datastack and version (or a live
timestamp) and is handed to the services instead of a ``(source, datastack, version)``
triple. It finds the datastack's *table roles* (synapse table, cell-type tables, soma
table, proofreading table) by one rule, so the inspector, partners, links and matrices
agree on which table they read:

- a role is the table the datastack's manifest / info names for it; cell-type tables are
  the named ones followed by the version's tables with a ``cell_type*`` schema;
- a local datastack may keep tables at different versions (the minnie65 sample does): a
  named table absent at the asked version is read at the nearest version that holds it,
  and :attr:`TableRole.note` says so wherever it is used. On a CAVE server only the
  asked version is read.

Qt-free. Listings are cached for the workspace's life (a context is short-lived: a new
pick makes a new workspace).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime

from models.datastack import DatastackInfo, TableInfo
from models.errors import (CavernError, DataSourceError, IncompleteResultError,
                           InvalidInputError, NotFoundError)
from models.filters import Filter, Op
from models.query_spec import QueryResult, QuerySpec
from services.source import CancelToken, DataSource

PRE, POST = "pre_pt_root_id", "post_pt_root_id"


@dataclass(frozen=True)
class TableRole:
    """A table of the workspace and the version it is read at."""
    role: str  # "synapse", "cell_type", "soma", "proofreading" or "table"
    info: TableInfo
    version: int | None  # the version read (None: live or the source's default)
    asked: int | None  # the workspace's version

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def fallback(self) -> bool:
        return self.version != self.asked

    @property
    def label(self) -> str:
        """``synapses_pni_2`` or, read at another version, ``synapses_pni_2 (v795)``."""
        return f"{self.name} (v{self.version})" if self.fallback else self.name

    @property
    def note(self) -> str:
        """What the user must be told when the table is read at another version."""
        if not self.fallback:
            return ""
        return (f"{self.name} is not in v{self.asked}: read at v{self.version}, the nearest "
                f"version that has it.")


class Workspace:
    """Source + datastack + version (or live timestamp) + the table roles of that context."""

    def __init__(self, source: DataSource, datastack: str, version: int | None = None,
                 timestamp: datetime | None = None, synapse_table: str | None = None):
        self.source = source
        self.datastack = datastack
        self.timestamp = timestamp
        self.chosen_synapse_table = synapse_table  # the user's pick; None: the datastack's
        self.requested_version = version
        self._lock = threading.Lock()
        self._tables: dict[int | None, dict[str, TableInfo]] = {}
        self._checked: dict[tuple[str, int | None], TableInfo] = {}
        self._info: DatastackInfo | None = None
        self._version: int | None = version
        self._resolved = version is not None or timestamp is not None

    def __repr__(self) -> str:
        when = f" live at {self.timestamp.isoformat()}" if self.timestamp else ""
        return f"Workspace({self.source.kind}:{self.datastack} v{self.version}{when})"

    def same_context(self, other: "Workspace | None") -> bool:
        return (other is not None and other.source is self.source
                and other.datastack == self.datastack
                and other.requested_version == self.requested_version
                and other.timestamp == self.timestamp
                and other.chosen_synapse_table == self.chosen_synapse_table)

    def with_synapse_table(self, name: str | None) -> "Workspace":
        """The same context reading synapses from ``name`` (None: the datastack's own)."""
        ws = Workspace(self.source, self.datastack, self.requested_version, self.timestamp,
                       name or None)
        ws._info, ws._tables, ws._checked = self._info, self._tables, self._checked
        ws._version, ws._resolved = self._version, self._resolved
        return ws

    @property
    def synapse_table_name(self) -> str:
        """The synapse table this context reads: the user's pick or the datastack's."""
        return self.chosen_synapse_table or self.info.synapse_table

    def synapse_tables(self) -> list[str]:
        """Tables of this version a connectivity view can read synapses from (the
        datastack's own first): CAVE's pre/post root id columns."""
        own = self.info.synapse_table
        names = [n for n, t in sorted(self.tables().items())
                 if {PRE, POST} <= set(t.kinds) and t.kind == "table"]
        if own and own not in names and self.find(own) is not None:
            names.insert(0, own)  # read at the nearest version that has it
        return sorted(names, key=lambda n: n != own)

    # ---- the context ------------------------------------------------------------
    @property
    def is_local(self) -> bool:
        return getattr(self.source, "kind", "") == "local"

    @property
    def live(self) -> bool:
        return self.timestamp is not None

    @property
    def version(self) -> int | None:
        """The version read: the asked one, or the source's default (None when live)."""
        if not self._resolved:
            self._version = self.source.default_version(self.datastack)
            self._resolved = True
        return self._version

    def checked_version(self) -> int:
        v = self.version
        if v is None and not self.live:
            raise NotFoundError(f"Datastack '{self.datastack}' has no versions to read.")
        return v

    @property
    def info(self) -> DatastackInfo:
        """The datastack's description; one without a depth transform gets the one of its
        aligned volume where standard_transform knows it (minnie65, v1dd on CAVE)."""
        if self._info is None:
            info = self.source.datastack_info(self.datastack)
            if not info.transform:
                from services.cells.cortical_depth import transform_for_volume
                known = transform_for_volume(info.extra.get("aligned_volume", ""))
                info = replace(info, transform=known) if known else info
            self._info = info
        return self._info

    def tables(self, version: int | None = None) -> dict[str, TableInfo]:
        """The tables and views of ``version`` (default: the workspace's), by name."""
        v = self.version if version is None else version
        with self._lock:
            hit = self._tables.get(v)
        if hit is None:
            hit = {t.name: t for t in self.source.tables(self.datastack, v)}
            with self._lock:
                self._tables[v] = hit
        return hit

    # ---- table roles ------------------------------------------------------------
    def find(self, name: str | None, role: str = "table") -> TableRole | None:
        """The table ``name`` at this version or, on a local datastack, the nearest
        version that holds it; None when no version has it."""
        if not name:
            return None
        v = self.version
        if name in self.tables(v):
            return TableRole(role, self._real_info(name, v), v, v)
        if not self.is_local or v is None:
            return None
        others = sorted((x.version for x in self.source.versions(self.datastack)
                         if x.version != v), key=lambda x: (abs(x - v), -x))
        for other in others:
            if name in self.tables(other):
                return TableRole(role, self._real_info(name, other), other, v)
        return None

    def table(self, name: str, role: str = "table") -> TableRole:
        """Like :meth:`find`, but a table no version has is a NotFoundError."""
        hit = self.find(name, role)
        if hit is None:
            # table_info's message names the version and the datastack
            self.source.table_info(self.datastack, name, self.version)
            raise NotFoundError(f"Table '{name}' is not in datastack '{self.datastack}'.")
        return hit

    def _real_info(self, name: str, v: int | None) -> TableInfo:
        """The table's real columns: a CAVE listing gives its schema's columns, which a
        table may not all have (table_info checks them, once per table)."""
        key = (name, v)
        if key not in self._checked:
            try:
                info = self.source.table_info(self.datastack, name, v)
            except CavernError:
                info = self.tables(v)[name]
            self._checked[key] = info
        return self._checked[key]

    def synapse_table(self) -> TableRole:
        """The datastack's synapse table, checked to have CAVE's pre/post id columns."""
        name = self.synapse_table_name
        if not name:
            raise NotFoundError(f"Datastack '{self.datastack}' names no synapse table.",
                                hint="Name one as synapse_table in the manifest.")
        hit = self.find(name, "synapse")
        if hit is None:
            raise NotFoundError(f"The synapse table '{name}' is in no version of "
                                f"'{self.datastack}'." if self.is_local else
                                f"The synapse table '{name}' is not in '{self.datastack}' "
                                f"v{self.version}.")
        if not hit.info.columns and hit.info.notice_text:  # unreadable: say why, not "no column"
            raise DataSourceError(f"Synapse table '{name}' cannot be read: "
                                  f"{hit.info.notice_text}")
        missing = [c for c in (PRE, POST) if c not in hit.info.kinds]
        if missing:
            raise DataSourceError(f"Synapse table '{name}' has no column {missing[0]}.")
        return hit

    def cell_type_tables(self) -> list[TableRole]:
        """The named cell-type tables (found by :meth:`find`; those of this version first,
        then those read at another version), then this version's other tables with a
        ``cell_type*`` schema (CAVE's info service names none)."""
        found = [hit for n in self.info.cell_type_tables
                 if (hit := self.find(n, "cell_type")) is not None]
        # tables of this very version first: their root ids match the version's
        out = [r for r in found if not r.fallback] + [r for r in found if r.fallback]
        named = {r.name for r in out}
        for n, t in sorted(self.tables().items()):
            if t.schema.startswith("cell_type") and n not in named:
                out.append(TableRole("cell_type", self._real_info(n, self.version),
                                     self.version, self.version))
        return out

    def cell_type_table_names(self) -> list[str]:
        return [r.name for r in self.cell_type_tables()]

    def soma_table(self) -> TableRole | None:
        return self.find(self.info.soma_table, "soma")

    def proofreading_table(self) -> TableRole | None:
        return self.find(self.info.proofreading_table, "proofreading")

    # ---- queries ----------------------------------------------------------------
    def spec(self, table: str | TableRole, filters=(), columns=(), limit: int | None = None,
             **changes) -> QuerySpec:
        """A QuerySpec of this context for ``table`` (a role is read at its own version).
        Columns the table lacks are left out of the request."""
        role = table if isinstance(table, TableRole) else None
        if role is not None:
            info, v = role.info, role.version
        else:
            v = self.version
            info = self.tables(v).get(table)
            if info is None:
                info = self.source.table_info(self.datastack, table, v)
        cols = tuple(c for c in columns if c in info.kinds) if info.kinds else tuple(columns)
        # a live workspace reads its own version live; a table read at another version
        # (a local fallback, or a version scan) is read at that version
        timestamp = self.timestamp if (role is None or role.version == self.version) else None
        spec = QuerySpec(info.name, self.datastack, None if timestamp else v,
                         timestamp=timestamp, filters=tuple(filters), columns=cols,
                         limit=limit, is_view=info.kind == "view")
        return spec.with_(**changes) if changes else spec

    def query(self, table: str | TableRole, filters: tuple[Filter, ...] | list = (),
              columns=(), limit: int | None = None, cancel: CancelToken | None = None,
              **changes) -> QueryResult:
        """Run :meth:`spec` on the source: the one spec-to-result path of the services."""
        return self.source.query(self.spec(table, filters, columns, limit, **changes), cancel)

    def run(self, spec: QuerySpec, cancel: CancelToken | None = None) -> QueryResult:
        """A query the user built (query builder, CLI ``query``): the source's answer, and
        a note naming root ids of its filters that are not roots at this context's time
        (their rows are missing from the answer, not absent from the data)."""
        result = self.source.query(spec, cancel)
        ids = [int(v) for f in spec.filters if f.column.endswith("root_id")
               and f.op in (Op.EQ, Op.IN) for v in (f.value if f.op is Op.IN else (f.value,))]
        if ids:
            stale = self.source.stale_root_ids(self.datastack, ids, self.version, self.timestamp)
            if stale:
                when = "now" if self.live else f"at v{self.version}"
                shown = ", ".join(f"{o} (now {n})" if n else str(o)
                                  for o, n in list(stale.items())[:5])
                result.notes.append(f"{len(stale):,} root id(s) of the filters are not root "
                                    f"ids {when}, so their rows are missing: {shown}.")
        return result

    def check_root_ids(self, root_ids, what: str = "pasted root ids") -> None:
        """Refuse ids that are not roots at this context's time (a CAVE source can tell):
        their rows would silently be missing. The message names each with its successor."""
        stale = self.source.stale_root_ids(self.datastack, list(root_ids), self.version,
                                           self.timestamp)
        if not stale:
            return
        when = "now" if self.live else f"at v{self.version}"
        shown = [f"{old} (now {new})" if new else f"{old} (no successor known)"
                 for old, new in list(stale.items())[:5]]
        more = f" and {len(stale) - 5:,} more" if len(stale) > 5 else ""
        raise InvalidInputError(
            f"{len(stale):,} of the {what} are not root ids {when}: " + ", ".join(shown)
            + more + ".", field="root_ids",
            hint="Root ids change with proofreading: use the ids of this version (replace "
                 "them with the successors shown) or pick the version they come from.")

    def complete_frame(self, table: str | TableRole, filters=(), columns=(),
                       cancel: CancelToken | None = None, **changes):
        """The rows of :meth:`query`, or an IncompleteResultError when the source could not
        return all of them: views that count or aggregate never show a cut result."""
        result = self.query(table, filters, columns, cancel=cancel, **changes)
        if result.truncated:
            name = table.name if isinstance(table, TableRole) else table
            raise IncompleteResultError(
                f"{name}: the server returned only {len(result.frame):,} of the matching "
                f"rows, so this answer would be incomplete.",
                hint="Narrow the request (fewer cells, more filters) or try again.")
        return result.frame
