"""Connectivity core: root-id checks, synapse-to-pair aggregation, cell annotations, orderings.

Everything here is Qt-free and works on numpy arrays / pandas objects, so the GUI, the CLI
and the benchmark share one implementation. Root ids stay int64 end to end: a float64 cannot
hold an 18-digit id exactly, so float id columns are refused instead of silently rounded.

The matrix itself lives in :mod:`services.connectivity.connectivity_matrix`, the display image in
:mod:`services.connectivity.connectivity_image`, one cell's partners in :mod:`services.connectivity.connectivity_partners`.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from models.errors import InvalidInputError
from models.ids import parse_id

#: Label used wherever a cell has no cell type (it is always ordered last).
UNKNOWN_TYPE = "(no type)"

PAIR_COLUMNS = ("pre_pt_root_id", "post_pt_root_id", "n_synapses", "size_sum", "size_mean")


# ----------------------------------------------------------------------------- root ids
def as_root_ids(values, name: str = "root ids") -> np.ndarray:
    """Any 1-D id container (array, Series, list) as an int64 numpy array, exactly.

    Raises InvalidInputError for float dtypes (precision already lost), missing values or
    text that is not a whole number.
    """
    if isinstance(values, (pd.Series, pd.Index)):
        if values.isna().any():
            raise InvalidInputError(f"The {name} contain missing values.", field=name)
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if arr.dtype.kind in "iu":
        if arr.dtype == np.uint64 and arr.size and arr.max() >= 2**63:
            raise InvalidInputError(f"The {name} do not fit in a signed 64-bit id.", field=name)
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "f":
        raise InvalidInputError(
            f"The {name} are stored as floating-point numbers, which cannot hold 18-digit "
            "root ids exactly.", field=name,
            hint="Read the table with integer id columns (int64).")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    try:  # Python ints or digit strings in an object/str array
        return np.array([parse_id(v, name, 'root id') for v in arr], dtype=np.int64)
    except InvalidInputError as err:
        raise InvalidInputError(f"The {name} contain a value that is not a root id: {err}",
                                field=name) from None


def _as_sizes(size, n: int) -> np.ndarray:
    if isinstance(size, pd.Series):
        if size.isna().any():
            raise InvalidInputError("Some synapse sizes are missing.", field="size",
                                    hint="Filter out rows without a size, or leave sizes out.")
        size = size.to_numpy(dtype=np.float64 if size.dtype.kind == "f" else None)
    arr = np.asarray(size)
    if arr.shape != (n,):
        raise InvalidInputError(f"Expected {n} synapse sizes, got {arr.shape[0] if arr.ndim else 0}.",
                                field="size")
    if arr.dtype.kind not in "iuf":
        raise InvalidInputError("Synapse sizes must be numbers.", field="size")
    return arr


# ----------------------------------------------------------------------------- aggregation
def aggregate_pairs(pre, post, size=None) -> pd.DataFrame:
    """Aggregate synapses into one row per connected pair; see :func:`aggregate_pairs_indexed`."""
    return aggregate_pairs_indexed(pre, post, size).pairs


def _bits(value: int) -> int:
    return int(value).bit_length()


def factorize_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, sorted distinct ids) of int64 ids, like ``pd.factorize(ids, sort=True)``.

    When (id - min) and the row number fit together in 63 bits (true for real datastacks:
    minnie65 root ids span ~33 bits), one sort of the packed values replaces hashing;
    it is about twice as fast for 10^6 ids. Otherwise falls back to pandas.
    """
    n = ids.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), ids.astype(np.int64)
    lo = int(ids.min())
    idx_bits = _bits(n - 1)
    if _bits(int(ids.max()) - lo) + idx_bits > 63:
        codes, uniq = pd.factorize(ids, sort=True)
        return codes.astype(np.int64, copy=False), uniq.astype(np.int64, copy=False)
    packed = ids - lo
    packed <<= idx_bits
    packed |= np.arange(n, dtype=np.int64)
    packed.sort()
    row = packed & ((1 << idx_bits) - 1)
    packed >>= idx_bits
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(packed[1:], packed[:-1], out=change[1:])
    sorted_codes = np.cumsum(change)
    sorted_codes -= 1
    codes = np.empty(n, dtype=np.int64)
    codes[row] = sorted_codes
    return codes, packed[change] + lo


class IndexedPairs:
    """A pair table plus the sorted distinct pre/post ids and each pair's position in them,
    so a matrix can be built without hashing 18-digit ids a second time. The post side is
    computed on first use (the aggregation itself may not need it)."""

    def __init__(self, pairs: pd.DataFrame, pre_ids: np.ndarray, pre_code: np.ndarray,
                 post_ids: np.ndarray | None = None, post_code: np.ndarray | None = None):
        self.pairs = pairs
        self.pre_ids = pre_ids
        self.pre_code = pre_code
        self._post = None if post_ids is None else (post_ids, post_code)

    def post_index(self) -> tuple[np.ndarray, np.ndarray]:
        """(sorted distinct post ids, each pair's position in them)."""
        if self._post is None:
            codes, uniq = factorize_ids(self.pairs["post_pt_root_id"].to_numpy())
            self._post = (uniq, codes)
        return self._post

    def index_posts_within(self, cells) -> bool:
        """Make :meth:`post_index` from ``cells`` (unique ids), the set the pairs' post
        ids were chosen from: a hash lookup of each pair's id in the few cells instead of
        a sort of the pairs' ids (1.4 million tutorial pairs: 0.06 s instead of 0.15 s).
        False, leaving the index to be made as before, when a post id is not in ``cells``."""
        from services.connectivity.id_lookup import IdLookup
        if self._post is not None:
            return True
        cells = np.sort(np.asarray(cells, dtype=np.int64))
        try:
            pos, found = IdLookup(cells).positions(self.pairs["post_pt_root_id"].to_numpy())
        except ValueError:  # repeated ids: not a cell set
            return False
        if not found.all():
            return False
        used = np.zeros(len(cells), dtype=bool)
        used[pos] = True
        code = np.cumsum(used)
        code -= 1
        self._post = (cells[used], code[pos])
        return True


def aggregate_pairs_indexed(pre, post, size=None) -> IndexedPairs:
    """Aggregate synapses into one row per connected (pre, post) pair.

    ``pre``/``post`` are the presynaptic/postsynaptic root ids of each synapse (int64),
    ``size`` their sizes (optional). Returns :class:`IndexedPairs` whose ``pairs`` is a
    DataFrame sorted by (pre, post) with columns
    pre_pt_root_id, post_pt_root_id (int64), n_synapses (int64), size_sum (int64 for integer
    sizes, float64 otherwise, 0 without sizes) and size_mean (float64, NaN without sizes).

    Method: one int64 key per synapse = (pre code, post part, size) packed into 63 bits,
    sorted once; runs of equal (pre, post) are the pairs and the sizes come out of the same
    sort already grouped (no argsort/gather). The pre code comes from hashing the few
    presynaptic ids; the post part is the id's offset from the smallest post id when it
    fits (real root ids of a datastack span ~33 bits), so the many postsynaptic ids are
    never hashed; otherwise it is a factorized code. Sizes that do not fit (float,
    negative, huge) take an argsort path instead. All paths give the same exact result.
    """
    pre_ids = as_root_ids(pre, "presynaptic root ids")
    post_ids = as_root_ids(post, "postsynaptic root ids")
    n = pre_ids.shape[0]
    if post_ids.shape[0] != n:
        raise InvalidInputError("Presynaptic and postsynaptic id columns differ in length.")
    sizes = _as_sizes(size, n) if size is not None else None
    pre_code, pre_uniq = pd.factorize(pre_ids, sort=True)
    pre_uniq = pre_uniq.astype(np.int64, copy=False)
    pre_bits = _bits(max(len(pre_uniq) - 1, 0))
    size_need = None
    if sizes is not None and sizes.dtype.kind in "iu" and n and sizes.min() >= 0:
        size_need = _bits(sizes.max())
    post_lo = int(post_ids.min()) if n else 0
    span_bits = _bits(int(post_ids.max()) - post_lo) if n else 0
    post_uniq = None
    # In-place arithmetic on one buffer: each 2 M-row temporary costs page faults on a cold run.
    if pre_bits + span_bits + (size_need or 0) <= 63:
        post_bits = span_bits
        key = post_ids - post_lo
    else:
        post_code, post_uniq = factorize_ids(post_ids)
        post_bits = _bits(max(len(post_uniq) - 1, 0))
        key = post_code
    key |= pre_code.astype(np.int64) << post_bits
    del pre_code
    key_bits = pre_bits + post_bits
    if size_need is not None and size_need <= 63 - key_bits:
        size_bits = 63 - key_bits
        key <<= size_bits
        key |= sizes.astype(np.int64, copy=False)  # uint64 | int64 would promote to float
        key.sort()
        key_sorted = key >> size_bits
        key &= (1 << size_bits) - 1
        size_sorted = key
    elif sizes is not None:
        order = np.argsort(key, kind="stable")
        key_sorted, size_sorted = key[order], sizes[order]
    else:
        key.sort()
        key_sorted, size_sorted = key, None
    if n:
        change = np.empty(n, dtype=bool)
        change[0] = True
        np.not_equal(key_sorted[1:], key_sorted[:-1], out=change[1:])
        starts = np.flatnonzero(change)
    else:
        starts = np.zeros(0, dtype=np.int64)
    pair_key = key_sorted[starts]
    counts = np.diff(np.r_[starts, n]).astype(np.int64)
    if size_sorted is not None and len(starts):
        size_sum = np.add.reduceat(size_sorted, starts)
        size_mean = size_sum / counts
    else:
        size_sum = np.zeros(len(starts), dtype=np.int64)
        size_mean = np.full(len(starts), np.nan)
    pair_pre_code = pair_key >> post_bits
    pair_post = pair_key & ((1 << post_bits) - 1)
    if post_uniq is None:
        post_code = None
        pair_post += post_lo
    else:
        post_code = pair_post
        pair_post = post_uniq[post_code]
    pairs = pd.DataFrame({
        "pre_pt_root_id": pre_uniq[pair_pre_code],
        "post_pt_root_id": pair_post,
        "n_synapses": counts,
        "size_sum": size_sum,
        "size_mean": size_mean.astype(np.float64, copy=False),
    }, copy=False)  # the arrays are fresh: no need to copy them into one block
    return IndexedPairs(pairs, pre_uniq, pair_pre_code, post_uniq, post_code)


def aggregate_synapse_table(synapses: pd.DataFrame, *, pre_col: str = "pre_pt_root_id",
                            post_col: str = "post_pt_root_id",
                            size_col: str | None = "size") -> pd.DataFrame:
    """:func:`aggregate_pairs` over a CAVE-style synapse DataFrame (size column optional)."""
    require_columns(synapses, [pre_col, post_col], "synapse table")
    size = synapses[size_col] if size_col and size_col in synapses.columns else None
    return aggregate_pairs(synapses[pre_col], synapses[post_col], size)


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise InvalidInputError naming the missing columns of ``df``."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"The {what} is not a table.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InvalidInputError(
            f"The {what} has no column {', '.join(repr(c) for c in missing)}.",
            hint=f"Available columns: {', '.join(map(str, df.columns))}.")


# ----------------------------------------------------------------------------- cell annotations
def resolve_cell_types(cell_table: pd.DataFrame, *, root_col: str = "pt_root_id",
                       type_col: str = "cell_type") -> pd.DataFrame:
    """One cell type per root id, from a table that may hold several rows per root.

    Rule (deterministic, independent of row order): the most frequent non-missing label of
    the root wins; a tie goes to the alphabetically first label. Roots whose rows are all
    missing get no type. Several rows per root usually mean a merge of several somas, so
    the number of distinct labels is kept in ``n_type_labels`` for the UI to flag.
    Returns a DataFrame indexed by root id (int64) with columns cell_type, n_type_labels.
    """
    require_columns(cell_table, [root_col, type_col], "cell-type table")
    roots = as_root_ids(cell_table[root_col], f"'{root_col}' values")
    labels = cell_table[type_col]
    ok = labels.notna().to_numpy()
    df = pd.DataFrame({"root": roots[ok], "label": labels[ok].astype(str).to_numpy()})
    if df.empty:
        out = pd.DataFrame({"cell_type": pd.Series([], dtype=object),
                            "n_type_labels": pd.Series([], dtype=np.int64)})
        out.index = pd.Index([], dtype=np.int64, name="pt_root_id")
        return out
    counts = df.groupby(["root", "label"], sort=True).size().rename("n").reset_index()
    counts = counts.sort_values(["root", "n", "label"], ascending=[True, False, True],
                                kind="mergesort")
    n_labels = counts.groupby("root", sort=True).size()
    best = counts.drop_duplicates("root", keep="first").set_index("root")
    out = pd.DataFrame({"cell_type": best["label"].astype(object),
                        "n_type_labels": n_labels.reindex(best.index).astype(np.int64)})
    out.index = out.index.astype(np.int64).rename("pt_root_id")
    return out


def lookup_per_cell(ids, values, name: str) -> np.ndarray:
    """Align per-cell values with ``ids``.

    ``values`` is either a Series indexed by root id (cells not in it get missing values; a
    repeated id takes its first value, so pass cell types through :func:`resolve_cell_types`)
    or an array/list with one value per id, in the same order as ``ids``.
    """
    ids = as_root_ids(ids, "cell ids")
    if isinstance(values, pd.Series) and not isinstance(values.index, pd.RangeIndex):
        index = as_root_ids(values.index, f"index of the {name}")
        series = pd.Series(values.to_numpy(), index=index)
        series = series[~series.index.duplicated(keep="first")]
        return series.reindex(ids).to_numpy()
    arr = np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values)
    if arr.shape[0] != ids.shape[0]:
        raise InvalidInputError(
            f"Got {arr.shape[0]} {name} for {ids.shape[0]} cells.",
            hint="Pass one value per cell, or a Series indexed by root id.")
    return arr


# ----------------------------------------------------------------------------- orderings
def type_rank(types, type_order: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Integer rank per cell for ordering by type, and the labels in rank order.

    Types listed in ``type_order`` come first in that order, other types follow
    alphabetically, cells without a type come last (label :data:`UNKNOWN_TYPE`).
    """
    labels = pd.Series(np.asarray(types, dtype=object))
    missing = labels.isna().to_numpy() | (labels.astype(str).to_numpy() == "")
    present = sorted(set(labels[~missing].astype(str)))
    first = [t for t in (type_order or []) if t in present]
    order = first + [t for t in present if t not in first]
    rank_of = {t: i for i, t in enumerate(order)}
    ranks = np.full(len(labels), len(order), dtype=np.int64)
    if (~missing).any():
        ranks[~missing] = labels[~missing].astype(str).map(rank_of).to_numpy()
    if missing.any():
        order = order + [UNKNOWN_TYPE]
    return ranks, order


def order_by_type_depth(ids, types, depth=None,
                        type_order: Sequence[str] | None = None) -> np.ndarray:
    """Permutation putting cells by type (see :func:`type_rank`), then depth, then id.

    Missing depths sort last within their type; the id breaks remaining ties so the
    order never depends on input order.
    """
    ids = as_root_ids(ids, "cell ids")
    ranks, _ = type_rank(types, type_order)
    d = (np.zeros(len(ids)) if depth is None
         else np.asarray(pd.to_numeric(pd.Series(np.asarray(depth)), errors="coerce"),
                         dtype=np.float64))
    d = np.where(np.isnan(d), np.inf, d)
    return np.lexsort((ids, d, ranks))


def order_by_id(ids) -> np.ndarray:
    """Permutation sorting cells by root id."""
    return np.argsort(as_root_ids(ids, "cell ids"), kind="stable")


def order_by_degree(ids, degree) -> np.ndarray:
    """Permutation by degree, highest first; ties by root id."""
    ids = as_root_ids(ids, "cell ids")
    return np.lexsort((ids, -np.asarray(degree, dtype=np.int64)))
