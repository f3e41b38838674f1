"""The demo shows the measures real programmes use (issue 16, item 4): the MHST measures
(RCADS-25, GAD-7, PHQ-9) in the outcomes section and the primary Stirling survey in the school
section, every number through the release; and the config key that names the primary survey.

Expected numbers are recomputed here from the committed CSV files with plain pandas (item
sums, first and last score per referral, responses per school), not with the scoring engine,
the pairing or the survey functions the report uses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from _report_data import DEMO, DEMO_DATA, set_path
from outcomes.report.config import ConfigError, SchoolSurvey, Tables, load_config
from outcomes.report.inputs import load_inputs
from outcomes.report.sections.evaluation import Evaluation
from outcomes.synthetic.programme import DEMO_COMMAND, DEMO_SETTINGS, _command_for

# RCADS-25 anxiety items (instruments/rcads_25_self.yaml, scales.anxiety): 15 items, 0-3 each
RCADS_ANXIETY = [f"q{i}" for i in (2, 3, 5, 6, 7, 9, 11, 12, 14, 17, 18, 20, 22, 23, 25)]
# SCWBS wellbeing total (instruments/scwbs.yaml): the 12 positively worded items, 1-5 each;
# q2, q7 and q13 are the social-desirability items and are not part of it
SCWBS_TOTAL = [f"q{i}" for i in (1, 3, 4, 5, 6, 8, 9, 10, 11, 12, 14, 15)]


@pytest.fixture(scope="module")
def ev(tmp_path_factory):
    return Evaluation.from_config(DEMO, tmp_path_factory.mktemp("demo_measures"))


@pytest.fixture(scope="module")
def rel(ev):
    return ev.release


def _base5(n: float) -> int:
    """The release rounds published counts to the nearest 5 (disclosure.base: 5 in the demo)."""
    return int(5 * np.floor(n / 5 + 0.5))


def test_the_demo_is_simulated_with_the_mhst_measures_and_the_primary_survey():
    assert DEMO_SETTINGS["mhst_measures"] is True and DEMO_SETTINGS["primary_survey"] is True
    assert "--mhst-measures --primary-survey" in DEMO_COMMAND
    cmd = _command_for(2026, {"mhst_measures": True, "primary_survey": False})
    assert "--mhst-measures" in cmd and "--primary-survey" not in cmd
    for f in ("responses_rcads_25_self", "responses_rcads_25_parent", "responses_gad_7",
              "responses_phq_9", "primary_survey"):  # fmt: skip
        assert (DEMO_DATA / f"{f}.csv").is_file(), f
    cfg = load_config(DEMO)
    assert {"rcads_25_self", "rcads_25_parent", "gad_7", "phq_9"} <= set(cfg.tables.responses)
    assert cfg.tables.primary_survey == "primary_survey.csv"


def test_the_demo_report_holds_an_rcads_table(ev, rel):
    ch = rel.get("change_by_measure").frame
    rc = ch[ch["instrument"] == "rcads_25_self"].set_index("scale")
    assert list(rc.index) == ["anxiety", "depression", "total"]
    # Hand derivation: complete-case anxiety sums; per referral the first and the last score
    # by date (rule first_last), a pair when there are two or more.
    r = pd.read_csv(DEMO_DATA / "responses_rcads_25_self.csv", parse_dates=["date"])
    r = r.assign(anx=r[RCADS_ANXIETY].sum(axis=1, min_count=len(RCADS_ANXIETY)))
    r = r[r[RCADS_ANXIETY].notna().all(axis=1)].sort_values(["referral_id", "date"])
    g = r.groupby("referral_id")["anx"]
    pairs = pd.DataFrame({"pre": g.first(), "post": g.last(), "k": g.size()})
    pairs = pairs[pairs["k"] >= 2]
    row = rc.loc["anxiety"]
    assert int(row["n"]) == _base5(len(pairs))
    assert float(row["mean_pre"]) == round(pairs["pre"].mean(), 1)
    assert float(row["mean_post"]) == round(pairs["post"].mean(), 1)
    assert set(ch.loc[ch["instrument"] == "rcads_25_parent", "scale"]) == {
        "anxiety", "depression", "total"
    }  # fmt: skip
    # RCADS-25 has no reliable-change threshold in its file (no NHS threshold, no T-score
    # norms for the short form): it is in the change table, not in the reliable-change one
    assert "rcads_25_self" not in set(rel.get("reliable_change").frame["instrument"])
    assert "rcads_25_self" in rel.facts["outcomes: no reliable-change threshold"]
    html = ev.outcomes().to_html()
    assert html.count("no reliable-change threshold for Revised Child Anxiety") == 1


def test_the_demo_report_holds_gad_7_and_phq_9(rel):
    comp = rel.get("paired_completion").frame.set_index("instrument")
    for inst in ("gad_7", "phq_9"):
        r = pd.read_csv(DEMO_DATA / f"responses_{inst}.csv")
        assert int(comp.loc[inst, "referrals"]) == _base5(r["referral_id"].nunique())
        assert int(comp.loc[inst, "records"]) == _base5(len(r))
        # thresholds 4 (GAD-7) and 6 (PHQ-9) in the files: they have a reliable-change row
        assert inst in set(rel.get("reliable_change").frame["instrument"])
        assert inst in set(rel.get("change_by_measure").frame["instrument"])


def test_the_demo_report_holds_a_stirling_table_apart_from_the_secondary_survey(rel):
    t = rel.get("survey_primary_wellbeing").frame
    pv = pd.read_csv(DEMO_DATA / "primary_survey.csv")
    total = pv[SCWBS_TOTAL].sum(axis=1, min_count=len(SCWBS_TOTAL))
    for wave, row in t.set_index("wave").iterrows():
        assert row["cohort"] == "programme"  # primary schools are all in the programme
        w = total[pv["wave"] == wave]
        assert int(row["responses"]) == _base5(len(w))
        assert int(row["n"]) == _base5(w.notna().sum())
        assert float(row["mean"]) == round(w.mean(), 1)
        assert float(row["sd"]) == round(w.std(ddof=1), 1)
    assert list(t["wave"]) == ["baseline", "12m"]
    comp = rel.get("survey_primary_comparison").frame
    assert set(comp["comparison"]) == {"baseline to 12m"} and "yes" in set(comp["primary"])
    # the secondary tables hold secondary schools only: no primary pupil in them
    secondary = set(pd.read_csv(DEMO_DATA / "school_survey.csv")["school_id"])
    by_school = rel.get("survey_prevalence_by_school").frame
    assert set(by_school["school_id"]) - {"Total"} <= secondary
    assert not secondary & set(pv["school_id"])


def test_every_school_of_the_demo_is_in_the_survey_reach(rel):
    reach = rel.get("survey_reach_by_school").frame
    rows = reach[reach["school_id"] != "Total"]
    schools = pd.read_csv(DEMO_DATA / "schools.csv")
    assert set(rows["school_id"]) == set(schools["school_id"])
    expected = pd.concat(
        [
            pd.read_csv(DEMO_DATA / f)["school_id"]
            for f in ("school_survey.csv", "primary_survey.csv")
        ]  # fmt: skip
    ).value_counts()
    for r in rows.itertuples():
        assert int(r.responses) == _base5(expected[r.school_id]) > 0, r.school_id
    phase = schools.set_index("school_id")["phase"]
    assert (rows["phase"].to_numpy() == phase[rows["school_id"]].to_numpy()).all()
    assert rel.facts["school: schools reached"] == {"programme": 22, "comparison": 4}
    totals = reach[reach["school_id"] == "Total"]  # one per cohort; no blank cell
    assert list(totals["cohort"]) == ["programme", "comparison"]
    assert not (reach.astype(str) == "").any().any()


# ---------------------------------------------------------------------------- the config
BASE = {"programme": "P", "period": {"start": "2025-09-01", "end": "2026-08-31"}, "tables": {}}


@pytest.mark.parametrize(
    "dotted, value, message",
    [
        ("tables.primary_survy", "p.csv", "did you mean 'primary_survey'?"),
        ("school_survey.primary_instrumnt", "scwbs", "did you mean 'primary_instrument'?"),
        ("school_survey.weights", {"rol": "r.csv", "roll": "r.csv"}, "did you mean 'roll'?"),
    ],
)
def test_unknown_config_keys_get_a_did_you_mean(dotted, value, message):
    with pytest.raises(ConfigError, match=message) as err:
        load_config(set_path(BASE, dotted, value))
    assert dotted.replace(".weights", ".weights.rol") in str(err.value)


def _primary_cfg(tmp_path, **school_survey):
    pv = pd.read_csv(DEMO_DATA / "primary_survey.csv").groupby("wave").head(30)
    pv.to_csv(tmp_path / "primary_survey.csv", index=False)
    pd.read_csv(DEMO_DATA / "schools.csv").to_csv(tmp_path / "schools.csv", index=False)
    cfg = {**BASE, "data_dir": str(tmp_path),
           "tables": {"schools": "schools.csv", "primary_survey": "primary_survey.csv"},
           "school_survey": {"waves": ["baseline", "12m"], **school_survey}}  # fmt: skip
    return load_config(cfg)


def test_a_primary_scale_or_wave_that_matches_nothing_stops_with_a_suggestion(tmp_path):
    with pytest.raises(ConfigError, match="primary_scale: unknown scale 'totl'; did you mean"):
        load_inputs(_primary_cfg(tmp_path, primary_scale="totl"))
    with pytest.raises(ConfigError, match="primary_survey: school_survey.waves: unknown wave"):
        load_inputs(_primary_cfg(tmp_path, waves=["baseline", "12m", "24m"]))
    with pytest.raises(ConfigError, match="unknown instrument|scwb"):
        load_inputs(_primary_cfg(tmp_path, primary_instrument="scwb"))


def test_a_primary_survey_alone_is_reported_and_reaches_its_schools(tmp_path):
    ev = Evaluation.from_config(_primary_cfg(tmp_path), tmp_path / "out")
    rel = ev.release
    t = rel.get("survey_primary_wellbeing").frame
    assert list(t["wave"]) == ["baseline", "12m"] and rel.get("survey_prevalence") is None
    reach = rel.get("survey_reach_by_school").frame
    # schools the 30-per-wave cut does not reach are listed with 0, not dropped
    zero = reach[(reach["school_id"] != "Total") & (reach["responses"].astype(str) == "0")]
    assert len(zero) and set(zero["survey"]) == {"none"}
    assert len(reach[reach["school_id"] != "Total"]) == 26
    html = ev.school_population().to_html()
    assert "never added to the secondary" in html and "Primary pupils" in html
    assert "not a difference in differences" in html  # no comparison primary school


@settings(max_examples=40, deadline=None)
@given(
    section=st.sampled_from(["tables", "school_survey"]),
    key=st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=20),
)
def test_any_unknown_key_is_named_never_ignored(section, key):
    allowed = {"tables": Tables, "school_survey": SchoolSurvey}[section].model_fields
    assume(key not in allowed)
    with pytest.raises(ConfigError) as err:
        load_config(set_path(BASE, f"{section}.{key}", "x"))
    assert f"{section}.{key}: unknown setting {key!r}" in str(err.value)


def test_synth_command_switches_the_mhst_measures_on(tmp_path):
    from typer.testing import CliRunner

    from outcomes.cli.main import app

    args = ["synth", "--seed", "4", "--schools", "3", "--truth-mc-size", "0", "--out"]
    on = CliRunner().invoke(app, [*args, str(tmp_path / "on"), "--mhst-measures"])
    off = CliRunner().invoke(app, [*args, str(tmp_path / "off")])
    assert on.exit_code == 0 and off.exit_code == 0, on.output + off.output
    assert (tmp_path / "on" / "responses_rcads_25_self.csv").is_file()
    assert not (tmp_path / "off" / "responses_rcads_25_self.csv").exists()
    assert "MHST measures" in on.output and "MHST measures" not in off.output
    # the switch adds tables; every other table is byte for byte the same
    for f in (tmp_path / "off").glob("*.csv"):
        assert f.read_bytes() == (tmp_path / "on" / f.name).read_bytes(), f.name
