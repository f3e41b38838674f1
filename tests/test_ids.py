"""outcomes._internal.ids against plain Python: is_in and index_in against Python's own
membership test, of_another_person against index_in's equality, of_shared_referral against a
count of persons per referral."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from outcomes._internal.ids import index_in, is_in, of_another_person, of_shared_referral

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


@given(
    rows=st.lists(st.tuples(st.integers(-1, 3), st.one_of(CELL, st.just(pd.NA))), max_size=30),
    ref_persons=st.lists(
        st.one_of(CELL, st.sampled_from([1.0, 2.0, np.nan])), min_size=4, max_size=4
    ),
    text=st.booleans(),
)
def test_of_another_person_compares_as_index_in(rows, ref_persons, text):
    # a row names referral pos (-1: none) with a person; it is another's when both persons
    # are there and index_in would not find the row's person among the referral's
    if text:
        rows = [(r, p if pd.isna(p) else str(p)) for r, p in rows]
        ref_persons = [p if pd.isna(p) else str(p) for p in ref_persons]
    pos = np.array([r for r, _ in rows], dtype=np.int64)
    persons = pd.Series([p for _, p in rows], dtype=object)
    refs = pd.Series(ref_persons, dtype=object)
    want = [
        r >= 0
        and not pd.isna(p)
        and not pd.isna(refs[r])
        and index_in(pd.Series([p], dtype=object), pd.Series([refs[r]], dtype=object))[0] < 0
        for r, p in rows
    ]
    assert of_another_person(pos, persons, refs).tolist() == want


def test_of_another_person_a_whole_number_is_its_float():
    got = of_another_person(np.array([0, 0, 0, 0]), pd.Series([1.0, 1, "1", " 1"], dtype=object),
                            pd.Series([1]))  # fmt: skip
    assert got.tolist() == [False, False, True, True]


@given(rows=st.lists(st.tuples(st.integers(-1, 4), st.integers(-1, 3)), max_size=40))
def test_of_shared_referral_matches_a_count_of_persons(rows):
    persons: dict[int, set[int]] = {}
    for r, p in rows:
        if r >= 0 and p >= 0:
            persons.setdefault(r, set()).add(p)
    want = [r >= 0 and p >= 0 and len(persons[r]) > 1 for r, p in rows]
    got = of_shared_referral(
        np.array([r for r, _ in rows], dtype=np.int64),
        np.array([p for _, p in rows], dtype=np.int64),
    )
    assert got.tolist() == want
