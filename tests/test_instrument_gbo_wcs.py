"""GBO goals and the WCS-10 workforce confidence survey."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import outcomes as oc
from _helpers import frame


def test_gbo_goals_and_mean():
    rows = [{"goal1": 3, "goal2": 7}, {"goal1": 10, "goal2": 0, "goal3": 5}, {"goal1": np.nan}]
    out = oc.score(frame("gbo", rows), "gbo")
    assert out["goal_1"].tolist()[:2] == [3, 10]
    assert out.loc[0, "goal_mean"] == 5.0  # (3 + 7) / 2
    assert out.loc[1, "goal_mean"] == 5.0  # (10 + 0 + 5) / 3
    assert np.isnan(out.loc[2, "goal_mean"])
    assert oc.load_instrument("gbo").scale("goal_1").reliable_change.threshold == 3


def test_gbo_only_goal1_column_required():
    out = oc.score(pd.DataFrame({"goal1": [4, 6]}), "gbo")
    assert out["goal_mean"].tolist() == [4, 6] and out["goal_2"].isna().all()


def test_gbo_rejects_out_of_range_and_words():
    df = pd.DataFrame({"goal1": ["7", "eleven", 11, 6.5]})
    with pytest.raises(oc.InvalidResponsesError) as err:
        oc.score(df, "gbo")
    issues = err.value.issues
    assert issues["row"].tolist() == [1, 2, 3]
    assert "unknown label" in issues.iloc[0]["reason"]
    assert "out of range" in issues.iloc[1]["reason"]


def _wcs(values):
    return {f"q{i}": v for i, v in enumerate(values, start=1)}


def test_wcs_mean_with_not_applicable():
    rows = [
        _wcs([4, 4, 5, 3, 2, 4, 3, 4, 5, 2]),  # 36 / 10 = 3.6
        _wcs([4, 4, 5, 3, 2, 4, 3, 4, 9, 9]),  # 2 N/A: 29 / 8 = 3.625
        _wcs([4, 4, 5, 3, 2, 4, 3, 9, 9, 9]),  # 3 N/A: below 8 answered
        _wcs(["Agree", "strongly agree", "Neutral", "Disagree", "N/A", 1, 2, 3, 4, 5]),  # 34/9
    ]
    out = oc.score(frame("workforce_confidence", rows), "workforce_confidence")
    assert out.loc[0, "confidence"] == pytest.approx(3.6)
    assert out.loc[1, "confidence"] == pytest.approx(29 / 8)
    assert np.isnan(out.loc[2, "confidence"])
    assert out.loc[3, "confidence"] == pytest.approx((4 + 5 + 3 + 2 + 1 + 2 + 3 + 4 + 5) / 9)


def test_wcs_wording_is_ours_and_stored():
    inst = oc.load_instrument("workforce_confidence")
    assert inst.licence.embed_wording
    assert inst.item("q2").text.startswith("I feel confident starting a conversation")
    assert inst.item("overall").required is False
