"""outcomes.synthetic: table layout, determinism, bad arguments, writing and reading, CLI.

Small programmes throughout (a few schools, no Monte Carlo truth) so the file runs in seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import outcomes as oc
from outcomes.cli.synth import app
from outcomes.errors import OutcomesError
from outcomes.synthetic import (
    INAPPROPRIATE_REASONS,
    NOT_ACCEPTED_REASONS,
    RESPONSE_INSTRUMENTS,
    SWEMWBS_COLUMNS,
    ProgrammeData,
    SimulationParameterError,
    SimulationSettings,
    Truth,
    simulate_programme,
)
from outcomes.synthetic.settings import settings_from

KEY = ["person_id", "instrument", "rater", "date", "wave", "referral_id", "school_id"]
DEMOGRAPHICS = ["age", "year_group", "gender", "ethnicity", "fsm", "sen", "lgbt"]
REFERRAL_COLUMNS = [
    "referral_id",
    "person_id",
    "school_id",
    "referral_date",
    "source",
    "accepted",
    "not_accepted_reason",
    "first_contact_date",
    "second_contact_date",
    "discharge_date",
    "n_contacts",
]
SMALL = {"n_schools": 6, "secondary_share": 0.34, "truth_mc_size": 0}
TINY = {"n_schools": 2, "pupils_per_secondary": 300, "staff_per_secondary": 20, "truth_mc_size": 0}


@pytest.fixture(scope="module")
def small() -> ProgrammeData:
    return simulate_programme(seed=5, n_comparison_schools=1, **SMALL)


# ----------------------------------------------------------------------------- layout
def test_tables_and_columns_follow_the_data_model(small):
    tables = small.tables()
    assert list(tables)[:4] == ["schools", "referrals", "school_survey", "staff_survey"]
    assert [k for k in tables if k.startswith("responses_")] == [
        f"responses_{i}" for i in RESPONSE_INSTRUMENTS
    ]
    ref = small.referrals
    assert set(REFERRAL_COLUMNS + DEMOGRAPHICS) <= set(ref.columns)
    assert list(ref.columns[:3]) == ["referral_id", "person_id", "school_id"]
    for inst_id, df in small.responses.items():
        inst = oc.load_instrument(inst_id)
        assert list(df.columns[:7]) == KEY, inst_id
        # one column per item id exactly as in the YAML, in YAML order
        assert list(df.columns[7:]) == [it.id for it in inst.items], inst_id
        assert (df["instrument"] == inst_id).all()
    sv = small.school_survey
    sdq = oc.load_instrument("sdq_self")
    front = ["pupil_id", "school_id", "wave", "date", "year_group", "age", "gender"]
    assert list(sv.columns[:7]) == front
    assert {"ethnicity", "fsm", "sen", "lgbt"} <= set(sv.columns)
    assert [c for c in sv.columns if c in {it.id for it in sdq.items}] == [
        it.id for it in sdq.items
    ]
    assert [c for c in sv.columns if c.startswith("swemwbs_")] == [
        f"swemwbs_q{i}" for i in range(1, 8)
    ]
    staff = small.staff_survey
    assert list(staff.columns) == [
        "respondent_id", "school_id", "wave", "date", "role",
        *[f"q{i}" for i in range(1, 11)], "overall", "comments",
    ]  # fmt: skip
    assert set(small.schools["in_programme"]) == {True, False}


def test_every_table_validates_against_its_instrument(small):
    for inst_id, df in small.responses.items():
        if len(df):
            rep = oc.validate(df, inst_id)
            assert rep.ok, (inst_id, rep.summary())
    assert oc.validate(small.school_survey, "sdq_self").ok
    assert oc.validate(small.school_survey, "swemwbs", columns=SWEMWBS_COLUMNS).ok
    assert oc.validate(small.staff_survey, "workforce_confidence").ok


def test_ids_are_obviously_synthetic_and_unique(small):
    assert small.schools["school_id"].str.fullmatch(r"SCH\d{2,}").all()
    assert small.referrals["referral_id"].str.fullmatch(r"R\d{5,}").all()
    assert small.referrals["referral_id"].is_unique
    assert small.referrals["person_id"].str.fullmatch(r"P\d{6,}").all()
    assert small.school_survey["pupil_id"].str.fullmatch(r"P\d{6,}").all()
    assert small.staff_survey["respondent_id"].str.fullmatch(r"ST\d{5,}").all()
    assert not small.school_survey.duplicated(["pupil_id", "wave"]).any()
    assert not small.staff_survey.duplicated(["respondent_id", "wave"]).any()
    for df in small.responses.values():
        assert not df.duplicated(["referral_id", "rater", "wave"]).any()


def test_referral_records_are_internally_consistent(small):
    r = small.referrals
    extract = pd.Timestamp(small.truth.extract_date)
    assert (r["referral_date"] <= extract).all()
    assert r["referral_date"].is_monotonic_increasing  # ids are numbered in date order
    # dates never run backwards
    seen = r["first_contact_date"].notna()
    assert (r.loc[seen, "first_contact_date"] > r.loc[seen, "referral_date"]).all()
    two = r["second_contact_date"].notna()
    assert (r.loc[two, "second_contact_date"] > r.loc[two, "first_contact_date"]).all()
    dis = r["discharge_date"].notna()
    assert (r.loc[dis, "discharge_date"] >= r.loc[dis, "first_contact_date"]).all()
    assert (
        r[["first_contact_date", "second_contact_date", "discharge_date"]].max() <= extract
    ).all()
    # not accepted: a reason and no contact; accepted: no reason
    no = ~r["accepted"]
    assert r.loc[no, "not_accepted_reason"].isin(NOT_ACCEPTED_REASONS).all()
    assert r.loc[~no, "not_accepted_reason"].isna().all()
    assert not r.loc[no, "first_contact_date"].notna().any()
    assert (r.loc[no, "n_contacts"] == 0).all()
    assert (r["inappropriate"] == r["not_accepted_reason"].isin(INAPPROPRIATE_REASONS)).all()
    # contact counts match the dates
    assert (r.loc[~seen, "n_contacts"] == 0).all()
    assert (r.loc[seen, "n_contacts"] >= 1).all()
    assert (r.loc[two, "n_contacts"] >= 2).all()
    # LGBT+ is asked from age 11 only
    assert r.loc[r["age"] < 11, "lgbt"].isna().all()
    assert r["year_group"].between(0, 11).all() and r["age"].between(3, 18).all()
    primary = r["school_id"].isin(
        small.schools.loc[small.schools["phase"] == "primary", "school_id"]
    )
    assert r.loc[primary, "gender"].isin(["female", "male"]).all()


def test_measures_fall_on_the_episode_dates(small):
    r = small.referrals.set_index("referral_id")
    for inst_id in ("honosca", "sdq_parent", "gbo"):
        df = small.responses[inst_id]
        a = df[df["wave"] == "assessment"]
        assert (
            a["date"].to_numpy() == r.loc[a["referral_id"], "first_contact_date"].to_numpy()
        ).all()
        d = df[df["wave"] == "discharge"]
        ep = r.loc[d["referral_id"]]
        assert (d["date"].to_numpy() >= ep["second_contact_date"].to_numpy()).all()
        assert (d["date"].to_numpy() <= ep["discharge_date"].to_numpy()).all()
        assert (ep["n_contacts"] >= 2).all()
        rev = df[df["wave"] == "review"]
        later = d.set_index("referral_id")["date"]
        both = rev[rev["referral_id"].isin(later.index)]
        assert (both["date"].to_numpy() < later.loc[both["referral_id"]].to_numpy()).all()
    gbo = small.responses["gbo"]
    ages = r.loc[gbo["referral_id"], "age"].to_numpy()
    assert (gbo["rater"].to_numpy() == np.where(ages >= 11, "self", "parent")).all()
    y = small.responses["chi_esq_12_18"]
    assert (r.loc[y["referral_id"], "age"] >= 12).all()


def test_survey_covers_secondary_year_groups_only(small):
    sv = small.school_survey
    sec = small.schools.loc[small.schools["phase"] == "secondary", "school_id"]
    assert sv["school_id"].isin(sec).all()
    assert sv["year_group"].between(7, 11).all()
    assert sv["age"].between(11, 17).all()
    assert set(sv["wave"]) == {"baseline", "12m"}
    # partly the same pupils at 12 months
    both = sv.groupby("pupil_id")["wave"].nunique()
    assert 0 < (both == 2).sum() < len(both)
    # impact items are routed past when the overall-difficulties answer is "No"
    no = sv["ebddiff"] == 0
    assert sv.loc[no, ["distres", "imphome", "impfrie", "impclas", "impleis"]].isna().all().all()


# ----------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_tables():
    a = simulate_programme(seed=21, **TINY)
    b = simulate_programme(seed=21, **TINY)
    assert a.fingerprint() == b.fingerprint()
    for name, t in a.tables().items():
        pd.testing.assert_frame_equal(t, b.tables()[name])
    assert a.truth.to_dict() == b.truth.to_dict()


def test_different_seeds_give_different_tables():
    a = simulate_programme(seed=21, **TINY).fingerprint()
    b = simulate_programme(seed=22, **TINY).fingerprint()
    assert a["referrals"] != b["referrals"] and a["school_survey"] != b["school_survey"]


def test_settings_object_and_keywords_agree():
    s = SimulationSettings(**TINY)
    assert settings_from(s) == settings_from(None, **TINY) == s
    assert settings_from(s, follow_up_rate=0.9).follow_up_rate == 0.9
    d = simulate_programme(seed=3, settings=s, follow_up_rate=0.9)
    assert d.truth.dropout["follow_up_rate"] == 0.9
    assert d.settings == settings_from(s, follow_up_rate=0.9).as_dict()


# ----------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"n_schools": -1}, "n_schools"),
        ({"n_schools": 0}, "n_schools"),
        ({"pupils_per_primary": -5}, "pupils_per_primary"),
        ({"n_comparison_schools": -2}, "n_comparison_schools"),
        ({"n_schools": 2.5}, "whole number"),
        ({"follow_up_rate": 1.5}, "follow_up_rate"),
        ({"referral_rate": -0.1}, "referral_rate"),
        ({"item_missing_rate": float("nan")}, "item_missing_rate"),
        ({"survey_response_rate": "high"}, "survey_response_rate"),
        ({"school_icc": 1.0}, "school_icc"),
        ({"dropout": "random"}, "dropout"),
        ({"survey_waves": ("12m",)}, "baseline"),
        ({"survey_waves": ("baseline", "6m")}, "6m"),
        ({"survey_year_groups": (5, 6)}, "survey_year_groups"),
        ({"wait_weeks_start": 0}, "wait_weeks_start"),
        ({"service_months": 48}, "service_months"),
        ({"start_date": "31/08/2025"}, "start_date"),
        ({"sen_support_rate": 0.9, "ehcp_rate": 0.2}, "ehcp_rate"),
        ({"clinical_effect": 50}, "clinical_effect"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, needle):
    with pytest.raises(SimulationParameterError, match=re.escape(needle)):
        simulate_programme(seed=1, **kwargs)


def test_unknown_argument_suggests_the_right_name():
    with pytest.raises(SimulationParameterError, match="did you mean 'n_schools'"):
        simulate_programme(seed=1, n_school=3)
    assert issubclass(SimulationParameterError, OutcomesError)


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_bad_seed(seed):
    with pytest.raises(OutcomesError, match="parameter 'seed'"):
        simulate_programme(seed=seed)


def test_settings_accept_text_forms():
    s = SimulationSettings(start_date="2024-01-15", survey_waves="baseline, 12m, 24m",
                           survey_year_groups="7,9")  # fmt: skip
    assert s.start_date == dt.date(2024, 1, 15)
    assert s.survey_waves == ("baseline", "12m", "24m")
    assert s.survey_year_groups == (7, 9)
    assert s.extract_date == dt.date(2025, 1, 14)
    assert s.horizon_years == 3


# ----------------------------------------------------------------------------- tiny and odd
def test_tiny_programmes_still_produce_every_table():
    d = simulate_programme(seed=2, n_schools=1, secondary_share=0.0, service_months=1,
                           truth_mc_size=0)  # fmt: skip
    assert len(d.school_survey) == 0 and list(d.school_survey.columns[:3]) == [
        "pupil_id", "school_id", "wave"]  # fmt: skip
    for df in d.responses.values():
        assert list(df.columns[:7]) == KEY
    assert "undefined" in d.truth.summary()
    assert d.referrals["accepted"].dtype == bool


def test_lgbt_column_is_optional():
    d = simulate_programme(seed=2, lgbt=False, **TINY)
    assert "lgbt" not in d.referrals and "lgbt" not in d.school_survey


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_schools=st.integers(1, 3),
    follow=st.floats(0, 1),
    dropout=st.sampled_from(["mar", "mcar", "mnar"]),
    months=st.integers(1, 24),
)
def test_invariants_hold_for_any_settings(seed, n_schools, follow, dropout, months):
    d = simulate_programme(seed, n_schools=n_schools, follow_up_rate=follow, dropout=dropout,
                           service_months=months, pupils_per_secondary=300, truth_mc_size=0)  # fmt: skip
    r = d.referrals
    assert r["referral_id"].is_unique
    assert (r["n_contacts"] >= 0).all()
    assert (
        r["discharge_date"].isna().all()
        or (r["discharge_date"].dropna() <= pd.Timestamp(d.truth.extract_date)).all()
    )
    for df in d.responses.values():
        assert df["referral_id"].isin(r["referral_id"]).all()
    if follow == 0:
        assert (d.responses["honosca"]["wave"] != "discharge").all()


# ----------------------------------------------------------------------------- write / read
def test_write_and_read_back(small, tmp_path):
    out = small.write(tmp_path / "prog")
    names = sorted(p.name for p in out.iterdir())
    assert "datapackage.json" in names and "README.md" in names and "truth.json" in names
    back = ProgrammeData.read(out)
    assert back.fingerprint() == small.fingerprint()
    assert back.truth.to_dict() == small.truth.to_dict()
    pd.testing.assert_frame_equal(
        back.referrals, small.referrals, check_dtype=False, check_categorical=False
    )
    assert back.referrals["referral_date"].dtype.kind == "M"


def test_data_dictionary_describes_every_column(small, tmp_path):
    out = small.write(tmp_path / "prog")
    pkg = json.loads((out / "datapackage.json").read_text())
    readme = (out / "README.md").read_text()
    by_name = {r["name"]: r for r in pkg["resources"]}
    assert set(by_name) == set(small.tables())
    for name, table in small.tables().items():
        fields = by_name[name]["schema"]["fields"]
        assert [f["name"] for f in fields] == list(table.columns)
        for f in fields:
            assert f["type"] in {"string", "integer", "number", "boolean", "date"}
            assert f["description"], (name, f["name"])
            assert f"`{f['name']}`" in readme
    honosca = {f["name"]: f for f in by_name["responses_honosca"]["schema"]["fields"]}
    assert honosca["q1"]["constraints"]["enum"] == [0, 1, 2, 3, 4, 9]
    assert "Not known" in honosca["q1"]["description"]
    sv = {f["name"]: f for f in by_name["school_survey"]["schema"]["fields"]}
    assert "columns={'swemwbs_q1': 'q1'}" in sv["swemwbs_q1"]["description"]
    assert sv["date"]["type"] == "date"
    assert pkg["x_outcomes"]["seed"] == 5


def test_read_refuses_a_directory_without_a_package(tmp_path):
    with pytest.raises(OutcomesError, match="datapackage.json"):
        ProgrammeData.read(tmp_path)


# ----------------------------------------------------------------------------- truth object
def test_truth_round_trips_and_summarises(small):
    t = small.truth
    assert isinstance(t, Truth)
    again = Truth.from_dict(json.loads(t.to_json()))
    assert again.to_dict() == t.to_dict()
    long = t.to_frame()
    assert list(long.columns) == [
        "section",
        "instrument",
        "scale",
        "group",
        "wave",
        "quantity",
        "value",
    ]
    assert {"clinical", "survey", "icc", "staff", "service", "dropout"} <= set(long["section"])
    text = t.summary()
    assert "HoNOSCA total" in text and "MAR" in text
    assert t.change("honosca", "total") == pytest.approx(
        t.clinical.set_index(["instrument", "scale"]).loc[("honosca", "total"), "mean_change"]
    )
    with pytest.raises(OutcomesError, match="no single truth row"):
        t.change("honosca", "nonsense")


def test_truth_records_the_dropout_mechanism(small):
    assert small.truth.dropout["mechanism"] == "mar"
    for mech in ("mcar", "mnar"):
        t = simulate_programme(seed=4, dropout=mech, **TINY).truth
        assert t.dropout["mechanism"] == mech
        assert t.survey_follow_up["mechanism"] == mech
        assert ("z(" in t.dropout["model"]) == (mech != "mcar")


# ----------------------------------------------------------------------------- CLI
def test_cli_writes_a_programme(tmp_path):
    out = tmp_path / "demo"
    args = ["--seed", "3", "--schools", "2", "--truth-mc-size", "0", "--out", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert (out / "referrals.csv").is_file() and (out / "datapackage.json").is_file()
    assert "referrals" in res.output
    pkg = json.loads((out / "datapackage.json").read_text())
    assert pkg["x_outcomes"]["command"].startswith("outcomes synth --seed 3 --schools 2")


def test_cli_reports_bad_arguments(tmp_path):
    res = CliRunner().invoke(app, ["--out", str(tmp_path / "x"), "--dropout", "sometimes"])
    assert res.exit_code == 1
    assert "dropout" in res.output
    assert not (tmp_path / "x").exists()
