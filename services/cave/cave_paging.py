"""Fetch a whole CAVE answer past the server's row limit, in pages disjoint by construction.

The server cuts every answer at its row limit and has no ORDER BY, so offsets would give
overlapping, arbitrary pages. Pages here are ranges of one key column (``id`` where the
table has it) and batches of a long ``in`` list: every row lies in exactly one page, so
the union of complete pages is the answer, with no row twice.

A page that comes back cut is resolved with counts (``get_counts=True``):
- the count equals the rows in hand: the page was exactly at the limit, it is complete;
- the rows in hand are all the rows up to their largest key (the server read in key order,
  as PostgreSQL usually does): keep them, go on after that key (keyset paging);
- otherwise the range is split at quantiles of the keys in hand into pieces expected to fit,
  and each piece is fetched (and split again if needed).
Every split leaves out at least one row in hand from each piece, so the work ends. A range
of one key value that is still cut cannot be split: its missing rows are reported.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from models.errors import CancelledError
from models.filters import Filter, Op
from services.results.memory import release_freed_memory

IN_BATCH = 20_000  # values of one ``in`` list per request (request bodies stay < 1 MB)
MAX_REQUESTS = 20_000
FILL = 0.6  # split a cut range into pieces expected to hold this share of the limit


@dataclass(frozen=True)
class PageRange:
    """Rows with ``lo < key`` (or ``<=``) and ``key < hi``, in one batch of an ``in`` list."""

    lo: Any = None
    lo_strict: bool = False
    hi: Any = None
    batch: int | None = None
    expected: int | None = None  # rows in this range, when a count told us
    hi_le: Any = None  # also key <= hi_le (only ever counted, never fetched)

    def filters(self, key: str) -> list[Filter]:
        out = []
        if self.lo is not None:
            out.append(Filter(key, Op.GT if self.lo_strict else Op.GE, _py(self.lo)))
        if self.hi is not None:
            out.append(Filter(key, Op.LT, _py(self.hi)))
        if self.hi_le is not None:
            out.append(Filter(key, Op.LE, _py(self.hi_le)))
        return out

    def describe(self, key: str) -> str:
        lo = "" if self.lo is None else f"{key} {'>' if self.lo_strict else '>='} {self.lo}"
        hi = "" if self.hi is None else f"{key} < {self.hi}"
        part = " and ".join(p for p in (lo, hi) if p) or f"all {key}"
        return part + (f" (batch {self.batch + 1})" if self.batch is not None else "")


@dataclass
class Answer:
    frame: pd.DataFrame
    warned_limit: int | None = None  # N of a "Limited query to N rows" warning


@dataclass
class PagedResult:
    frame: pd.DataFrame
    pages: int = 0
    requests: int = 0
    counts: int = 0
    missing: list[str] = field(default_factory=list)  # what could not be fetched, and why
    total: int | None = None  # rows of the server-side answer, when counted
    stopped_at_limit: bool = False


def _py(v):
    return v.item() if hasattr(v, "item") else v


def split_batches(values, size: int = IN_BATCH) -> list[tuple]:
    values = tuple(values)
    return [values[i:i + size] for i in range(0, len(values), size)] or [()]


class Pager:
    """Runs the paging; the data source supplies how to fetch and count one range.

    fetch(rng) -> Answer, the range's rows with no user limit (the server may cut them);
    count(rng) -> int | None, the range's row count (None: counts unavailable);
    post(frame) -> frame, the client-side filters; progress(done, total, rows).
    """

    def __init__(self, fetch: Callable, count: Callable | None, key: str, *,
                 batches: int | None = None, server_limit: int | None = None,
                 want: int | None = None, post: Callable | None = None,
                 progress: Callable | None = None, cancel=None,
                 max_requests: int = MAX_REQUESTS):
        self.fetch, self.count_fn, self.key = fetch, count, key
        self.batches = batches
        self.server_limit = server_limit
        self.want = want
        self.post = post or (lambda f: f)
        self.progress = progress
        self.cancel = cancel
        self.max_requests = max_requests
        self.result = PagedResult(pd.DataFrame())

    # ---- helpers -----------------------------------------------------------------
    def _count(self, rng: PageRange) -> int | None:
        if self.count_fn is None:
            return None
        self._check()
        self.result.counts += 1
        try:
            n = self.count_fn(rng)
        except CancelledError:
            raise
        except Exception:  # counts only make paging faster; without them it halves ranges
            self.count_fn = None
            return None
        return None if n is None else int(n)

    def _check(self):
        if self.cancel is not None and self.cancel.cancelled:
            raise CancelledError()

    def _is_cut(self, ans: Answer) -> bool:
        n = len(ans.frame)
        if ans.warned_limit is not None:
            self.server_limit = ans.warned_limit  # page requests carry no user limit
            return n >= ans.warned_limit
        return bool(self.server_limit) and n >= self.server_limit

    # ---- the loop ----------------------------------------------------------------------
    def run(self, first: Answer | None = None) -> PagedResult:
        """``first``: an answer already fetched for the whole (first batch's) range."""
        roots = [PageRange(batch=i) for i in range(self.batches)] if self.batches \
            else [PageRange()]
        queue: list[tuple[PageRange, Answer | None]] = [(r, None) for r in reversed(roots)]
        if first is not None:
            queue[-1] = (queue[-1][0], first)
        parts: list[pd.DataFrame] = []
        got = 0
        res = self.result
        while queue:
            self._check()
            rng, ans = queue.pop()
            if ans is None:
                if res.requests >= self.max_requests:
                    res.missing.append(f"rows with {rng.describe(self.key)}: more than "
                                       f"{self.max_requests:,} requests were needed")
                    continue
                res.requests += 1
                ans = self.fetch(rng)
                self._check()
            frame = ans.frame
            if self._is_cut(ans):
                accept, more = self._resolve(rng, frame)
                queue.extend((r, None) for r in reversed(more))
                if accept is None:
                    self._report(len(queue), got, queue)
                    continue
                frame = accept
            res.pages += 1
            kept = self.post(frame)
            parts.append(kept)
            got += len(kept)
            self._report(len(queue), got, queue)
            if self.want is not None and got >= self.want:
                res.stopped_at_limit = bool(queue) or got > self.want
                break
        res.frame = _concat(parts)
        del parts
        release_freed_memory(len(res.frame))  # the pages' buffers, freed but still mapped
        if self.want is not None and len(res.frame) > self.want:
            res.frame = res.frame.iloc[:self.want].reset_index(drop=True)
        return res

    def _report(self, queued: int, rows: int, queue=()):
        if self.progress is None:
            return
        limit = self.server_limit or 0
        ahead = sum(math.ceil(r.expected / limit) if (limit and r.expected) else 1
                    for r, _ in queue) if queue else queued
        done = self.result.pages
        self.progress(done, done + ahead, rows)

    def _resolve(self, rng: PageRange, frame: pd.DataFrame):
        """A cut page: (rows to keep or None, ranges still to fetch)."""
        n = len(frame)
        column = frame[self.key]
        if column.isna().any():  # no key range holds a missing key
            self.result.missing.append(f"rows with no {self.key} cannot be paged")
            column = column.dropna()
        keys = np.unique(column.to_numpy())
        total = rng.expected if rng.expected is not None else self._count(rng)
        if total is not None and total <= n:
            return frame, []  # exactly at the limit: nothing is missing
        top = keys[-1] if len(keys) else None
        if top is not None:
            upto = self._count(replace(rng, hi_le=top, expected=None))
            if upto is not None and upto == n:  # keyset: every row up to `top` is in hand
                rest = replace(rng, lo=top, lo_strict=True,
                               expected=None if total is None else total - n)
                return frame, [rest]
        if len(keys) < 2:
            have = f"{n:,}" + (f" of {total:,}" if total else "")
            self.result.missing.append(
                f"rows with {rng.describe(self.key)}: the server's limit cuts them and one "
                f"key value cannot be split ({have} rows fetched)")
            return frame, []
        pieces = max(2, math.ceil(total / (FILL * n))) if total else 2
        pieces = min(pieces, len(keys))
        at = [min(max(1, round(len(keys) * i / pieces)), len(keys) - 1) for i in range(1, pieces)]
        picks = np.unique(keys[at])
        bounds = [rng.lo] + list(picks) + [rng.hi]
        out = []
        for i in range(len(bounds) - 1):
            out.append(PageRange(lo=bounds[i], lo_strict=rng.lo_strict if i == 0 else False,
                                 hi=bounds[i + 1], batch=rng.batch))
        return None, out


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if p is not None]
    if not parts:
        return pd.DataFrame()
    nonempty = [p for p in parts if len(p)]
    if not nonempty:
        return parts[0].iloc[:0].reset_index(drop=True)
    if len(nonempty) == 1:
        return nonempty[0].reset_index(drop=True)
    return pd.concat(nonempty, ignore_index=True)
