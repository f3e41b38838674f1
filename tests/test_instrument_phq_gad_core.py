"""PHQ-9, GAD-7, CORE-10, WEMWBS, CGAS and SCWBS: hand-scored rows, missing-item rules at their
edge, reverse keys and bands at each boundary. Numbers are worked by hand in the comments from
the published rules (specs/measures.md s. 3.3-3.11)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import outcomes as oc
from _helpers import frame


def _items(values):
    return {f"q{i}": v for i, v in enumerate(values, start=1)}


def _to_total(total, n_items, top):
    """Item answers (0..top each) summing to ``total``."""
    out, left = [], total
    for _ in range(n_items):
        out.append(min(top, left))
        left -= out[-1]
    assert left == 0
    return out


# ------------------------------------------------------------------------------ PHQ-9, GAD-7
def test_phq9_hand_row_optional_difficulty_item_and_missing():
    # 0+1+2+3+0+1+2+3+1 = 13 -> "moderate" (10-14)
    row = _items([0, 1, 2, 3, 0, 1, 2, 3, 1])
    df = pd.DataFrame([row, {**row, "q9": np.nan}])  # no q10 column at all: still scored
    out = oc.score(df, "phq_9")
    assert out.loc[0, "total"] == 13 and out.loc[0, "total_band"] == "moderate"
    assert np.isnan(out.loc[1, "total"]) and out.loc[1, "total_n"] == 8  # no prorating
    with_q10 = oc.score(pd.DataFrame([{**row, "q10": "Very difficult"}]), "phq_9")
    assert with_q10.loc[0, "total"] == 13  # the difficulty item is never in the total
    lab = oc.score(pd.DataFrame([_items(["nearly every day"] * 9)]), "phq_9")
    assert lab.loc[0, "total"] == 27


@pytest.mark.parametrize(
    ("instrument", "n", "edges"),
    [
        ("phq_9", 9, {0: "minimal", 4: "minimal", 5: "mild", 9: "mild", 10: "moderate",
                      14: "moderate", 15: "moderately severe", 19: "moderately severe",
                      20: "severe", 27: "severe"}),
        ("gad_7", 7, {0: "minimal", 4: "minimal", 5: "mild", 9: "mild", 10: "moderate",
                      14: "moderate", 15: "severe", 21: "severe"}),
    ],
)  # fmt: skip
def test_severity_bands_at_each_boundary(instrument, n, edges):
    df = pd.DataFrame([_items(_to_total(t, n, 3)) for t in edges])
    out = oc.score(df, instrument)
    assert out["total"].tolist() == list(edges)
    assert out["total_band"].tolist() == list(edges.values())


def test_gad7_hand_row_and_thresholds():
    # 3+2+1+0+1+2+3 = 12 -> moderate
    out = oc.score(pd.DataFrame([_items([3, 2, 1, 0, 1, 2, 3])]), "gad_7")
    assert out.loc[0, "total"] == 12 and out.loc[0, "total_band"] == "moderate"
    assert oc.load_instrument("gad_7").scale("total").reliable_change.threshold == 4
    assert oc.load_instrument("phq_9").scale("total").reliable_change.threshold == 6
    with pytest.raises(oc.InvalidResponsesError, match="q7"):
        oc.score(pd.DataFrame([_items([0, 0, 0, 0, 0, 0, 4])]), "gad_7")


# ------------------------------------------------------------------------------ CORE-10
def test_core10_hand_row_with_reverse_keys():
    # answers 2,4,0,1,3,0,2,1,2,3; q2 and q3 are reverse-keyed (4 - x): q2 -> 0, q3 -> 4
    # sum = 2+0+4+1+3+0+2+1+2+3 = 18; mean 1.8; clinical score 18 -> "moderate" (15-19)
    out = oc.score(pd.DataFrame([_items([2, 4, 0, 1, 3, 0, 2, 1, 2, 3])]), "core_10")
    assert out.loc[0, "clinical_score"] == pytest.approx(18)
    assert out.loc[0, "mean_score"] == pytest.approx(1.8)
    assert out.loc[0, "clinical_score_band"] == "moderate"
    inst = oc.load_instrument("core_10")
    assert [i.id for i in inst.items if i.reverse] == ["q2", "q3"]


def test_core10_prorates_one_missing_item_not_two():
    # one missing (q10): nine answers 2,4,0,1,3,0,2,1,2 score 2+0+4+1+3+0+2+1+2 = 15;
    # mean 15/9 = 1.6667; clinical 10 x 15/9 = 16.667. Two missing: both scales missing.
    one = _items([2, 4, 0, 1, 3, 0, 2, 1, 2, np.nan])
    two = {**one, "q9": np.nan}
    out = oc.score(pd.DataFrame([one, two]), "core_10")
    assert out.loc[0, "clinical_score"] == pytest.approx(150 / 9)
    assert out.loc[0, "mean_score"] == pytest.approx(15 / 9)
    assert out.loc[1, ["clinical_score", "mean_score"]].isna().all()
    assert out.loc[1, "clinical_score_n"] == 8


def test_core10_bands_at_each_boundary_including_prorated_fractions():
    # complete forms score their plain sum; q2/q3 reversed, so answer 4 there scores 0
    def row_for(total):
        scores = _to_total(total, 10, 4)
        answers = [4 - s if i in (1, 2) else s for i, s in enumerate(scores)]
        return _items(answers)

    totals = [0, 10, 11, 14, 15, 19, 20, 24, 25, 40]
    out = oc.score(pd.DataFrame([row_for(t) for t in totals]), "core_10")
    assert out["clinical_score"].tolist() == pytest.approx(totals)
    assert out["clinical_score_band"].tolist() == [
        "healthy or low-level", "healthy or low-level", "mild", "mild", "moderate", "moderate",
        "moderate to severe", "moderate to severe", "severe", "severe",
    ]  # fmt: skip
    # prorated (q10 missing): nine items summing to 9 score 10 x 9/9 = 10 (healthy);
    # nine summing to 10 score 10 x 10/9 = 11.11, a fraction above the edge 11 (mild)
    nine = [row_for(9), row_for(10)]
    for r in nine:
        r["q10"] = np.nan
    out9 = oc.score(pd.DataFrame(nine), "core_10")
    assert out9["clinical_score"].tolist() == pytest.approx([10, 100 / 9])
    assert out9["clinical_score_band"].tolist() == ["healthy or low-level", "mild"]


# ------------------------------------------------------------------------------ WEMWBS
def test_wemwbs_hand_row_range_and_missing():
    # 14 items: 1,2,3,4,5,1,2,3,4,5,1,2,3,4 = 40
    vals = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4]
    out = oc.score(frame("wemwbs", [_items(vals), _items([1] * 14), _items([5] * 14),
                                    {**_items(vals), "q14": np.nan}]), "wemwbs")  # fmt: skip
    assert out["total"].tolist()[:3] == [40, 14, 70]
    assert np.isnan(out.loc[3, "total"]) and out.loc[3, "total_n"] == 13
    assert not any(i.reverse for i in oc.load_instrument("wemwbs").items)  # all positive
    sc = oc.load_instrument("wemwbs").scale("total")
    assert sc.higher_is_better and sc.reliable_change.threshold == 9


# ------------------------------------------------------------------------------ CGAS
def test_cgas_range_deciles_and_nocc_coding():
    edges = [1, 10, 11, 20, 21, 30, 31, 40, 41, 50, 51, 60, 61, 70, 71, 80, 81, 90, 91, 100]
    out = oc.score(pd.DataFrame({"q1": edges}), "cgas")
    assert out["score"].tolist() == edges
    names = ["needs constant supervision", "needs considerable supervision",
             "unable to function in almost all areas", "major impairment in several areas",
             "moderate interference", "variable functioning with sporadic difficulties",
             "some difficulty in a single area", "no more than slight impairment",
             "good functioning", "superior functioning"]  # fmt: skip
    assert out["score_band"].tolist() == [n for n in names for _ in (0, 1)]
    bad = oc.score(pd.DataFrame({"q1": [0, 101, 50.5, 997]}), "cgas", errors="flag")
    assert bad["score"].isna().all() and len(bad.attrs["issues"]) == 4
    nocc = oc.score(pd.DataFrame({"q1": [997, 999, 55]}), "cgas", coding="nocc")
    assert nocc["score"].isna().tolist() == [True, True, False]
    assert nocc.attrs["issues"].empty


# ------------------------------------------------------------------------------ SCWBS
def test_scwbs_total_excludes_social_desirability_items():
    # q_i = (i mod 5) + 1; desirability items 2, 7, 13 -> 3 + 3 + 4 = 10;
    # wellbeing items: all 15 sum to 3 x (1+2+3+4+5) = 45, minus 10 = 35
    row = {f"q{i}": (i % 5) + 1 for i in range(1, 16)}
    out = oc.score(frame("scwbs", [row, {**row, "q3": np.nan}, {**row, "q7": np.nan}]), "scwbs")
    assert out.loc[0, ["total", "social_desirability"]].tolist() == [35, 10]
    assert np.isnan(out.loc[1, "total"]) and out.loc[1, "social_desirability"] == 10
    assert out.loc[2, "total"] == 35 and np.isnan(out.loc[2, "social_desirability"])
    assert oc.load_instrument("scwbs").scale_range("total") == (12, 60)
    labels = oc.score(frame("scwbs", [{f"q{i}": "quite a lot of the time" for i in range(1, 16)}]),
                      "scwbs")  # fmt: skip
    assert labels.loc[0, "total"] == 48


# ------------------------------------------------------------------------------ across files
def test_gad7_missing_item_rule_at_its_edge():
    # all 7 answered: 1 x 7 = 7 (mild, 5-9); 6 of 7 answered: missing, no prorating
    row = _items([1] * 7)
    out = oc.score(pd.DataFrame([row, {**row, "q4": np.nan}]), "gad_7")
    assert out.loc[0, "total"] == 7 and out.loc[0, "total_band"] == "mild"
    assert np.isnan(out.loc[1, "total"]) and out.loc[1, "total_n"] == 6


@pytest.mark.parametrize(
    ("instrument", "reversed_items"),
    [("core_10", ["q2", "q3"]), ("phq_9", []), ("gad_7", []), ("wemwbs", []), ("scwbs", []),
     ("rcads_47_self", []), ("rcads_47_parent", []), ("rcads_25_self", []),
     ("rcads_25_parent", []), ("cgas", [])],
)  # fmt: skip
def test_reverse_keys_are_those_of_the_spec(instrument, reversed_items):
    # specs/measures.md s. 3.1-3.11: only CORE-10 has reverse-keyed (positively worded) items
    inst = oc.load_instrument(instrument)
    assert [i.id for i in inst.items if i.reverse] == reversed_items
    if reversed_items:  # and they score 4 - x: all answers 0 except the reversed ones at 4
        row = {i.id: (4 if i.id in reversed_items else 0) for i in inst.items}
        assert oc.score(pd.DataFrame([row]), instrument).loc[0, "clinical_score"] == 0
