"""A skeleton drawn to a PNG without Qt (for the CLI): numpy rasterises the edges, zlib
writes the PNG. Colours are the Morphology view's compartment colours; y (depth, when the
datastack has a transform) grows downwards as in the view; a scale bar with its length in
um sits at the bottom right, and a legend of the compartments drawn at the top left (a
small built-in pixel font: no font files, no Pillow).
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from models.errors import InvalidInputError
from services.morphology.skeleton import Skeleton
from services.morphology.synapse_colouring import COMPARTMENT_COLOURS, compartment_name

PROJECTIONS = {"xy": (0, 1), "zy": (2, 1), "xz": (0, 2)}
MARGIN = 40
# 3x5 glyphs, rows top to bottom ("#" = ink): what labels and the scale bar need
_GLYPHS = {
    "0": "### #.# #.# #.# ###", "1": ".#. ##. .#. .#. ###", "2": "### ..# ### #.. ###",
    "3": "### ..# ### ..# ###", "4": "#.# #.# ### ..# ..#", "5": "### #.. ### ..# ###",
    "6": "### #.. ### #.# ###", "7": "### ..# ..# ..# ..#", "8": "### #.# ### #.# ###",
    "9": "### #.# ### ..# ###", " ": "... ... ... ... ...", "a": "... ### ..# #.# ###",
    "b": "#.. #.. ### #.# ###", "c": "... ### #.. #.. ###", "d": "..# ..# ### #.# ###",
    "e": "... ### ### #.. ###", "f": ".## #.. ### #.. #..", "h": "#.. #.. ### #.# #.#",
    "i": ".#. ... .#. .#. .#.", "l": "#.. #.. #.. #.. .##", "m": "... ### ### #.# #.#",
    "n": "... ##. #.# #.# #.#", "o": "... ### #.# #.# ###", "p": "... ### #.# ### #..",
    "r": "... ### #.. #.. #..", "s": "... ### ##. ..# ###", "t": "#.. ### #.. #.. .##",
    "u": "... #.# #.# #.# ###", "x": "... #.# .#. #.# #.#", "y": "... #.# ### ..# ###",
    "(": ".#. #.. #.. #.. .#.", ")": ".#. ..# ..# ..# .#.", "-": "... ... ### ... ...",
    ".": "... ... ... ... .#.", ",": "... ... ... .#. #..", "k": "#.. #.# ##. #.# #.#",
    "g": "... ### #.# ### ..#", "v": "... #.# #.# #.# .#.", "w": "... #.# #.# ### ###",
    "z": "... ### .#. #.. ###", "q": "... ### #.# ### ..#", "j": "..# ... ..# #.# ###",
}


def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.uint8)


def _text(img: np.ndarray, x: int, y: int, text: str, colour, scale: int = 2) -> None:
    """Draw ``text`` with its top-left corner at (x, y); unknown characters are blanks."""
    for k, ch in enumerate(text.lower()):
        glyph = _GLYPHS.get(ch, _GLYPHS[" "]).split()
        for r, row in enumerate(glyph):
            for c, px in enumerate(row):
                if px == "#":
                    x0, y0 = x + (4 * k + c) * scale, y + r * scale
                    img[y0:y0 + scale, x0:x0 + scale] = colour


def _segments(p: np.ndarray, edges: np.ndarray):
    """Pixel samples along each edge, vectorised: (rows, cols, edge index)."""
    a, b = p[edges[:, 0]], p[edges[:, 1]]
    steps = np.maximum(np.ceil(np.abs(b - a).max(axis=1)).astype(np.int64), 1) + 1
    which = np.repeat(np.arange(len(edges)), steps)
    start = np.repeat(np.cumsum(steps) - steps, steps)
    t = (np.arange(which.size) - start) / np.repeat(steps - 1, steps)
    pts = a[which] + (b[which] - a[which]) * t[:, None]
    return np.rint(pts[:, 1]).astype(np.int64), np.rint(pts[:, 0]).astype(np.int64), which


def render_skeleton(skel: Skeleton, coords_um: np.ndarray, projection: str = "xy",
                    size: int = 1000, line_px: int = 2, depth_axis_down: bool = True,
                    axes: str = "") -> np.ndarray:
    """An (h, w, 3) uint8 image of the skeleton in ``coords_um`` (display coordinates);
    ``axes``, if given, is written at the bottom left (e.g. "x - depth (um)")."""
    if projection not in PROJECTIONS:
        raise InvalidInputError(f"Unknown projection '{projection}'.", field="projection",
                                hint="Use xy, zy or xz.")
    i, j = PROJECTIONS[projection]
    xy = np.asarray(coords_um, dtype=float)[:, [i, j]]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.maximum(hi - lo, 1e-9)
    scale = (size - 2 * MARGIN) / span.max()
    w, h = (np.ceil(span * scale).astype(int) + 2 * MARGIN)
    p = (xy - lo) * scale + MARGIN
    if not (j == 1 and depth_axis_down):  # image rows grow downwards; other axes go up
        p[:, 1] = h - 1 - p[:, 1]
    img = np.full((h, w, 3), 255, dtype=np.uint8)
    comp = skel.compartment if skel.compartment is not None else np.zeros(skel.n_vertices, int)
    edge_comp = comp[skel.edges[:, 0]] if len(skel.edges) else np.zeros(0, int)
    rows, cols, which = _segments(p, skel.edges) if len(skel.edges) else (
        np.zeros(0, int), np.zeros(0, int), np.zeros(0, int))
    codes = sorted(set(edge_comp.tolist()), key=lambda c: (c != 2, c))  # axon drawn first
    for code in codes:
        sel = edge_comp[which] == code
        colour = _rgb(COMPARTMENT_COLOURS.get(int(code), "#808080") if
                      skel.compartment is not None else "#404040")
        for dr in range(line_px):
            for dc in range(line_px):
                r = np.clip(rows[sel] + dr, 0, h - 1)
                c = np.clip(cols[sel] + dc, 0, w - 1)
                img[r, c] = colour
    # the soma (root) as a disc
    cy, cx = p[skel.root, 1], p[skel.root, 0]
    yy, xx = np.ogrid[:h, :w]
    img[(yy - cy) ** 2 + (xx - cx) ** 2 <= 7 ** 2] = _rgb(COMPARTMENT_COLOURS[1])
    _legend(img, [1] + [c for c in codes if c != 1], skel.compartment is not None)
    _scale_bar(img, scale, float(span[0]))
    if axes:
        _text(img, 8, h - 18, axes, (90, 90, 90))
    return img


def _legend(img: np.ndarray, codes, labelled: bool) -> None:
    y = 8
    for code in (codes if labelled else [0, 1]):
        colour = _rgb(COMPARTMENT_COLOURS.get(int(code), "#808080") if labelled or code
                      else "#404040")
        img[y:y + 10, 8:18] = colour
        name = compartment_name(code) if labelled else ("skeleton" if code == 0 else "root")
        _text(img, 24, y, name, (0, 0, 0))
        y += 16


def _scale_bar(img: np.ndarray, px_per_um: float, extent_um: float) -> None:
    h, w = img.shape[:2]
    size = next((s for s in (500, 200, 100, 50, 20, 10, 5, 2, 1) if s <= extent_um / 4), 1)
    length = max(1, int(round(size * px_per_um)))
    x1, y = w - 12, h - 14
    x0 = max(0, x1 - length)
    img[y:y + 4, x0:x1] = 0
    label = f"{size} um"
    _text(img, max(0, x1 - len(label) * 8), y - 14, label, (0, 0, 0))


def png_bytes(img: np.ndarray) -> bytes:
    """An RGB uint8 image as PNG bytes (8-bit truecolour, no filtering)."""
    h, w = img.shape[:2]
    raw = np.concatenate([np.zeros((h, 1), np.uint8), img.reshape(h, w * 3)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + chunk(b"IEND", b""))
