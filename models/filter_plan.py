"""Combining filters on one column into what a CAVE server applies exactly and what the
client must apply again (see :class:`FilterPlan`)."""
from __future__ import annotations

from dataclasses import dataclass

from models.errors import InvalidInputError
from models.filters import Filter, Op, check_filter


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
        check_filter(f)
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
