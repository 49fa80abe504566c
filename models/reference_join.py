"""A reference table joined to its target, as CAVE's materialization engine answers it
(its ``join_query``), and the caveclient arguments of such a query."""
from __future__ import annotations

from dataclasses import dataclass

from models.query_spec import FILTER_KEYWORDS

TARGET_SUFFIX = "_ref"  # caveclient's query_table: {reference: "", target: "_ref"}


@dataclass(frozen=True)
class ReferenceJoin:
    """A reference table joined to its target, as CAVE answers it: the reference table's
    own columns and the target's (a name both have gets "_ref" on the target's side).

    The engine looks each filter up in the table it is keyed by, so a filter on a target
    column (``pt_root_id``) must be keyed by the target table, as caveclient's
    ``client.materialize.tables.<ref>(pt_root_id=...)`` does; ``query_table`` keys every
    filter by the reference table, which the engine answers with a 500 (KeyError).
    """

    table: str  # the reference table
    target: str  # the table it references (target_id = target.id)
    columns: tuple[tuple[str, str, str], ...] = ()  # (answer column, table, its column)

    def owner(self, column: str) -> tuple[str, str]:
        """(table, column in that table) of an answer column."""
        for name, table, original in self.columns:
            if name == column:
                return table, original
        if column.endswith(TARGET_SUFFIX):
            return self.target, column[: -len(TARGET_SUFFIX)]
        return self.table, column

    def answer_name(self, table: str, column: str) -> str:
        for name, t, original in self.columns:
            if t == table and original == column:
                return name
        return column

    def tables_arg(self) -> list:
        return [[self.table, "target_id"], [self.target, "id"]]

    def suffixes(self) -> dict:
        return {self.table: "", self.target: TARGET_SUFFIX}

    def join_kwargs(self, kw: dict) -> dict:
        """``query_table``-style keyword arguments (filters by column, select_columns a
        list of answer names) as ``join_query`` wants them: filters keyed by the table
        that has the column, select_columns {table: [columns]} (select_column_map)."""
        out = dict(kw)
        for key in FILTER_KEYWORDS:
            if key not in kw or kw[key] is None:
                continue
            keyed: dict = {}
            for col, value in kw[key].items():
                table, original = self.owner(col)
                keyed.setdefault(table, {})[original] = value
            out[key] = keyed
        if kw.get("select_columns"):
            chosen: dict = {self.table: [], self.target: []}
            for col in kw["select_columns"]:
                table, original = self.owner(col)
                if original not in chosen[table]:
                    chosen[table].append(original)
            # a name both tables have is suffixed only when both are selected: keep the
            # reference table's along, so the target's comes back as "<name>_ref"
            for original in list(chosen[self.target]):
                if self.answer_name(self.target, original) != original and \
                        original not in chosen[self.table]:
                    chosen[self.table].append(original)
            out["select_columns"] = {t: cols for t, cols in chosen.items() if cols}
        return out

    def own_kwargs(self, kw: dict) -> dict:
        """The filters of ``kw`` on the reference table's own columns only (a count of
        the reference table with them bounds the joined answer from above)."""
        out = {k: v for k, v in kw.items() if k not in FILTER_KEYWORDS and k != "select_columns"}
        keyed = self.join_kwargs({k: v for k, v in kw.items() if k in FILTER_KEYWORDS})
        for key, per_table in keyed.items():
            if per_table.get(self.table):
                out[key] = per_table[self.table]
        return out


def reference_join_of(info) -> "ReferenceJoin | None":
    """The join of a reference table's TableInfo (None for other tables and views).

    Which table each answer column belongs to comes from the source: CAVE's probe
    (``extra["reference_columns"]``) or a local file's ``target_columns`` metadata."""
    if not info.reference_table or info.kind != "table":
        return None
    cols = tuple(tuple(o) for o in info.extra.get("reference_columns", ()))
    if not cols and info.extra.get("target_columns"):
        target = set(info.extra["target_columns"])
        cols = tuple((c, info.reference_table if c in target else info.name, c)
                     for c in info.kinds)
    return ReferenceJoin(info.name, info.reference_table, cols)
