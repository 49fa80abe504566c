"""The one interface every data source (local folder, CAVE server) implements."""
from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass

from models.datastack import DatastackInfo, TableInfo, VersionInfo
from models.errors import CancelledError
from models.query_spec import QueryResult, QuerySpec


@dataclass(frozen=True)
class Progress:
    """How far a long request is: ``done`` of ``total`` steps (pages, tables...; total
    None when unknown), ``rows`` fetched so far, and what is being done."""
    done: int
    total: int | None = None
    rows: int = 0
    what: str = ""
    elapsed_s: float = 0.0

    @property
    def rate(self) -> float | None:
        """Rows per second so far."""
        return self.rows / self.elapsed_s if self.elapsed_s > 0 and self.rows else None

    @property
    def remaining_s(self) -> float | None:
        """Seconds left, from the steps done so far (None until one is done)."""
        if not self.total or not self.done or self.elapsed_s <= 0 or self.done >= self.total:
            return None
        return self.elapsed_s * (self.total - self.done) / self.done


class CancelToken:
    """One request's handle: set by the UI when the user presses Cancel and checked by
    long work, which also reports its :class:`Progress` through it (``report``), so no
    service needs a second parameter for progress."""

    def __init__(self, on_progress=None) -> None:
        self._event = threading.Event()
        self._callbacks: list = []
        self.on_progress = on_progress  # called with a Progress, from the worker thread
        self._started = time.monotonic()

    def report(self, done: int, total: int | None = None, rows: int = 0,
               what: str = "") -> None:
        if self.on_progress is not None:
            self.on_progress(Progress(done, total, rows, what,
                                      time.monotonic() - self._started))

    def cancel(self) -> None:
        self._event.set()
        for cb in list(self._callbacks):
            try:
                cb()
            except Exception:  # a callback failing must not stop the others
                pass

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def on_cancel(self, callback) -> None:
        self._callbacks.append(callback)
        if self.cancelled:
            callback()

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise CancelledError()


def check_cancel(cancel: CancelToken | None) -> None:
    """Raise CancelledError if ``cancel`` (None: work that cannot be cancelled) was set."""
    if cancel is not None:
        cancel.raise_if_cancelled()


class DataSource(ABC):
    """Datastacks, versions, tables and queries, without Qt.

    Methods may block (disk, network): the UI calls them from workers. Every failure
    is raised as a :class:`models.errors.CavernError` subclass.
    """

    kind: str = ""  # "local" or "cave"
    has_state_server: bool = False  # can store Neuroglancer states (short links)

    @abstractmethod
    def datastacks(self) -> list[str]: ...

    @abstractmethod
    def datastack_info(self, datastack: str) -> DatastackInfo: ...

    @abstractmethod
    def versions(self, datastack: str) -> list[VersionInfo]: ...

    def default_version(self, datastack: str) -> int | None:
        vs = self.versions(datastack)
        return max(v.version for v in vs) if vs else None

    @abstractmethod
    def tables(self, datastack: str, version: int | None = None) -> list[TableInfo]:
        """Tables and views of a version, with description and schema (row counts may be None)."""

    def table_info(self, datastack: str, table: str, version: int | None = None) -> TableInfo:
        from models.errors import NotFoundError
        for t in self.tables(datastack, version):
            if t.name == table:
                return t
        raise NotFoundError(f"Table '{table}' is not in datastack '{datastack}'"
                            + (f" version {version}." if version is not None else "."))

    @abstractmethod
    def row_count(self, datastack: str, table: str, version: int | None = None) -> int: ...

    @abstractmethod
    def query(self, spec: QuerySpec, cancel: CancelToken | None = None) -> QueryResult: ...

    # ---- capabilities only some sources have (callers never check a source's kind) ----
    def root_id_status(self, datastack: str, root_id: int, version: int | None = None,
                       timestamp=None):
        """Whether ``root_id`` is current at ``version``'s time (or ``timestamp``), as a
        models.cell.RootIdStatus; None when this source cannot know (a local folder)."""
        return None

    def stale_root_ids(self, datastack: str, root_ids, version: int | None = None,
                       timestamp=None) -> dict[int, int | None] | None:
        """Of ``root_ids``, those that are not roots at ``version``'s time (or
        ``timestamp``), with their successor there where known; None when this source
        cannot know (a local folder: its tables are all it has)."""
        return None

    def synapse_pairs(self, datastack: str, table: str, version: int | None = None,
                      filters=(), cancel: CancelToken | None = None, *, min_rows: int = 0):
        """Connected (pre, post) pairs with n_synapses, size_sum, size_mean aggregated by
        the source itself, when it can do so out of core and more than ``min_rows``
        synapses match; None otherwise (the caller fetches the synapses and aggregates)."""
        return None

    def sorted_synapse_scan(self, datastack: str, table: str, version: int | None, pre_ids,
                            pre: str = "pre_pt_root_id", post: str = "post_pt_root_id",
                            size: str | None = "size"):
        """A reader of the synapse table in (pre, post) order, batch by batch, when the
        source holds it sorted that way (a local table brought in with import-table); None
        otherwise. It has ``rows_bound`` (rows it will read, at least the synapses of
        ``pre_ids``), ``n_rows`` and ``batches(cancel)`` yielding (pre, post, size) arrays
        in which no pair is split across batches."""
        return None

    def skeleton(self, datastack: str, root_id: int, version: int | None = None,
                 timestamp=None, cancel: CancelToken | None = None):
        """The skeleton of ``root_id`` as a services.morphology.skeleton.Skeleton (vertices
        in nm), or None when this source has none for it."""
        return None

    def distinct_values(self, datastack: str, table: str, column: str,
                        version: int | None = None, limit: int = 1000, prefix: str = "",
                        cancel: CancelToken | None = None) -> list[str] | None:
        """Up to ``limit`` distinct non-empty values of a string column (those starting
        with ``prefix``, case-insensitively), sorted, for completion of filter values;
        None when this source cannot list them."""
        return None

    def state_server_name(self) -> str:
        return "the state server"

    def upload_state(self, datastack: str, state: dict, base_url: str) -> str:
        """Store a Neuroglancer state and return a short link to it under ``base_url``."""
        from models.errors import NotFoundError
        raise NotFoundError("Local data has no Neuroglancer state server, so no short link "
                            "can be made.", hint="Share the long link, or connect to a CAVE "
                                                 "server (File > Connect to CAVE server).")

    def segment_property_source(self, datastack: str, table: str,
                                version: int | None = None) -> str | None:
        """A Neuroglancer source of ``table``'s segment properties (cell-type labels) that
        this source's server serves, or None (links then say labels are only in the live
        viewer)."""
        return None

    def fetch_state(self, datastack: str, url: str) -> dict:
        """The Neuroglancer state a short link points at (stored on this source's state
        server), as JSON."""
        from models.errors import NotFoundError
        raise NotFoundError("Local data has no Neuroglancer state server, so a short link "
                            "cannot be read.", hint="Paste the full link, or connect to the "
                                                    "CAVE server the link belongs to.")

    def prepare(self, datastack: str, version: int | None = None) -> None:
        """Read ahead what the first query of this datastack and version will need (a
        local table's Parquet footer). A hint, called in a worker once a context opens;
        it may take a while, raises nothing, and changes no answer."""

    def close(self) -> None:
        pass
