"""Did the server's row limit cut a query result?

caveclient only logs the server's ``Warning: Limited query to N rows`` header, so the
source checks three things: that header (recorded per thread), a row count equal to a
known server limit above the user's own limit, and for unfiltered table queries the
table's row count.
"""
from __future__ import annotations

import re

from models.datastack import TableInfo
from models.errors import CavernError
from models.query_spec import QueryResult

_LIMIT_RE = re.compile(r"(\d[\d,]*)\s*rows", re.IGNORECASE)
_MATCHED_RE = re.compile(r"matched\s+(\d[\d,]*)", re.IGNORECASE)


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def judge_truncation(result: QueryResult, info: TableInfo, warnings: list[str],
                     row_limit: int | None, count_rows) -> int | None:
    """Set ``result.truncated``/``total_rows``/notes; returns the server limit if learnt.

    ``count_rows()`` returns the table's row count (may raise CavernError).
    """
    spec, n = result.spec, len(result.frame)
    below_user_limit = spec.limit is None or n < spec.limit
    warned = [w for w in warnings if "limit" in w.lower()]
    if warned:
        m = _LIMIT_RE.search(warned[-1])
        if m:
            row_limit = _int(m.group(1))
        t = _MATCHED_RE.search(warned[-1])
        if t:
            result.total_rows = _int(t.group(1))
        result.notes.append("Server warning: " + warned[-1][:200])
        if below_user_limit:
            result.truncated = True
    elif row_limit and n >= row_limit and (spec.limit is None or spec.limit > row_limit):
        result.truncated = True
    # An unfiltered table query can be compared with the table's size (one cheap request).
    if (result.total_rows is None and not spec.filters and info.kind == "table"
            and spec.timestamp is None and n):
        try:
            total = count_rows()
        except CavernError as exc:  # the rows are fine; only the total is unknown
            result.notes.append(f"Row count unavailable: {exc.message}")
        else:
            result.total_rows = total
            if total > n and below_user_limit:
                result.truncated = True
    if result.truncated:
        result.notes.append("The server's row limit cut this result: add filters, or split "
                            "the query, to get every row.")
    return row_limit
