"""cyp_outcome_metric: a hand-built service where every count is worked out below.

Rules (specs/instruments.md, NHS reference implementation): closed referrals, age 0-17, >= 2
contacts; first score on/after the first contact, last a later score on/after the second
contact, none after discharge; per rater improvement = a reliable improvement and no reliable
deterioration; deterioration = any reliable deterioration; |change| >= threshold counts.
"""

from __future__ import annotations

import doctest
import warnings

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest

import outcomes as oc
import outcomes.change.outcome_metric as metric_mod
from outcomes._stats import wilson_ci
from outcomes.change.outcome_metric import OutcomeMetricWarning, cyp_outcome_metric
from outcomes.errors import DataStructureError, OutcomesError

C1, C2, DIS = "2024-01-10", "2024-01-24", "2024-07-01"


def test_doctests():
    assert doctest.testmod(metric_mod).failed == 0


def referrals() -> pd.DataFrame:
    rows = [
        # id, person, age, school, c1, c2, discharge, n_contacts, accepted
        ("r1", "p1", 10, "A", C1, C2, DIS, 6, True),
        ("r2", "p2", 15, "A", C1, C2, DIS, 5, True),
        ("r3", "p3", 8, "B", C1, C2, DIS, 4, True),
        ("r4", "p4", 12, "B", C1, C2, DIS, 3, True),
        ("r5", "p5", 18, "A", C1, C2, DIS, 4, True),  # too old
        ("r6", "p6", 9, "A", C1, C2, None, 4, True),  # still open
        ("r7", "p7", 9, "A", C1, None, DIS, 1, True),  # one contact
        ("r8", "p8", 11, "B", C1, C2, DIS, 2, True),  # no score on/after the 2nd contact
        ("r9", "p9", 11, "B", C1, None, DIS, 3, True),  # 3 contacts but no 2nd date: problem
        ("r10", "p10", 11, "B", C1, C2, DIS, 3, False),  # not accepted
    ]
    cols = [
        "referral_id",
        "person_id",
        "age",
        "school",
        "first_contact_date",
        "second_contact_date",
        "discharge_date",
        "n_contacts",
        "accepted",
    ]
    return pd.DataFrame(rows, columns=cols)


def honosca(rows: list[tuple[str, str, dict]]) -> pd.DataFrame:
    """Score HoNOSCA responses: (referral, date, {item: rating}); unlisted items are 0."""
    resp = pd.DataFrame(
        [
            {
                "referral_id": r,
                "rater": "clinician",
                "date": d,
                **{f"q{i}": items.get(f"q{i}", 0) for i in range(1, 16)},
            }
            for r, d, items in rows
        ]
    )
    return oc.score(resp, "honosca").assign(instrument="honosca")


def sdq_parent(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "referral_id": r,
                "instrument": "sdq_parent",
                "rater": "parent",
                "date": d,
                "emotional": e,
                "prosocial": p,
            }
            for r, d, e, p in rows
        ]
    )


def scores() -> pd.DataFrame:
    h = honosca(
        [
            ("r1", "2024-01-05", {"q1": 4}),  # before the first contact: ignored
            ("r1", C1, {"q1": 3}),  # first
            ("r1", "2024-03-01", {"q1": 2}),  # intermediate
            ("r1", "2024-06-20", {"q1": 1}),  # last: scale_1 -2 (>= 2): improvement
            ("r1", "2024-08-01", {"q1": 0}),  # after discharge: ignored
            ("r2", C1, {"q1": 4, "q9": 1}),
            ("r2", "2024-06-01", {"q1": 0, "q9": 3}),  # scale_1 -4 but scale_9 +2: deterioration
            ("r3", "2024-01-12", {"q1": 2}),
            ("r3", "2024-06-01", {"q1": 1}),  # -1: no change
            ("r4", C1, {"q1": 2}),  # only one score: assessed, not paired
            ("r5", C1, {"q1": 4}),
            ("r5", "2024-06-01", {"q1": 0}),  # out of scope (age)
            ("r8", C1, {"q1": 3}),
            ("r8", "2024-01-20", {"q1": 0}),  # before the 2nd contact: cannot be the last
        ]
    )
    s = sdq_parent(
        [
            ("r1", C1, 6, 8),
            ("r1", "2024-06-20", 2, 4),  # emotional -4 improvement, prosocial -4 deterioration
            ("r3", "2024-01-12", 7, 5),
            ("r3", "2024-06-01", 3, 5),  # emotional -4: improvement
        ]
    )
    return pd.concat([h, s], ignore_index=True)


@pytest.fixture(scope="module")
def result():
    with pytest.warns(OutcomeMetricWarning, match="second contact date missing"):
        return cyp_outcome_metric(scores(), referrals())


def test_scope_of_referrals(result):
    r = result.referrals.set_index("referral_id")
    assert list(r.index[r["in_scope"]]) == ["r1", "r2", "r3", "r4", "r8"]
    assert r.loc["r5", "reason"] == "age at referral outside the age range"
    assert r.loc["r6", "reason"] == "not closed (no discharge date)"
    assert r.loc["r7", "reason"] == "fewer than 2 contacts"
    assert r.loc["r9", "reason"] == "second contact date missing although n_contacts >= 2"
    assert r.loc["r10", "reason"] == "not accepted"
    assert list(result.problems["reason"]) == [
        "second contact date missing although n_contacts >= 2"
    ]


def test_counts_per_rater(result):
    t = result.to_frame().set_index("rater")
    assert list(t.index) == ["self", "parent", "clinician", "any"]
    assert (t["n_referrals"] == 5).all()
    c = t.loc["clinician"]
    assert (c["n_assessed"], c["n_paired"]) == (5, 3)
    assert (c["n_improvement"], c["n_no_change"], c["n_deterioration"]) == (1, 1, 1)
    assert c["pct_paired"] == pytest.approx(60.0)
    assert c["pct_improvement"] == pytest.approx(100 / 3)
    lo, hi = wilson_ci(1, 3)
    assert c["pct_improvement_ci_low"] == pytest.approx(100 * float(lo))
    assert c["pct_improvement_ci_high"] == pytest.approx(100 * float(hi))
    p = t.loc["parent"]
    assert (
        p["n_assessed"],
        p["n_paired"],
        p["n_improvement"],
        p["n_no_change"],
        p["n_deterioration"],
    ) == (2, 2, 1, 0, 1)
    s = t.loc["self"]
    assert s["n_paired"] == 0 and np.isnan(s["pct_improvement"])
    # any rater: r1 (clinician improved, parent deteriorated) -> deterioration; r2 -> deterioration;
    # r3 (clinician no change, parent improved) -> improvement
    a = t.loc["any"]
    assert (a["n_paired"], a["n_improvement"], a["n_no_change"], a["n_deterioration"]) == (
        3,
        1,
        0,
        2,
    )


def test_measures_and_score_accounting(result):
    m = result.measures.set_index(["referral_id", "instrument", "scale"])
    r1 = m.loc[("r1", "honosca", "scale_1")]
    assert (r1["score_first"], r1["score_last"], r1["change"]) == (3, 1, -2)
    assert r1["reliable_improvement"] and not r1["reliable_deterioration"]
    assert str(r1["date_first"].date()) == C1 and str(r1["date_last"].date()) == "2024-06-20"
    assert m.loc[("r2", "honosca", "scale_9"), "reliable_deterioration"]
    assert m.loc[("r1", "sdq_parent", "prosocial"), "reliable_deterioration"]  # higher is better
    assert not m.loc[("r8", "honosca", "scale_1"), "paired"]
    # HoNOSCA counts its 13 scales separately (14 and 15 have no threshold)
    assert set(m.loc["r3"].loc["honosca"].index) == {f"scale_{i}" for i in range(1, 14)}
    s = result.scores
    h = s[(s["instrument"] == "honosca") & (s["scale"] == "scale_1")].set_index("row")
    assert h.loc[0, "reason"] == "before the first contact"
    assert h.loc[4, "reason"] == "after discharge or the end of the period"
    assert h.loc[2, "reason"] == "neither the first nor the last score"
    assert h.loc[10, "reason"] == "referral out of scope"
    assert h.loc[13, "reason"] == "no later score on or after the second contact"
    # every score record x measure once; firsts reconcile with the measure table
    assert len(s) == 14 * 13 + 4 * 2
    assert (s["status"] == "first").sum() == len(result.measures)
    assert (s["status"] == "last").sum() == result.measures["paired"].sum()


def test_summary_and_plot(result):
    text = result.summary()
    assert (
        "clinician-rated measures: 3 of 5 closed referrals in scope (60%) had a paired score"
        in text
    )
    assert "self-rated measures: none of 5" in text
    assert "NHS England publishes outcomes per rater only" in text
    assert isinstance(result.plot(), matplotlib.axes.Axes)


def test_by_group():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutcomeMetricWarning)
        t = cyp_outcome_metric(scores(), referrals(), by="school").to_frame()
    c = t[t["rater"] == "clinician"].set_index("school")
    assert c.loc["A", "n_referrals"] == 2 and c.loc["B", "n_referrals"] == 3
    assert (c.loc["A", "n_improvement"], c.loc["A", "n_deterioration"]) == (1, 1)
    assert (c.loc["B", "n_paired"], c.loc["B", "n_no_change"]) == (1, 1)


def test_threshold_is_inclusive_and_direction_aware():
    refs = referrals().iloc[:1]
    # GBO goal: threshold 3, higher is better; 4.1 - 1.1 is 2.9999999999999996 in floating point
    assert 4.1 - 1.1 < 3
    sc = pd.DataFrame(
        {
            "referral_id": "r1",
            "instrument": "gbo",
            "rater": "self",
            "date": [C1, "2024-06-01"],
            "goal_1": [1.1, 4.1],
        }
    )
    t = cyp_outcome_metric(sc, refs).to_frame().set_index("rater")
    assert t.loc["self", "n_improvement"] == 1
    t = cyp_outcome_metric(sc.assign(goal_1=[4.1, 1.1]), refs).to_frame().set_index("rater")
    assert t.loc["self", "n_deterioration"] == 1
    t = cyp_outcome_metric(sc.assign(goal_1=[4.1, 1.2]), refs).to_frame().set_index("rater")
    assert t.loc["self", "n_no_change"] == 1


def test_duplicates_are_reported_and_excluded():
    sc = pd.concat([scores(), honosca([("r3", "2024-06-01", {"q1": 0})])], ignore_index=True)
    with pytest.warns(OutcomeMetricWarning, match="duplicate"):
        res = cyp_outcome_metric(sc, referrals().drop(index=8))
    # r3's HoNOSCA measures are not paired; its SDQ still is
    t = res.to_frame().set_index("rater")
    assert t.loc["clinician", "n_paired"] == 2 and t.loc["parent", "n_paired"] == 2
    assert (res.problems["reason"] == "duplicate scores on one date for this measure").sum() == 26
    with pytest.raises(DataStructureError, match="duplicate"):
        cyp_outcome_metric(sc, referrals().drop(index=8), errors="raise")


def test_row_order_is_irrelevant():
    sc = scores()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutcomeMetricWarning)
        a = cyp_outcome_metric(sc, referrals()).to_frame()
        b = cyp_outcome_metric(
            sc.sample(frac=1, random_state=3), referrals().sample(frac=1, random_state=4)
        ).to_frame()
    pd.testing.assert_frame_equal(a, b)


def test_link_by_person_and_date():
    refs = pd.DataFrame(
        {
            "referral_id": ["rA", "rB"],
            "person_id": ["x", "x"],
            "age": [10, 11],
            "referral_date": ["2024-01-01", "2024-09-01"],
            "first_contact_date": ["2024-01-10", "2024-09-10"],
            "second_contact_date": ["2024-01-20", "2024-09-20"],
            "discharge_date": ["2024-06-30", "2025-03-01"],
        }
    )
    sc = pd.DataFrame(
        {
            "person_id": "x",
            "instrument": "gbo",
            "rater": "self",
            "date": ["2024-01-10", "2024-06-01", "2024-09-10", "2025-02-01"],
            "goal_1": [2, 6, 5, 4],
        }
    )
    res = cyp_outcome_metric(sc, refs)
    m = res.measures.set_index("referral_id")
    assert (m.loc["rA", "change"], m.loc["rB", "change"]) == (4, -1)
    t = res.to_frame().set_index("rater")
    assert (t.loc["self", "n_improvement"], t.loc["self", "n_no_change"]) == (1, 1)
    # overlapping referrals make the link ambiguous: reported, not guessed
    refs2 = refs.assign(discharge_date=["2024-12-31", "2025-03-01"])
    with pytest.warns(OutcomeMetricWarning, match="several referrals"):
        res2 = cyp_outcome_metric(sc, refs2)
    assert (res2.scores["reason"] == "several referrals of this person cover this date").sum() == 1


def test_age_from_date_of_birth_and_period():
    refs = referrals().iloc[:2].drop(columns="age")
    refs["date_of_birth"] = ["2006-06-15", "2006-06-15"]
    refs["referral_date"] = ["2024-06-14", "2024-06-15"]  # 17 the day before the birthday, then 18
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutcomeMetricWarning)
        res = cyp_outcome_metric(scores(), refs)
    assert list(res.referrals["in_scope"]) == [True, False]
    res = cyp_outcome_metric(scores(), referrals().iloc[:2], period_end="2024-06-30")
    assert res.referrals["reason"].tolist() == ["closed outside the reporting period"] * 2
    res = cyp_outcome_metric(
        scores(), referrals().iloc[:2], period_start="2024-01-01", period_end="2024-07-31"
    )
    assert res.to_frame().set_index("rater").loc["clinician", "n_paired"] == 2


def test_person_id_mismatch_is_a_problem():
    sc = scores()
    sc["person_id"] = sc["referral_id"].str.replace("r", "p")
    sc.loc[0, "person_id"] = "someone else"
    with pytest.warns(OutcomeMetricWarning, match="person_id differs"):
        res = cyp_outcome_metric(sc, referrals().drop(index=8))
    # excluded, as if the record were not there, and counted as a problem of its own
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutcomeMetricWarning)
        without = cyp_outcome_metric(sc.drop(index=0), referrals().drop(index=8))
    pd.testing.assert_frame_equal(res.to_frame(), without.to_frame())
    assert res.problems["reason"].tolist() == [
        "person_id differs from the referral's person_id"
    ] * (len(res.scores) - len(without.scores))
    with pytest.raises(DataStructureError, match="person_id differs"):
        cyp_outcome_metric(sc, referrals().drop(index=8), errors="raise")


def test_persons_are_compared_as_the_referral_ids_are():
    # By index_in's equality, as the referral ids that led to them: a person column read as
    # floats (a CSV column with a blank) names the same children as whole numbers, as 1.0
    # finds referral 1; the text "2" is not person 2, as referral "2" would not be referral 2;
    # nor is " 3" person 3 (spaces count in both; the report trims ids before asking).
    refs = referrals().drop(index=8)
    refs["person_id"] = np.arange(1, len(refs) + 1)
    sc = scores()
    sc["person_id"] = sc["referral_id"].str[1:].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutcomeMetricWarning)
        same = cyp_outcome_metric(sc.assign(person_id=sc["referral_id"].str[1:].astype(int)), refs)
        res = cyp_outcome_metric(sc, refs)
    assert (res.scores["reason"] != "person_id differs from the referral's person_id").all()
    pd.testing.assert_frame_equal(res.to_frame(), same.to_frame())
    sc["person_id"] = sc["person_id"].astype(int).astype(object)
    sc.loc[sc["referral_id"] == "r2", "person_id"] = "2"
    sc.loc[sc["referral_id"] == "r3", "person_id"] = " 3"
    with pytest.warns(OutcomeMetricWarning, match="person_id differs"):
        res = cyp_outcome_metric(sc, refs)
    differs = res.scores["reason"] == "person_id differs from the referral's person_id"
    assert set(res.scores.loc[differs, "referral_id"]) == {"r2", "r3"}


@pytest.mark.parametrize(
    ("mutate", "err", "match"),
    [
        (lambda s, r: (s, r.drop(columns="discharge_date")), DataStructureError, "discharge_date"),
        (lambda s, r: (s, r.drop(columns="age")), DataStructureError, "age"),
        (lambda s, r: (s, pd.concat([r, r.iloc[:1]])), DataStructureError, "duplicate referral_id"),
        (lambda s, r: (s.drop(columns=["referral_id"]), r), DataStructureError, "referral_id"),
        (lambda s, r: (s.drop(columns="date"), r), DataStructureError, "date"),
        (lambda s, r: (s.assign(instrument="mystery"), r), OutcomesError, "unknown instrument"),
        (
            lambda s, r: (s[["referral_id", "instrument", "date"]], r),
            DataStructureError,
            "threshold",
        ),
        (lambda s, r: (s.assign(date="soon"), r), OutcomesError, "not dates"),
        (lambda s, r: (s, r.assign(age="ten")), OutcomesError, "non-numeric"),
        (lambda s, r: (s.iloc[:0], r), DataStructureError, "empty"),
        (lambda s, r: (s, r.iloc[:0]), DataStructureError, "empty"),
        (lambda s, r: (s.assign(scale_1="x"), r), OutcomesError, "non-numeric"),
    ],
)
def test_bad_input(mutate, err, match):
    s, r = mutate(scores(), referrals())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutcomeMetricWarning)
        with pytest.raises(err, match=match):
            cyp_outcome_metric(s, r)


def test_bad_options():
    with pytest.raises(OutcomesError, match="parameter 'errors'"):
        cyp_outcome_metric(scores(), referrals(), errors="ignore")
    with pytest.raises(OutcomesError, match="confidence"):
        cyp_outcome_metric(scores(), referrals(), confidence=95)


def test_accepted_as_text_is_read_like_the_service_module():
    """Exports hold accepted as text ("True"/"False", "yes"/"no"); reading every column as
    text must give the same metric as reading booleans."""
    import outcomes as oc
    from outcomes.synthetic import simulate_programme

    prog = simulate_programme(seed=3, n_schools=4)
    h = oc.score(prog.responses["honosca"], "honosca", errors="flag")
    as_bool = oc.cyp_outcome_metric([h], prog.referrals).to_frame()
    text = prog.referrals.astype({"accepted": str})
    as_text = oc.cyp_outcome_metric([h], text).to_frame()
    pd.testing.assert_frame_equal(as_bool, as_text)


def _spaced_inputs():
    refs = pd.DataFrame({
        "referral_id": ["R1", "R2", "R3 "], "person_id": ["P1", "P2", "P3"], "age": 12,
        "first_contact_date": "2024-01-05", "second_contact_date": "2024-01-19",
        "discharge_date": "2024-06-30",
    })  # fmt: skip
    sc = pd.DataFrame({
        "referral_id": [" R1", " R1", "R2", "R2", "R3", "R3", "R9", "R9"],
        "person_id": ["P1", "P1", "P2", "P2", "P3", "P3", "P9", "P9"],
        "instrument": "swemwbs", "rater": "self",
        "date": ["2024-01-05", "2024-06-20"] * 4, "metric": [17.0, 23.0] * 4,
    })  # fmt: skip
    return sc, refs


def test_an_id_that_matches_only_once_trimmed_is_a_problem_with_a_did_you_mean():
    # " R1" is not "R1" (ids are compared as they are; the report trims them first): such a
    # score was left out as "no matching referral", unsaid, among scores of other services
    sc, refs = _spaced_inputs()
    with pytest.warns(OutcomeMetricWarning) as caught:
        res = cyp_outcome_metric(sc, refs)
    reason = res.scores.set_index("row")["reason"]
    assert (reason.loc[[0, 1, 4, 5]] == metric_mod.S_REFERRAL_SPACES).all()
    assert (reason.loc[[6, 7]] == metric_mod.S_NO_REFERRAL).all()  # matches nothing at all
    assert set(res.problems["reason"]) == {metric_mod.S_REFERRAL_SPACES}
    msg = str(caught[0].message)
    assert "4 referral or score records were excluded" in msg
    assert "referral_id ' R1' matches 'R1' only once trimmed: did you mean 'R1'?" in msg
    assert "referral_id 'R3' matches 'R3 ' only once trimmed" in msg
    assert res.to_frame().set_index("rater").loc["self", "n_paired"] == 1  # R2 only
    with pytest.raises(DataStructureError, match="did you mean 'R1'"):
        cyp_outcome_metric(sc, refs, errors="raise")


def test_a_person_that_matches_only_once_trimmed_is_a_problem_when_linking_by_date():
    sc, refs = _spaced_inputs()
    sc = sc.drop(columns="referral_id")
    sc.loc[[0, 1], "person_id"] = "P1 "
    sc.loc[[4, 5], "date"] = ["2023-01-05", "2023-06-20"]  # P3's, before the referral
    with pytest.warns(OutcomeMetricWarning, match="did you mean 'P1'"):
        res = cyp_outcome_metric(sc, refs)
    reason = res.scores.set_index("row")["reason"]
    assert (reason.loc[[0, 1]] == metric_mod.S_PERSON_SPACES).all()
    # a person of the referrals, on a date no referral covers, is no near miss
    assert (reason.loc[[4, 5, 6, 7]] == metric_mod.S_NO_REFERRAL).all()


def test_clean_ids_give_no_near_miss_warning():
    sc, refs = _spaced_inputs()
    sc["referral_id"] = sc["referral_id"].str.strip()
    refs["referral_id"] = refs["referral_id"].str.strip()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = cyp_outcome_metric(sc, refs)
    assert res.problems.empty
