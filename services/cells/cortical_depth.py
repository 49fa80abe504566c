"""Cortical depth: soma positions to micrometres below pia, per datastack.

Each datastack's manifest may hold a ``"transform"`` dict saying how its voxel space
lies in the cortex. Recognised keys:

``{"kind": "minnie65"}``
    MICrONS cubic millimetre: the ``standard-transform`` package's ``minnie_transform``
    (rotate 5 degrees about z, put the pia point at 0, scale to um). Optional
    ``"version"`` pins a transform version of that package (e.g. ``"1.4"``). The package
    computes from constants it ships; it never touches the network.
``{"kind": "v1dd"}``
    The V1 deep dive dataset, the same way (``v1dd_transform``); optional ``"version"``.
``{"kind": "linear", "axis": "y", "pia_nm": 0.0, "angle_deg": 0.0, "flip": false}``
    Depth along one image axis. ``axis`` is ``x``, ``y`` or ``z``; ``pia_nm`` is the
    pia's coordinate (nm) along the (tilted) axis; ``angle_deg`` tilts the axis in the
    x-y plane (about z, the same sense as the minnie65 transform: a point's coordinate
    along the tilted y axis is ``x*sin(a) + y*cos(a)``); ``flip`` makes depth grow as the
    coordinate falls (a volume whose pia is at its high end). Used for pinky100.
``{"kind": "none"}`` or no transform
    Depth is unknown: results are NaN, and :meth:`DepthTransform.describe` says why.

Positions are CAVE-style (x, y, z) rows in voxels at the table's voxel resolution
(``units="vx"``), or in nanometres (``units="nm"``). Missing positions give NaN.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from models.errors import InvalidInputError

KINDS = ("minnie65", "v1dd", "linear", "none")

# CAVE's info service names a datastack's aligned volume but no depth transform: the
# volumes standard_transform knows, with its transform version pinned so that an update
# of the package cannot silently move every depth.
KNOWN_VOLUMES = {"minnie65_phase3": {"kind": "minnie65", "version": "1.4"},
                 "v1dd": {"kind": "v1dd", "version": "2.0"}}


def transform_for_volume(aligned_volume: str) -> dict:
    """The depth transform of a known aligned volume ({} when none is known)."""
    return dict(KNOWN_VOLUMES.get(str(aligned_volume or ""), {}))
_AXES = {"x": 0, "y": 1, "z": 2}


@dataclass(frozen=True)
class DepthTransform:
    """How one datastack's coordinates map to depth below pia (um)."""

    kind: str = "none"
    axis: str = "y"
    pia_nm: float = 0.0
    angle_deg: float = 0.0
    flip: bool = False
    version: str | None = None  # standard-transform version label (minnie65 / v1dd)
    params: dict = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_manifest(cls, transform: Mapping[str, Any] | None) -> "DepthTransform":
        """Read a manifest's ``"transform"`` dict; a malformed one is an InvalidInputError."""
        t = dict(transform or {})
        kind = str(t.get("kind", "none") or "none").lower()
        if kind not in KINDS:
            raise InvalidInputError(
                f"Unknown depth transform kind '{kind}' in the datastack manifest.",
                field="transform", hint="Use one of: " + ", ".join(KINDS) + ".")
        axis = str(t.get("axis", "y")).lower()
        if axis not in _AXES:
            raise InvalidInputError(f"The depth axis must be x, y or z, not '{axis}'.",
                                    field="transform")
        try:
            pia = float(t.get("pia_nm", 0.0))
            angle = float(t.get("angle_deg", 0.0))
        except (TypeError, ValueError):
            raise InvalidInputError("The transform's pia_nm and angle_deg must be numbers.",
                                    field="transform") from None
        if not (math.isfinite(pia) and math.isfinite(angle)):
            raise InvalidInputError("The transform's pia_nm and angle_deg must be finite.",
                                    field="transform")
        version = t.get("version")
        return cls(kind, axis, pia, angle, bool(t.get("flip", False)),
                   str(version) if version is not None else None, t)

    @property
    def known(self) -> bool:
        return self.kind != "none"

    def describe(self) -> str:
        if self.kind in ("minnie65", "v1dd"):
            v = f" version {self.version}" if self.version else ""
            return f"standard-transform {self.kind}{v}: um below pia along the rotated y axis"
        if self.kind == "linear":
            sign = "decreasing" if self.flip else "increasing"
            tilt = f", tilted {self.angle_deg:g} deg about z" if self.angle_deg else ""
            return (f"linear: um below pia at {self.pia_nm:g} nm along {self.axis}{tilt}, "
                    f"depth {sign} with the coordinate")
        return "no depth transform for this datastack (add \"transform\" to its manifest)"

    # ---- computing depth -------------------------------------------------------
    def depth_um(self, positions, voxel_resolution: Sequence[float] = (4, 4, 40),
                 units: str = "vx") -> np.ndarray:
        """Depth (um) for each (x, y, z) row; NaN where the position is missing."""
        pts_nm = positions_nm(positions, voxel_resolution, units)
        out = np.full(len(pts_nm), np.nan)
        if not self.known or len(pts_nm) == 0:
            return out
        ok = np.isfinite(pts_nm).all(axis=1)
        if not ok.any():
            return out
        if self.kind in ("minnie65", "v1dd"):
            out[ok] = self._standard_depth(pts_nm[ok])
        else:
            out[ok] = self._linear_depth(pts_nm[ok])
        return out

    def _standard_depth(self, pts_nm: np.ndarray) -> np.ndarray:
        import standard_transform as st
        make = st.minnie_transform if self.kind == "minnie65" else st.v1dd_transform
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tf = make(resolution="nm", version=self.version)
                return np.asarray(tf.apply_project("y", pts_nm), dtype=float).reshape(-1)
        except ValueError as exc:  # unknown version label
            raise InvalidInputError(f"Depth transform: {exc}", field="transform") from None

    def _linear_depth(self, pts_nm: np.ndarray) -> np.ndarray:
        a = math.radians(self.angle_deg)
        i = _AXES[self.axis]
        if i == 2:  # tilting the z axis in the x-y plane means nothing: plain z
            coord = pts_nm[:, 2]
        else:
            # Unit axis rotated by `a` about z (same sense as scipy's active rotation).
            u = np.array([math.sin(a), math.cos(a), 0.0]) if i == 1 else \
                np.array([math.cos(a), -math.sin(a), 0.0])
            coord = pts_nm @ u
        depth = coord - self.pia_nm
        return (-depth if self.flip else depth) / 1000.0


def positions_nm(positions, voxel_resolution: Sequence[float] = (4, 4, 40),
                 units: str = "vx") -> np.ndarray:
    """CAVE position values (lists, arrays, an (N, 3) array) as an (N, 3) float nm array."""
    if units not in ("vx", "nm"):
        raise InvalidInputError(f"Position units must be 'vx' or 'nm', not '{units}'.",
                                field="units")
    if isinstance(positions, np.ndarray) and positions.dtype != object and positions.ndim == 2:
        arr = positions.astype(float)
    else:
        seq = positions.tolist() if hasattr(positions, "tolist") else list(positions)
        if seq and np.ndim(seq[0]) == 0 and len(seq) == 3 and not _is_missing(seq[0]):
            seq = [seq]  # one (x, y, z) point
        rows = [_row(p) for p in seq]
        arr = np.vstack(rows) if rows else np.zeros((0, 3))
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InvalidInputError("Positions must be (x, y, z) triples.", field="position")
    if units == "vx":
        arr = arr * np.asarray(voxel_resolution, dtype=float)
    return arr


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _row(p) -> np.ndarray:
    if p is None or (np.ndim(p) == 0 and _is_missing(p)):
        return np.full(3, np.nan)
    r = np.asarray(p, dtype=float).reshape(-1)
    if r.size != 3:
        raise InvalidInputError(f"A position has {r.size} values, not 3 (x, y, z).",
                                field="position")
    return r


def depth_um(positions, transform: Mapping[str, Any] | DepthTransform | None,
             voxel_resolution: Sequence[float] = (4, 4, 40), units: str = "vx") -> np.ndarray:
    """Depth below pia (um) of each position under a manifest transform dict."""
    tf = transform if isinstance(transform, DepthTransform) else \
        DepthTransform.from_manifest(transform)
    return tf.depth_um(positions, voxel_resolution, units)


def datastack_depth_um(positions, datastack_info, units: str = "vx",
                       voxel_resolution: Sequence[float] | None = None) -> np.ndarray:
    """Depth for a datastack (models.datastack.DatastackInfo) using its own transform."""
    res = voxel_resolution or datastack_info.voxel_resolution
    return depth_um(positions, datastack_info.transform, res, units)
