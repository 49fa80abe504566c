"""Answering materialization queries the way MaterializationEngine 5.26.4 does, with pandas.

Input is the JSON body caveclient posts (filter dicts keyed by table, select_columns,
offset, limit, desired_resolution); output is a DataFrame with positions split into
_x/_y/_z columns (the engine always sends split positions; caveclient joins them).

What is imitated (see /work/shared/cave_contract/README.md for the recordings):
- ``filter_notin_dict`` (caveclient's encoding of != and "not in") is IGNORED: the engine's
  query code only reads ``filter_out_dict`` (applied as ``column != value``), a key
  caveclient never sends. The answer is the unfiltered rows, with no warning.
- Row limit: limit = min(user limit, QUERY_LIMIT_SIZE); the answer carries
  ``201 - "Limited query to N rows`` whenever exactly N rows came back, so the same text
  is sent when the user's own limit was reached (and when a result happens to have exactly
  N rows). No total is given. There is no ORDER BY in the engine, so a cut result is an
  arbitrary subset; here it is the first rows in file order (deterministic, which is one of
  the orders the real server may return).
- Rows with ``valid`` false are never returned (the engine adds valid = true).
- A filter or column the table does not have fails as an unhandled KeyError/ValueError in
  the engine: HTTP 500 with {"code": 500, "message": "'col'", "traceback": [...]}.
- Selecting ``X_root_id`` also selects ``X_supervoxel_id`` when the table has it (placed
  before the root id, as the engine's recursive select_column does).
- Spatial boxes are in the table's voxels, all six faces inclusive (PostGIS &&& on an
  n-d box); min < max is required on every axis, otherwise the engine raises a plain
  Exception -> 500 "min bounds: [..] must be less than max bounds: [..]".
- Regex is PostgreSQL's ``~`` (pg_regex.py); on a non-string column the engine raises
  ValueError("Regex filter is only supported on string columns") -> 500.
- Join (reference-table) queries: each filter is looked up in the table it is keyed by,
  so a target-table column keyed by the reference table is a 500 KeyError, while the same
  filter keyed by the target table works. Column clashes get the suffix_map suffix (or
  x, y, ... by table position when there is none).

Known differences: the real server runs SQL, so type errors (comparing a string column
with a number, an "in" with a non-list) are PostgreSQL/SQLAlchemy errors with other
messages; here they are 500s with Python's message. random_sample (TABLESAMPLE) and the
hash spatial sampling of the precomputed endpoints are not imitated.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tests.cave_server.datastore import ServedTable
from tests.cave_server.query_filters import (EngineError, NotFound, QueryError, columns_of,
                                             row_masks)


DEFAULT_SUFFIX_LIST = ["x", "y", "z", "xx", "yy", "zz", "xxx", "yyy", "zzz"]
SELECT_COLUMNS_DEPRECATED = textwrap.dedent("""\
    Select_columns is deprecated for join queries,
    please use select_column_map a dictionary which is more explicit
    about what columns to select from what tables.
    This query result will attempt to select the first column it finds
    of this name in any table, but if there are more than one such column
    it will not select both.
    Upgrade caveclient to >=5.0.0 .""")
SUFFIXES_DEPRECATED = textwrap.dedent("""\
    Suffixes is deprecated for complex queries as it
    can be ambiguous what you desire,
    please pass suffix_map as a dictionary to explicitly
    set suffixes for individual tables.
    Upgrade caveclient to >=5.0.0 """)


@dataclass
class QueryAnswer:
    frame: pd.DataFrame
    warnings: list = field(default_factory=list)  # Warning header values, in order
    resolution: list | None = None  # dataframe_resolution header (None: not sent)
    column_names: dict = field(default_factory=dict)  # {table: {column: answer column}}
    count: int | None = None  # get_counts answer


def limit_of(body: dict, row_limit: int) -> int:
    limit = body.get("limit", row_limit)
    if limit is None:
        limit = row_limit
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise QueryError("limit must be a non-negative integer")
    return min(limit, row_limit)


def offset_of(body: dict) -> int:
    offset = body.get("offset") or 0
    if not isinstance(offset, int) or offset < 0:
        raise QueryError("offset must be a non-negative integer")
    return offset


def select_for(table: ServedTable, wanted: list, supervoxels: bool = True) -> list:
    """Unsplit column names, X_root_id bringing X_supervoxel_id along."""
    have = columns_of(table)
    out: list = []

    def add(name):
        if name in out:
            return
        if name not in have:
            raise ValueError(f"{name} not in model or models for {table.name}")
        if supervoxels and name.endswith("root_id"):
            sv = name[: -len("root_id")] + "supervoxel_id"
            if sv in have:
                add(sv)
        out.append(name)

    for name in wanted:
        add(name)
    return out


def _expand(table: ServedTable, names: list) -> list:
    cols = []
    for name in names:
        cols.extend([f"{name}_{a}" for a in "xyz"] if name in table.position_columns
                    else [name])
    return cols


def _rescale(df: pd.DataFrame, positions: list, have, want) -> pd.DataFrame:
    if want is None:
        return df
    ratio = np.asarray(have, dtype=float) / np.asarray(want, dtype=float)
    if np.all(ratio == 1):
        return df
    df = df.copy()
    for col in positions:
        for i, axis in enumerate("xyz"):
            if f"{col}_{axis}" in df.columns:
                df[f"{col}_{axis}"] = df[f"{col}_{axis}"].to_numpy() * ratio[i]
    return df


def desired_resolution(body: dict, table: ServedTable, convert: bool):
    """v3 endpoints answer in desired_resolution, or the table's voxels if none was
    asked; v2 ignores it (caveclient then converts on its own)."""
    if not convert:
        return None
    want = body.get("desired_resolution")
    if not want:
        return [float(v) for v in table.voxel_resolution]
    try:
        want = [float(v) for v in want]
    except (TypeError, ValueError):
        raise QueryError("desired_resolution must be three numbers")
    if len(want) != 3 or min(want) <= 0:
        raise QueryError("desired_resolution must be three positive numbers")
    return list(body["desired_resolution"])


def _notice(table: ServedTable, warnings: list):
    text = table.meta.get("notice_text")
    if text:
        warnings.append(f"Table Owner Notice on {table.name}: {text}")


def run_simple(table: ServedTable, body: dict, row_limit: int, *, count: bool = False,
               convert: bool = True, supervoxels: bool = True) -> QueryAnswer:
    """Table and view queries (common.generate_simple_query_dataframe / ViewQuery)."""
    limit = None if count else limit_of(body, row_limit)
    offset = offset_of(body)
    keep = row_masks({table.name: table}, body)[table.name]
    wanted = body.get("select_columns")
    if wanted:
        if not isinstance(wanted, list):
            raise QueryError("select_columns must be a list of column names")
        try:
            names = select_for(table, wanted, supervoxels)
        except ValueError as exc:
            raise EngineError(str(exc))  # simple queries do not turn this into a 400
    else:
        names = columns_of(table)
    df = table.frame()[keep]
    if count:
        # query.count() over the filtered (and offset) query; no limit, no warning
        n = max(0, len(df) - offset)
        return QueryAnswer(pd.DataFrame({"count": [n]}), [], None, {}, n)
    df = df.iloc[offset: offset + limit][_expand(table, names)].reset_index(drop=True)
    res = desired_resolution(body, table, convert)
    df = _rescale(df, table.position_columns, table.voxel_resolution, res)
    warnings = []
    if len(df) == limit:
        warnings.append(f'201 - "Limited query to {limit} rows')
    _notice(table, warnings)
    return QueryAnswer(df, warnings, res, {table.name: {c: c for c in names}})


def run_join(tables: dict, body: dict, row_limit: int, *, convert: bool = True) -> QueryAnswer:
    """Join query (common.generate_complex_query_dataframe): caveclient sends it for
    reference tables, [[ref, "target_id"], [target, "id"]]. get_counts is not supported
    by the engine here (it passes get_count=False): rows come back as usual."""
    spec = body.get("tables")
    if not (isinstance(spec, list) and len(spec) == 2 and all(
            isinstance(s, list) and len(s) == 2 for s in spec)):
        raise QueryError("join query needs tables=[[table, column], [table, column]]")
    (left, lcol), (right, rcol) = spec
    for name in (left, right):
        if name not in tables:
            raise NotFound(f"Table {name} not found in metadata database")
    used = {left: tables[left], right: tables[right]}
    warnings: list = []
    for t in used.values():
        _notice(t, warnings)
    limit = limit_of(body, row_limit)
    offset = offset_of(body)
    suffixes = body.get("suffix_map")
    if body.get("suffixes") is not None:
        warnings.append(SUFFIXES_DEPRECATED)
        suffixes = dict(zip(dict.fromkeys([left, right]), body["suffixes"]))
    suffixes = suffixes or {}
    for name, col in ((left, lcol), (right, rcol)):
        if col not in columns_of(used[name]):
            raise EngineError(repr(col))
    masks = row_masks(used, body)
    # The engine keeps its tables in a set, so which table comes first (for default
    # suffixes and column order) is arbitrary; the recordings show the joined (target)
    # table first, which is what this does.
    order = [right, left] if right != left else [left]
    selected: dict = {name: [] for name in order}
    select_columns = body.get("select_columns")
    column_map = body.get("select_column_map")
    if select_columns:
        warnings.append(SELECT_COLUMNS_DEPRECATED)
        for col in select_columns:
            for name in order:
                try:
                    for c in select_for(used[name], [col]):
                        if c not in selected[name]:
                            selected[name].append(c)
                    break
                except ValueError:
                    continue
            else:
                raise QueryError(f"column {col} not found in any table referenced")
    elif column_map:
        for name, cols in column_map.items():
            if name not in used:
                raise EngineError(repr(name))
            for col in cols:
                try:
                    for c in select_for(used[name], [col]):
                        if c not in selected[name]:
                            selected[name].append(c)
                except ValueError:
                    raise QueryError(f"column {col} not found in {name}")
    else:
        for name in order:
            selected[name] = columns_of(used[name])
    selected = {n: cols for n, cols in selected.items() if cols}
    all_names = [c for cols in selected.values() for c in cols]
    dups = {c for c in all_names if all_names.count(c) > 1}
    lf = used[left].frame()[masks[left]].add_prefix("L:")
    rf = used[right].frame()[masks[right]].add_prefix("R:")
    merged = lf.merge(rf, left_on=f"L:{lcol}", right_on=f"R:{rcol}", how="inner")
    merged = merged.iloc[offset: offset + limit]
    res = desired_resolution(body, used[right], convert)
    out, column_names = {}, {}
    for num, name in enumerate(selected):
        t, prefix = used[name], "L:" if name == left else "R:"
        suffix = suffixes.get(name)
        if suffix is None:
            suffix = DEFAULT_SUFFIX_LIST[num]
        column_names[name] = {}
        part = _rescale(merged[[prefix + c for c in _expand(t, selected[name])]]
                        .rename(columns=lambda c: c[2:]), t.position_columns,
                        t.voxel_resolution, res)
        for col in selected[name]:
            label = col + suffix if col in dups else col
            column_names[name][col] = label
            if col in t.position_columns:
                for a in "xyz":
                    out[f"{label}_{a}"] = part[f"{col}_{a}"].to_numpy()
            else:
                out[label] = part[col].to_numpy()
    df = pd.DataFrame(out)
    if len(df) == limit:
        warnings.append(f'201 - "Limited query to {limit} rows')
    return QueryAnswer(df, warnings, res, column_names)


def join_positions(df: pd.DataFrame, positions: list) -> pd.DataFrame:
    """split_positions=False: one list column per position (caveclient always asks for
    split positions, so this is only for hand-made requests)."""
    df = df.copy()
    for base in positions:
        cols = [f"{base}_{a}" for a in "xyz"]
        if all(c in df.columns for c in cols):
            at = list(df.columns).index(cols[0])
            values = df[cols].to_numpy().tolist()
            df = df.drop(columns=cols)
            df.insert(at, base, values)
    return df
