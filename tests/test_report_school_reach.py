"""The school section's responses by school: each survey's counts and waves from one groupby,
and the cohorts' Total rows from one stable sort, the same table and facts as the code they
replaced (kept here as the reference)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.report.release import NOT_APPLICABLE
from outcomes.report.sections.school import _cohorts, _responses, _with_cohort_totals


def _old_responses(data, name):
    # the code before _responses (a copy)
    n = data.groupby(["cohort", "school_id"], sort=False).size().rename("responses")
    seen = data[["cohort", "school_id"]].assign(wave=data["wave"].astype(str))
    seen = seen.drop_duplicates()
    waves = seen.groupby(["cohort", "school_id"], sort=False)["wave"].agg(", ".join)
    return pd.concat([n, waves.rename("waves")], axis=1).reset_index().assign(survey=name)


def _old_totals(t):
    # the code before _with_cohort_totals (a copy)
    rows = []
    for c in _cohorts(t):
        g = t[t["cohort"] == c].sort_values(["school_id", "survey"], kind="stable")
        tot = {col: NOT_APPLICABLE for col in t.columns} | {"cohort": c, "school_id": "Total",
               "responses": int(g["responses"].sum())}  # fmt: skip
        rows.append(pd.concat([g, pd.DataFrame([tot])], ignore_index=True))
    out = pd.concat(rows, ignore_index=True)
    reached = {
        c: int(g.loc[(g["school_id"] != "Total") & (g["responses"] > 0), "school_id"].nunique())
        for c, g in out.groupby("cohort", sort=False)
    }
    listed = {
        c: int(g.loc[g["school_id"] != "Total", "school_id"].nunique())
        for c, g in out.groupby("cohort", sort=False)
    }
    return out, reached, listed


COHORTS = st.sampled_from(["programme", "comparison", "other", None])
SCHOOLS = st.sampled_from(["s1", "s2", "s3", "Total", None])


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(COHORTS, SCHOOLS, st.sampled_from(["autumn", "spring", "summer", None])),
        max_size=30,
    ),
    text=st.sampled_from(["str", "string", object]),
    wave_kind=st.sampled_from(["text", "number", "category"]),
)
def test_responses_as_before(rows, text, wave_kind):
    data = pd.DataFrame(rows, columns=["cohort", "school_id", "wave"])
    data[["cohort", "school_id"]] = data[["cohort", "school_id"]].astype(text)
    if wave_kind == "number":
        data["wave"] = data["wave"].map({"autumn": 1, "spring": 2, "summer": 3})
    elif wave_kind == "category":
        data["wave"] = data["wave"].astype("category")
    else:
        data["wave"] = data["wave"].astype(text)
    try:
        old = _old_responses(data, "SDQ")
    except TypeError:  # a missing wave cannot be joined: refused the same way
        with pytest.raises(TypeError):
            _responses(data, "SDQ")
        return
    pd.testing.assert_frame_equal(_responses(data, "SDQ"), old)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["programme", "comparison", "other", "zeta"]),
            SCHOOLS,
            st.sampled_from(["primary", "secondary", "not recorded"]),
            st.integers(0, 40),
            st.sampled_from(["autumn", "autumn, spring", "none"]),
            st.sampled_from(["SDQ", "Stirling", "none"]),
        ),
        min_size=1,
        max_size=30,
    ),
    text=st.sampled_from(["str", "string"]),
)
def test_totals_as_before(rows, text):
    t = pd.DataFrame(rows, columns=["cohort", "school_id", "phase", "responses", "waves", "survey"])
    for c in ("cohort", "school_id", "phase", "waves", "survey"):
        t[c] = t[c].astype(text)
    out, reached, listed = _with_cohort_totals(t)
    old_out, old_reached, old_listed = _old_totals(t)
    pd.testing.assert_frame_equal(out, old_out)
    assert list(reached.items()) == list(old_reached.items())
    assert list(listed.items()) == list(old_listed.items())
