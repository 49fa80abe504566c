"""The result table's quick filter: rows whose cell text contains a needle, any column.

A synapse table has millions of rows but few distinct values per column (2275
presynaptic cells for 2 million synapses), so each column is factorized once into
codes + distinct values, the distinct values are turned into their display text once,
and a filter is then a substring match over the distinct texts plus one gather
(``matched[codes]``). The first filter on a column pays for the index; later
keystrokes reuse it.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Characters each kind's text can contain: a needle with others cannot match that column.
CHARS = {
    "int": set("0123456789-"),
    "float": set("0123456789-+.einfa"),
    "list": set("0123456789-+.[], einfa"),
    "time": set("0123456789-: "),
    "bool": set("truefals"),
}
FORMAT_LIMIT = 300_000  # distinct floats formatted exactly as shown; beyond, Arrow's text


@dataclass
class TextIndex:
    codes: np.ndarray  # per row: index into texts, -1 for a missing value
    texts: pa.Array  # lower-case display text of each distinct value

    def match(self, needle: str) -> np.ndarray:
        hit = pc.match_substring(self.texts, needle).to_numpy(zero_copy_only=False)
        return np.append(hit, False)[self.codes]  # code -1 lands on the appended False


def build_index(values: np.ndarray, kind: str, formatter) -> TextIndex:
    """Factorize one column and render each distinct value as the table shows it."""
    import pandas as pd
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # unhashable cells (dicts...): index their text instead
        codes, uniques = pd.factorize(np.array([formatter(v) for v in values], dtype=object))
    uniques = np.asarray(uniques)
    if len(uniques) < 2**31:
        codes = codes.astype(np.int32, copy=False)  # half the memory of int64 codes
    if kind == "int":
        texts = pc.cast(pa.array(uniques), pa.string())
    elif kind == "float" and len(uniques) > FORMAT_LIMIT:
        texts = pc.cast(pa.array(uniques), pa.string())  # full precision: a superset match
    else:
        texts = pa.array([formatter(v) for v in uniques], type=pa.string())
    return TextIndex(codes, pc.utf8_lower(texts))


def filter_mask(rows, text: str) -> np.ndarray | None:
    """Boolean mask over source rows of a ResultRows; None when the filter is empty."""
    needle = text.strip().lower()
    if not needle or rows.n_source == 0:
        return None
    chars = set(needle)
    mask = np.zeros(rows.n_source, dtype=bool)
    for i, kind in enumerate(rows.kinds):
        if kind in CHARS and not chars <= CHARS[kind]:
            continue  # e.g. letters never occur in an id column
        if kind == "list":
            _match_list(rows, i, needle, chars, mask)
        else:
            mask |= rows.text_index(i).match(needle)
    return mask


def _match_list(rows, column: int, needle: str, chars: set, mask: np.ndarray) -> None:
    xyz, valid = rows.positions(column)
    if chars <= CHARS["int"]:  # digits cannot span the ", " separators: match per axis
        for d in range(xyz.shape[1]):
            mask |= rows.text_index((column, d)).match(needle)
        return
    # Text across separators ("2, 3]"): build "[x, y, z]" in DuckDB, rarely needed.
    table, parts = {}, []
    for d in range(xyz.shape[1]):
        col = xyz[:, d]
        if col.dtype.kind == "f" and np.all(np.isnan(col) | (col == np.round(col))):
            col = np.where(np.isnan(col), 0, col).astype(np.int64)  # shown as whole numbers
        table[f"a{d}"] = pa.array(col, mask=~valid)
        parts.append(f"CAST(a{d} AS VARCHAR)")
    sql = ("SELECT coalesce(contains('[' || " + " || ', ' || ".join(parts)
           + " || ']', $n), false) AS m FROM t")
    con = duckdb.connect()
    try:
        con.register("t", pa.table(table))
        mask |= con.execute(sql, {"n": needle}).fetchnumpy()["m"].astype(bool, copy=False)
    finally:
        con.close()
