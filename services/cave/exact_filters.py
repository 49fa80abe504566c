"""Filters applied on the client, with SQL's answers, after the server has applied its part.

The CAVE server ignores ``!=``/``not in`` on versioned queries, and one request carries one
value per filter kind and column, so :func:`models.filters.plan_filters` leaves some filters
for the client. They must give what SQL gives:
- a missing value (NULL/NaN/None) never passes, neither ``=`` nor ``!=``;
- root ids are 64-bit integers: compared as integers of the column's own dtype, never
  through float64 (which cannot tell 864691135101289504 from its neighbours).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from models.filters import Filter, Op


def apply_post_filters(frame: pd.DataFrame, post) -> pd.DataFrame:
    """The rows of ``frame`` that pass every filter in ``post`` (index reset)."""
    if not post or frame is None or not len(frame):
        return frame
    keep = np.ones(len(frame), dtype=bool)
    for f in post:
        keep &= post_mask(frame[f.column], f)
    if keep.all():
        return frame
    return frame[keep].reset_index(drop=True)


def post_mask(series: pd.Series, f: Filter) -> np.ndarray:
    values = list(f.value) if f.op in (Op.IN, Op.NOT_IN) else [f.value]
    present = ~series.isna().to_numpy()
    hit = isin_exact(series, values)
    if f.op in (Op.EQ, Op.IN):
        return present & hit
    if f.op in (Op.NE, Op.NOT_IN):
        return present & ~hit
    raise ValueError(f"'{f.op.value}' is applied by the server, not on the client")


def isin_exact(series: pd.Series, values) -> np.ndarray:
    """``series.isin(values)``, exact for 64-bit integer columns."""
    dtype = series.dtype
    np_dtype = getattr(dtype, "numpy_dtype", dtype)  # pandas' nullable Int64/UInt64
    if isinstance(np_dtype, np.dtype) and np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        wanted = []
        for v in values:
            if isinstance(v, (bool, np.bool_)) or v is None:
                continue
            try:
                iv = int(v)
            except (TypeError, ValueError, OverflowError):
                continue
            if iv == v and info.min <= iv <= info.max:  # 1.5 or an out-of-range id: no row
                wanted.append(iv)
        if not wanted:
            return np.zeros(len(series), dtype=bool)
        if isinstance(dtype, np.dtype):
            data = series.to_numpy()
        else:
            data = series.to_numpy(dtype=np_dtype, na_value=0)
        return np.isin(data, np.array(wanted, dtype=np_dtype))
    return series.isin(values).to_numpy()
