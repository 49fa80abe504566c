"""Distinct values of a string column, for completing filter values (Qt-free).

The query builder asks :class:`DistinctValueCache` from a worker; each (source,
datastack, table, column, version) is fetched once from the source's
``distinct_values`` (DuckDB ``SELECT DISTINCT`` locally, ``get_unique_string_values``
on CAVE). A source without that capability answers None, and then nothing is
offered. :func:`split_last` / :func:`join_last` let a completer complete the last
item of an ``in`` list.
"""
from __future__ import annotations

import re
import threading
import weakref

from services.source import CancelToken, DataSource

DEFAULT_LIMIT = 5000  # more than a completer popup is useful for
_SEPARATORS = re.compile(r"[,;\s]+")


def supports_distinct_values(source) -> bool:
    """Whether ``source`` overrides DataSource.distinct_values (the base answers None)."""
    impl = getattr(type(source), "distinct_values", None)
    return impl is not None and impl is not DataSource.distinct_values


class DistinctValueCache:
    """Thread-safe cache of distinct values; a source's entries go with the source."""

    def __init__(self, limit: int = DEFAULT_LIMIT):
        self.limit = limit
        self._lock = threading.Lock()
        self._by_source: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()

    @staticmethod
    def _key(datastack: str, table: str, column: str, version: int | None) -> tuple:
        return (datastack, table, column, version)

    def cached(self, source, datastack: str, table: str, column: str,
               version: int | None = None):
        """The values if already fetched (a list, or None for 'none to offer'); raises
        KeyError when not fetched yet."""
        with self._lock:
            return self._by_source.get(source, {})[self._key(datastack, table, column, version)]

    def values(self, source, datastack: str, table: str, column: str,
               version: int | None = None, cancel: CancelToken | None = None):
        """The values (may block: call from a worker); None when the source has none."""
        try:
            return self.cached(source, datastack, table, column, version)
        except KeyError:
            pass
        if not supports_distinct_values(source):
            out = None
        else:
            out = source.distinct_values(datastack, table, column, version=version,
                                         limit=self.limit, cancel=cancel)
            out = None if out is None else [str(v) for v in out]
        with self._lock:
            self._by_source.setdefault(source, {})[
                self._key(datastack, table, column, version)] = out
        return out

    def clear(self) -> None:
        with self._lock:
            self._by_source = weakref.WeakKeyDictionary()


def split_last(text: str) -> tuple[str, str]:
    """('a, b, ', 'c') for 'a, b, c': what stays, and the item being typed."""
    parts = list(_SEPARATORS.finditer(text))
    if not parts:
        return "", text
    end = parts[-1].end()
    return text[:end], text[end:]


def join_last(text: str, value: str) -> str:
    """``text`` with its last item replaced by ``value``."""
    head, _tail = split_last(text)
    return head + value
