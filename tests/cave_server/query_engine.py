"""Answering materialization queries the way the CAVE server does, with pandas.

Input is the JSON body caveclient posts (filter dicts keyed by table, select_columns,
offset, limit, desired_resolution); output is a DataFrame with positions split into
_x/_y/_z columns (caveclient always asks for split_positions=True and joins them itself).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tests.cave_server.datastore import ServedTable, _unsplit_columns


class QueryError(Exception):
    """A bad query: the server answers 400 with this message."""


FILTER_KEYS = {
    "filter_in_dict": "in", "filter_notin_dict": "notin", "filter_equal_dict": "equal",
    "filter_greater_dict": "greater", "filter_less_dict": "less",
    "filter_greater_equal_dict": "greater_equal", "filter_less_equal_dict": "less_equal",
    "filter_spatial_dict": "spatial", "filter_regex_dict": "regex",
}


@dataclass
class QueryAnswer:
    frame: pd.DataFrame
    total_rows: int  # rows matching the filters, before offset and limit
    truncated: bool  # the server's row limit cut the answer
    resolution: list  # resolution of position columns in the answer


def _filters_for(body: dict, table: str) -> list[tuple[str, str, object]]:
    out = []
    for key, op in FILTER_KEYS.items():
        per_table = body.get(key) or {}
        if not isinstance(per_table, dict):
            raise QueryError(f"{key} must be an object keyed by table name")
        for col, value in (per_table.get(table) or {}).items():
            out.append((op, col, value))
    return out


def _mask(df: pd.DataFrame, positions: list, op: str, col: str, value) -> np.ndarray:
    if op == "spatial":
        if col not in positions:
            raise QueryError(f"spatial filter on '{col}', which is not a position column")
        try:
            lo, hi = np.asarray(value, dtype=float)
        except (ValueError, TypeError):
            raise QueryError(f"spatial filter on '{col}' needs [[x0,y0,z0],[x1,y1,z1]]")
        keep = np.ones(len(df), dtype=bool)
        for i, axis in enumerate("xyz"):
            v = df[f"{col}_{axis}"].to_numpy()
            keep &= (v >= lo[i]) & (v <= hi[i])  # the server's box test includes both faces
        return keep
    if col not in df.columns:
        raise QueryError(f"column '{col}' is not in this table")
    series = df[col]
    if op in ("in", "notin"):
        if not isinstance(value, list):
            raise QueryError(f"filter_{op}_dict['{col}'] must be a list")
        hit = series.isin(value).to_numpy()
        return hit if op == "in" else ~hit
    if op == "regex":
        try:
            pattern = re.compile(str(value))
        except re.error as exc:
            raise QueryError(f"invalid regular expression for '{col}': {exc}")
        return series.astype(str).map(lambda s: bool(pattern.search(s))).to_numpy()
    if isinstance(value, (list, dict)):
        raise QueryError(f"filter on '{col}' needs a single value")
    try:
        if op == "equal":
            return (series == value).to_numpy()
        if op == "greater":
            return (series > value).to_numpy()
        if op == "less":
            return (series < value).to_numpy()
        if op == "greater_equal":
            return (series >= value).to_numpy()
        return (series <= value).to_numpy()
    except TypeError as exc:
        raise QueryError(f"cannot compare column '{col}' with {value!r}: {exc}")


def filter_table(table: ServedTable, body: dict, key: str | None = None) -> pd.DataFrame:
    df = table.frame()
    keep = np.ones(len(df), dtype=bool)
    for op, col, value in _filters_for(body, key or table.name):
        keep &= _mask(df, table.position_columns, op, col, value)
    return df[keep]


def select(df: pd.DataFrame, positions: list, wanted) -> pd.DataFrame:
    if not wanted:
        return df
    if not isinstance(wanted, list):
        raise QueryError("select_columns must be a list of column names")
    cols = []
    known = _unsplit_columns(df.columns, positions)
    for name in wanted:
        if name not in known:
            raise QueryError(f"column '{name}' is not in this table")
        cols.extend([f"{name}_{a}" for a in "xyz"] if name in positions else [name])
    return df[cols]


def rescale(df: pd.DataFrame, positions: list, have: list, want) -> tuple[pd.DataFrame, list]:
    """Convert positions from the table's voxel resolution to desired_resolution."""
    if not want:
        return df, have
    try:
        want = [float(v) for v in want]
    except (TypeError, ValueError):
        want = []
    if len(want) != 3 or min(want) <= 0:
        raise QueryError("desired_resolution must be three positive numbers")
    if want == [float(v) for v in have]:
        return df, want
    df = df.copy()
    for base in positions:
        for i, axis in enumerate("xyz"):
            col = f"{base}_{axis}"
            if col in df.columns:
                df[col] = df[col].to_numpy() * (have[i] / want[i])
    return df, want


def page(df: pd.DataFrame, body: dict, row_limit: int) -> tuple[pd.DataFrame, int, bool]:
    """Offset, then the smaller of the requested limit and the server's row limit."""
    total = len(df)
    offset = body.get("offset") or 0
    limit = body.get("limit")
    if not isinstance(offset, int) or offset < 0:
        raise QueryError("offset must be a non-negative integer")
    if limit is not None and (not isinstance(limit, int) or limit <= 0):
        raise QueryError("limit must be a positive integer")
    df = df.iloc[offset:]
    cap = row_limit if limit is None else min(limit, row_limit)
    truncated = len(df) > cap and (limit is None or limit > row_limit)
    return df.iloc[:cap].reset_index(drop=True), total, truncated


def run_simple(table: ServedTable, body: dict, row_limit: int) -> QueryAnswer:
    df = filter_table(table, body)
    df = select(df, table.position_columns, body.get("select_columns"))
    df, total, truncated = page(df, body, row_limit)
    df, res = rescale(df, table.position_columns, table.voxel_resolution,
                      body.get("desired_resolution"))
    return QueryAnswer(df, total, truncated, res)


def run_join(tables: dict, body: dict, row_limit: int) -> QueryAnswer:
    """Join query: caveclient sends it for reference tables ([[t, col], [ref, col]])."""
    spec = body.get("tables")
    if not (isinstance(spec, list) and len(spec) == 2 and all(
            isinstance(s, list) and len(s) == 2 for s in spec)):
        raise QueryError("join query needs tables=[[table, column], [table, column]]")
    (left, lcol), (right, rcol) = spec
    for name in (left, right):
        if name not in tables:
            raise QueryError(f"table '{name}' is not in this version")
    suffixes = body.get("suffix_map") or {}
    if isinstance(body.get("suffixes"), list):
        suffixes = dict(zip((left, right), body["suffixes"]))
    colmap = body.get("select_column_map") or {}
    parts = []
    for name in (left, right):
        t = tables[name]
        df = filter_table(t, body, name)
        if colmap.get(name):
            df = select(df, t.position_columns, colmap[name])
        parts.append(df)
    merged = parts[0].merge(parts[1], left_on=lcol, right_on=rcol, how="inner",
                            suffixes=(suffixes.get(left, ""), suffixes.get(right, "_ref")))
    positions = tables[left].position_columns + tables[right].position_columns
    merged, total, truncated = page(merged, body, row_limit)
    merged, res = rescale(merged, positions, tables[left].voxel_resolution,
                          body.get("desired_resolution"))
    return QueryAnswer(merged, total, truncated, res)


def join_positions(df: pd.DataFrame, positions: list) -> pd.DataFrame:
    """split_positions=False: one list column per position, as CAVE returns it."""
    df = df.copy()
    for base in positions:
        cols = [f"{base}_{a}" for a in "xyz"]
        if all(c in df.columns for c in cols):
            at = list(df.columns).index(cols[0])
            values = df[cols].to_numpy().tolist()
            df = df.drop(columns=cols)
            df.insert(at, base, values)
    return df
