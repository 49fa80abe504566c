"""Merge two tables on a key: the MICrONS tutorial's "proofread cells that are also 23P".

A :class:`JoinSpec` is data (two tables with their filters, the key of each, inner or
left, whether to drop duplicated keys). :func:`run_join` reads each side completely
(filters pushed down, the right side restricted to the left side's keys when there are
few) through the workspace, so the same code runs on a local folder and on CAVE, and
merges client-side with pandas. A key seen on more than one row of a side (a multi-soma
object: one root id, several nuclei) is reported and, optionally, dropped before the
merge. The answer is a QueryResult that opens in the result table like any query; the
spec prints the caveclient + pandas code of the same join (:meth:`JoinSpec.to_python`).

CAVE's ``join_query`` joins only on a reference table's ``target_id``; a reference table
is already answered joined to its target by the source (QuerySpec.merge_reference), so a
key such as ``pt_root_id`` across two annotation tables is merged here, client-side.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.errors import InvalidInputError
from models.filters import Filter, Op
from models.query_spec import QueryResult, QuerySpec
from services.source import CancelToken
from services.workspace import Workspace

HOWS = ("inner", "left")
#: The right side is filtered by the left side's keys (pushed down) up to this many keys.
MAX_PUSHED_KEYS = 20_000


@dataclass(frozen=True)
class JoinSpec:
    left: str
    right: str
    left_key: str = "pt_root_id"
    right_key: str = "pt_root_id"
    how: str = "inner"
    drop_duplicates: bool = False
    left_filters: tuple[Filter, ...] = ()
    right_filters: tuple[Filter, ...] = ()
    suffixes: tuple[str, str] = ("", "_right")

    def describe(self) -> str:
        keys = (self.left_key if self.left_key == self.right_key
                else f"{self.left_key} = {self.right_key}")
        return f"{self.left} {self.how} join {self.right} on {keys}"

    def to_python(self, datastack: str, version: int | None,
                  server_address: str = "") -> str:
        """caveclient + pandas code of the same join (for "Copy as Python")."""
        def query(table, filters):
            kw = [repr(table)]
            eq = {f.column: f.value for f in filters if f.op is Op.EQ}
            isin = {f.column: list(f.value) for f in filters if f.op is Op.IN}
            if eq:
                kw.append(f"filter_equal_dict={eq!r}")
            if isin:
                kw.append(f"filter_in_dict={isin!r}")
            rest = [f.describe() for f in filters if f.op not in (Op.EQ, Op.IN)]
            line = f"client.materialize.query_table({', '.join(kw)})"
            return line + (f"  # then filter: {'; '.join(rest)}" if rest else "")
        args = [repr(datastack)] + ([f"server_address={server_address!r}"]
                                     if server_address else [])
        lines = ["from caveclient import CAVEclient", "import pandas as pd", "",
                 f"client = CAVEclient({', '.join(args)})"]
        if version is not None:
            lines.append(f"client.materialize.version = {int(version)}")
        lines += [f"left = {query(self.left, self.left_filters)}",
                  f"right = {query(self.right, self.right_filters)}"]
        if self.drop_duplicates:
            lines += ["# multi-soma objects: a key on more than one row of a side is dropped",
                      f"left = left[~left[{self.left_key!r}].duplicated(keep=False)]",
                      f"right = right[~right[{self.right_key!r}].duplicated(keep=False)]"]
        lines.append(f"joined = left.merge(right, how={self.how!r}, "
                     f"left_on={self.left_key!r}, right_on={self.right_key!r}, "
                     f"suffixes={self.suffixes!r})")
        return "\n".join(lines) + "\n"


@dataclass
class JoinReport:
    left_rows: int
    right_rows: int
    duplicated_left: np.ndarray  # key values on more than one row of the left side
    duplicated_right: np.ndarray
    dropped_rows: int = 0
    notes: list[str] = field(default_factory=list)


def duplicated_keys(frame: pd.DataFrame, key: str) -> np.ndarray:
    """Key values on more than one row (NaN keys are not counted)."""
    k = frame[key].dropna()
    return pd.unique(k[k.duplicated(keep=False)].to_numpy())


def merge_frames(left: pd.DataFrame, right: pd.DataFrame, spec: JoinSpec
                 ) -> tuple[pd.DataFrame, JoinReport]:
    """The merge itself (pandas): duplicates reported (and dropped if asked)."""
    if spec.how not in HOWS:
        raise InvalidInputError(f"Unknown join '{spec.how}'.", field="how",
                                hint=f"Choose one of: {', '.join(HOWS)}.")
    for frame, key, name in ((left, spec.left_key, spec.left),
                             (right, spec.right_key, spec.right)):
        if key not in frame.columns:
            raise InvalidInputError(f"Table '{name}' has no column '{key}' to join on.",
                                    field="key", hint="Columns: " + ", ".join(frame.columns))
    dl, dr = duplicated_keys(left, spec.left_key), duplicated_keys(right, spec.right_key)
    report = JoinReport(len(left), len(right), dl, dr)
    if spec.drop_duplicates and (len(dl) or len(dr)):
        n = len(left) + len(right)
        left = left[~left[spec.left_key].isin(dl)]
        right = right[~right[spec.right_key].isin(dr)]
        report.dropped_rows = n - len(left) - len(right)
    lk, rk = left[spec.left_key], right[spec.right_key]
    if lk.dtype != rk.dtype and pd.api.types.is_numeric_dtype(lk) \
            and pd.api.types.is_numeric_dtype(rk):
        right = right.assign(**{spec.right_key: rk.astype(lk.dtype)})
    out = left.merge(right, how=spec.how, left_on=spec.left_key, right_on=spec.right_key,
                     suffixes=spec.suffixes)
    for side, keys, key in (("left", dl, spec.left_key), ("right", dr, spec.right_key)):
        if len(keys):
            shown = ", ".join(str(k) for k in keys[:5]) + (" ..." if len(keys) > 5 else "")
            verb = "dropped" if spec.drop_duplicates else "kept (rows multiply in the join)"
            report.notes.append(f"{len(keys):,} {key} value(s) appear on more than one row of "
                                f"the {side} table (e.g. multi-soma objects), {verb}: {shown}.")
    return out.reset_index(drop=True), report


def run_join(ws: Workspace, spec: JoinSpec, cancel: CancelToken | None = None
             ) -> tuple[QueryResult, JoinReport]:
    """Both sides read completely from the workspace, then merged; a QueryResult."""
    start = time.perf_counter()
    lrole, rrole = ws.table(spec.left), ws.table(spec.right)
    left = ws.complete_frame(lrole, spec.left_filters, (), cancel)
    right_filters = tuple(spec.right_filters)
    keys = pd.unique(left[spec.left_key].dropna()) if spec.left_key in left.columns else []
    kind = rrole.info.kinds.get(spec.right_key)
    if (spec.how == "inner" and 0 < len(keys) <= MAX_PUSHED_KEYS and kind == "int"
            and not any(f.column == spec.right_key for f in right_filters)):
        # push the left keys down: the right side's other rows can never match
        right_filters += (Filter(spec.right_key, Op.IN, tuple(int(k) for k in keys)),)
    right = ws.complete_frame(rrole, right_filters, (), cancel)
    if cancel:
        cancel.raise_if_cancelled()
    frame, report = merge_frames(left, right, spec)
    report.notes += [r.note for r in (lrole, rrole) if r.note]
    qspec = QuerySpec(f"{spec.left} ⋈ {spec.right}", ws.datastack, ws.version,
                      timestamp=ws.timestamp)
    frame.attrs["join_spec"] = spec
    result = QueryResult(qspec, frame, elapsed_s=time.perf_counter() - start,
                         source=getattr(ws.source, "kind", ""),
                         notes=[f"{spec.describe()}: {len(frame):,} rows from "
                                f"{report.left_rows:,} x {report.right_rows:,}."]
                         + report.notes)
    return result, report
