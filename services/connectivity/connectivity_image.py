"""Downsample an ordered sparse connectivity matrix into a display image.

A 2275 x 63,718 matrix shown in a 1600 x 900 view puts ~40 columns and ~2.5 rows in a
pixel. Each connected pair is binned straight into its pixel, so the cost is O(pairs) and
the dense matrix is never allocated. The image is never larger than the matrix (no
upsampling): the view scales it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from models.errors import InvalidInputError
from services.connectivity.connectivity_matrix import ConnectivityMatrix, TypeBlock

if TYPE_CHECKING:  # annotations only: scipy loads when a sparse matrix is made
    import scipy.sparse

REDUCTIONS = ("max", "mean", "sum")


@dataclass
class MatrixImage:
    """image[y, x] (float32) summarises matrix rows/columns that fall in pixel (y, x).

    Pixel y covers matrix rows [row_edges[y], row_edges[y + 1]); the same for x/columns.
    ``reduce`` says how: max weight, mean over every cell of the block (zeros included,
    i.e. weight density) or sum.
    """
    image: np.ndarray
    row_edges: np.ndarray
    col_edges: np.ndarray
    matrix_shape: tuple[int, int]
    reduce: str
    #: pair_index[y, x]: index (into the COO arrays) of the pair the pixel shows, the one
    #: with the largest weight; -1 for an empty pixel. Built in the worker with the image.
    pair_index: np.ndarray | None = None

    def pair_at(self, x: int, y: int) -> int:
        """The pair shown at pixel (x, y), or -1: O(1), for hover and click."""
        if self.pair_index is None or not (0 <= y < self.height and 0 <= x < self.width):
            return -1
        return int(self.pair_index[y, x])

    @property
    def height(self) -> int:
        return self.image.shape[0]

    @property
    def width(self) -> int:
        return self.image.shape[1]

    def row_to_pixel(self, row: float) -> float:
        """Continuous pixel coordinate of a matrix row boundary (for type lines)."""
        return row * self.height / max(self.matrix_shape[0], 1)

    def col_to_pixel(self, col: float) -> float:
        return col * self.width / max(self.matrix_shape[1], 1)

    def pixel_rows(self, y: int) -> range:
        """Matrix rows under pixel row ``y`` (for hover text)."""
        return range(int(self.row_edges[y]), int(self.row_edges[y + 1]))

    def pixel_cols(self, x: int) -> range:
        return range(int(self.col_edges[x]), int(self.col_edges[x + 1]))

    def block_lines(self, blocks: list[TypeBlock], axis: str) -> list[tuple[str, float, float]]:
        """(label, first pixel, last pixel) of each type block along 'rows' or 'cols'."""
        to_px = self.row_to_pixel if axis == "rows" else self.col_to_pixel
        return [(b.label, to_px(b.start), to_px(b.stop)) for b in blocks]


def _pixel_edges(n: int, out: int) -> np.ndarray:
    """First item of each of ``out`` pixels sharing n items: ceil(p * n / out), p = 0..out.

    Matches the pixel of item i, floor(i * out / n), used when binning."""
    return -(-np.arange(out + 1, dtype=np.int64) * n // out)


def downsample_coo(rows, cols, values, shape: tuple[int, int], width: int, height: int,
                   reduce: str = "max") -> MatrixImage:
    """Core: bin COO entries (row, col, value >= 0) of a ``shape`` matrix into pixels."""
    n_rows, n_cols = int(shape[0]), int(shape[1])
    if width < 1 or height < 1:
        raise InvalidInputError(f"Image size {width} x {height} must be at least 1 x 1.")
    if reduce not in REDUCTIONS:
        raise InvalidInputError(f"Unknown reduction '{reduce}'.",
                                hint=f"Choose one of: {', '.join(REDUCTIONS)}.")
    out_h, out_w = max(min(height, n_rows), 1), max(min(width, n_cols), 1)
    row_edges = _pixel_edges(n_rows, out_h)
    col_edges = _pixel_edges(n_cols, out_w)
    image = np.zeros(out_h * out_w, dtype=np.float32)
    best = None
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if rows.size:
        if values.min() < 0:
            # Pixels start at 0 for the empty cells; negative weights would be hidden by max.
            raise InvalidInputError("Connectivity weights must not be negative.")
        # Pixel of row r is the p with edges[p] <= r < edges[p+1]: floor(r * out / n).
        py = rows * out_h // n_rows
        px = cols * out_w // n_cols
        flat = py * out_w + px
        if reduce == "max":  # the same maxima the best pair per pixel is found with
            best = pixel_maxima(flat, values, out_h * out_w)
            image = np.where(best > -np.inf, best, 0).astype(np.float32)
        else:
            sums = np.bincount(flat, weights=values, minlength=out_h * out_w)
            if reduce == "mean":
                area = (np.diff(row_edges)[:, None] * np.diff(col_edges)[None, :]).ravel()
                sums = sums / np.maximum(area, 1)
            image = sums.astype(np.float32)
    pair_index = best_pair_per_pixel(flat if rows.size else np.zeros(0, np.int64), values,
                                     out_h * out_w, best).reshape(out_h, out_w)
    return MatrixImage(image.reshape(out_h, out_w), row_edges, col_edges,
                       (n_rows, n_cols), reduce, pair_index)


def pixel_maxima(flat: np.ndarray, values: np.ndarray, n_pixels: int) -> np.ndarray:
    """Each pixel's largest value (float64), -inf where no pair falls."""
    best = np.full(n_pixels, -np.inf)
    np.maximum.at(best, flat, values)
    return best


def best_pair_per_pixel(flat: np.ndarray, values: np.ndarray, n_pixels: int,
                        best: np.ndarray | None = None) -> np.ndarray:
    """For each pixel, the index of its pair with the largest value (ties: the last in
    COO order), -1 where no pair falls; O(pairs), no sort. ``best``: the pixel_maxima,
    if already made."""
    out = np.full(n_pixels, -1, dtype=np.int64)
    if flat.size == 0:
        return out
    if best is None:
        best = pixel_maxima(flat, values, n_pixels)
    win = np.flatnonzero(values >= best[flat])
    out[flat[win]] = win  # fancy assignment keeps the last write for repeated pixels
    return out


def downsample_matrix(matrix: "ConnectivityMatrix | scipy.sparse.spmatrix", width: int,
                      height: int, *, weight: str = "count", reduce: str = "max") -> MatrixImage:
    """Display image (at most ``height`` x ``width`` pixels) of an ordered sparse matrix.

    ``matrix`` is a :class:`ConnectivityMatrix` (``weight`` picks the weight) or any scipy
    sparse matrix (its values are used as they are).
    """
    if isinstance(matrix, ConnectivityMatrix):
        return downsample_coo(matrix.rows, matrix.cols, matrix.pair_weights(weight),
                              matrix.shape, width, height, reduce)
    import scipy.sparse as sp  # only here: scipy is off the app's start-up path
    if sp.issparse(matrix):
        coo = matrix.tocoo()
        coo.sum_duplicates()
        return downsample_coo(coo.row, coo.col, coo.data, coo.shape, width, height, reduce)
    raise InvalidInputError("Expected a connectivity matrix or a scipy sparse matrix.")
