"""Downsampling an ordered sparse matrix into a display image, against a dense reference."""
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from models.errors import InvalidInputError
from services.connectivity.aggregation import aggregate_synapse_table
from services.connectivity.connectivity_image import downsample_coo, downsample_matrix
from services.connectivity.connectivity_matrix import build_matrix
from tests.unit.connectivity.test_connectivity_aggregation import random_synapses


def dense_blocks(dense, out_h, out_w, reduce):
    """Reference: pixel (y, x) covers rows with floor(r * out_h / n_rows) == y (same for x)."""
    n_r, n_c = dense.shape
    py = np.arange(n_r) * out_h // n_r
    px = np.arange(n_c) * out_w // n_c
    img = np.zeros((out_h, out_w))
    for y in range(out_h):
        for x in range(out_w):
            block = dense[np.ix_(py == y, px == x)]
            img[y, x] = {"max": block.max, "mean": block.mean, "sum": block.sum}[reduce]()
    return img


@pytest.mark.parametrize("reduce", ["max", "mean", "sum"])
@pytest.mark.parametrize("shape,out", [((37, 91), (10, 13)), ((8, 8), (8, 8)), ((50, 7), (6, 7))])
def test_matches_dense_reference(reduce, shape, out):
    rng = np.random.default_rng(sum(shape))
    dense = np.where(rng.random(shape) < 0.1, rng.integers(1, 9, shape), 0).astype(float)
    img = downsample_matrix(sp.csr_matrix(dense), out[1], out[0], reduce=reduce)
    assert img.image.dtype == np.float32 and img.image.shape == out
    np.testing.assert_allclose(img.image, dense_blocks(dense, *out, reduce), rtol=1e-6)
    # pixel edges agree with the binning
    for y in range(img.height):
        assert all(r * out[0] // shape[0] == y for r in img.pixel_rows(y))


def test_never_upsamples():
    img = downsample_matrix(sp.csr_matrix(np.eye(5)), 1600, 900)
    assert img.image.shape == (5, 5)
    np.testing.assert_array_equal(img.image, np.eye(5))


def test_connectivity_matrix_weight_and_type_lines():
    df = random_synapses(20, n=3000, n_pre=25, n_post=70)
    m = build_matrix(aggregate_synapse_table(df))
    img = downsample_matrix(m, 20, 10, weight="size_sum", reduce="max")
    ref = dense_blocks(m.to_csr("size_sum").toarray(), 10, 20, "max")
    np.testing.assert_allclose(img.image, ref, rtol=1e-6)
    assert img.row_to_pixel(25) == 10 and img.col_to_pixel(35) == 10


def test_tutorial_sized_shape_without_dense_allocation():
    rng = np.random.default_rng(0)
    shape = (2275, 63718)
    rows = rng.integers(0, shape[0], 200_000)
    cols = rng.integers(0, shape[1], 200_000)
    vals = rng.random(200_000) + 0.5
    tracemalloc.start()
    img = downsample_coo(rows, cols, vals, shape, 1600, 900, "mean")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert img.image.shape == (900, 1600)
    assert peak < 100e6  # dense float64 would be 1.16 GB
    rows_of = np.arange(shape[0]) * 900 // shape[0]
    cols_of = np.arange(shape[1]) * 1600 // shape[1]
    for y, x in [(0, 0), (450, 800), (899, 1599), (17, 1203)]:
        hit = (rows_of[rows] == y) & (cols_of[cols] == x)
        area = (rows_of == y).sum() * (cols_of == x).sum()
        assert img.image[y, x] == pytest.approx(vals[hit].sum() / area, rel=1e-5)


def test_bad_arguments():
    m = sp.csr_matrix(np.ones((3, 3)))
    with pytest.raises(InvalidInputError):
        downsample_matrix(m, 0, 10)
    with pytest.raises(InvalidInputError):
        downsample_matrix(m, 10, 10, reduce="median")
    with pytest.raises(InvalidInputError):
        downsample_matrix(sp.csr_matrix(-np.ones((3, 3))), 2, 2)
    with pytest.raises(InvalidInputError):
        downsample_matrix(np.ones((3, 3)), 2, 2)
