"""Reading a synapse table that is sorted by (pre, post) in order, batch by batch.

A table brought in with ``import-table`` (services.local.table_import) is sorted by
(pre_pt_root_id, post_pt_root_id): every connected pair's synapses are consecutive rows.
A matrix over more synapses than fit in memory can then be aggregated in one streaming
pass (services.connectivity.streamed_matrix) instead of a hash GROUP BY over hundreds of
millions of pairs. The footer tells which row groups can hold a presynaptic cell of the
set (min/max statistics); only those are read, and their rows give an upper bound on the
synapses that can match before anything is read.

Sortedness is taken from the footer (each row group's pre range starts at or after the
previous one's end) and checked again on every batch while reading (NotSortedError),
so a file that only looks sorted never gives a wrong matrix.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from models.errors import NotSortedError

BATCH_ROWS = 1 << 20  # 1M synapses a batch: ~25 MB of id and size columns


@dataclass
class SortedScan:
    path: Path
    pre: str
    post: str
    size: str | None
    row_groups: list[int]  # the groups that can hold a presynaptic cell of the set
    rows_bound: int  # rows in those groups: at least as many as the synapses that match
    n_rows: int  # rows of the whole table

    def batches(self, cancel=None) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
        """(pre, post, size) arrays in (pre, post) order; a pair never straddles two
        batches (its tail is carried into the next one). The next batch is read and
        decoded in a thread while the caller works on this one (two cores, both busy)."""
        return _prefetched(self._batches(cancel), cancel)

    def _batches(self, cancel=None):
        import pyarrow.parquet as pq
        from services.local.row_group_stats import metadata  # the footer, parsed once
        cols = [self.pre, self.post] + ([self.size] if self.size else [])
        carry = None
        last = None  # (pre, post) of the previous batch's last row
        # pre_buffer would keep every column chunk read so far until the reader closes
        # (+7 MB a batch: 2.3 GB over 337M rows); buffered reads instead
        with pq.ParquetFile(str(self.path), metadata=metadata(self.path), pre_buffer=False,
                            buffer_size=1 << 20) as pf:
            for batch in pf.iter_batches(batch_size=BATCH_ROWS, row_groups=self.row_groups,
                                         columns=cols, use_threads=True):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                arrays = [batch.column(i).to_numpy(zero_copy_only=False) for i in range(len(cols))]
                pre, post = arrays[0].astype(np.int64, copy=False), arrays[1].astype(np.int64, copy=False)
                size = arrays[2] if self.size else None
                _check_sorted(pre, post, last, self.path)
                last = (int(pre[-1]), int(post[-1])) if len(pre) else last
                if carry is not None:
                    pre, post = np.concatenate([carry[0], pre]), np.concatenate([carry[1], post])
                    if size is not None:
                        size = np.concatenate([carry[2], size])
                # keep the last pair's rows for the next batch: it may continue there
                tail = _last_pair_start(pre, post)
                carry = (pre[tail:], post[tail:], None if size is None else size[tail:])
                if tail:
                    yield pre[:tail], post[:tail], None if size is None else size[:tail]
        if carry is not None and len(carry[0]):
            yield carry


def _prefetched(it, cancel, depth: int = 1):
    """Items of ``it`` produced by a thread, at most ``depth`` ahead; its errors re-raised."""
    import queue
    import threading
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce():
        try:
            for item in it:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("end", done))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put(("error", exc))

    thread = threading.Thread(target=produce, name="cavern-scan", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            if cancel is not None:  # a batch read ahead before the Cancel is not handed on
                cancel.raise_if_cancelled()
            yield value
    finally:
        stop.set()  # the consumer stopped early (cancel, error): let the producer go
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.05)


def _check_sorted(pre, post, last, path) -> None:
    if len(pre) == 0:
        return
    dpre = np.diff(pre)
    bad = (dpre < 0) | ((dpre == 0) & (np.diff(post) < 0))
    if bad.any() or (last is not None and (int(pre[0]), int(post[0])) < last):
        raise NotSortedError(f"'{Path(path).name}' is not sorted by presynaptic and "
                             "postsynaptic id.")


def _last_pair_start(pre, post) -> int:
    n = len(pre)
    if n == 0:
        return 0
    same = (pre == pre[-1]) & (post == post[-1])
    # sorted: the last pair's rows are the final run
    k = n - int(np.argmin(same[::-1])) if not same.all() else 0
    return k


def sorted_scan(path: Path, pre: str, post: str, size: str | None,
                pre_ids: np.ndarray) -> SortedScan | None:
    """A scan of the rows whose presynaptic cell may be in ``pre_ids``, or None when the
    file is not a Parquet file sorted by ``pre`` (by its footer)."""
    from services.local.row_group_stats import column_stats, footer, groups_holding
    head = footer(path)
    if head is None or pre not in head[0] or post not in head[0]:
        return None
    names, n_rows = head
    stats = column_stats(path, pre)
    if stats is None:
        return None
    lo, hi, rows = stats
    if len(lo) and np.any(lo[1:] < hi[:-1]):
        return None  # row groups overlap in pre: not sorted by it
    groups = np.flatnonzero(groups_holding(lo, hi, pre_ids))
    return SortedScan(Path(path), pre, post, size if size in names else None,
                      groups.tolist(), int(rows[groups].sum()), n_rows)
