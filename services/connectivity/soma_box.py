"""A box or lasso drawn on the soma map (services.connectivity.soma_positions frames),
Qt-free: the somas inside it, and a box back in the table's voxels as a ``within`` filter.

The map is in micrometres: plain (voxels x resolution / 1000), a linear depth frame, or
the standard transform's rotated frame (minnie65 / v1dd). Where the map's axes are the
voxel axes (no transform, or a linear depth along y without tilt) the box converts back
exactly: each bound is the inverse of the same arithmetic. In a rotated frame no voxel
box equals the drawn one; the filter is then the voxel box around its corners, holding
the drawn region and a margin, and says so (:attr:`VoxelBox.exact` is False).
A box constrains two axes (top-down: x and z; coronal: x and depth y); the third spans
every soma of the map.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.errors import InvalidInputError
from models.filters import Filter, Op
from services.cells.cortical_depth import DepthTransform

#: view -> (horizontal column, vertical column) of the soma map frame
VIEWS = {"top": ("x_um", "z_um"), "coronal": ("x_um", "y_um")}
_AXIS = {"x_um": 0, "y_um": 1, "z_um": 2}


def _view(view: str) -> tuple[str, str]:
    if view not in VIEWS:
        raise InvalidInputError(f"Unknown soma-map view '{view}'.", field="view",
                                hint=f"Choose one of: {', '.join(VIEWS)}.")
    return VIEWS[view]


def somas_in_box(frame: pd.DataFrame, view: str, h_range, v_range) -> np.ndarray:
    """Root ids (distinct, in frame order) of the somas inside the box, bounds included."""
    hcol, vcol = _view(view)
    (h0, h1), (v0, v1) = sorted(map(float, h_range)), sorted(map(float, v_range))
    h, v = frame[hcol].to_numpy(float), frame[vcol].to_numpy(float)
    inside = (h >= h0) & (h <= h1) & (v >= v0) & (v <= v1)
    return pd.unique(frame["pt_root_id"].to_numpy(np.int64)[inside])


def somas_in_polygon(frame: pd.DataFrame, view: str, polygon) -> np.ndarray:
    """Root ids (distinct, frame order) of the somas inside a lasso: a closed polygon of
    (h, v) points on the view (even-odd rule; a point on an edge may fall either way)."""
    hcol, vcol = _view(view)
    poly = np.asarray(polygon, dtype=float).reshape(-1, 2)
    if len(poly) < 3:
        return np.zeros(0, dtype=np.int64)
    h, v = frame[hcol].to_numpy(float), frame[vcol].to_numpy(float)
    inside = np.zeros(len(h), dtype=bool)
    for (x0, y0), (x1, y1) in zip(poly, np.roll(poly, -1, axis=0)):
        if y0 == y1:
            continue  # a horizontal edge never crosses the ray
        crosses = (v >= min(y0, y1)) & (v < max(y0, y1))
        x_at = x0 + (v - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (h < x_at)
    return pd.unique(frame["pt_root_id"].to_numpy(np.int64)[inside])


@dataclass(frozen=True)
class VoxelBox:
    lo: tuple[float, float, float]  # voxels of the table's resolution
    hi: tuple[float, float, float]
    exact: bool  # the drawn box itself (True) or the voxel box around it (False)
    note: str

    def to_filter(self, column: str) -> Filter:
        return Filter(column, Op.WITHIN, (self.lo, self.hi), "vx")

    def text(self) -> str:
        """'x0,y0,z0,x1,y1,z1' as the query builder's box field reads it."""
        return ",".join(f"{v:.6f}".rstrip("0").rstrip(".") for v in (*self.lo, *self.hi))


def box_in_voxels(frame: pd.DataFrame, view: str, h_range, v_range, transform,
                  resolution) -> VoxelBox:
    """The map box (um) as a box in the table's voxels (``resolution`` nm per voxel)."""
    hcol, vcol = _view(view)
    res = np.asarray(resolution, dtype=float)
    lo_um, hi_um = np.zeros(3), np.zeros(3)
    for col, rng in ((hcol, h_range), (vcol, v_range)):
        lo_um[_AXIS[col]], hi_um[_AXIS[col]] = sorted(map(float, rng))
    free = ({"x_um", "y_um", "z_um"} - {hcol, vcol}).pop()
    values = frame[free].to_numpy(float)
    if values.size == 0:
        raise InvalidInputError("The soma map is empty: draw it before boxing cells.")
    lo_um[_AXIS[free]], hi_um[_AXIS[free]] = np.nanmin(values), np.nanmax(values)
    tf = DepthTransform.from_manifest(transform)
    if tf.kind in ("minnie65", "v1dd"):
        return _rotated_box(tf, lo_um, hi_um, res, free)
    if tf.kind == "linear" and tf.axis != "y":
        raise InvalidInputError("A box on this map cannot be put back in voxels: its depth "
                                f"runs along {tf.axis}, not y.",
                                hint="Select the cells instead and use their root ids.")
    lo_nm, hi_nm = lo_um * 1000.0, hi_um * 1000.0
    if tf.kind == "linear":
        # depth_um = s * (coord - pia) / 1000 with coord = x sin(a) + y cos(a), s = -1 if flipped
        s = -1.0 if tf.flip else 1.0
        a = math.radians(tf.angle_deg)
        ys = [(s * d + tf.pia_nm) for d in (lo_nm[1], hi_nm[1])]
        if a != 0.0:  # tilted: y of each corner depends on x too; the box around them
            xs = (lo_nm[0], hi_nm[0])
            y = [(c - x * math.sin(a)) / math.cos(a) for c in ys for x in xs]
            lo_nm[1], hi_nm[1] = min(y), max(y)
            return _box(lo_nm, hi_nm, res, free, False, "The map's depth axis is tilted: the "
                        "voxel box holds the drawn box and a margin.")
        lo_nm[1], hi_nm[1] = min(ys), max(ys)
    return _box(lo_nm, hi_nm, res, free, True, "The drawn box, in voxels (exact).")


def _rotated_box(tf: DepthTransform, lo_um, hi_um, res, free) -> VoxelBox:
    import warnings
    import standard_transform as st
    make = st.minnie_transform if tf.kind == "minnie65" else st.v1dd_transform
    corners = np.array([[x, y, z] for x in (lo_um[0], hi_um[0]) for y in (lo_um[1], hi_um[1])
                        for z in (lo_um[2], hi_um[2])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nm = np.asarray(make(resolution="nm", version=tf.version).invert(corners), float)
    return _box(nm.min(axis=0), nm.max(axis=0), res, free, False,
                f"The map is in {tf.kind}'s rotated frame: the voxel box holds the drawn box "
                "and a margin (the selected cells themselves are exact).")


def _box(lo_nm, hi_nm, res, free, exact, note) -> VoxelBox:
    lo, hi = np.asarray(lo_nm) / res, np.asarray(hi_nm) / res
    i = _AXIS[free]
    lo[i], hi[i] = np.floor(lo[i]) - 1.0, np.ceil(hi[i]) + 1.0  # every soma on that axis
    return VoxelBox(tuple(float(v) for v in lo), tuple(float(v) for v in hi), exact, note)
