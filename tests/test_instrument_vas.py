"""ORS, CORS and the Session Rating Scale: continuous 0-10 cm lines read to the mm
(specs/measures.md s. 1.2, 3.5, 3.6), and ORS score-level input (s. 1.3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import outcomes as oc

VAS = ["ors", "cors", "session_rating_scale"]


def _lines(a, b, c, d):
    return {"q1": a, "q2": b, "q3": c, "q4": d}


@pytest.mark.parametrize("instrument", VAS)
def test_hand_scored_row_and_valid_marks(instrument):
    # 6.3 + 7.1 + 0.0 + 10.0 = 23.4; (0.1 + 0.2) is 0.30000000000000004, a valid 0.3 cm mark
    df = pd.DataFrame([_lines(6.3, 7.1, 0.0, 10.0), _lines(0.1 + 0.2, "5.5", 10, 0)])
    out = oc.score(df, instrument)
    assert out["total"].tolist() == pytest.approx([23.4, 15.8], abs=1e-9)
    assert out.attrs["issues"].empty


@pytest.mark.parametrize("instrument", VAS)
@pytest.mark.parametrize("bad", [10.55, 11, -0.1, 5.25, 10.5, "far", True, np.inf])
def test_invalid_marks_are_refused_or_flagged(instrument, bad):
    df = pd.DataFrame([_lines(bad, 5, 5, 5)], dtype=object)
    with pytest.raises(oc.InvalidResponsesError, match="q1"):
        oc.score(df, instrument)
    out = oc.score(df, instrument, errors="flag")
    assert np.isnan(out.loc[0, "total"])
    issues = out.attrs["issues"]
    assert issues["item"].tolist() == ["q1"] and issues["severity"].tolist() == ["error"]


@pytest.mark.parametrize("instrument", VAS)
def test_all_four_lines_are_required(instrument):
    out = oc.score(pd.DataFrame([_lines(5, 5, 5, np.nan), _lines(5, 5, 5, "")]), instrument)
    assert out["total"].isna().all() and out["total_n"].tolist() == [3, 3]


def test_thresholds_and_direction():
    assert oc.load_instrument("ors").scale("total").reliable_change.threshold == 6.6
    assert oc.load_instrument("cors").scale("total").reliable_change.threshold == 10
    srs = oc.load_instrument("session_rating_scale").scale("total")
    assert srs.reliable_change is None and srs.higher_is_better
    assert all(oc.load_instrument(i).scale("total").higher_is_better for i in VAS)


def test_ors_score_level_input():
    df = pd.DataFrame({"person_id": list("abcdef"), "total": [10.5, 10.55, 40.1, -1, 40, "7.2"]})
    with pytest.raises(oc.InvalidResponsesError) as err:
        oc.score(df, "ors", input="scales")
    for v in ("10.55", "40.1", "-1"):
        assert v in str(err.value)
    out = oc.score(df, "ors", input="scales", errors="flag")
    assert out["total"].tolist()[:1] == [10.5] and out["total"].tolist()[4:] == [40, 7.2]
    assert out["total"].iloc[1:4].isna().all()
    assert sorted(out.attrs["issues"]["row"]) == [1, 2, 3]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 100), min_size=4, max_size=4))
def test_any_mark_on_the_mm_grid_is_accepted_and_summed(tenths):
    # k x 0.1 is not always exactly k/10 in binary; both must be valid marks
    a = [k * 0.1 for k in tenths]
    b = [k / 10 for k in tenths]
    out = oc.score(pd.DataFrame([_lines(*a), _lines(*b)]), "ors")
    assert out["total"].tolist() == pytest.approx([sum(tenths) / 10] * 2, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3),
                  st.none(), st.booleans()),
        min_size=4, max_size=4,
    )
)  # fmt: skip
def test_every_cell_is_answered_blank_or_flagged(cells):
    df = pd.DataFrame([_lines(*cells)], dtype=object)
    out = oc.score(df, "ors", errors="flag")
    flagged = set(out.attrs["issues"]["item"])
    n = out.loc[0, "total_n"]
    assert n + len(flagged) <= 4
    if not np.isnan(out.loc[0, "total"]):
        assert 0 <= out.loc[0, "total"] <= 40 and n == 4 and not flagged
