"""Column filters: the operators of the query builder and the CLI's ``--filter`` syntax.

A filter is data. The GUI builds one from widgets, the CLI parses one from text
(``size>=300``, ``pre_pt_root_id in 1,2,3``, ``ctr_pt_position within 0,0,0,10,10,10``),
and both are checked against the table's columns by :func:`validate_filter` before
any service sees them.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Mapping

from models.errors import InvalidInputError
from models.regex_syntax import check_regex, check_text


class Op(str, Enum):
    EQ = "="
    NE = "!="
    IN = "in"
    NOT_IN = "not in"
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    BETWEEN = "between"
    REGEX = "regex"
    WITHIN = "within"  # spatial bounding box on a position column

    @property
    def label(self) -> str:
        return OP_LABELS[self]


OP_LABELS = {
    Op.EQ: "= equal",
    Op.NE: "≠ not equal",
    Op.IN: "in list",
    Op.NOT_IN: "not in list",
    Op.GT: "> greater",
    Op.GE: "≥ greater or equal",
    Op.LT: "< less",
    Op.LE: "≤ less or equal",
    Op.BETWEEN: "between (inclusive)",
    Op.REGEX: "matches regex",
    Op.WITHIN: "within box",
}

# Column kinds, as a table's schema states them (see models.datastack.ColumnInfo).
INT, FLOAT, STRING, BOOL, POSITION, TIME = "int", "float", "string", "bool", "position", "time"

OPS_FOR_KIND = {
    INT: [Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.GT, Op.GE, Op.LT, Op.LE, Op.BETWEEN],
    FLOAT: [Op.GT, Op.GE, Op.LT, Op.LE, Op.BETWEEN, Op.EQ, Op.NE],
    STRING: [Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.REGEX],
    BOOL: [Op.EQ, Op.NE],
    POSITION: [Op.WITHIN],
    TIME: [Op.GT, Op.GE, Op.LT, Op.LE, Op.BETWEEN],
}

UNITS = ("vx", "nm")


@dataclass(frozen=True)
class Filter:
    """One condition on one column.

    ``value`` is a scalar for comparisons, a tuple for ``in``/``not in``, a pair for
    ``between`` and a pair of (x, y, z) corners for ``within``; ``units`` ("vx" or
    "nm") says how a ``within`` box is given.
    """

    column: str
    op: Op
    value: Any
    units: str = "vx"

    def describe(self) -> str:
        if self.op is Op.WITHIN:
            lo, hi = self.value
            return f"{self.column} within [{_fmt3(lo)}]–[{_fmt3(hi)}] {self.units}"
        if self.op in (Op.IN, Op.NOT_IN):
            return f"{self.column} {self.op.value} {','.join(map(str, self.value))}"
        if self.op is Op.BETWEEN:
            return f"{self.column} between {self.value[0]} and {self.value[1]}"
        return f"{self.column} {self.op.value} {self.value}"


def _fmt3(p) -> str:
    return ", ".join(f"{v:g}" for v in p)


INT64_MIN, INT64_MAX = -2**63, 2**63 - 1
COORD_MAX = 2**53  # box corners: beyond this a float no longer holds whole numbers
_INT_TEXT = re.compile(r"[+-]?[0-9]{1,30}", re.ASCII)


def is_id_column(column: str) -> bool:
    """Root ids, supervoxel ids, row ids: never negative."""
    return column == "id" or column.endswith("_id")


def parse_scalar(text: str, kind: str, column: str = "") -> Any:
    """Parse one value typed by the user for a column of ``kind``.

    Times are normalised to UTC: an aware time is converted, a naive one is taken as UTC
    (CAVE's timestamps are UTC), and both are returned naive, so any two compare."""
    t = text.strip()
    where = f" for column '{column}'" if column else ""
    if t == "":
        raise InvalidInputError(f"A value is missing{where}.", field=column)
    shown = t if len(t) <= 40 else t[:40] + "…"
    if kind == INT:
        if not _INT_TEXT.fullmatch(t):
            raise InvalidInputError(
                f"'{shown}' is not a whole number{where}.", field=column,
                hint="Root ids and counts are integers, e.g. 864691135101289504.")
        return check_int(int(t), column)
    if kind == FLOAT:
        try:
            v = float(t)
        except (ValueError, OverflowError):
            raise InvalidInputError(f"'{shown}' is not a number{where}.", field=column) from None
        return check_float(v, column, shown)
    if kind == BOOL:
        low = t.lower()
        if low in ("true", "t", "1", "yes"):
            return True
        if low in ("false", "f", "0", "no"):
            return False
        raise InvalidInputError(f"'{shown}' is not true or false{where}.", field=column)
    if kind == TIME:
        import pandas as pd
        try:
            ts = pd.Timestamp(t)
        except (ValueError, TypeError, OverflowError):
            ts = None
        if ts is None or pd.isna(ts):
            raise InvalidInputError(f"'{shown}' is not a date/time{where}.", field=column,
                                    hint="Use ISO format, e.g. 2024-05-01T12:00 (UTC), or "
                                         "add an offset, e.g. 2024-05-01T12:00+02:00.")
        return utc_naive(ts.to_pydatetime())
    check_text(t, f"The value{where}", column)
    return t


def utc_naive(d: datetime) -> datetime:
    """The same moment in UTC without tzinfo (naive times are UTC already)."""
    if d.tzinfo is not None and d.utcoffset() is not None:
        return d.astimezone(timezone.utc).replace(tzinfo=None)
    return d.replace(tzinfo=None)


def check_int(v: int, column: str = "") -> int:
    where = f" for column '{column}'" if column else ""
    if not INT64_MIN <= v <= INT64_MAX:
        raise InvalidInputError(f"{v} is too large{where}: values are 64-bit integers.",
                                field=column, hint="Check the number; ids have at most 19 digits.")
    if v < 0 and is_id_column(column):
        raise InvalidInputError(f"{v} is negative, so it is not an id{where}.", field=column,
                                hint="Ids are whole numbers of 0 or more.")
    return v


def check_float(v: float, column: str = "", shown: str = "") -> float:
    if not math.isfinite(v):
        where = f" for column '{column}'" if column else ""
        raise InvalidInputError(f"'{shown or v}' is not a finite number{where}.", field=column,
                                hint="NaN and infinity match no row; use a number, or a "
                                     "'>' / '<' filter for an open range.")
    return v


def check_value(v: Any, column: str = "") -> Any:
    """A filter value built in code (GUI, saved query, fuzz) is one the engines can take."""
    where = f" for column '{column}'" if column else ""
    if hasattr(v, "item") and not isinstance(v, (str, bytes, datetime)):
        try:
            v = v.item()  # numpy scalars
        except (ValueError, TypeError):
            pass
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return check_int(v, column)
    if isinstance(v, float):
        return check_float(v, column)
    if isinstance(v, str):
        check_text(v, f"The value{where}", column)
        return v
    if isinstance(v, datetime) and type(v).__name__ != "NaTType":
        return v
    raise InvalidInputError(f"{str(v)[:40]!r} is not a value to filter on{where}.", field=column,
                            hint="Use a number, text, true/false or a date/time.")


def check_filter(f: Filter) -> None:
    """Raise InvalidInputError unless ``f``'s value has the shape and values its operator
    needs (finite numbers, 64-bit ints, a valid box, a regex both engines read alike)."""
    if not isinstance(f.op, Op):
        raise InvalidInputError(f"Unknown operator {f.op!r}.", field=str(f.column))
    if not isinstance(f.column, str) or not f.column:
        raise InvalidInputError("A filter needs a column name.")
    col = f.column
    if f.op is Op.WITHIN:
        if f.units not in UNITS:
            raise InvalidInputError(f"Box units must be one of {UNITS}.", field=col)
        try:
            lo, hi = f.value
            if len(lo) != 3 or len(hi) != 3:
                raise ValueError
        except (TypeError, ValueError):
            raise InvalidInputError(f"The box for '{col}' needs two corners of 3 numbers.",
                                    field=col) from None
        make_box(lo, hi, col)
        return
    if f.op in (Op.IN, Op.NOT_IN, Op.BETWEEN):
        if not isinstance(f.value, (tuple, list)) or not f.value:
            raise InvalidInputError(f"'{f.op.value}' on '{col}' needs a list of values.",
                                    field=col)
        if f.op is Op.BETWEEN and len(f.value) != 2:
            raise InvalidInputError(f"'between' on '{col}' needs two values (low, high).",
                                    field=col)
        if all(type(v) is int for v in f.value):
            # ids (a cell set's 60,000 root ids): range and sign are all check_int asks
            check_int(min(f.value), col)
            check_int(max(f.value), col)
            return  # no times among them
        for v in f.value:
            check_value(v, col)
        aware = {v.tzinfo is not None for v in f.value if isinstance(v, datetime)}
        if len(aware) > 1:  # comparing them raises TypeError; parse_scalar gives UTC-naive
            raise InvalidInputError(f"The times of '{f.op.value}' on '{col}' mix ones with and "
                                    "without a timezone.", field=col,
                                    hint="Give all in UTC, or all with an offset.")
        return
    if f.op is Op.REGEX:
        check_regex(f.value, col)
        return
    check_value(f.value, col)


def parse_list(text: str, kind: str, column: str = "") -> tuple:
    """Parse a comma/space/newline separated list (pasted ids work as-is, with a header
    line too: see models.ids)."""
    from models.ids import strip_header
    parts = [p for p in re.split(r"[,\s;]+", strip_header(text)) if p]
    if not parts:
        raise InvalidInputError(f"The list for column '{column}' is empty.", field=column)
    return tuple(parse_scalar(p, kind, column) for p in parts)


def parse_box(text: str, column: str = "") -> tuple:
    """Parse ``x0,y0,z0,x1,y1,z1`` into two corners, low corner first."""
    parts = [p for p in re.split(r"[,\s;]+", text.strip().strip("[]()")) if p]
    if len(parts) != 6:
        raise InvalidInputError(
            f"A box for '{column}' needs 6 numbers (x0,y0,z0,x1,y1,z1); got {len(parts)}.",
            field=column)
    try:
        nums = [float(p) for p in parts]
    except (ValueError, OverflowError):
        raise InvalidInputError(f"The box for '{column}' has a value that is not a number.",
                                field=column) from None
    return make_box(nums[:3], nums[3:], column)


def make_box(a, b, column: str = "") -> tuple:
    for v in (*a, *b):
        if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
            raise InvalidInputError(f"The box for '{column}' has a value that is not a number.",
                                    field=column)
        if not math.isfinite(float(v)) or abs(float(v)) > COORD_MAX:
            raise InvalidInputError(
                f"The box for '{column}' has a corner value {v}: corners must be finite "
                f"numbers of at most {COORD_MAX:,}.", field=column,
                hint="Type the box's corners, e.g. 0,0,0,1000,1000,1000.")
    lo = tuple(min(x, y) for x, y in zip(a, b))
    hi = tuple(max(x, y) for x, y in zip(a, b))
    if any(h == low for low, h in zip(lo, hi)):
        raise InvalidInputError(
            f"The box for '{column}' is empty: each side must have a length.", field=column)
    return (lo, hi)


def build_filter(column: str, op: Op | str, text: str, kind: str, units: str = "vx") -> Filter:
    """Build a filter from text typed in a field, checking it against the column kind."""
    op = Op(op)
    allowed = OPS_FOR_KIND.get(kind, OPS_FOR_KIND[STRING])
    if op not in allowed:
        raise InvalidInputError(
            f"'{op.value}' does not apply to column '{column}' ({kind}).", field=column,
            hint="Allowed: " + ", ".join(o.value for o in allowed) + ".")
    if op is Op.WITHIN:
        if units not in UNITS:
            raise InvalidInputError(f"Box units must be one of {UNITS}.", field=column)
        return Filter(column, op, parse_box(text, column), units)
    if op in (Op.IN, Op.NOT_IN):
        return Filter(column, op, parse_list(text, kind, column))
    if op is Op.BETWEEN:
        vals = parse_list(text.replace(" and ", ","), kind, column)
        if len(vals) != 2:
            raise InvalidInputError(f"'between' on '{column}' needs two values (low, high).",
                                    field=column)
        try:
            lo, hi = sorted(vals)
        except TypeError:  # e.g. true and a number on a bool column cannot happen; be safe
            raise InvalidInputError(f"The two values of 'between' on '{column}' cannot be "
                                    "compared.", field=column) from None
        return Filter(column, op, (lo, hi))
    if op is Op.REGEX:
        return Filter(column, op, check_regex(text, column))
    return Filter(column, op, parse_scalar(text, kind, column))


# CLI syntax. Word operators need spaces around them; symbols need not.
_EXPR = re.compile(
    r"^\s*(?P<col>[A-Za-z_][A-Za-z0-9_.]*)\s*"
    r"(?:(?P<sym>!=|>=|<=|==|=|>|<|~)|\s(?P<word>not\s+in|in|between|regex|within)\s)"
    r"(?P<val>.*)$", re.IGNORECASE | re.ASCII | re.DOTALL)  # val stripped in code: linear time
_SYM = {"=": Op.EQ, "==": Op.EQ, "!=": Op.NE, ">": Op.GT, ">=": Op.GE, "<": Op.LT,
        "<=": Op.LE, "~": Op.REGEX}


def parse_filter_expr(expr: str, kinds: Mapping[str, str]) -> Filter:
    """Parse a CLI filter such as ``size>=300`` against the table's column kinds.

    A ``within`` box may end with ``nm`` or ``vx`` (default vx).
    """
    if not isinstance(expr, str):
        raise InvalidInputError(f"A filter is text, not {type(expr).__name__}.")
    m = _EXPR.match(expr)
    if not m:
        shown = expr if len(expr) <= 80 else expr[:80] + "…"
        raise InvalidInputError(
            f"Cannot read filter '{shown}'.",
            hint="Use COLUMN OP VALUE, e.g. cell_type=e, size>=300, "
                 "pre_pt_root_id in 1,2,3, ctr_pt_position within x0,y0,z0,x1,y1,z1.")
    col = m.group("col")
    op = _SYM[m.group("sym")] if m.group("sym") else Op(re.sub(r"\s+", " ", m.group("word").lower()))
    if col not in kinds:
        raise InvalidInputError(f"Unknown column '{col}'.", field=col,
                                hint="Columns: " + ", ".join(kinds) + ".")
    val, units = m.group("val").strip(), "vx"
    if op is Op.WITHIN and val[-2:].lower() in UNITS:
        units, val = val[-2:].lower(), val[:-2]
    return build_filter(col, op, val, kinds[col], units)


def validate_filter(f: Filter, kinds: Mapping[str, str]) -> None:
    """Check a filter against a table's columns (e.g. a saved query on another table)."""
    if f.column not in kinds:
        raise InvalidInputError(f"Column '{f.column}' is not in this table.", field=f.column,
                                hint="Remove the filter or pick another column.")
    kind = kinds[f.column]
    if f.op not in OPS_FOR_KIND.get(kind, OPS_FOR_KIND[STRING]):
        raise InvalidInputError(f"'{f.op.value}' does not apply to column '{f.column}' ({kind}).",
                                field=f.column)
    check_filter(f)


# How filters combine on a CAVE server lives in models.filter_plan (it imports this module).
def plan_filters(filters):
    """See :func:`models.filter_plan.plan_filters`."""
    from models.filter_plan import plan_filters as plan
    return plan(filters)


def __getattr__(name: str):
    if name == "FilterPlan":
        from models.filter_plan import FilterPlan
        return FilterPlan
    raise AttributeError(f"module 'models.filters' has no attribute {name!r}")
