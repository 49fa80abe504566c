"""What result rows become in Neuroglancer: positions, their units, tags.

Positions come from CAVE-style ``*_position`` list columns (or compact Arrow (n, 3) blocks)
or split ``*_position_x/_y/_z`` columns, in the rows' own units: the datastack's voxels or
the query's ``desired_resolution`` (``frame.attrs[RESOLUTION_ATTR]``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from models.datastack import DatastackInfo
from models.errors import InvalidInputError
from services.connectivity.aggregation import as_root_ids

# DataFrame.attrs key: nm per unit of a frame's positions (a query's desired_resolution)
RESOLUTION_ATTR = "position_resolution"


def to_voxels(point, resolution, ds: DatastackInfo) -> list[float]:
    """A point in ``resolution`` units (nm/unit) as the datastack's voxels."""
    res = np.asarray(resolution if resolution is not None else ds.voxel_resolution, float)
    return [float(v) for v in np.asarray(point, float) * res / np.asarray(ds.voxel_resolution,
                                                                         float)]


def frame_resolution(frame: pd.DataFrame, ds: DatastackInfo, resolution=None) -> list[float]:
    """The frame's position units: given, else its attrs' (the query's desired_resolution),
    else the datastack's voxels."""
    res = resolution if resolution is not None else frame.attrs.get(RESOLUTION_ATTR)
    res = res if res is not None else ds.voxel_resolution
    out = [float(v) for v in res]
    if len(out) != 3 or not all(np.isfinite(out)) or min(out) <= 0:
        raise InvalidInputError(f"The positions' resolution {res!r} is not three positive "
                                "numbers (nm per unit).", field="resolution")
    return out


def position_columns(frame: pd.DataFrame) -> list[str]:
    """Position columns of a frame, as nglui names them: ``x_position`` or the split prefix."""
    out = [c for c in frame.columns if str(c).endswith("_position")]
    for c in frame.columns:
        s = str(c)
        if s.endswith("_position_x") and f"{s[:-2]}_y" in frame and f"{s[:-2]}_z" in frame:
            out.append(s[:-2])
    preferred = ["pt_position", "ctr_pt_position", "post_pt_position", "pre_pt_position"]
    return sorted(out, key=lambda c: preferred.index(c) if c in preferred else len(preferred))


def root_id_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if str(c).endswith("root_id")]


def points(frame: pd.DataFrame, column: str) -> np.ndarray:
    """(N, 3) float positions of a list column or split x/y/z columns; NaN where missing."""
    if column in frame.columns:
        series = frame[column]
        if isinstance(series.dtype, pd.ArrowDtype):  # compact (n, 3) column: no per-row loop
            from services.results.positions import is_position_series, series_xyz
            if is_position_series(series):
                return series_xyz(series)[0].astype(float)
        rows = [np.full(3, np.nan) if p is None or np.ndim(p) == 0 else
                np.asarray(p, dtype=float).reshape(-1)[:3] for p in frame[column].tolist()]
        return np.vstack(rows) if rows else np.zeros((0, 3))
    cols = [f"{column}_{a}" for a in "xyz"]
    if not all(c in frame.columns for c in cols):
        raise InvalidInputError(f"No position column '{column}' (or {column}_x/_y/_z).",
                                field="position_column")
    return frame[cols].to_numpy(dtype=float)


def cap(n: int, limit: int, seed: int = 0) -> np.ndarray:
    """Row indices to keep: all, or a reproducible random sample spread over the rows."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def tag_synapses(root_id: int, synapses: pd.DataFrame, inputs: bool = True, outputs: bool = True,
                 pre_column: str = "pre_pt_root_id", post_column: str = "post_pt_root_id"
                 ) -> pd.DataFrame:
    """The cell's input and/or output synapse rows, with ``direction`` (input/output) and
    ``partner_root_id`` columns: one annotation layer tagged by direction."""
    for c in (pre_column, post_column):
        if c not in synapses.columns:
            raise InvalidInputError(f"The synapse rows have no '{c}' column.", field=c)
    if "id" in synapses.columns:  # inputs and outputs fetched apart share autapse rows
        synapses = synapses.drop_duplicates("id")
    pre = as_root_ids(synapses[pre_column], pre_column)
    post = as_root_ids(synapses[post_column], post_column)
    parts = []
    if inputs:
        parts.append(synapses[post == root_id].assign(
            direction="input", partner_root_id=pre[post == root_id]))
    if outputs:
        parts.append(synapses[pre == root_id].assign(
            direction="output", partner_root_id=post[pre == root_id]))
    return pd.concat(parts, ignore_index=True) if parts else synapses.iloc[:0]


def tagged_rows(frame: pd.DataFrame, column: str, max_tags: int, notes: list[str]) -> pd.DataFrame:
    """The rows, most frequent value of ``column`` first, with a ``_tag`` column: the value
    (at most ``max_tags`` distinct ones; the rest are tagged "other")."""
    labels = frame[column].astype("string").fillna("(none)").str.slice(0, 60)
    labels = labels.mask(labels == "", "(empty)")
    counts = labels.value_counts(sort=True)
    order = counts.index.tolist()
    keep = set(order[:max_tags])
    tags = labels.where(labels.isin(keep), "other")
    if len(order) > max_tags:
        notes.append(f"{len(order) - max_tags} less frequent values of '{column}' share "
                     "the tag 'other'.")
    rank = {v: i for i, v in enumerate(order[:max_tags] + ["other"])}
    out = frame.assign(_tag=tags.to_numpy())
    return out.iloc[np.argsort([rank[t] for t in out["_tag"]], kind="stable")]
