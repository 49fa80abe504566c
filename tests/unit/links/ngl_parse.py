"""Read links back as Neuroglancer itself does (neuroglancer.parse_url / ViewerState):
annotation points and the view position in nm, and each annotation's tags."""
import numpy as np


def _scales_nm(space) -> np.ndarray:
    """nm per unit of a CoordinateSpace (x, y, z)."""
    return np.array([space[a][0] * 1e9 for a in "xyz"], dtype=float)


def layer_scale_nm(state, layer) -> np.ndarray:
    """nm per unit of an annotation layer's points: its source's transform, else the state's."""
    src = layer.source[0] if len(layer.source) else None
    tr = getattr(src, "transform", None)
    if tr is not None and tr.output_dimensions is not None:
        return _scales_nm(tr.output_dimensions)
    return _scales_nm(state.dimensions)


def ann_nm(state, name: str) -> np.ndarray:
    """(n, 3) points of annotation layer ``name`` in nm."""
    layer = state.layers[name]
    pts = np.array([a.point for a in layer.annotations], dtype=float).reshape(-1, 3)
    return pts * layer_scale_nm(state, layer)


def position_nm(state) -> np.ndarray:
    return np.asarray(state.position, dtype=float) * _scales_nm(state.dimensions)


def tags_of(layer, ann) -> set:
    """The tag names set on an annotation (classic: bool props named by the tag; Spelunker:
    uint8 props whose 'tag' field names it)."""
    props = layer.annotation_properties
    out = set()
    for p, v in zip(props, ann.props or []):
        if v:
            out.add(getattr(p, "tag", None) or p.to_json().get("tag") or p.id)
    return out
