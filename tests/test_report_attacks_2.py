"""More attacks on the report's release, through its newer sections: linked tables.

tests/test_report_attacks.py attacks each table with its own totals (and a few totals
repeated across tables). Here the intruder also knows how the tables fit together:

* a team serves whole schools, so a team's row is the sum of its schools' rows (referrals,
  waits, the outcomes by school and team): a hidden school = team - the team's other schools;
* the scorecard's baseline and "now" periods are whole months of the monthly table: a hidden
  month = baseline - the baseline's other months.

Every equation an intruder can write is put in one linear system over the hidden cells; a
hidden cell is recovered when its unit vector lies in the row space of the system (the rank
test of docs/disclosure.md, written again here, independently of ``outcomes.disclosure``).
The programmes are crafted (a simulated one, or the demo's data, edited) so that a small count
sits where the equation would reveal it, and each test first checks that the crafted count
is there, so that it fails if the protection is removed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from scipy import stats as st

from _report_data import config_for
from outcomes.errors import PublishedElsewhereError
from outcomes.report import Evaluation
from outcomes.report.release import MARKER, Release, ReleasedTable, is_hidden
from outcomes.synthetic import simulate_programme

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo_evaluation.yaml"
DEMO_DATA = ROOT / "synthetic_data" / "demo"
THRESHOLD = 7

# Equations between columns of one row (total: parts), written from the service definitions
IDENTITIES = {
    "received": ["decided", "pending"],
    "decided": ["accepted", "not_accepted"],
    "n": ["n_seen", "n_waiting", "n_closed_unseen"],
}


# ----------------------------------------------------------------------------- the intruder
class System:
    """Published cells and the linear equations between them (each a list of (cell, coef),
    summing to 0); a cell is (table, row, column)."""

    def __init__(self) -> None:
        self.cells: dict[tuple, object] = {}
        self.equations: list[list[tuple[tuple, float]]] = []

    def table(self, name: str, f: pd.DataFrame, counts: list[str], label: str | None,
              group: str | None = None) -> None:  # fmt: skip
        """A table's cells, its Total rows (per ``group``) and its row identities."""
        counts = [c for c in counts if c in f.columns]
        for i in range(len(f)):
            for c in counts:
                self.cells[(name, i, c)] = f.iloc[i][c]
        if label is not None:
            blocks = [f.index] if group is None else [g.index for _, g in f.groupby(group)]
            for idx in blocks:
                lab = f.loc[idx, label].astype(str)
                tot = [i for i in idx if lab[i] == "Total"]
                inner = [i for i in idx if lab[i] != "Total"]
                for t in tot:
                    for c in counts:
                        self.add([((name, t, c), 1.0), *[((name, i, c), -1.0) for i in inner]])
        for total, parts in IDENTITIES.items():
            if {total, *parts} <= set(counts):
                for i in range(len(f)):
                    self.add([((name, i, total), 1.0), *[((name, i, p), -1.0) for p in parts]])

    def add(self, eq: list[tuple[tuple, float]]) -> None:
        self.equations.append(eq)

    def link(self, whole: tuple, parts: list[tuple], counts: list[str]) -> None:
        """(table, row) ``whole`` is the sum of the (table, row) ``parts``, in each count."""
        for c in counts:
            if (*whole, c) in self.cells:
                self.add([((*whole, c), 1.0), *[((*p, c), -1.0) for p in parts]])

    def recovered(self) -> list[tuple]:
        """The hidden cells the equations pin down (whatever the shown values are)."""
        unknown = sorted({k for eq in self.equations for k, _ in eq
                          if is_hidden(self.cells.get(k, 0))}, key=str)  # fmt: skip
        if not unknown:
            return []
        pos = {k: j for j, k in enumerate(unknown)}
        a = np.zeros((len(self.equations), len(unknown)))
        for r, eq in enumerate(self.equations):
            for k, coef in eq:
                if k in pos:
                    a[r, pos[k]] += coef
        a = a[np.abs(a).sum(axis=1) > 0]
        if not len(a):
            return []
        _, s, vt = np.linalg.svd(a, full_matrices=False)
        basis = vt[s > 1e-9 * s.max()]
        # the projector's diagonal is 1 exactly for a unit vector in the row space
        return [unknown[j] for j in np.flatnonzero((basis**2).sum(axis=0) > 1 - 1e-9)]


def rows_of(f: pd.DataFrame, col: str, labels) -> list[int]:
    keys = {str(x) for x in labels}
    return [i for i, v in enumerate(f[col].astype(str)) if v in keys]


# ----------------------------------------------------------------------------- building
def crafted_teams(seed: int, tmp: Path, small: int = 3) -> tuple[Evaluation, dict]:
    """Four schools and two teams, each team serving two schools (simulated); the first
    school keeps the referrals of ``small`` children, the rest move to its team's other
    school."""
    data = simulate_programme(
        seed=seed, n_schools=4, n_comparison_schools=0, secondary_share=0.0,
        pupils_per_primary=300, referral_rate=0.08, truth_mc_size=0,
    )  # fmt: skip
    ref = data.referrals
    prog = ref.dropna(subset=["team"])
    serves = prog.groupby("school_id")["team"].agg(lambda t: sorted(set(t)))
    assert all(len(t) == 1 for t in serves), serves  # each school is served by one team
    first = sorted(serves.index)[0]
    team = serves[first][0]
    mate = [s for s, t in serves.items() if t == [team] and s != first][0]
    rows = ref.index[ref["school_id"] == first]
    # whole people move, so that the outcomes (by each child's first referral) move too
    people = ref.loc[rows, "person_id"].drop_duplicates()
    movers = ref["person_id"].isin(people.iloc[small:]) & (ref["school_id"] == first)
    ref.loc[movers, "school_id"] = mate
    cfg = config_for(data, tmp / "data")
    start = pd.Timestamp(cfg["period"]["start"])
    cfg["targets"]["inappropriate_rate"]["baseline"] = {
        "start": start.date(), "end": (start + pd.DateOffset(months=3) - pd.Timedelta(days=1)).date()
    }  # fmt: skip
    ev = Evaluation.from_config(cfg, tmp / "out")
    teams = {t[0]: sorted(s for s, u in serves.items() if u == t) for t in serves}
    return ev, {"school": first, "team": team, "serves": teams}


def attack_teams(rel: Release, serves: dict[str, list[str]], site: str = "school_id"):
    """Referrals and waits by team against by school, and the outcomes by school and team,
    with the totals they share (reach_overall, waits_overall)."""
    sys_ = System()
    ref_counts = ["received", "decided", "accepted", "not_accepted", "pending", "inappropriate"]
    wait_counts = ["n", "n_seen", "n_waiting", "n_closed_unseen"]
    for kind, counts, overall in (("reach", ref_counts, "reach_overall"),
                                  ("waits", wait_counts, "waits_overall")):  # fmt: skip
        by_site, by_team = rel.get(f"{kind}_by_school"), rel.get(f"{kind}_by_team")
        if by_site is None or by_team is None:
            continue
        fs, ft = by_site.frame, by_team.frame
        sys_.table(f"{kind}_by_school", fs, counts, site)
        sys_.table(f"{kind}_by_team", ft, counts, "team")
        for team, schools in serves.items():
            for t in rows_of(ft, "team", [team]):
                parts = [(f"{kind}_by_school", i) for i in rows_of(fs, site, schools)]
                sys_.link((f"{kind}_by_team", t), parts, counts)
        tot_s, tot_t = rows_of(fs, site, ["Total"]), rows_of(ft, "team", ["Total"])
        sys_.link((f"{kind}_by_team", tot_t[0]), [(f"{kind}_by_school", tot_s[0])], counts)
        o = rel.get(overall)
        if o is not None:
            fo = o.frame
            r = 0 if kind == "reach" else rows_of(fo, "stage", ["first"])[0]
            sys_.table(overall, fo.iloc[[r]].reset_index(drop=True), counts, None)
            sys_.link((f"{kind}_by_team", tot_t[0]), [(overall, 0)], counts)
    o = rel.get("outcomes_by_site")
    if o is not None:
        f = o.frame
        counts = ["n", "reliable_improvement"]
        sys_.table("outcomes_by_site", f, counts, "level", group="group")
        is_school = (f["group"] == "school_id").to_numpy()
        for team, schools in serves.items():
            t = [i for i in rows_of(f, "level", [team]) if not is_school[i]]
            parts = [("outcomes_by_site", i) for i in rows_of(f, "level", schools) if is_school[i]]
            if t:
                sys_.link(("outcomes_by_site", t[0]), parts, counts)
        tots = rows_of(f, "level", ["Total"])
        sys_.link(("outcomes_by_site", tots[1]), [("outcomes_by_site", tots[0])], counts)
    return sys_.recovered()


def attack_team_shares(rel: Release, serves: dict[str, list[str]], site: str = "school_id"):
    """A team's share within the waiting standard is its schools' weighted by their n: shown
    beside its schools with exactly one of theirs hidden (the others and their n shown), it
    gives that one back by difference (within the rounding)."""
    by_site, by_team = rel.get("waits_by_school"), rel.get("waits_by_team")
    if by_site is None or by_team is None:
        return []
    fs, ft = by_site.frame, by_team.frame
    leaks = []
    for team, schools in serves.items():
        for t in rows_of(ft, "team", [team]):
            rows = rows_of(fs, site, schools)
            hidden = [i for i in rows if is_hidden(fs.iloc[i]["within_standard"])]
            others = [i for i in rows if i not in hidden]
            shown = not is_hidden(ft.iloc[t]["within_standard"])
            if shown and len(hidden) == 1 and not any(is_hidden(fs.iloc[i]["n"]) for i in others):
                leaks.append(f"waits_by_team {team}: its share less its schools' gives one back")
    return leaks


def attack_months(rel: Release, months_in_baseline: list[str]):
    """The scorecard's baseline and now as sums of the monthly table's months."""
    sys_ = System()
    m, s = rel.get("monthly_activity"), rel.get("success_inappropriate")
    counts = ["decided", "accepted", "not_accepted", "inappropriate"]
    fm, fs = m.frame, s.frame
    sys_.table("monthly_activity", fm, counts, "period")
    sys_.table("success_inappropriate", fs, counts, None)
    months = [p for p in fm["period"].astype(str) if p != "Total"]
    after = [p for p in months if p > max(months_in_baseline)]
    sys_.link(("success_inappropriate", 0),
              [("monthly_activity", i) for i in rows_of(fm, "period", months_in_baseline)],
              counts)  # fmt: skip
    sys_.link(("success_inappropriate", 1),
              [("monthly_activity", i) for i in rows_of(fm, "period", after)], counts)  # fmt: skip
    return sys_.recovered()


# ----------------------------------------------------------------------------- the attacks work
def test_the_intruder_recovers_a_school_from_its_team():
    """Hand-made tables as a release without the team link would publish them: school A's 3
    and B's 12 are hidden in the table by school (total minus siblings gives neither), but
    team X serves A and C only, so A = X - C = 20 - 17."""
    by_school = pd.DataFrame({"school_id": ["A", "B", "C", "Total"], "n": ["*", "*", 17, 32]})
    by_team = pd.DataFrame({"team": ["X", "Y", "Total"], "n": [20, 12, 32]})
    sys_ = System()
    sys_.table("s", by_school, ["n"], "school_id")
    sys_.table("t", by_team, ["n"], "team")
    assert sys_.recovered() == []  # each table alone is safe
    sys_.link(("t", 0), [("s", 0), ("s", 2)], ["n"])
    sys_.link(("t", 1), [("s", 1)], ["n"])
    assert set(sys_.recovered()) == {("s", 0, "n"), ("s", 1, "n")}


def test_the_intruder_recovers_a_school_s_share_from_its_team():
    def waits(labels, share):
        return ReleasedTable("w", pd.DataFrame({"school_id": labels, "team": labels, "n": 20,
                                                "within_standard": share}))  # fmt: skip

    class R:
        tables = {"waits_by_school": waits(["A", "B"], [MARKER, 0.5]),
                  "waits_by_team": waits(["T"], [0.5])}  # fmt: skip

        def get(self, name):
            return self.tables.get(name)

    assert attack_team_shares(R(), {"T": ["A", "B"]})


def test_the_intruder_recovers_a_month_from_the_baseline():
    """October's 3 is hidden with April's 20 (the year's Total protects it), but the baseline
    (September to November) is published: October = 35 - 10 - 22."""
    monthly = pd.DataFrame({"period": ["2025-09", "2025-10", "2025-11", "2026-04", "Total"],
                            "inappropriate": [10, "*", 22, "*", 55]})  # fmt: skip
    periods = pd.DataFrame({"period": ["baseline", "now"], "inappropriate": [35, 20]})

    class R:
        tables = {"monthly_activity": ReleasedTable("monthly_activity", monthly),
                  "success_inappropriate": ReleasedTable("success_inappropriate", periods)}  # fmt: skip

        def get(self, name):
            return self.tables.get(name)

    got = attack_months(R(), ["2025-09", "2025-10", "2025-11"])
    assert ("monthly_activity", 1, "inappropriate") in got


# ----------------------------------------------------------------------------- the release holds
@pytest.mark.parametrize("seed", [1, 2])
def test_a_team_does_not_give_away_its_small_school(seed, tmp_path):
    """Referrals, waits and outcomes: each by school holds the crafted small school, each by
    team its team (without the link the intruder recovers the school in all three)."""
    ev, crafted = crafted_teams(seed, tmp_path, small=5)
    rel = ev.release
    for name, n, label in (("reach_by_school", "received", "school_id"),
                           ("waits_by_school", "n", "school_id"),
                           ("outcomes_by_site", "n", "level")):  # fmt: skip
        row = rel.get(name).row(**{label: crafted["school"]})
        assert row is not None and row[n] == MARKER, name  # the crafted small school
    assert rel.get("reach_by_team").row(team=crafted["team"]) is not None
    assert attack_teams(rel, crafted["serves"]) == []
    assert attack_team_shares(rel, crafted["serves"]) == []
    # and the attacks of tests/test_report_attacks.py, on every table and the summary
    from test_report_attacks import all_attacks

    assert all_attacks(ev) == []


@pytest.mark.parametrize("config", ["demo_evaluation", "three_year_schools"])
def test_the_example_teams_and_schools_leak_nothing(config, tmp_path):
    """The three-year example published team MHST A's 170 referrals beside its schools'
    20, 20, *, 20, 90 and 15 (SCH05 = 170 - 165) before the team link."""
    ev = Evaluation.from_config(ROOT / "examples" / f"{config}.yaml", tmp_path)
    ref = ev.referrals.dropna(subset=["team"])
    serves = {t: sorted(set(g["school_id"])) for t, g in ref.groupby("team")}
    assert attack_teams(ev.release, serves) == []
    assert attack_team_shares(ev.release, serves) == []


def crafted_demo(tmp: Path, month: str = "2025-10", keep: int = 3) -> Evaluation:
    """The demo with all but ``keep`` of ``month``'s inappropriate referrals given another
    reason (declined by family), so that the month's count is small."""
    data = tmp / "data"
    data.mkdir()
    for p in DEMO_DATA.glob("*.csv"):
        (data / p.name).write_bytes(p.read_bytes())
    ref = pd.read_csv(data / "referrals.csv")
    reasons = yaml.safe_load(DEMO.read_text())["service"]["inappropriate_reasons"]
    hit = ref.index[ref["referral_date"].str.startswith(month)
                    & ref["not_accepted_reason"].isin(reasons)]  # fmt: skip
    ref.loc[hit[keep:], "not_accepted_reason"] = "declined by family"
    ref.loc[hit[keep:], "inappropriate"] = False
    ref.to_csv(data / "referrals.csv", index=False)
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(data)
    return Evaluation.from_config(cfg, tmp / "out")


def test_the_scorecard_baseline_does_not_give_away_a_small_month(tmp_path):
    ev = crafted_demo(tmp_path)
    rel = ev.release
    m = rel.get("monthly_activity").frame.set_index("period")
    assert m.loc["2025-10", "inappropriate"] == MARKER  # the crafted small month
    base = ["2025-09", "2025-10", "2025-11"]  # the demo's baseline, 1 September - 30 November
    assert attack_months(rel, base) == []
    # the scorecard says so rather than showing a rate from a hidden count
    card = rel.get("scorecard").row(measure="Inappropriate referrals (% of decided)")
    assert card["baseline"] == MARKER and card["status"] == "not yet clear"


# ----------------------------------------------------------------------------- school surveys
THREE_YEAR = ROOT / "examples" / "three_year_schools.yaml"


def copy_demo(tmp: Path, source: Path = DEMO_DATA) -> Path:
    data = tmp / "data"
    data.mkdir(exist_ok=True)
    for p in source.glob("*.csv"):
        (data / p.name).write_bytes(p.read_bytes())
    return data


def demo_on(data: Path, out: Path, config: Path = DEMO) -> Evaluation:
    cfg = yaml.safe_load(config.read_text())
    cfg["data_dir"] = str(data)
    return Evaluation.from_config(cfg, out)


def few_cases(data: Path, cohort: str, wave: str, keep: int, config: Path = DEMO) -> None:
    """Leave ``keep`` pupils with probable difficulties in one cohort's wave of the school
    survey (the others with difficulties are dropped; scored once to find them)."""
    first = demo_on(data, data.parent / "first", config)
    scores = first.survey_scores
    case = scores["total_difficulties_band"].isin(first.cfg.school_survey.sdq_bands).to_numpy()
    cell = ((scores["cohort"] == cohort) & (scores["wave"].astype(str) == wave)).to_numpy()
    sv = pd.read_csv(data / "school_survey.csv")
    assert len(sv) == len(scores)  # the scores keep the survey's rows in order
    sv.drop(index=np.flatnonzero(cell & case)[keep:]).to_csv(data / "school_survey.csv",
                                                             index=False)  # fmt: skip


def half_width_n(half: float, sd: float) -> float:
    """n from a t CI half-width and the SD (one school: t on n - 1 df, no design effect)."""
    n = (1.96 * sd / half) ** 2
    for _ in range(60):
        n = (st.t.ppf(0.975, max(n - 1, 1)) * sd / half) ** 2
    return n


def attack_change_from_baseline(rel: Release, cells: str, value: str, changes: str) -> list:
    """A cohort's change from baseline, shown beside its baseline value, gives its follow-up
    value back (and the reverse); a difference in differences beside the programme's change
    gives the comparison's. Leaks: a change known for a cohort one of whose two values is
    hidden. Prevalences are in the table as shares, changes in percentage points."""
    f = rel.get(cells).frame
    hidden = {(c, str(w)) for c, w, v in zip(f["cohort"], f["wave"], f[value], strict=True)
              if is_hidden(v)}  # fmt: skip
    leaks = []
    for comparison, g in rel.get(changes).frame.groupby("comparison"):
        base, follow = comparison.split(" to ")
        shown = {
            r["estimand"].split(" in ")[-1].split(" schools")[0] if " schools " in r["estimand"]
            else "did" if "differences" in r["estimand"] else "programme": r["estimate"]
            for r in g.to_dict("records") if not is_hidden(r["estimate"])
        }  # fmt: skip
        known = {k for k in ("programme", "comparison") if k in shown}
        if "did" in shown and known & {"programme", "comparison"}:
            known = {"programme", "comparison"}  # did = programme - comparison
        for cohort in known:
            if ((cohort, base) in hidden) != ((cohort, follow) in hidden):
                leaks.append(f"{changes} {comparison}: the {cohort} change and one value")
    return leaks


@pytest.fixture(scope="module")
def tiny_comparison_primary(tmp_path_factory) -> tuple[Evaluation, pd.DataFrame]:
    """The demo with one comparison primary school whose pupils are few: 11 answer at
    baseline and 9 at 12 months (copies of SCH01's answers)."""
    tmp = tmp_path_factory.mktemp("primary")
    data = copy_demo(tmp)
    schools = pd.read_csv(data / "schools.csv")
    new = {"school_id": "SCH27", "phase": "primary", "in_programme": False, "team": None,
           "n_pupils": 60, "n_staff": 8, "pct_fsm": 20.0}  # fmt: skip
    pd.concat([schools, pd.DataFrame([new])]).to_csv(data / "schools.csv", index=False)
    pv = pd.read_csv(data / "primary_survey.csv")
    extra = []
    for wave, k in (("baseline", 11), ("12m", 9)):
        e = pv[(pv["school_id"] == "SCH01") & (pv["wave"] == wave)].head(k).copy()
        e["school_id"] = "SCH27"
        e["pupil_id"] = [f"Q{wave[0]}{i:03d}" for i in range(k)]
        extra.append(e)
    pd.concat([pv, *extra]).to_csv(data / "primary_survey.csv", index=False)
    ev = demo_on(data, tmp / "out")
    return ev, ev.primary_scores


def test_the_primary_ci_gives_back_the_published_n_only(tiny_comparison_primary):
    ev, scores = tiny_comparison_primary
    scale = ev.cfg.school_survey.primary_scale
    exact = scores[(scores["cohort"] == "comparison") & (scores["wave"].astype(str) == "baseline")]
    exact_n = int(exact[scale].notna().sum())
    r = ev.release.get("survey_primary_wellbeing").row(cohort="comparison", wave="baseline")
    assert exact_n != r["n"]  # rounding hid the exact n (9 published as 10) ...
    # ... which one school's CI (no design effect) and SD gave back before the CI was
    # recomputed from the published mean, SD and n
    n_back = half_width_n((r["ci_high"] - r["ci_low"]) / 2, r["sd"])
    assert round(n_back) == r["n"], n_back


def test_a_cohort_change_does_not_give_back_its_hidden_wave(tiny_comparison_primary):
    """The comparison school's 12-month mean (9 pupils, under the threshold with their
    scores) is hidden; its change from baseline must be too, and so must the difference in
    differences (which is the programme's change minus it)."""
    ev, _ = tiny_comparison_primary
    rel = ev.release
    r = rel.get("survey_primary_wellbeing").row(cohort="comparison", wave="12m")
    assert is_hidden(r["mean"])
    assert (
        attack_change_from_baseline(
            rel, "survey_primary_wellbeing", "mean", "survey_primary_comparison"
        )
        == []
    )
    prog = rel.get("survey_primary_comparison").frame
    assert (
        not prog[prog["estimand"].str.contains("in programme schools")]["estimate"]
        .map(is_hidden)
        .any()
    )  # the programme's own change stays


def test_a_change_in_prevalence_does_not_give_back_a_hidden_count(tmp_path):
    """The comparison schools at 12 months keep every pupil without probable difficulties
    and 3 with: 3 cases of several hundred, hidden. The change in prevalence (shown beside
    the baseline prevalence) would give the 12-month prevalence, and times n the 3."""
    data = copy_demo(tmp_path)
    few_cases(data, "comparison", "12m", 3)
    ev = demo_on(data, tmp_path / "out")
    rel = ev.release
    r = rel.get("survey_prevalence").row(cohort="comparison", wave="12m")
    assert r["cases"] == MARKER and not is_hidden(r["n"])
    assert attack_change_from_baseline(rel, "survey_prevalence", "prevalence",
                                       "survey_comparison") == []  # fmt: skip


def attack_trend(rel: Release) -> list:
    """The trend table by arm: a change from baseline at a wave (shown, or a difference in
    differences beside the other arm's) with one of its two prevalences hidden, or a trend
    over the waves (shown, or a difference in trends beside the other arm's) with exactly
    one of them hidden, gives the hidden prevalence back."""
    f = rel.get("survey_prevalence").frame
    hidden = {(c, str(w)) for c, w, v in zip(f["cohort"], f["wave"], f["prevalence"],
                                             strict=True) if is_hidden(v)}  # fmt: skip
    waves = list(dict.fromkeys(f["wave"].astype(str)))
    shown = {(r["arm"], str(r["wave"])) for r in rel.get("survey_trend").frame.to_dict("records")
             if not is_hidden(r["estimate"])}  # fmt: skip
    arms, did = ("programme", "comparison"), "programme - comparison"
    for w in [*waves[1:], "all waves"]:
        if (did, w) in shown and any((a, w) in shown for a in arms):
            shown |= {(a, w) for a in arms}
    leaks = []
    for arm, w in shown:
        if arm not in arms:
            continue
        on = waves if w == "all waves" else [waves[0], w]
        if sum((arm, x) in hidden for x in on) == 1:
            leaks.append(f"survey_trend: {arm} at {w} with one hidden prevalence")
    return leaks


def test_the_trend_does_not_give_back_a_hidden_wave(tmp_path):
    """Three years, four waves: the comparison schools keep 3 pupils with probable
    difficulties at 24 months. Their change from baseline at 24 months, the difference in
    differences, and the comparison's trend over the waves must all hide with it."""
    data = copy_demo(tmp_path, ROOT / "synthetic_data" / "three_year")
    few_cases(data, "comparison", "24m", 3, THREE_YEAR)
    rel = demo_on(data, tmp_path / "out", THREE_YEAR).release
    assert rel.get("survey_prevalence").row(cohort="comparison", wave="24m")["cases"] == MARKER
    assert attack_trend(rel) == []
    assert attack_change_from_baseline(rel, "survey_prevalence", "prevalence",
                                       "survey_comparison") == []  # fmt: skip
    t = rel.get("survey_trend").frame
    assert not t[t["arm"] == "programme"]["estimate"].map(is_hidden).any()


# ----------------------------------------------------------------------------- waits by month
def attack_waits_by_month(rel: Release) -> list:
    """The months of the waits chart add up to the overall waits (first contact), whose
    number seen the scorecard publishes again."""
    sys_ = System()
    counts = ["n", "n_seen", "n_waiting", "n_closed_unseen"]
    f, o = rel.get("waits_by_month").frame, rel.get("waits_overall").frame
    sys_.table("waits_by_month", f, counts, None)
    first = o[o["stage"] == "first"].reset_index(drop=True)
    sys_.table("waits_overall", first, counts, None)
    sys_.link(("waits_overall", 0), [("waits_by_month", i) for i in range(len(f))], counts)
    sc = rel.get("success_waits")
    if sc is not None:
        sys_.table("success_waits", sc.frame, ["n_seen"], None)
        sys_.link(("success_waits", 0), [("waits_overall", 0)], ["n_seen"])
    return sys_.recovered()


@pytest.mark.parametrize("july", [False, True], ids=["all seen", "ten waiting in July"])
def test_the_months_of_the_waits_chart_do_not_give_away_a_small_month(july, tmp_path):
    """The demo with every child seen but the last three referred (August): the three
    waiting are hidden, and with them the number seen overall (n = seen + waiting). The
    scorecard's number seen within the standard rests on the same number seen: shown
    there, n minus it gave the three back (and the overall minus the other months gave
    August's few seen)."""
    data = copy_demo(tmp_path)
    ref = pd.read_csv(data / "referrals.csv")
    waiting = ref.index[(ref["accepted"].astype(str) == "True") & ref["first_contact_date"].isna()]
    seen = waiting[:-3]
    day = pd.to_datetime(ref.loc[seen, "referral_date"]) + pd.Timedelta(days=3)
    ref.loc[seen, "first_contact_date"] = day.clip(upper=pd.Timestamp("2026-08-31")).dt.strftime(
        "%Y-%m-%d"
    )
    ref.loc[seen, "n_contacts"] = 1
    if july:  # and ten of July's still waiting: then the overall number waiting is shown
        unseen = ref.index[(ref["accepted"].astype(str) == "True")
                           & ref["referral_date"].str.startswith("2026-07")][:10]  # fmt: skip
        for c in ("first_contact_date", "second_contact_date", "discharge_date"):
            ref.loc[unseen, c] = np.nan
        ref.loc[unseen, "n_contacts"] = 0
    ref.to_csv(data / "referrals.csv", index=False)
    rel = demo_on(data, tmp_path / "out").release
    m = rel.get("waits_by_month").frame.set_index("month")
    assert m.loc["2026-08", "n_waiting"] == MARKER
    if july:
        overall = rel.get("waits_overall").row(stage="first")
        assert not is_hidden(overall["n_waiting"])  # 13: August's 3 = 13 - July's 10
    assert attack_waits_by_month(rel) == []


# ----------------------------------------------------------------------------- random pilots
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_small_pilots_leak_nothing_across_linked_tables(seed, tmp_path):
    """Four-school pilots with two teams (simulated, not edited): before the team link each
    of these seeds published a team beside a single hidden school of its own."""
    from test_report_attacks import pilot

    ev = pilot(seed, tmp_path, n_schools=4, pupils_per_primary=150, referral_rate=0.05)
    rel = ev.release
    ref = ev.referrals.dropna(subset=["team"])
    serves = {t: sorted(set(g["school_id"])) for t, g in ref.groupby("team")}
    assert len(serves) == 2 and all(len(s) == 2 for s in serves.values())
    assert attack_teams(rel, serves) == []
    assert attack_team_shares(rel, serves) == []
    assert attack_waits_by_month(rel) == []


def test_the_design_effect_and_icc_give_back_the_published_n_only(tmp_path):
    """The comparison schools at 12 months keep 13 pupils in two schools (8, 6 of them with
    probable difficulties, and 5 without): n is published as 15. The design effect is
    1 + (n / schools - 1) ICC, so with the ICC beside it n = schools x (1 + (deff - 1) / ICC);
    from the exact design effect that gave the exact 13 back.

    By hand (one-way ANOVA ICC): MSB = 8 (3/4 - 6/13)^2 + 5 (6/13)^2 = 1.7308, MSW = 1.5 / 11
    = 0.13636, n0 = 13 - (64 + 25) / 13 = 6.1538, ICC = (MSB - MSW) / (MSB + (n0 - 1) MSW)
    = 0.655; the exact design effect 1 + 5.5 x 0.655 = 4.60 gives 2 (1 + 3.60 / 0.655) = 12.99,
    the one from the published n 1 + (7.5 - 1) x 0.655 = 5.26 gives 15.01."""
    data = copy_demo(tmp_path)
    first = demo_on(data, tmp_path / "first")
    scores = first.survey_scores
    case = scores["total_difficulties_band"].isin(first.cfg.school_survey.sdq_bands)
    answered = scores["total_difficulties_band"].notna()
    cell = (scores["cohort"] == "comparison") & (scores["wave"].astype(str) == "12m")
    a, b = sorted(set(scores.loc[cell, "school_id"]))[:2]
    keep = [
        *np.flatnonzero(cell & (scores["school_id"] == a) & case)[:6],
        *np.flatnonzero(cell & (scores["school_id"] == a) & answered & ~case)[:2],
        *np.flatnonzero(cell & (scores["school_id"] == b) & answered & ~case)[:5],
    ]
    sv = pd.read_csv(data / "school_survey.csv")
    assert len(sv) == len(scores)  # the scores keep the survey's rows in order
    drop = np.setdiff1d(np.flatnonzero(cell.to_numpy()), keep)
    sv.drop(index=drop).to_csv(data / "school_survey.csv", index=False)
    ev = demo_on(data, tmp_path / "out")
    r = ev.release.get("survey_prevalence").row(cohort="comparison", wave="12m")
    exact_n, schools = 13, 2
    assert r["n"] == 15 and r["icc"] == 0.655  # rounding hid the exact n ...
    assert r["deff"] == 5.26
    # ... which the published design effect and ICC must not give back
    n_back = schools * (1 + (float(r["deff"]) - 1) / float(r["icc"]))
    assert round(n_back) != exact_n, n_back
    assert n_back == pytest.approx(r["n"], abs=1)


# ----------------------------------------------------------------------------- random structures
def _linked_pair(schools: list[tuple[int, object]], team_of: list[int]):
    """A table by school (n and a share weighted by n, some shares hidden for reasons of
    their own) released, then its teams linked to it (each team with the schools it serves,
    Total with Total) and released: what the report does for referrals and waits."""
    rel = Release()
    opts = {"counts": ["n"], "means": {"share": ("n", 2)}, "weighted": {"share": "n"},
            "totals": True}  # fmt: skip
    n = [k for k, _ in schools]
    s = pd.DataFrame({"school_id": [f"S{i}" for i in range(len(n))] + ["Total"],
                      "n": [*n, sum(n)],
                      "share": [v for _, v in schools] + [0.5]})  # fmt: skip
    by_school = rel.counts(s, "by_school", **opts)
    teams = sorted(set(team_of))
    serves = {t: [i for i, u in enumerate(team_of) if u == t] for t in teams}
    links = [([r], by_school, serves[t]) for r, t in enumerate(teams)]
    links.append(([len(teams)], by_school, [len(n)]))
    t = pd.DataFrame({"team": [f"T{u}" for u in teams] + ["Total"],
                      "n": [sum(n[i] for i in serves[u]) for u in teams] + [sum(n)],
                      "share": 0.5})  # fmt: skip
    return rel, by_school, links, t, opts


def _intruder(by_school: pd.DataFrame, by_team: pd.DataFrame, links, column: str) -> System:
    sys_ = System()
    sys_.table("s", by_school, [column], "school_id")
    sys_.table("t", by_team, [column], "team")
    for rows, _, parts in links:
        sys_.link(("t", rows[0]), [("s", j) for j in parts], [column])
    return sys_


def _times_n(f: pd.DataFrame) -> pd.DataFrame:
    """The share x n cells: known where both are shown (a hidden n hides the product)."""
    hidden = [is_hidden(v) or is_hidden(k) for v, k in zip(f["share"], f["n"], strict=True)]
    return f.assign(vn=[MARKER if h else 1.0 for h in hidden])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=hs.data())
def test_property_random_schools_and_teams_leak_nothing(data):
    """Random schools served by random teams: the intruder puts both published tables, their
    Totals and every team = its schools in one linear system (published cells as exact) and
    must pin down no hidden count, and no hidden share x n. Where the table by team is
    refused, the table by school gives the refused team away on its own (every cell of the
    table by team hidden, the system still pins it down)."""
    k = data.draw(hs.integers(2, 8))
    n = data.draw(hs.lists(hs.one_of(hs.integers(0, 9), hs.integers(0, 40)), min_size=k,
                           max_size=k))  # fmt: skip
    few = data.draw(hs.lists(hs.booleans(), min_size=k, max_size=k))
    team_of = data.draw(hs.lists(hs.integers(0, 3), min_size=k, max_size=k))
    schools = [(m, MARKER if f and m else 0.5) for m, f in zip(n, few, strict=True)]
    rel, by_school, links, t, opts = _linked_pair(schools, team_of)
    fs = by_school.frame
    try:
        ft = rel.counts_linked(t, "by_team", links=links, **opts).frame
    except PublishedElsewhereError as e:
        blind = t.assign(n=MARKER, share=MARKER)
        assert ("t", e.row, "n") in _intruder(fs, blind, links, "n").recovered()
        return
    assert _intruder(fs, ft, links, "n").recovered() == []
    assert _intruder(_times_n(fs), _times_n(ft), links, "vn").recovered() == []
