"""columns_frame keeps a frame's own column Index when the names are its labels: the same
frame as setting the names as a list (values, dtypes, labels and the labels' dtype)."""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes._internal.spreadsheet import columns_frame


def _old(data, cols, names, *, given=None):
    # the function before it kept the Index: the names always set as given
    if given is not None and len(given) == len(cols) and all(map(operator.is_, cols, given)):
        out = data.copy(deep=False)
    elif not cols or not data.index.is_unique:
        out = data.copy()
        for j, col in enumerate(cols):
            out.isetitem(j, col)
    else:
        out = pd.concat(cols, axis=1, ignore_index=True)
    out.attrs = {}
    out.columns = names
    return out


LABELS = st.one_of(st.sampled_from(["a", "b", "n", "Total", "x y"]), st.integers(0, 3))


@settings(max_examples=150, deadline=None)
@given(
    labels=st.lists(LABELS, min_size=0, max_size=5, unique=True),
    rows=st.integers(0, 4),
    replace=st.lists(st.booleans(), min_size=5, max_size=5),
    as_index=st.booleans(),
    rename=st.booleans(),
    duplicate_rows=st.booleans(),
)
def test_same_frame_as_setting_the_names(labels, rows, replace, as_index, rename, duplicate_rows):
    data = pd.DataFrame(
        {c: [f"t{k}" if j % 2 else k for k in range(rows)] for j, c in enumerate(labels)}
    )
    if duplicate_rows and rows:
        data.index = [0] * rows
    data.attrs = {"x": 1}
    given_cols = [col for _, col in data.items()]
    cols = [
        pd.Series(np.arange(rows), index=data.index, name=col.name) if r else col
        for col, r in zip(given_cols, replace, strict=False)
    ]
    names = [f"{c}!" for c in labels] if rename else list(data.columns)
    if as_index:
        names = pd.Index(names)
    new = columns_frame(data, cols, names, given=given_cols)
    old = _old(data, cols, names, given=given_cols)
    pd.testing.assert_frame_equal(new, old)
    assert new.columns.dtype == old.columns.dtype
    assert new.columns.tolist() == old.columns.tolist()
    assert new.attrs == {}
    assert data.attrs == {"x": 1}
