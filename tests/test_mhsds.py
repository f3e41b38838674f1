"""MHSDS extracts and NHS England's CYP outcomes metric (issue 19; specs/mhsds.md).

Expected counts come from the hand-built extract in tests/mhsds_hand.py, whose docstring
derives each referral's outcome by hand from the rules of specs/mhsds.md section 3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import outcomes as oc
from mhsds_hand import PERIOD, build
from outcomes.errors import DataStructureError, OutcomesError
from outcomes.mhsds import method
from outcomes.mhsds.reference import BREAKDOWNS
from outcomes.synthetic.mhsds import write_extract


@pytest.fixture(scope="module")
def extract():
    return oc.mhsds.read(build())


def _metric(ex, **kw):
    kw.setdefault("convention", "nhs")
    return oc.cyp_outcome_metric(ex, period_start=PERIOD[0], period_end=PERIOD[1], **kw)


@pytest.fixture(scope="module")
def nhs(extract):
    return _metric(extract, by=list(BREAKDOWNS))


def _counts(res, breakdown="england", level="England"):
    t = res.to_frame()
    t = t[(t["breakdown"] == breakdown) & (t["level"] == level)].set_index("rater")
    cols = [
        "n_referrals",
        "n_assessed",
        "n_paired",
        "n_improvement",
        "n_no_change",
        "n_deterioration",
    ]
    return {r: [None if pd.isna(v) else int(v) for v in t.loc[r, cols]] for r in t.index}


def test_england_counts_nhs(nhs):
    # MHS110 = 13 (R01 R06 R12-R22). self: assessed R01 R06 R12 R13 R14 R15 R17 R19 R20 (9),
    # paired the first seven; improvement R01 R06 R12 R14 R15 R17 (6), no change R13 (ORS in
    # float32). parent: R01 (prosocial fall = improvement, Q1) and R16 (SDQ emotional +5 =
    # deterioration, beats HoNOSCA-SR s1's improvement). clinician: R01 no change (2->2),
    # R18 and R21 improvement. any: 12 assessed (all but R22), 10 paired (not R19 R20 R22).
    assert _counts(nhs) == {
        "self": [13, 9, 7, 6, 1, 0],
        "parent": [13, 2, 2, 1, 0, 1],
        "clinician": [13, 3, 3, 2, 1, 0],
        "any": [13, 12, 10, None, None, None],
    }


def test_england_counts_clinical(extract):
    # clinical: SDQ prosocial is higher = better, so R01's parent 8->4 is a deterioration;
    # HoNOSCA-SR scale 1 is self-rated (YAML respondent), so R16 adds a self pair with
    # improvement (4->1) and its parent outcome is the SDQ deterioration alone.
    res = _metric(extract, convention="clinical")
    assert _counts(res) == {
        "self": [13, 10, 8, 7, 1, 0],
        "parent": [13, 2, 2, 0, 0, 2],
        "clinician": [13, 3, 3, 2, 1, 0],
        "any": [13, 12, 10, None, None, None],
    }


def test_default_convention_is_clinical(extract):
    assert (
        oc.cyp_outcome_metric(extract, period_start=PERIOD[0], period_end=PERIOD[1]).convention
        == "clinical"
    )


def test_scope_reasons(nhs):
    r = nhs.referrals.set_index("UniqServReqID")
    assert r.loc["R02", "reason"] == method.R_AGE
    assert r.loc["R03", "reason"] == method.R_PERIOD
    assert r.loc["R04", "reason"] == method.R_OPEN
    assert r.loc["R05", "reason"] == method.R_TEAM
    assert r.loc["R07", "reason"] == method.R_SPELL
    assert r.loc["R08", "reason"] == method.R_LA
    assert r.loc["R09", "reason"] == method.R_NO_MPI
    assert r.loc["R10", "reason"] == method.R_OLD
    # every MHS101 referral appears once (R13's two monthly rows collapse to the latest)
    assert sorted(r.index) == [f"R{k:02d}" for k in range(1, 23)]
    in_scope = r[r["in_scope"]]
    assert len(in_scope) == 14 and int(in_scope["counted"].sum()) == 13
    assert pd.isna(r.loc["R11", "contact2"]) and r.loc["R11", "n_contacts"] == 1
    # R12: direct 2024-10-01 + the indirect activity twice on one date and time (counted once)
    assert r.loc["R12", "n_contacts"] == 2
    assert str(r.loc["R12", "contact2"])[:10] == "2024-10-15"
    # R13: two contacts on one day: Contact1 = Contact2
    assert r.loc["R13", "contact1"] == r.loc["R13", "contact2"]
    # R01: DNA, mechanism 98 and the contact after discharge do not count
    assert r.loc["R01", "n_contacts"] == 2


def test_unused_reasons_and_reconciliation(nhs, extract):
    u = nhs.unused
    got = u.groupby("reason").size().to_dict()
    assert got == {
        method.U_SCOPE: 2,  # R02's two scores
        method.U_NOC2: 1,  # R11
        method.U_BEFORE: 1,  # R18 2024-09-15
        method.U_DUP: 1,  # R18 second '3' on 2024-10-01
        method.U_INVALID: 2,  # R18 '9' and 'NA'
        method.U_MIDDLE: 1,  # R18 2025-01-01
        method.U_AFTER: 1,  # R18 2025-03-25
        method.U_PERSON: 1,  # R19 P99
        method.U_CODE: 2,  # R19 SDQ teacher and 999999999
        method.U_NOLAST: 1,  # R20 second SWEMWBS before Contact2
    }
    # every assessment row is used (a first or a last score) or unused with a reason
    m = nhs.measures
    used = len(m) + int(m["last_id"].notna().sum())
    n_rows = len(extract.tables["MHS606CodedScoreAssessmentRefer"]) + len(
        extract.tables["MHS607CodedScoreAssessmentAct"]
    )
    assert (len(m), int(m["last_id"].notna().sum()), len(u)) == (16, 13, 13)
    assert used + len(u) == n_rows == 42


def test_quirks_in_measures(nhs):
    m = nhs.measures.set_index(["UniqServReqID", "nhs_scale"])
    # Q6: ORS 8.9 -> 2.3 is -6.5999994 in float32, short of 6.6
    ors = m.loc[("R13", "ors")]
    assert np.float32(ors["change"]) == np.float32(np.float32(2.3) - np.float32(8.9))
    assert ors["class"] == "no_change"
    # RCADS T at age 12, F: ((20 - 7.89) / 3.91) * 10 + 50 = 80.97187; ((10 - 7.89) / 3.91)
    # * 10 + 50 = 55.39642
    rc = m.loc[("R14", "rcads_s_depression")]
    assert rc["first_value"] == pytest.approx(80.97187, abs=1e-4)
    assert rc["last_value"] == pytest.approx(55.39642, abs=1e-4)
    assert bool(rc["t_score"]) and rc["class"] == "improvement"
    # Q5: age 7: raw 25 -> 5 against the T threshold; v1 and v2 codes pair
    assert not bool(m.loc[("R15", "rcads_s_depression"), "t_score"])
    # Q3 and Q4: HoNOSCA-SR scale 1 is parent; GBO is self
    assert m.loc[("R16", "honosca_sr_s01"), "rater"] == "parent"
    assert m.loc[("R12", "gbo_goal1"), "rater"] == "self"
    # the two GBO families never pair
    assert pd.isna(m.loc[("R12", "gpc_goal1"), "last_id"])
    # Q7: a pair on one date, ordered by id
    cg = m.loc[("R21", "cgas")]
    assert (cg["first_raw"], cg["last_raw"], cg["class"]) == (40, 55, "improvement")
    # Q8: the MHS607 score takes the date of the DNA contact
    assert str(m.loc[("R17", "phq9"), "first_date"])[:10] == "2024-10-10"


def test_breakdowns(nhs):
    t = nhs.to_frame()
    t = t[t["rater"] == "any"]
    levels = {
        (b, lv): n for b, lv, n in t[["breakdown", "level", "n_referrals"]].itertuples(index=False)
    }
    assert levels == {
        ("england", "England"): 13,
        ("provider", "RH1"): 11,
        ("provider", "RH2"): 2,  # R21 R22
        ("icb", "QWE"): 12,
        ("icb", "UNKNOWN"): 1,  # R21's sub-ICB 99Z is not in the lookup
        ("region", "Y56"): 12,
        ("region", "UNKNOWN"): 1,
        ("age_band", "11 to 14"): 11,
        ("age_band", "16"): 1,  # R01
        ("age_band", "6 to 10"): 1,  # R15 (age 7)
        ("gender", "1"): 11,
        ("gender", "2"): 1,  # R14: Gender of the latest MPI row
        ("gender", "3"): 1,  # R22: GenderIDCode first
        ("ethnicity", "White or White British"): 11,
        ("ethnicity", "Black or Black British"): 1,
        ("ethnicity", "UNKNOWN"): 1,  # R22 'T' (Q11)
        ("imd_decile", "01 Most deprived"): 11,
        ("imd_decile", "10 Least deprived"): 1,
        ("imd_decile", "UNKNOWN"): 1,  # R13's LSOA not in the lookup
        ("referral_reason", "04"): 12,
        ("referral_reason", "UNKNOWN"): 1,  # R22 reason 17 (Q11)
        ("team_type", "C01"): 11,
        ("team_type", "C04"): 1,  # R06 through MHS102 (Q9)
        ("team_type", "UNKNOWN"): 1,  # R22
    }
    # R11 (in scope, no Contact2) still makes its levels appear with zero counts elsewhere:
    # every level has 4 rater rows
    assert len(nhs.to_frame()) == 4 * len(levels)


def test_nhs_frame_suppression(nhs):
    f = nhs.to_nhs_frame(suppress=True).set_index(["BREAKDOWN", "PRIMARY_LEVEL", "MEASURE_ID"])
    # Provider RH1 MHS110 = 11 -> 10; RH2 = 2 -> *; England unsuppressed: 13
    assert f.loc[("Provider", "RH1", "MHS110"), "MEASURE_VALUE"] == 10
    assert f.loc[("Provider", "RH2", "MHS110"), "MEASURE_VALUE"] == "*"
    assert f.loc[("England", "England", "MHS110"), "MEASURE_VALUE"] == 13
    # a 0 is suppressed too: RH1 parent deterioration? R16 is RH1 -> 1 -> *; RH2 parent 0 -> *
    assert f.loc[("Provider", "RH2", "MHS114c"), "MEASURE_VALUE"] == "*"
    # England percentages: 1 decimal (self improvement 6 / 7 = 85.7)
    assert f.loc[("England", "England", "MHS113b"), "MEASURE_VALUE"] == 85.7
    raw = nhs.to_nhs_frame().set_index(["BREAKDOWN", "PRIMARY_LEVEL", "MEASURE_ID"])
    assert raw.loc[("Provider", "RH2", "MHS110"), "MEASURE_VALUE"] == 2


def test_disclosure_mhsds_rule():
    t = pd.DataFrame({"g": ["a", "b", "c", "d"], "n": [0, 4, 7, 13], "d": [10, 10, 10, 40]})
    out = oc.disclosure.apply(t, counts=["n", "d"], percentages={"p": ("n", "d")}, rule="mhsds")
    # 0 and 4 -> *; 7 -> 5; 13 -> 15; 10 -> 10; % from unrounded counts: 7/10 = 70, 13/40 = 32.5
    # -> 32 (half-even), * with a suppressed numerator
    assert out["n"].tolist() == ["*", "*", 5, 15]
    assert out["p"].tolist() == ["*", "*", 70, 32]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=30))
def test_disclosure_mhsds_property(values):
    out = oc.disclosure.apply(pd.DataFrame({"n": values}), counts=["n"], rule="mhsds")
    for v, o in zip(values, out["n"], strict=True):
        if v < 5:
            assert o == "*"
        else:
            assert o % 5 == 0 and abs(o - v) <= 2


def test_reader_errors():
    t = build()
    with pytest.raises(DataStructureError, match="MHS201CareContact"):
        oc.mhsds.read({k: v for k, v in t.items() if k != "MHS201CareContact"})
    bad = dict(t)
    bad["MHS101Referral"] = t["MHS101Referral"].drop(columns=["ServDischDate"])
    with pytest.raises(DataStructureError, match="MHS101Referral.*ServDischDate"):
        oc.mhsds.read(bad)
    with pytest.raises(DataStructureError, match="did you mean 'MHS101Referral'"):
        oc.mhsds.read({**t, "MHS101Referal": t["MHS101Referral"]})
    bad = dict(t)
    r = t["MHS101Referral"].copy()
    r.loc[0, "ServDischDate"] = "20/03/2025"
    bad["MHS101Referral"] = r
    p = oc.mhsds.read(bad).problems
    assert (
        (p["table"] == "MHS101Referral") & (p["row"] == 0) & (p["column"] == "ServDischDate")
    ).any()


def test_reader_problems(extract):
    p = extract.problems
    # 'NA' does not parse; two codes unknown to the library (counted, one row per code)
    assert (p["problem"] == "score does not parse as a number").sum() == 1
    assert p["problem"].str.startswith("unknown SNOMED code").sum() == 2


def test_folder_roundtrip(tmp_path, extract):
    write_extract(build(), tmp_path, format="csv")
    res = _metric(oc.mhsds.read(tmp_path))
    assert _counts(res) == _counts(_metric(extract))


def test_argument_errors(extract):
    with pytest.raises(OutcomesError, match="referrals"):
        oc.cyp_outcome_metric(extract, pd.DataFrame(), period_start=PERIOD[0], period_end=PERIOD[1])
    with pytest.raises(ValueError, match="did you mean 'nhs'"):
        _metric(extract, convention="nsh")
    with pytest.raises(ValueError, match="engine"):
        _metric(extract, engine="sqlite")
    with pytest.raises(ValueError, match="did you mean 'provider'"):
        _metric(extract, by=["providr"])
    with pytest.raises(OutcomesError, match="MHSDS extract"):
        oc.cyp_outcome_metric(pd.DataFrame(), pd.DataFrame(), convention="nhs")


@pytest.mark.parametrize("convention", ["nhs", "clinical"])
def test_pandas_engine_equals_duckdb_hand(extract, convention):
    kw = dict(convention=convention, by=list(BREAKDOWNS))
    a, b = _metric(extract, **kw), _metric(extract, engine="pandas", **kw)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame(), check_dtype=False)
    assert a.unused.groupby("reason").size().equals(b.unused.groupby("reason").size())


def test_pandas_engine_equals_duckdb_synthetic_100k():
    # the Spark half of this comparison is in tests/test_mhsds_spark.py (same extract)
    from outcomes.synthetic.mhsds import simulate_mhsds

    ex = oc.mhsds.read(simulate_mhsds(100_000, seed=3))
    kw = dict(period_start="2025-04-01", period_end="2026-03-31", convention="nhs")
    kw["by"] = list(BREAKDOWNS)
    a = oc.cyp_outcome_metric(ex, **kw)
    b = oc.cyp_outcome_metric(ex, engine="pandas", **kw)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame(), check_dtype=False)
    cols = ["UniqServReqID", "nhs_scale", "first_value", "last_value", "change", "class"]
    pd.testing.assert_frame_equal(
        a.measures[cols].reset_index(drop=True),
        b.measures[cols].reset_index(drop=True),
        check_dtype=False,
    )
    assert a.unused.groupby("reason").size().equals(b.unused.groupby("reason").size())
    # the extract exercises the rules: every scope reason and most unused reasons occur
    assert set(a.referrals["reason"]) - {""} == {
        method.R_NO_MPI,
        method.R_OPEN,
        method.R_PERIOD,
        method.R_AGE,
        method.R_SPELL,
        method.R_LA,
        method.R_TEAM,
    } | ({method.R_OLD} & set(a.referrals["reason"]))


def test_command_line(tmp_path):
    from typer.testing import CliRunner

    from outcomes.cli import app

    folder = tmp_path / "extract"
    folder.mkdir()
    for k, v in build().items():
        v.to_csv(folder / f"{k}.csv", index=False)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        ["nhs-metric", str(folder), "--period", f"{PERIOD[0]}:{PERIOD[1]}", "-o", str(out)],
    )
    assert res.exit_code == 0, res.output
    assert "13 closed referrals in scope" in res.output
    nhs = pd.read_csv(out / "nhs_measures.csv", dtype=str)
    row = nhs[(nhs["BREAKDOWN"] == "Provider") & (nhs["PRIMARY_LEVEL"] == "RH2")]
    assert set(row["MEASURE_VALUE"]) == {"*"}  # every RH2 count is below 5
    bad = CliRunner().invoke(
        app, ["nhs-metric", str(folder), "--period", "2025-03", "-o", str(out)]
    )
    assert bad.exit_code == 1 and "START:END" in bad.output


def test_extract_from_the_simulated_programme():
    # the demo programme's children as an MHSDS extract: MHS110 is counted here straight from
    # the programme's referrals table (accepted, discharged in the period, a second contact,
    # aged 0-17), not by the metric's code
    from outcomes.synthetic import demo_programme
    from outcomes.synthetic.mhsds import from_programme

    d = demo_programme()
    ex = oc.mhsds.read(from_programme(d))
    assert ex.problems.empty
    period = ("2025-09-01", "2026-08-31")
    res = oc.cyp_outcome_metric(ex, period_start=period[0], period_end=period[1], convention="nhs")
    r = d.referrals
    disch = r["discharge_date"]
    expected = (
        r["accepted"].fillna(False).astype(bool)
        & disch.between(*period)
        & r["second_contact_date"].notna()
        & (r["second_contact_date"] <= disch)
        & r["age"].between(0, 17)
    ).sum()
    e = res.to_frame().set_index("rater")
    assert e.loc["any", "n_referrals"] == expected > 100
    # SDQ parent, HoNOSCA and GBO scores were recorded for them: every rater has pairs
    assert (e.loc[["self", "parent", "clinician"], "n_paired"] > 50).all()


def test_synth_writes_an_extract_that_nhs_metric_reads(tmp_path):
    # the two commands of the README: `synth --mhsds` then `nhs-metric` on its folder; MHS110
    # counted from the written referrals.csv (accepted, discharged in the period, a second
    # contact on or before discharge, aged 0-17), not by the metric's code
    from typer.testing import CliRunner

    from outcomes.cli import app

    runner = CliRunner()
    out = tmp_path / "syn"
    res = runner.invoke(
        app,
        ["synth", "--seed", "7", "--truth-mc-size", "0", "--mhsds", "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    assert "MHSDS extract" in res.output
    folder = out / "mhsds"
    assert sorted(p.name for p in folder.iterdir())[:2] == ["MHS001MPI.csv", "MHS101Referral.csv"]
    metric = tmp_path / "metric"
    res = runner.invoke(
        app,
        ["nhs-metric", str(folder), "--period", "2025-09-01:2026-08-31", "-o", str(metric)],
    )
    assert res.exit_code == 0, res.output
    r = pd.read_csv(out / "referrals.csv", parse_dates=["discharge_date", "second_contact_date"])
    disch = r["discharge_date"]
    expected = (
        r["accepted"].astype(str).str.lower().eq("true")
        & disch.between("2025-09-01", "2026-08-31")
        & r["second_contact_date"].notna()
        & (r["second_contact_date"] <= disch)
        & r["age"].between(0, 17)
    ).sum()
    m = pd.read_csv(metric / "metric.csv")
    england = m[(m["breakdown"] == "england") & (m["rater"] == "any")]
    assert int(england["n_referrals"].iloc[0]) == expected > 100
    assert pd.read_csv(metric / "problems.csv").empty
