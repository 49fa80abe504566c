"""A query as data: what the GUI edits, the CLI parses and every data source runs.

A spec can print itself as the equivalent ``caveclient`` code, so a researcher can
take a query from Cavern into a notebook unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Sequence

from models.errors import InvalidInputError
from models.filters import Filter, Op

# Filter op -> caveclient keyword argument.
_CAVE_DICT = {
    Op.EQ: "filter_equal_dict",
    Op.IN: "filter_in_dict",
    Op.NOT_IN: "filter_out_dict",
    Op.NE: "filter_out_dict",
    Op.GT: "filter_greater_dict",
    Op.GE: "filter_greater_equal_dict",
    Op.LT: "filter_less_dict",
    Op.LE: "filter_less_equal_dict",
    Op.REGEX: "filter_regex_dict",
    Op.WITHIN: "filter_spatial_dict",
}


@dataclass(frozen=True)
class QuerySpec:
    table: str
    datastack: str = ""
    version: int | None = None  # None with no timestamp: the source's default version
    timestamp: datetime | None = None  # a live query at this moment
    filters: tuple[Filter, ...] = ()
    columns: tuple[str, ...] = ()  # empty: all columns
    limit: int | None = None
    desired_resolution: tuple[float, float, float] | None = None
    merge_reference: bool = True
    is_view: bool = False

    def with_(self, **changes) -> "QuerySpec":
        return replace(self, **changes)

    # ---- caveclient mapping -------------------------------------------------
    def cave_kwargs(self, voxel_resolution: Sequence[float] = (4, 4, 40)) -> dict[str, Any]:
        """Keyword arguments for ``client.materialize.query_table`` / ``live_query``.

        Boxes given in nm are converted to voxels at the table's resolution, which is
        what the materialization service expects.
        """
        kw: dict[str, Any] = {}
        for f in self.filters:
            if f.op is Op.BETWEEN:
                _put(kw, "filter_greater_equal_dict", f.column, _plain(f.value[0]))
                _put(kw, "filter_less_equal_dict", f.column, _plain(f.value[1]))
                continue
            key = _CAVE_DICT[f.op]
            if f.op is Op.WITHIN:
                lo, hi = f.value
                if f.units == "nm":
                    lo = [v / r for v, r in zip(lo, voxel_resolution)]
                    hi = [v / r for v, r in zip(hi, voxel_resolution)]
                value: Any = [[_num(v) for v in lo], [_num(v) for v in hi]]
            elif f.op is Op.NE:
                value = [_plain(f.value)]
            elif f.op in (Op.IN, Op.NOT_IN):
                value = [_plain(v) for v in f.value]
            else:
                value = _plain(f.value)
            if key in ("filter_in_dict", "filter_out_dict") and f.column in kw.get(key, {}):
                merged = kw[key][f.column]
                value = ([v for v in merged if v in value] if key == "filter_in_dict"
                         else merged + value)
                kw[key][f.column] = value
                continue
            _put(kw, key, f.column, value)
        if self.columns:
            kw["select_columns"] = list(self.columns)
        if self.limit is not None:
            kw["limit"] = int(self.limit)
        if self.desired_resolution:
            kw["desired_resolution"] = [_num(v) for v in self.desired_resolution]
        return kw

    def to_caveclient_code(self, server_address: str = "", voxel_resolution=(4, 4, 40)) -> str:
        """The same query as Python a researcher can paste into a notebook."""
        lines = ["from caveclient import CAVEclient", ""]
        args = [repr(self.datastack or "minnie65_public")]
        if server_address:
            args.append(f"server_address={server_address!r}")
        lines.append(f"client = CAVEclient({', '.join(args)})")
        kw = self.cave_kwargs(voxel_resolution)
        call_args = [repr(self.table)]
        call_args += [f"{k}={v!r}" for k, v in kw.items()]
        if self.timestamp is not None:
            lines.insert(1, "import datetime")
            call_args.append(f"timestamp=datetime.datetime.fromisoformat({self.timestamp.isoformat()!r})")
            func = "client.materialize.live_query"
        elif self.is_view:
            func = "client.materialize.query_view"
            if self.version is not None:
                call_args.append(f"materialization_version={self.version}")
        else:
            func = "client.materialize.query_table"
            if self.version is not None:
                call_args.append(f"materialization_version={self.version}")
            if not self.merge_reference:
                call_args.append("merge_reference=False")
        lines.append(f"df = {func}(")
        lines += [f"    {a}," for a in call_args]
        lines.append(")")
        return "\n".join(lines) + "\n"

    def check(self) -> None:
        if not self.table:
            raise InvalidInputError("Pick a table to query.", field="table")
        if self.limit is not None and self.limit <= 0:
            raise InvalidInputError("The row limit must be a positive number.", field="limit")
        seen: dict[tuple[str, str], Filter] = {}
        for f in self.filters:
            key = _CAVE_DICT.get(f.op, f.op.value)
            if f.op not in (Op.IN, Op.NOT_IN, Op.NE) and (f.column, key) in seen:
                raise InvalidInputError(
                    f"Two '{f.op.value}' filters on '{f.column}': keep one.", field=f.column)
            seen[(f.column, key)] = f


def _put(kw: dict, key: str, column: str, value: Any) -> None:
    kw.setdefault(key, {})[column] = value


def _num(v: float):
    return int(v) if float(v).is_integer() else float(v)


def _plain(v):
    """Numpy scalars and datetimes print as plain Python in generated code."""
    if hasattr(v, "item") and not isinstance(v, datetime):
        return v.item()
    return v


@dataclass
class QueryResult:
    """A query's rows (a pandas DataFrame) and how they came about."""

    spec: QuerySpec
    frame: Any  # pandas.DataFrame
    elapsed_s: float = 0.0
    truncated: bool = False  # the server's row limit cut the result
    total_rows: int | None = None  # rows that match, when known
    source: str = ""  # "local", "cave", "cache"
    notes: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    def summary(self) -> str:
        n = self.n_rows
        if self.truncated and self.total_rows:
            text = f"showing {n:,} of {self.total_rows:,} rows (server row limit)"
        elif self.truncated:
            text = f"showing {n:,} rows: the server's row limit was hit, more rows match"
        elif self.spec.limit is not None and n == self.spec.limit:
            of = f" of {self.total_rows:,}" if self.total_rows is not None else ""
            text = f"{n:,}{of} rows (limit {self.spec.limit:,})"
        else:
            text = f"{n:,} rows"
        return f"{text} in {self.elapsed_s:.2f} s"
