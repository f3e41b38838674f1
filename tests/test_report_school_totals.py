"""The school section's table by school: totals from one groupby, the same table as the frame
and concat per cohort and wave it replaced."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.report.sections.school import _with_totals


def _old(by_school):
    # the loop before _with_totals (a copy)
    parts = []
    for (c, w), g in by_school.groupby(["cohort", "wave"], sort=False):
        g = g[["cohort", "wave", "school_id", "n", "cases"]]
        tot = {"cohort": c, "wave": w, "school_id": "Total", "n": g["n"].sum(),
               "cases": g["cases"].sum()}  # fmt: skip
        parts.append(pd.concat([g, pd.DataFrame([tot])], ignore_index=True))
    return pd.concat(parts, ignore_index=True)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["programme", "comparison", "other", None]),
            st.sampled_from(["2024", "2025", None]),
            st.sampled_from(["s1", "s2", "s3", None]),
            st.integers(0, 50),
            st.integers(0, 50),
        ),
        min_size=1,
        max_size=25,
    ),
    school_dtype=st.sampled_from(["str", "string"]),
)
def test_same_table_as_the_loop(rows, school_dtype):
    by_school = pd.DataFrame(rows, columns=["cohort", "wave", "school_id", "n", "cases"])
    by_school["school_id"] = by_school["school_id"].astype(school_dtype)
    by_school = by_school.assign(prevalence=0.5, note="")
    if by_school[["cohort", "wave"]].notna().all(axis=1).any():
        pd.testing.assert_frame_equal(_with_totals(by_school), _old(by_school))
    else:
        with pytest.raises(ValueError):
            _old(by_school)
        with pytest.raises(ValueError, match="no cohort and wave"):
            _with_totals(by_school)
