"""outcomes._internal.ids.is_in against Python's own membership test."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from outcomes._internal.ids import index_in, is_in

TEXT = st.sampled_from(["r1", "r2", "R1", " r1", "", "1"])
CELL = st.one_of(TEXT, st.none(), st.sampled_from([1, 2]))


@given(values=st.lists(CELL, max_size=30), pool=st.lists(CELL, max_size=10), text=st.booleans())
def test_is_in_matches_python_membership(values, pool, text):
    # exact equality of the values themselves (1 is not "1", case and spaces count); a blank
    # is never found, whatever the pool holds
    if text:  # pyarrow-backed text columns take the arrow kernel
        values = [v if v is None else str(v) for v in values]
        pool = [p if p is None else str(p) for p in pool]
        series = pd.Series(values, dtype="string[pyarrow]")
    else:
        series = pd.Series(values, dtype=object)
    want = [v is not None and v in [p for p in pool if p is not None] for v in values]
    assert is_in(series, pd.Series(pool, dtype=object)).tolist() == want


@given(values=st.lists(CELL, max_size=30), pool=st.lists(CELL, max_size=10), text=st.booleans())
def test_index_in_matches_python_list_index(values, pool, text):
    # the position of each value in a pool of distinct ids, -1 when absent or blank
    pool = list(dict.fromkeys(p for p in pool if p is not None))
    if text:
        values = [v if v is None else str(v) for v in values]
        pool = list(dict.fromkeys(str(p) for p in pool))
        series = pd.Series(values, dtype="string[pyarrow]")
    else:
        series = pd.Series(values, dtype=object)
    want = [
        next((i for i, p in enumerate(pool) if type(p) is type(v) and p == v), -1)
        if v is not None
        else -1
        for v in values
    ]
    assert index_in(series, pd.Series(pool, dtype=object)).tolist() == want
