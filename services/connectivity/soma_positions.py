"""Soma positions for the soma map (figure 1 of the MICrONS tutorial), Qt-free.

Positions become micrometres: with the datastack's standard transform (minnie65 / v1dd,
standard_transform) x, y, z are the transformed um (y = depth below pia); with a linear
manifest transform y is services.cells.cortical_depth's depth and x, z are plain um;
without one, plain um (voxels x resolution / 1000) and the frame says so.
Colour: any column of the cell table, or membership of another table ("in <table>").
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from models.errors import InvalidInputError
from services.cells.cortical_depth import DepthTransform, datastack_depth_um
from services.connectivity.aggregation import as_root_ids
from services.connectivity.connectivity_queries import cell_columns
from services.results.positions import is_position_series, series_xyz
from services.source import CancelToken
from services.workspace import Workspace

MISSING = "(none)"


def positions_um(xyz_vx: np.ndarray, ds, resolution=None) -> tuple[np.ndarray, str]:
    """(n, 3) voxel positions -> (n, 3) um and a sentence saying which frame they are in."""
    res = np.asarray(resolution or ds.voxel_resolution, dtype=float)
    nm = np.asarray(xyz_vx, dtype=float) * res
    tf = DepthTransform.from_manifest(ds.transform)
    if tf.kind in ("minnie65", "v1dd"):
        import warnings
        import standard_transform as st
        make = st.minnie_transform if tf.kind == "minnie65" else st.v1dd_transform
        out = np.full(nm.shape, np.nan)
        ok = np.isfinite(nm).all(axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if ok.any():
                out[ok] = np.asarray(make(resolution="nm", version=tf.version).apply(nm[ok]))
        return out, f"{tf.describe()} (transformed um)"
    um = nm / 1000.0
    if tf.known:
        um[:, 1] = datastack_depth_um(xyz_vx, ds, voxel_resolution=tuple(res))
        return um, f"{tf.describe()}; x, z in um"
    return um, "um (no transform for this datastack: y is the raw coordinate)"


def soma_map(ws: Workspace, table: str, color_by: str | None = None,
             member_table: str | None = None, member_key: str = "pt_root_id",
             filters=(), cancel: CancelToken | None = None) -> pd.DataFrame:
    """pt_root_id, x_um, y_um (depth, down), z_um, colour (a label per cell) of a cell table.

    ``color_by``: a column of ``table``; ``member_table``: colour by membership ("in
    <member_table>" / "not in <member_table>", matched on ``member_key``). attrs: frame
    (which coordinates), colour (what the colour means)."""
    role = ws.table(table)
    cols = cell_columns(role.info)
    if cols.position_col is None:
        raise InvalidInputError(f"Table '{table}' has no position column to map.",
                                hint="Choose a soma or cell-type table with pt_position.")
    rows = ws.complete_frame(role, filters, (), cancel)
    pos = rows[cols.position_col]
    xyz = (series_xyz(pos)[0].astype(float) if is_position_series(pos) else
           np.vstack([np.asarray(p, float) if p is not None else np.full(3, np.nan)
                      for p in pos]) if len(pos) else np.zeros((0, 3)))
    um, frame_text = positions_um(xyz, ws.info, role.info.voxel_resolution)
    out = pd.DataFrame({"pt_root_id": as_root_ids(rows[cols.root_col]),
                        "x_um": um[:, 0], "y_um": um[:, 1], "z_um": um[:, 2]})
    if member_table:
        mrole = ws.table(member_table)
        if member_key not in mrole.info.kinds or member_key not in rows.columns:
            raise InvalidInputError(f"Cannot match '{table}' and '{member_table}' on "
                                    f"'{member_key}'.", field="member_key")
        members = ws.complete_frame(mrole, (), (member_key,), cancel)[member_key]
        inside = rows[member_key].isin(set(members.dropna().tolist())).to_numpy()
        out["colour"] = np.where(inside, f"in {member_table}", f"not in {member_table}")
        what = f"membership of {member_table} (on {member_key})"
    elif color_by:
        if color_by not in rows.columns:
            raise InvalidInputError(f"Table '{table}' has no column '{color_by}'.",
                                    field="color_by")
        v = rows[color_by].astype(object)
        out["colour"] = np.where(v.isna(), MISSING, v.astype(str)).astype(object)
        what = color_by
    else:
        out["colour"] = table
        what = "none"
    out = out[np.isfinite(um).all(axis=1)].reset_index(drop=True)
    out.attrs.update(frame=frame_text, colour=what, n_missing=int((~np.isfinite(um).all(
        axis=1)).sum()))
    return out
