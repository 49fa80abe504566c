"""Column filters: the operators of the query builder and the CLI's ``--filter`` syntax.

A filter is data. The GUI builds one from widgets, the CLI parses one from text
(``size>=300``, ``pre_pt_root_id in 1,2,3``, ``ctr_pt_position within 0,0,0,10,10,10``),
and both are checked against the table's columns by :func:`validate_filter` before
any service sees them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Mapping

from models.errors import InvalidInputError


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


def parse_scalar(text: str, kind: str, column: str = "") -> Any:
    """Parse one value typed by the user for a column of ``kind``."""
    t = text.strip()
    where = f" for column '{column}'" if column else ""
    if t == "":
        raise InvalidInputError(f"A value is missing{where}.", field=column)
    if kind == INT:
        try:
            return int(t)
        except ValueError:
            raise InvalidInputError(
                f"'{t}' is not a whole number{where}.", field=column,
                hint="Root ids and counts are integers, e.g. 864691135101289504.") from None
    if kind == FLOAT:
        try:
            return float(t)
        except ValueError:
            raise InvalidInputError(f"'{t}' is not a number{where}.", field=column) from None
    if kind == BOOL:
        low = t.lower()
        if low in ("true", "t", "1", "yes"):
            return True
        if low in ("false", "f", "0", "no"):
            return False
        raise InvalidInputError(f"'{t}' is not true or false{where}.", field=column)
    if kind == TIME:
        import pandas as pd
        try:
            return pd.Timestamp(t).to_pydatetime()
        except (ValueError, TypeError):
            raise InvalidInputError(f"'{t}' is not a date/time{where}.", field=column,
                                    hint="Use ISO format, e.g. 2024-05-01T12:00.") from None
    return t


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
    except ValueError:
        raise InvalidInputError(f"The box for '{column}' has a value that is not a number.",
                                field=column) from None
    return make_box(nums[:3], nums[3:], column)


def make_box(a, b, column: str = "") -> tuple:
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
        lo, hi = sorted(vals)
        return Filter(column, op, (lo, hi))
    if op is Op.REGEX:
        try:
            re.compile(text)
        except re.error as exc:
            raise InvalidInputError(f"The regex for '{column}' is invalid: {exc}.",
                                    field=column) from None
        return Filter(column, op, text)
    return Filter(column, op, parse_scalar(text, kind, column))


# CLI syntax. Word operators need spaces around them; symbols need not.
_EXPR = re.compile(
    r"^\s*(?P<col>[A-Za-z_][A-Za-z0-9_.]*)\s*"
    r"(?:(?P<sym>!=|>=|<=|==|=|>|<|~)|\s(?P<word>not\s+in|in|between|regex|within)\s)"
    r"\s*(?P<val>.*?)\s*$", re.IGNORECASE)
_SYM = {"=": Op.EQ, "==": Op.EQ, "!=": Op.NE, ">": Op.GT, ">=": Op.GE, "<": Op.LT,
        "<=": Op.LE, "~": Op.REGEX}


def parse_filter_expr(expr: str, kinds: Mapping[str, str]) -> Filter:
    """Parse a CLI filter such as ``size>=300`` against the table's column kinds.

    A ``within`` box may end with ``nm`` or ``vx`` (default vx).
    """
    m = _EXPR.match(expr)
    if not m:
        raise InvalidInputError(
            f"Cannot read filter '{expr}'.",
            hint="Use COLUMN OP VALUE, e.g. cell_type=e, size>=300, "
                 "pre_pt_root_id in 1,2,3, ctr_pt_position within x0,y0,z0,x1,y1,z1.")
    col = m.group("col")
    op = _SYM[m.group("sym")] if m.group("sym") else Op(re.sub(r"\s+", " ", m.group("word").lower()))
    if col not in kinds:
        raise InvalidInputError(f"Unknown column '{col}'.", field=col,
                                hint="Columns: " + ", ".join(kinds) + ".")
    val, units = m.group("val"), "vx"
    if op is Op.WITHIN:
        um = re.search(r"\s*(nm|vx)\s*$", val)
        if um:
            units, val = um.group(1), val[: um.start()]
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


# ---- combining filters on one column -----------------------------------------------------
@dataclass(frozen=True)
class FilterPlan:
    """How a list of filters runs on a CAVE server, exactly.

    ``server`` filters are sent and applied by the server as SQL (bounds on one column
    merged into the tightest one, ``in`` lists intersected); ``post`` filters are applied
    again on the client because the server cannot be trusted with them (``!=``/``not in``
    are ignored on versioned queries) or because one request cannot carry them (a second
    ``=`` on a column). Filters are ANDed, so server ∧ post is the SQL answer.
    """

    server: tuple[Filter, ...]
    post: tuple[Filter, ...]


_LOWER = {Op.GT: True, Op.GE: False}  # op -> strict
_UPPER = {Op.LT: True, Op.LE: False}


def _tighter(a, b, lower: bool):
    """Of two bounds (value, strict), the one that keeps fewer rows."""
    try:
        if a[0] == b[0]:
            return a if a[1] else b
        return (a if a[0] > b[0] else b) if lower else (a if a[0] < b[0] else b)
    except TypeError:
        return None


def plan_filters(filters) -> FilterPlan:
    """Merge filters column by column into what the server applies and what the client
    must apply after it; combinations that cannot be made exact raise InvalidInputError."""
    by_col: dict[str, list[Filter]] = {}
    for f in filters:
        by_col.setdefault(f.column, []).append(f)
    server: list[Filter] = []
    post: list[Filter] = []
    for col, fs in by_col.items():
        eq = [f for f in fs if f.op is Op.EQ]
        ins = [f for f in fs if f.op is Op.IN]
        excluded: list = []
        for f in fs:
            if f.op is Op.NE:
                excluded.append(f.value)
            elif f.op is Op.NOT_IN:
                excluded.extend(f.value)
        for op in (Op.REGEX, Op.WITHIN):
            if sum(f.op is op for f in fs) > 1:
                raise InvalidInputError(
                    f"Two '{op.value}' filters on '{col}' cannot be combined exactly: keep one.",
                    field=col)
        server += [f for f in fs if f.op in (Op.REGEX, Op.WITHIN)]
        if eq:
            server.append(eq[0])
            post += [f for f in eq[1:] if f.value != eq[0].value]  # a contradiction: no rows
        in_values = None
        if ins:
            common = list(dict.fromkeys(ins[0].value))
            for f in ins[1:]:
                keep = set(f.value)
                common = [v for v in common if v in keep]
            if common:
                in_values = common
            else:  # no value is in every list: the answer is empty, and stays exact
                in_values = list(dict.fromkeys(ins[0].value))
                post += ins[1:]
        if excluded:
            excluded = list(dict.fromkeys(excluded))
            gone = set(excluded)
            if in_values is not None and [v for v in in_values if v not in gone]:
                in_values = [v for v in in_values if v not in gone]  # exact on the server
            elif eq and eq[0].value not in gone:
                pass  # '= a' already excludes every other value
            else:
                post.append(Filter(col, Op.NOT_IN, tuple(excluded)))
        if in_values is not None:
            server.append(Filter(col, Op.IN, tuple(in_values)))
        lower = upper = None
        for f in fs:
            bounds = []
            if f.op in _LOWER:
                bounds.append((True, (f.value, _LOWER[f.op])))
            elif f.op in _UPPER:
                bounds.append((False, (f.value, _UPPER[f.op])))
            elif f.op is Op.BETWEEN:
                bounds += [(True, (f.value[0], False)), (False, (f.value[1], False))]
            for is_lower, b in bounds:
                cur = lower if is_lower else upper
                new = b if cur is None else _tighter(cur, b, is_lower)
                if new is None:
                    raise InvalidInputError(
                        f"The bounds on '{f.column}' cannot be compared: use values of one type.",
                        field=f.column)
                if is_lower:
                    lower = new
                else:
                    upper = new
        if lower is not None:
            server.append(Filter(col, Op.GT if lower[1] else Op.GE, lower[0]))
        if upper is not None:
            server.append(Filter(col, Op.LT if upper[1] else Op.LE, upper[0]))
    return FilterPlan(tuple(server), tuple(post))
