"""outcomes._internal.ids.is_in against Python's own membership test."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from outcomes._internal.ids import is_in

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
