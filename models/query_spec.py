"""A query as data: what the GUI edits, the CLI parses and every data source runs.

A spec can print itself as the equivalent ``caveclient`` code, so a researcher can
take a query from Cavern into a notebook unchanged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Sequence

from models.errors import InvalidInputError
from models.filter_plan import FilterPlan, plan_filters
from models.filters import Filter, Op

if TYPE_CHECKING:
    from models.datastack import DatastackInfo, VersionInfo
    from models.reference_join import ReferenceJoin

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


#: The keyword arguments of caveclient's queries that hold filters.
FILTER_KEYWORDS = tuple(dict.fromkeys(_CAVE_DICT.values()))
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
    def filter_plan(self) -> FilterPlan:
        """What the server applies and what must be applied again on the client."""
        return plan_filters(self.filters)

    def cave_kwargs(self, voxel_resolution: Sequence[float] = (4, 4, 40)) -> dict[str, Any]:
        """Keyword arguments for ``client.materialize.query_table`` / ``live_query``.

        Bounds on one column are merged into the tightest (``between`` and ``>=`` on one
        column keep the higher low end), ``in`` lists are intersected and ``!=``/``not in``
        folded into them where possible. What is left of ``!=``/``not in`` still goes out
        as ``filter_out_dict``, but the server ignores it on versioned queries: the rows
        must be filtered again with :meth:`filter_plan`'s ``post`` filters.
        Boxes given in nm are converted to voxels at the table's resolution, which is
        what the materialization service expects.
        """
        kw: dict[str, Any] = {}
        voxel_resolution = _resolution(voxel_resolution, "The table's voxel resolution")
        plan = self.filter_plan()
        for f in plan.server:
            key = _CAVE_DICT[f.op]
            if f.op is Op.WITHIN:
                lo, hi = f.value
                if f.units == "nm":
                    lo = [v / r for v, r in zip(lo, voxel_resolution)]
                    hi = [v / r for v, r in zip(hi, voxel_resolution)]
                value: Any = [[_num(v) for v in lo], [_num(v) for v in hi]]
            elif f.op is Op.IN:
                value = [_plain(v) for v in f.value]
            else:
                value = _plain(f.value)
            _put(kw, key, f.column, value)
        for f in plan.post:
            if f.op is Op.NOT_IN:
                _put(kw, "filter_out_dict", f.column, [_plain(v) for v in f.value])
        if self.columns:
            kw["select_columns"] = list(self.columns)
        if self.limit is not None:
            kw["limit"] = int(self.limit)
        if self.desired_resolution:
            kw["desired_resolution"] = [_num(v) for v in _resolution(
                self.desired_resolution, "The desired resolution")]
        return kw

    def to_caveclient_code(self, server_address: str = "", voxel_resolution=(4, 4, 40),
                           reference: "ReferenceJoin | None" = None,
                           local: "DatastackInfo | None" = None,
                           local_version: "VersionInfo | None" = None) -> str:
        """The same query as Python a researcher can paste into a notebook.

        ``reference``: the table is a reference table joined to its target (see
        :class:`ReferenceJoin`, e.g. ``CaveSource.reference_join``): the code is a
        ``join_query`` with each filter keyed by the table that has its column, which
        is what works on a real server for filters on the target's columns.

        ``local``: the spec runs on this local datastack (and ``local_version``): the code
        names the CAVE datastack and version its manifest gives (``cave_datastack``,
        ``cave_version``), or says plainly that there is none."""
        spec, head = self, []
        if local is not None:
            spec, head = self._as_cave(local, local_version)
        code = spec._code(server_address, voxel_resolution, reference)
        lines = code.splitlines()
        if any("datetime." in line for line in lines):
            lines.insert(1, "import datetime")
        return "\n".join(head + lines) + "\n"

    def _as_cave(self, local: "DatastackInfo", local_version: "VersionInfo | None"):
        where = f"local datastack '{local.name}'"
        if self.version is not None:
            where += f", version {self.version}"
        head = [f"# Cavern ran this on the {where}."]
        cave_ds = getattr(local, "cave_datastack", "") or ""
        cave_v = getattr(local_version, "cave_version", None) if local_version else None
        if cave_ds and cave_v is not None:
            head.append(f"# On CAVE: datastack {cave_ds!r}, materialization version {cave_v}.")
        elif cave_ds:
            head += [f"# On CAVE: datastack {cave_ds!r}; the manifest names no CAVE version for",
                     "# this one (\"cave_version\"), so the code queries the latest version."]
        else:
            head += ["# Its manifest names no CAVE datastack (\"cave_datastack\"): there is none",
                     "# to query. Put the name of the one its rows came from below."]
        return self.with_(datastack=cave_ds or "DATASTACK_NAME", version=cave_v), head

    def _code(self, server_address: str, voxel_resolution, reference) -> str:
        lines = ["from caveclient import CAVEclient", ""]
        args = [_literal(self.datastack or "minnie65_public")]
        if server_address:
            args.append(f"server_address={_literal(str(server_address))}")
        lines.append(f"client = CAVEclient({', '.join(args)})")
        kw = self.cave_kwargs(voxel_resolution)
        post = self.filter_plan().post
        if post:  # the server's limit would count rows that the client then drops
            kw.pop("limit", None)
            if "select_columns" in kw:  # and the client's filters need their columns
                kw["select_columns"] = list(dict.fromkeys(
                    kw["select_columns"] + [f.column for f in post]))
        call_args = [_literal(self.table)]
        call_args += [f"{k}={_literal(v)}" for k, v in kw.items()]
        if self.timestamp is not None:
            call_args.append(f"timestamp={_literal(self.timestamp)}")
            func = "client.materialize.live_query"
        elif self.is_view:
            func = "client.materialize.query_view"
            if self.version is not None:
                call_args.append(f"materialization_version={int(self.version)}")
        elif reference is not None and self.merge_reference:
            func = "client.materialize.join_query"
            call_args = [_literal(reference.tables_arg())]
            call_args += [f"{k}={_literal(v)}" for k, v in reference.join_kwargs(kw).items()]
            call_args.append(f"suffixes={_literal(reference.suffixes())}")
            if self.version is not None:
                call_args.append(f"materialization_version={int(self.version)}")
        else:
            func = "client.materialize.query_table"
            if self.version is not None:
                call_args.append(f"materialization_version={int(self.version)}")
            if not self.merge_reference:
                call_args.append("merge_reference=False")
        if self.limit is None:
            lines.append("# A CAVE server returns at most its row limit per query (often 200,000) and")
            lines.append("# says so only in a logged warning; Cavern fetches bigger answers in id ranges.")
        lines.append(f"df = {func}(")
        lines += [f"    {a}," for a in call_args]
        lines.append(")")
        lines += post_filter_code(post)
        if post and self.limit is not None:
            lines.append(f"df = df.head({int(self.limit)})")
        return "\n".join(lines) + "\n"

    def check(self) -> None:
        if not self.table or not isinstance(self.table, str):
            raise InvalidInputError("Pick a table to query.", field="table")
        if self.limit is not None and (isinstance(self.limit, bool) or not isinstance(
                self.limit, int) or not 0 < self.limit < 2**63):
            raise InvalidInputError("The row limit must be a positive whole number below "
                                    "2**63.", field="limit")
        for name, v in (("version", self.version),):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)
                                  or not 0 <= v < 2**63):
                raise InvalidInputError(f"The {name} must be a whole number of 0 or more.",
                                        field=name)
        if self.timestamp is not None and (not isinstance(self.timestamp, datetime)
                                           or type(self.timestamp).__name__ == "NaTType"):
            raise InvalidInputError("The live query's time is not a date/time.",
                                    field="timestamp")
        if self.desired_resolution:
            _resolution(self.desired_resolution, "The desired resolution")
        seen: dict[tuple[str, str], Filter] = {}
        for f in self.filters:
            key = _CAVE_DICT.get(f.op, f.op.value)
            if f.op not in (Op.IN, Op.NOT_IN, Op.NE) and (f.column, key) in seen:
                raise InvalidInputError(
                    f"Two '{f.op.value}' filters on '{f.column}': keep one.", field=f.column)
            seen[(f.column, key)] = f
        self.filter_plan()  # raises for combinations that cannot be exact


def post_filter_code(post) -> list[str]:
    """pandas lines that apply the client-side filters to ``df`` in generated code."""
    if not post:
        return []
    lines = ["# CAVE ignores filter_out_dict (!= / not in) on versioned queries, and one request",
             "# holds one value per filter and column: filter those rows here, as SQL would",
             "# (a missing value never passes)."]
    for f in post:
        col = f"df[{_literal(f.column)}]"
        values = [_plain(v) for v in (f.value if f.op in (Op.IN, Op.NOT_IN) else (f.value,))]
        if f.op is Op.NOT_IN:
            cond = f"{col}.notna() & ~{col}.isin({_literal(values)})"
        elif f.op is Op.IN:
            cond = f"{col}.isin({_literal(values)})"
        else:
            cond = f"{col} == {_literal(values[0])}"
        lines.append(f"df = df[{cond}]")
    return lines


def _put(kw: dict, key: str, column: str, value: Any) -> None:
    kw.setdefault(key, {})[column] = value


def _num(v: float):
    return int(v) if float(v).is_integer() else float(v)


def _resolution(res, what: str) -> tuple:
    """Three finite positive numbers (a resolution of 0 would divide by zero)."""
    try:
        vals = tuple(float(v) for v in res)
    except (TypeError, ValueError, OverflowError):
        vals = ()
    if len(vals) != 3 or not all(math.isfinite(v) and v > 0 for v in vals):
        raise InvalidInputError(f"{what} must be three positive numbers (x, y, z in nm); "
                                f"it is {res!r}."[:200], field="resolution")
    return vals


def _literal(v) -> str:
    """Python source for a value in generated code: never a bare nan/inf/NaT, a datetime
    through the ``datetime`` module (imported by the caller)."""
    v = _plain(v)
    if v is None or isinstance(v, (bool, int, str)):
        return repr(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise InvalidInputError(f"{v} cannot be written as a query value.",
                                    hint="Use a finite number.")
        return repr(v)
    if isinstance(v, datetime):
        if type(v).__name__ == "NaTType":
            raise InvalidInputError("A missing time (NaT) cannot be written as a query value.")
        if hasattr(v, "to_pydatetime"):
            v = v.to_pydatetime()
        return f"datetime.datetime.fromisoformat({v.isoformat()!r})"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_literal(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(x)}" for k, x in v.items()) + "}"
    raise InvalidInputError(f"{str(v)[:40]!r} cannot be written as a query value.")


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
