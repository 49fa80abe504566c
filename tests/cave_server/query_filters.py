"""The rows a materialization query's filters keep, the way MaterializationEngine 5.26.4
filters them (query_engine.py's module doc says what is imitated), and the errors the
engine lets escape."""
from __future__ import annotations

import traceback

import numpy as np
import pandas as pd

from tests.cave_server.datastore import ServedTable, _unsplit_columns
from tests.cave_server.pg_regex import PgRegexError, compile_pg


class QueryError(Exception):
    """A malformed request (bad JSON shape): the server answers 400 with this message."""


class EngineError(Exception):
    """What the real engine lets escape as an unhandled exception: HTTP 500 with
    {"code": 500, "message": str(exc), "traceback": [...]}."""

    def __init__(self, message: str):
        super().__init__(message)
        self.traceback = traceback.format_stack(limit=4)


class NotFound(Exception):
    """HTTP 404 (a table of a join query that this version does not have)."""


# The order the engine applies them in; filter_notin_dict is deliberately absent.
FILTER_KEYS = {
    "filter_in_dict": "in", "filter_out_dict": "not_equal", "filter_equal_dict": "equal",
    "filter_greater_dict": "greater", "filter_less_dict": "less",
    "filter_greater_equal_dict": "greater_equal", "filter_less_equal_dict": "less_equal",
    "filter_spatial_dict": "spatial", "filter_regex_dict": "regex",
}
def columns_of(table: ServedTable) -> list:
    return _unsplit_columns(table.frame().columns, table.position_columns)


def _is_string(series: pd.Series) -> bool:
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        return True
    if series.dtype != object:
        return False
    sample = series.dropna()
    return len(sample) == 0 or isinstance(sample.iloc[0], str)


def _mask(table: ServedTable, op: str, col: str, value) -> np.ndarray:
    df = table.frame()
    if col not in columns_of(table):
        raise EngineError(repr(col))  # KeyError from get_column(model, col)
    if op == "spatial":
        if col not in table.position_columns:
            raise EngineError(f"function st_3dmakebox does not apply to column {col}")
        try:
            box = np.array(value, dtype=float)
            if box.shape != (2, 3):
                raise ValueError
        except (ValueError, TypeError):
            raise EngineError(f"bounding box for {col} must be [[x0,y0,z0],[x1,y1,z1]]")
        if not (box[0] < box[1]).all():
            raise EngineError(f"min bounds: {np.array(value)[0]} must be less than max "
                              f"bounds: {np.array(value)[1]}")
        keep = np.ones(len(df), dtype=bool)
        for i, axis in enumerate("xyz"):
            v = df[f"{col}_{axis}"].to_numpy()
            keep &= (v >= box[0][i]) & (v <= box[1][i])  # &&&: all six faces inclusive
        return keep
    if col in table.position_columns:
        raise EngineError(f"operator does not exist: geometry and {type(value).__name__}")
    series = df[col]
    if op == "regex":
        if not _is_string(series):
            raise EngineError("Regex filter is only supported on string columns")
        try:
            pattern = compile_pg(value)
        except PgRegexError as exc:
            raise EngineError(str(exc))
        return np.array([isinstance(s, str) and pattern.search(s) is not None
                         for s in series], dtype=bool)  # NULL ~ x is NULL: not kept
    if op == "in":
        if not isinstance(value, list):
            raise EngineError(f"in_() accepts a list, not {type(value).__name__}")
        return series.isin(value).to_numpy()
    if isinstance(value, (list, dict)):
        raise EngineError(f"cannot compare column {col} with {value!r}")
    try:
        if op == "equal":
            return (series == value).to_numpy(dtype=bool)
        if op == "not_equal":
            return (series != value).to_numpy(dtype=bool) & series.notna().to_numpy()
        if op == "greater":
            return (series > value).to_numpy(dtype=bool)
        if op == "less":
            return (series < value).to_numpy(dtype=bool)
        if op == "greater_equal":
            return (series >= value).to_numpy(dtype=bool)
        return (series <= value).to_numpy(dtype=bool)
    except TypeError as exc:
        raise EngineError(f"cannot compare column {col} with {value!r}: {exc}")


def row_masks(tables: dict, body: dict) -> dict:
    """Row masks per table name, after every filter keyed by that table."""
    masks = {}
    for name, t in tables.items():
        keep = np.ones(len(t.frame()), dtype=bool)
        if t.kind == "table" and "valid" in t.frame().columns:
            keep &= t.frame()["valid"].fillna(False).to_numpy(dtype=bool)
        masks[name] = keep
    for key, op in FILTER_KEYS.items():
        per_table = body.get(key) or {}
        if not isinstance(per_table, dict):
            raise QueryError(f"{key} must be an object keyed by table name")
        for tname, filters in per_table.items():
            if tname not in tables:
                # The engine would build a model for a table outside the query (or fail
                # on missing metadata); neither gives a useful answer.
                raise EngineError(repr(tname))
            if not isinstance(filters, dict):
                raise QueryError(f"{key}[{tname!r}] must be an object")
            for col, value in filters.items():
                masks[tname] &= _mask(tables[tname], op, col, value)
    return masks
