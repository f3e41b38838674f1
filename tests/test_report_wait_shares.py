"""The share of children seen within the waiting standard is no ratio of released counts (a
Kaplan-Meier estimate rounded to 0.05), so it is hidden where it would give back a small number
of children, and beside a Total its partner share is hidden too (hand-made tables)."""

from __future__ import annotations

import pandas as pd
import pytest

from outcomes.report.release import MARKER, Release
from outcomes.report.sections.access import release_waits


def _waits(teams: list[str], n: list[int], share: list[float]) -> pd.DataFrame:
    return pd.DataFrame({
        "team": teams, "stage": "first", "n": n, "n_seen": n, "n_waiting": 0,
        "n_closed_unseen": 0, "median_days": 20.0, "q1_days": 10.0, "q3_days": 30.0,
        "p90_days": 40.0, "within_standard": share, "standard_days": 28,
    })  # fmt: skip


def test_a_share_that_gives_back_a_few_children_is_hidden():
    rel = Release()
    # 0.4 of 15 is 6 children; 0.5 of 40 is 20
    release_waits(rel, _waits(["A", "B"], [15, 40], [0.4, 0.5]), "w", ["team", "stage"])
    assert rel.get("w").frame["within_standard"].tolist() == [MARKER, 0.5]


def test_beside_a_total_the_smallest_other_share_is_hidden_too():
    rel = Release()
    # A: 6 of 15 within the standard (hidden); the Total less B and C would give it back
    t = _waits(["A", "B", "C", "Total"], [15, 40, 60, 115], [0.4, 0.5, 0.5, 0.487])
    release_waits(rel, t, "w", ["team", "stage"])
    got = rel.get("w").frame["within_standard"].tolist()
    assert got == [MARKER, MARKER, 0.5, 0.5]


def test_nothing_is_hidden_with_disclosure_control_off():
    rel = Release(enabled=False)
    release_waits(rel, _waits(["A"], [15], [0.4]), "w", ["team", "stage"])
    assert rel.get("w").frame["within_standard"].tolist() == [0.4]


def test_a_month_s_share_beside_the_overall_published_elsewhere_gets_a_partner():
    """The months add up to the overall waits, a row of another table: its share less the
    other months' gives back a hidden month's (a link, as for the counts)."""
    rel = Release()
    overall = _waits(["x"], [115], [0.487]).drop(columns="team")
    release_waits(rel, overall, "waits_overall", ["stage"])
    assert rel.get("waits_overall").frame["within_standard"].tolist() == [0.5]
    months = _waits(["2025-09", "2025-10", "2025-11"], [15, 40, 60], [0.4, 0.5, 0.5])
    months = months.rename(columns={"team": "month"})
    links = [([0, 1, 2], rel.get("waits_overall"), [0])]
    release_waits(rel, months, "waits_by_month", ["month", "stage"], links)
    # September (6 of 15) hidden for itself; October, the smaller shown month, with it
    assert rel.get("waits_by_month").frame["within_standard"].tolist() == [MARKER, MARKER, 0.5]


def test_a_team_s_share_beside_its_schools_published_elsewhere_is_hidden():
    """A team serving schools A and B: its share is theirs weighted by n, so with A's
    hidden and B's shown, the team's share would give A's back (a link, as for counts)."""
    rel = Release()
    schools = _waits(["A", "B", "C", "D", "Total"], [15, 40, 60, 20, 135],
                     [0.4, 0.5, 0.5, 0.5, 0.489]).rename(columns={"team": "school_id"})  # fmt: skip
    release_waits(rel, schools, "waits_by_school", ["school_id", "stage"])
    by_school = rel.get("waits_by_school")
    # A hidden for itself, D (the smallest other n) beside the Total
    assert by_school.frame["within_standard"].tolist() == [MARKER, 0.5, 0.5, MARKER, 0.5]
    teams = _waits(["T1", "T2", "Total"], [55, 80, 135], [0.473, 0.5, 0.489])
    links = [([0], by_school, [0, 1]), ([1], by_school, [2, 3]), ([2], by_school, [4])]
    release_waits(rel, teams, "waits_by_team", ["team", "stage"], links)
    got = rel.get("waits_by_team").frame["within_standard"].tolist()
    # T1 less B gives A: T1 hidden, and then T2 beside the team Total
    assert got[0] == MARKER and got.count(MARKER) >= 2


@pytest.mark.xfail(
    strict=True,
    reason="known gap (not fixed): counts_linked forces a partner only in this table, so a "
    "cell of it hidden as another's partner but equal to shown cells of an earlier table "
    "protects nothing",
)
def test_a_team_hidden_as_a_partner_is_not_given_back_by_its_schools():
    # Y (5) is hidden, and X (22) as its partner; but X serves A and B, both shown in the
    # table by school, so X = A + B and Y = Total - X (25 - 20 = 5 from the published,
    # rounded cells; within the rounding otherwise). A weighted share's link has the same
    # shape (the team's share hidden as a partner, its schools' shown).
    rel = Release()
    by_school = pd.DataFrame(
        {"school_id": ["A", "B", "D1", "D2", "Total"], "n": [10, 12, 3, 2, 27]}
    )
    s = rel.counts(by_school, "by_school", counts=["n"], totals=True)
    assert s.frame["n"].tolist() == [10, 10, MARKER, MARKER, 25]
    links = [([0], s, [0, 1]), ([1], s, [2, 3]), ([2], s, [4])]
    t = pd.DataFrame({"team": ["X", "Y", "Total"], "n": [22, 5, 27]})
    n = rel.counts_linked(t, "by_team", counts=["n"], links=links, totals=True).frame["n"]
    x_from_schools = n[0] == MARKER and n[2] != MARKER
    assert not x_from_schools
