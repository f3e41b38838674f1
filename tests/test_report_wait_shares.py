"""The share of children seen within the waiting standard is no ratio of released counts (a
Kaplan-Meier estimate rounded to 0.05), so it is hidden where it would give back a small number
of children, and beside a Total its partner share is hidden too (hand-made tables)."""

from __future__ import annotations

import pandas as pd
import pytest

from outcomes.errors import PublishedElsewhereError
from outcomes.report.release import MARKER, Release
from outcomes.report.sections.access import release_waits
from test_report_attacks_2 import System


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


def _schools_and_teams(schools: dict, teams: dict, serves: dict, **kw) -> tuple:
    """A table by school (released first), its teams linked to it as the report links them
    (a team with the schools it serves, Total with Total), and the team table released."""
    rel = Release()
    s = pd.DataFrame({"school_id": [*schools, "Total"], **{
        c: [*(v[c] for v in schools.values()), kw["totals"][c]] for c in kw["columns"]
    }})  # fmt: skip
    opts = {"counts": ["n"], "totals": True, **kw.get("release", {})}
    by_school = rel.counts(s, "by_school", **opts)
    names = list(schools)
    links = [([i], by_school, [names.index(x) for x in serves[team]])
             for i, team in enumerate(teams)]  # fmt: skip
    links.append(([len(teams)], by_school, [len(names)]))
    t = pd.DataFrame({"team": [*teams, "Total"], **{
        c: [*(v[c] for v in teams.values()), kw["totals"][c]] for c in kw["columns"]
    }})  # fmt: skip
    return rel, by_school, links, t, opts


def test_a_team_hidden_as_a_partner_is_not_given_back_by_its_schools():
    # Y (5) is hidden. X (22), the smallest other team, served A and B, both shown in the
    # table by school: X = A + B, published in effect, so as Y's partner it protected
    # nothing (Y = Total - X - Z, 65 - 20 - 35 = 10 from the rounded cells, 5 exactly).
    # Z's schools are not all shown: Z is the partner.
    schools = {"A": 10, "B": 12, "D1": 3, "D2": 2, "E1": 30, "E2": 3, "E3": 4}
    serves = {"X": ["A", "B"], "Y": ["D1", "D2"], "Z": ["E1", "E2", "E3"]}
    rel, by_school, links, t, opts = _schools_and_teams(
        {k: {"n": v} for k, v in schools.items()}, {"X": {"n": 22}, "Y": {"n": 5},
        "Z": {"n": 37}}, serves, columns=["n"], totals={"n": 64},
    )  # fmt: skip
    assert by_school.frame["n"].tolist() == [10, 10, MARKER, MARKER, 30, MARKER, MARKER, 65]
    n = rel.counts_linked(t, "by_team", links=links, **opts).frame["n"]
    assert n.tolist() == [20, MARKER, MARKER, 65]
    sys_ = System()
    sys_.table("s", by_school.frame, ["n"], "school_id")
    sys_.table("t", rel.get("by_team").frame, ["n"], "team")
    for i, team in enumerate(serves):
        sys_.link(("t", i), [("s", list(schools).index(x)) for x in serves[team]], ["n"])
    sys_.link(("t", 3), [("s", 7)], ["n"])
    assert sys_.recovered() == []


def test_a_small_team_its_schools_give_away_is_refused():
    # Y (5) serves D1 and D2, hidden in the table by school; but the rest of that table is
    # shown, so D1 + D2 = 25 - 10 - 10: the table by school gives Y away, and no
    # suppression in the table by team can hide it. Refused, naming the team (in the
    # report the part fails with that reason, the table by team is not published).
    rel, by_school, links, t, opts = _schools_and_teams(
        {"A": {"n": 10}, "B": {"n": 12}, "D1": {"n": 3}, "D2": {"n": 2}},
        {"X": {"n": 22}, "Y": {"n": 5}}, {"X": ["A", "B"], "Y": ["D1", "D2"]},
        columns=["n"], totals={"n": 27},
    )  # fmt: skip
    assert by_school.frame["n"].tolist() == [10, 10, MARKER, MARKER, 25]
    with pytest.raises(PublishedElsewhereError, match=r"by_team: the row 'Y' has 'n'"):
        rel.counts_linked(t, "by_team", links=links, **opts)
    assert rel.get("by_team") is None
    # the intruder's view: with every cell of the table by team hidden, Y still comes back
    sys_ = System()
    sys_.table("s", by_school.frame, ["n"], "school_id")
    sys_.table("t", t.assign(n=MARKER), ["n"], "team")
    sys_.link(("t", 0), [("s", 0), ("s", 1)], ["n"])
    sys_.link(("t", 1), [("s", 2), ("s", 3)], ["n"])
    sys_.link(("t", 2), [("s", 4)], ["n"])
    assert ("t", 1, "n") in sys_.recovered()


def test_a_team_s_share_hidden_as_a_partner_is_not_given_back_by_its_schools():
    # the same shape for a share weighted by n: D1's share (and E2's, E3's) hidden for a
    # reason of its own, so Y's is hidden with it (its link); X's share is A's and B's
    # weighted by their n, all shown, so X is no partner beside the Total: Z is
    schools = {"A": (20, 0.5), "B": (20, 0.5), "D1": (15, MARKER), "D2": (30, 0.5),
               "E1": (60, 0.5), "E2": (40, MARKER), "E3": (40, MARKER)}  # fmt: skip
    rel, by_school, links, t, opts = _schools_and_teams(
        {k: {"n": n, "share": v} for k, (n, v) in schools.items()},
        {"X": {"n": 40, "share": 0.5}, "Y": {"n": 45, "share": 0.45},
         "Z": {"n": 140, "share": 0.5}},
        {"X": ["A", "B"], "Y": ["D1", "D2"], "Z": ["E1", "E2", "E3"]},
        columns=["n", "share"], totals={"n": 225, "share": 0.5},
        release={"means": {"share": ("n", 2)}, "weighted": {"share": "n"}},
    )  # fmt: skip
    got = rel.counts_linked(t, "by_team", links=links, **opts).frame
    assert got["share"].tolist() == [0.5, MARKER, MARKER, 0.5]
