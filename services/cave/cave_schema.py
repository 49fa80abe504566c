"""Column kinds of CAVE tables and views, from schemas or from a probe query's frame.

Materialized CAVE tables flatten each schema field: a ``BoundSpatialPoint`` named ``pt``
becomes ``pt_position`` (x, y, z voxels), ``pt_supervoxel_id`` and ``pt_root_id``; every
table also has ``id``, ``created``, ``valid`` and ``superceded_id``.
"""
from __future__ import annotations


from models.datastack import ColumnInfo
from models.reference_join import TARGET_SUFFIX

_JSON_KIND = {"integer": "int", "number": "float", "float": "float", "string": "string",
              "boolean": "bool", "SpatialPoint": "position", "BoundSpatialPoint": "position"}
_BASE_COLUMNS = (ColumnInfo("id", "int", "int64"), ColumnInfo("created", "time", "timestamp"),
                 ColumnInfo("valid", "bool", "bool"),
                 ColumnInfo("superceded_id", "int", "int64"))


def _json_type(prop: dict) -> str:
    t = prop.get("type")
    if isinstance(t, list):  # e.g. ["boolean", "null"]
        t = next((x for x in t if x != "null"), "string")
    if prop.get("format") in ("date-time", "date"):
        return "time"
    return _JSON_KIND.get(str(t), "string")


def columns_from_schema(definition: dict) -> tuple[ColumnInfo, ...]:
    """Columns of a materialized table from an EMAnnotationSchemas JSON schema."""
    defs = definition.get("definitions") or {}
    ref = str(definition.get("$ref", "")).rsplit("/", 1)[-1]
    main = defs.get(ref) or {}
    cols = list(_BASE_COLUMNS)
    seen = {c.name for c in cols}
    for name, prop in (main.get("properties") or {}).items():
        target = str(prop.get("$ref", "")).rsplit("/", 1)[-1]
        if target in ("BoundSpatialPoint", "SpatialPoint"):
            new = [ColumnInfo(f"{name}_position", "position", "list<int64>[3]", "vx")]
            if target == "BoundSpatialPoint":
                new += [ColumnInfo(f"{name}_supervoxel_id", "int", "int64"),
                        ColumnInfo(f"{name}_root_id", "int", "int64")]
        else:
            new = [ColumnInfo(name, _json_type(prop), "")]
        for c in new:
            if c.name not in seen:
                cols.append(c)
                seen.add(c.name)
    return tuple(cols)


def columns_from_view_schema(schema: dict) -> tuple[ColumnInfo, ...]:
    """Columns of a view from the materialization service's view schema."""
    out = []
    for name, prop in (schema or {}).items():
        kind = _json_type(prop if isinstance(prop, dict) else {})
        out.append(ColumnInfo(name, kind, str((prop or {}).get("type", "")),
                              "vx" if kind == "position" else ""))
    return tuple(out)


def columns_from_frame(frame) -> tuple[ColumnInfo, ...]:
    """Columns of a query result (a one-row probe gives a table's exact columns)."""
    import numpy as np
    import pandas as pd

    out = []
    for name in frame.columns:
        s = frame[name]
        dt = s.dtype
        if pd.api.types.is_bool_dtype(dt):
            kind = "bool"
        elif pd.api.types.is_integer_dtype(dt):
            kind = "int"
        elif pd.api.types.is_float_dtype(dt):
            kind = "float"
        elif pd.api.types.is_datetime64_any_dtype(dt):
            kind = "time"
        elif str(name).endswith("_position") or (
                len(s) and isinstance(s.iloc[0], (np.ndarray, list, tuple))):
            kind = "position"
        else:
            kind = "string"
        out.append(ColumnInfo(str(name), kind, str(dt), "vx" if kind == "position" else ""))
    return tuple(out)


# ---- reference tables ------------------------------------------------------------------
def joined_columns(own, target, ref: str, target_name: str):
    """(columns, ownership) of a reference table joined to its target, from the two
    tables' own columns: ownership is ((answer column, table, column in it), ...)."""
    from dataclasses import replace as _replace
    own_names = {c.name for c in own}
    cols, owners = [], []
    for c in own:
        cols.append(c)
        owners.append((c.name, ref, c.name))
    for c in target:
        name = c.name + TARGET_SUFFIX if c.name in own_names else c.name
        cols.append(_replace(c, name=name))
        owners.append((name, target_name, c.name))
    return tuple(cols), tuple(owners)


def joined_owners(names, target_names, ref: str, target_name: str):
    """Ownership of the columns of a joined answer (a probe of the reference table),
    given the target table's own column names."""
    names = list(names)
    have, target_names = set(names), set(target_names)
    out = []
    for name in names:
        base = name[: -len(TARGET_SUFFIX)] if name.endswith(TARGET_SUFFIX) else None
        if base is not None and base in have and (base in target_names or not target_names):
            out.append((name, target_name, base))
        elif name + TARGET_SUFFIX in have:
            out.append((name, ref, name))
        elif name in target_names:
            out.append((name, target_name, name))
        else:
            out.append((name, ref, name))
    return tuple(out)
