"""A strict report config: every name in it matches the data, or the build stops first.

Each misspelling below is one a user makes (a letter dropped, a space added); the expected
suggestion is the name the data hold. Nothing here builds a report: the checks run before any
analysis, on a small cut of the demo's tables.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from _report_data import mini_demo, set_path
from outcomes import cyp_outcome_metric
from outcomes.cli import app
from outcomes.report import ConfigError, load_config
from outcomes.report.checks import check_names
from outcomes.report.inputs import load_inputs


@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> dict:
    cfg = mini_demo(tmp_path_factory.mktemp("mini"))
    for survey in ("school_survey", "staff_survey"):
        cfg[survey] = {
            k: v for k, v in cfg[survey].items() if k not in ("baseline_wave", "followup_wave")
        }
        cfg[survey]["waves"] = ["baseline", "12m"]
    return cfg


def _problems(cfg: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_inputs(load_config(cfg))
    return err.value.problems


def test_the_demo_cut_has_no_problem(mini):
    inputs = load_inputs(load_config(mini))
    assert inputs.waves == {
        "school_survey": ["baseline", "12m"],
        "staff_survey": ["baseline", "12m"],
    }


MISSPELLINGS = [
    # (setting, misspelt value, the suggestion the message must carry)
    ("subgroups", ["gendr", "ethnicity"], "unknown column 'gendr'; did you mean 'gender'?"),
    (
        "service.inappropriate_reasons",
        ["inappropriate - not meeting criteria", "signposted elsewere"],
        "unknown reason 'signposted elsewere'; did you mean 'signposted elsewhere'?",
    ),
    ("school_survey.waves", ["baseline", "12 m"], "unknown wave '12 m'; did you mean '12m'?"),
    ("staff_survey.waves", ["baselin", "12m"], "unknown wave 'baselin'; did you mean 'baseline'?"),
    ("staff_survey.exclude_waves", ["24m"], "unknown wave '24m'; did you mean '12m'?"),
    (
        "school_survey.programme_column",
        "in_programe",
        "unknown column 'in_programe'; did you mean 'in_programme'?",
    ),
    (
        "staff_survey.respondent_column",
        "respondent",
        "unknown column 'respondent'; did you mean 'respondent_id'?",
    ),
    (
        "outcomes.headline",
        "sdq_parnt.emotional",
        "unknown instrument 'sdq_parnt'; did you mean 'sdq_parent'?",
    ),
    (
        "outcomes.headline",
        "sdq_parent.emotinal",
        "unknown scale 'emotinal'; did you mean 'emotional'?",
    ),
    (
        "school_survey.sdq_bands",
        ["high", "very hihg"],
        "unknown band 'very hihg'; did you mean 'very high'?",
    ),
    (
        "school_survey.swemwbs_prefix",
        "swemwbs",
        "unknown column 'swemwbsq1'; did you mean 'swemwbs_q1'?",
    ),
    (
        "school_survey.sdq_instrument",
        "sdq_slef",
        "unknown instrument 'sdq_slef'; did you mean 'sdq_self'?",
    ),
    (
        "staff_survey.instrument",
        "workforce_confidance",
        "unknown instrument 'workforce_confidance'; did you mean 'workforce_confidence'?",
    ),
]


@pytest.mark.parametrize(("setting", "value", "suggestion"), MISSPELLINGS)
def test_each_misspelling_stops_the_build_with_a_suggestion(
    mini, setting, value, suggestion, tmp_path
):
    problems = _problems(set_path(mini, setting, value))
    assert any(suggestion in p and p.startswith(setting.split(".")[0]) for p in problems), problems
    # and `outcomes report` exits 1 with the same message, no traceback, nothing written
    path = tmp_path / "evaluation.yaml"
    path.write_text(yaml.safe_dump(set_path(mini, setting, value)))
    result = CliRunner().invoke(app, ["report", str(path), "--output", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert suggestion in " ".join(result.output.split())
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_a_school_in_the_data_but_not_in_the_schools_table(mini, tmp_path):
    ref = pd.read_csv(f"{mini['data_dir']}/referrals.csv")
    ref.loc[3, "school_id"] = "sch01"  # typed in lower case
    ref.to_csv(tmp_path / "referrals.csv", index=False)
    cfg = set_path(mini, "tables.referrals", str(tmp_path / "referrals.csv"))
    problems = _problems(cfg)
    assert any("unknown school_id 'sch01'; did you mean 'SCH01'?" in p for p in problems)


def _numbered_schools(mini, tmp_path) -> tuple[dict, pd.DataFrame]:
    """The mini demo with its schools numbered (SCH04 -> "4") in every table, as text; and
    its school survey, with the numbers as numbers, for the caller to write."""
    cfg = mini
    files = {"schools": "schools.csv", "referrals": "referrals.csv",
             "staff_survey": "staff_survey.csv", "responses.sdq_parent": "sdq_parent.csv"}  # fmt: skip
    for table, name in files.items():
        df = pd.read_csv(f"{mini['data_dir']}/{name}", dtype=str, keep_default_na=False)
        df["school_id"] = df["school_id"].str.removeprefix("SCH").str.lstrip("0")
        df.to_csv(tmp_path / name, index=False)
        cfg = set_path(cfg, f"tables.{table}", str(tmp_path / name))
    sv = pd.read_csv(f"{mini['data_dir']}/school_survey.csv", dtype={"pupil_id": str})
    sv["school_id"] = sv["school_id"].str.removeprefix("SCH").astype(int)
    return cfg, sv


def test_a_float_school_id_column_is_the_schools_table_s_ids(mini, tmp_path):
    # a Parquet (or DataFrame) column of numbers with a blank is float: 4.0 is school "4",
    # as the pseudonymiser links 4.0 and "4" (it was refused as unknown school_id '4.0')
    from outcomes.report import Evaluation

    cfg, sv = _numbered_schools(mini, tmp_path)
    sv["school_id"] = sv["school_id"].astype(float)
    sv.to_parquet(tmp_path / "school_survey.parquet")
    cfg = set_path(cfg, "tables.school_survey", str(tmp_path / "school_survey.parquet"))
    assert check_names(load_config(cfg), {"schools": pd.read_csv(tmp_path / "schools.csv",
        dtype={"school_id": str}), "school_survey": sv}) == []  # fmt: skip
    ev = Evaluation(load_inputs(load_config(cfg)), tmp_path / "out")
    survey = ev.inputs.tables["school_survey"]
    assert set(survey["school_id"]) <= set(ev.inputs.tables["schools"]["school_id"])
    # every row finds its school's cohort: none is 'school not listed'
    assert "school not listed" not in set(ev.cohorts(survey))


def test_a_school_id_with_spaces_finds_its_school_in_the_sections(mini, tmp_path):
    # the check trims ids; the sections looked the untrimmed id up and put the school's
    # pupils under 'school not listed'
    from outcomes.report import Evaluation

    cfg, sv = _numbered_schools(mini, tmp_path)
    sv["school_id"] = " " + sv["school_id"].astype(str) + " "
    sv.to_csv(tmp_path / "school_survey.csv", index=False)
    cfg = set_path(cfg, "tables.school_survey", str(tmp_path / "school_survey.csv"))
    ev = Evaluation(load_inputs(load_config(cfg)), tmp_path / "out")
    assert "school not listed" not in set(ev.cohorts(ev.inputs.tables["school_survey"]))


def test_an_unknown_float_school_id_is_named_as_its_text(mini, tmp_path):
    cfg, sv = _numbered_schools(mini, tmp_path)
    sv["school_id"] = sv["school_id"].astype(float)
    sv.loc[:4, "school_id"] = 99.0
    sv.to_parquet(tmp_path / "school_survey.parquet")
    cfg = set_path(cfg, "tables.school_survey", str(tmp_path / "school_survey.parquet"))
    problems = _problems(cfg)
    assert any("unknown school_id '99'" in p and "5 row(s) name it" in p for p in problems)
    assert not any("'4.0'" in p for p in problems), problems


def test_a_score_naming_a_referral_the_referrals_table_does_not_hold(mini, tmp_path):
    # it was read and used, paired with nothing and left out of the NHS metric unsaid
    path = mini["tables"]["responses"]["sdq_parent"]
    sc = pd.read_csv(f"{mini['data_dir']}/{path}", dtype=str)
    rid = sc.loc[0, "referral_id"]
    sc.loc[sc["referral_id"] == rid, "referral_id"] = rid.lower()  # typed in lower case
    sc.to_csv(tmp_path / "sdq.csv", index=False)
    cfg = set_path(mini, "tables.responses.sdq_parent", str(tmp_path / "sdq.csv"))
    problems = _problems(cfg)
    assert any(
        p.startswith("responses:sdq_parent")
        and f"unknown referral_id {rid.lower()!r}; did you mean {rid!r}?" in p
        for p in problems
    ), problems
    # invalid_cells: flag builds on, the rows counted in a published note that names no id
    inputs = load_inputs(load_config(set_path(cfg, "invalid_cells", "flag")))
    notes = inputs.quality.to_frame()
    note = notes[notes["what"].str.contains("referral_id the referrals table does not hold")]
    assert note["where"].tolist() == ["responses:sdq_parent"]
    assert note["rows"].tolist() == [int((sc["referral_id"] == rid.lower()).sum())]
    assert not notes["what"].str.contains(rid.lower()).any()


def test_a_score_naming_the_referral_of_another_child(mini, tmp_path):
    # it was read and used: the NHS metric left it out, but the change analyses made it a
    # series of its own ("only one record") and took it from the referral's child
    path = mini["tables"]["responses"]["sdq_parent"]
    sc = pd.read_csv(f"{mini['data_dir']}/{path}", dtype=str)
    ref = pd.read_csv(f"{mini['data_dir']}/referrals.csv", dtype=str)
    person_of = ref.set_index("referral_id")["person_id"]
    # the first row of seven referrals, and the second of the first of them
    twice = sc["referral_id"].duplicated(keep=False)
    rows = sc[twice].drop_duplicates("referral_id").index[:7].tolist()
    rows.append(sc.index[(sc["referral_id"] == sc.loc[rows[0], "referral_id"])][1])
    stranger = ref.loc[~ref["person_id"].isin(sc["person_id"]), "person_id"].iloc[0]
    sc.loc[rows, "person_id"] = stranger
    sc.to_csv(tmp_path / "sdq.csv", index=False)
    cfg = set_path(mini, "tables.responses.sdq_parent", str(tmp_path / "sdq.csv"))
    first = sc.loc[rows[0], "referral_id"]
    (problem,) = [p for p in _problems(cfg) if "another person_id" in p]
    assert problem.startswith(
        "responses:sdq_parent: 8 row(s) name the referral of another person_id (referrals "
        f"table): referral_id {first!r} belongs to person_id {person_of[first]!r}, not "
        f"{stranger!r} (2 row(s)); "
    ), problem
    assert problem.count("belongs to") == 5 and problem.endswith("; and 2 more")

    # invalid_cells: flag excludes the rows from every analysis, counted in a note naming no id
    inputs = load_inputs(load_config(set_path(cfg, "invalid_cells", "flag")))
    acc = inputs.accounting.set_index("table").loc["responses:sdq_parent"]
    assert (acc["rows_read"], acc["rows_used"], acc["rows_excluded"]) == (len(sc), len(sc) - 8, 8)
    assert acc["reason"] == "score row(s) whose person_id is not that of the referral they name"
    notes = inputs.quality.to_frame()
    note = notes[notes["what"] == acc["reason"]]
    assert note[["where", "rows", "action"]].values.tolist() == [
        ["responses:sdq_parent", 8, "excluded"]
    ]
    ids = {stranger, *sc.loc[rows, "referral_id"], *person_of[sc.loc[rows, "referral_id"]]}
    assert not notes.astype(str).apply(lambda c: c.str.contains("|".join(ids))).any().any()
    for table in (inputs.scores, inputs.responses):
        assert not table["sdq_parent"].index.isin(rows).any()
        assert len(table["sdq_parent"]) == len(sc) - 8
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the metric meets no score of another child
        cyp_outcome_metric(
            list(inputs.scores.values()), inputs.tables["referrals"],
            period_start="2025-09-01", period_end="2026-08-31",
        )  # fmt: skip


def test_a_responses_file_listed_under_another_instrument(mini):
    cfg = set_path(
        mini, "tables.responses", {"sdq_self": mini["tables"]["responses"]["sdq_parent"]}
    )
    cfg = set_path(cfg, "outcomes.headline", "sdq_self.emotional")
    problems = _problems(cfg)
    assert any("instrument column holds 'sdq_parent'" in p for p in problems), problems


def test_a_missing_required_column_gets_a_suggestion(mini, tmp_path):
    sv = pd.read_csv(f"{mini['data_dir']}/staff_survey.csv").rename(columns={"wave": "Wave "})
    sv.to_csv(tmp_path / "staff.csv", index=False)
    problems = _problems(set_path(mini, "tables.staff_survey", str(tmp_path / "staff.csv")))
    assert any("required unknown column 'wave'; did you mean 'Wave '?" in p for p in problems)


def test_every_misspelling_is_listed_at_once_and_the_command_exits_1(mini, tmp_path):
    cfg = mini
    for setting, value, _ in MISSPELLINGS[:5]:
        cfg = set_path(cfg, setting, value)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = CliRunner().invoke(app, ["report", str(path), "--output", str(tmp_path / "out")])
    assert result.exit_code == 1
    text = " ".join(result.output.split())  # rich wraps long lines
    for _, _, suggestion in MISSPELLINGS[:5]:
        assert suggestion in text, suggestion
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- inappropriate referrals


def test_the_reason_list_is_required_when_referrals_were_not_accepted(mini):
    cfg = set_path(mini, "service.inappropriate_reasons", None)
    problems = _problems(cfg)
    assert any(
        p.startswith("service.inappropriate_reasons is required") and "all_not_accepted" in p
        for p in problems
    )


def test_counting_every_not_accepted_referral_is_said_explicitly(mini):
    cfg = load_config(set_path(mini, "service.inappropriate_reasons", "all_not_accepted"))
    assert cfg.service.inappropriate_reasons == "all_not_accepted"
    load_inputs(cfg)  # no problem
    with pytest.raises(ConfigError) as err:
        load_config(set_path(mini, "service.inappropriate_reasons", "all_not_acepted"))
    assert err.value.problems == [
        "service.inappropriate_reasons: unknown value 'all_not_acepted'; did you mean "
        "'all_not_accepted'?; give a list of reasons (even of one), or all_not_accepted"
    ]


def test_an_empty_reason_list_is_refused(mini):
    with pytest.raises(ConfigError, match="an empty list counts no referral as inappropriate"):
        load_config(set_path(mini, "service.inappropriate_reasons", []))


def test_no_reason_list_is_needed_when_every_referral_was_accepted(mini, tmp_path):
    ref = pd.read_csv(f"{mini['data_dir']}/referrals.csv")
    ref = ref[ref["accepted"].astype(str) == "True"]
    ref.to_csv(tmp_path / "referrals.csv", index=False)
    cfg = set_path(mini, "tables.referrals", str(tmp_path / "referrals.csv"))
    load_inputs(load_config(set_path(cfg, "service.inappropriate_reasons", None)))


# ---------------------------------------------------------------- survey waves


@pytest.fixture(scope="module")
def three_waves(mini, tmp_path_factory) -> dict:
    """The staff survey with a 6-month wave between baseline and 12 months."""
    folder = tmp_path_factory.mktemp("waves")
    sv = pd.read_csv(f"{mini['data_dir']}/staff_survey.csv")
    extra = sv[sv["wave"] == "baseline"].head(40).assign(wave="6m")
    pd.concat([sv, extra]).to_csv(folder / "staff.csv", index=False)
    return set_path(mini, "tables.staff_survey", str(folder / "staff.csv"))


def test_a_data_wave_missing_from_the_config_is_an_error(three_waves):
    problems = _problems(three_waves)
    assert any(
        "wave '6m' is in the data but not in staff_survey.waves" in p and "exclude_waves" in p
        for p in problems
    ), problems


def test_every_wave_is_used_in_the_configs_order(three_waves):
    cfg = set_path(three_waves, "staff_survey.waves", ["baseline", "6m", "12m"])
    inputs = load_inputs(load_config(cfg))
    assert inputs.waves["staff_survey"] == ["baseline", "6m", "12m"]  # not sorted as text
    assert set(inputs.tables["staff_survey"]["wave"]) == {"baseline", "6m", "12m"}


def test_an_excluded_wave_is_counted_not_dropped_silently(three_waves):
    cfg = set_path(three_waves, "staff_survey.exclude_waves", ["6m"])
    inputs = load_inputs(load_config(cfg))
    assert inputs.waves["staff_survey"] == ["baseline", "12m"]
    acc = inputs.accounting[inputs.accounting["table"] == "staff_survey"]
    # 120 rows per wave in the cut, plus the 40 planted 6-month rows: 280 read, 40 left out.
    assert acc[["rows_read", "rows_used", "rows_excluded"]].values.tolist() == [[280, 240, 40]]
    assert acc["reason"].tolist() == ["wave '6m' left out (exclude_waves)"]
    assert "6m" not in set(inputs.tables["staff_survey"]["wave"])
    notes = inputs.quality.to_frame()
    assert ((notes["where"] == "staff_survey") & (notes["rows"] == 40)).any()


def test_the_older_baseline_followup_pair_still_works(mini):
    cfg = load_config(
        set_path(mini, "staff_survey", {"baseline_wave": "baseline", "followup_wave": "12m"})
    )
    assert cfg.staff_survey.waves == ["baseline", "12m"]
    cfg = load_config(set_path(mini, "staff_survey", {"waves": ["baseline", "6m", "12m"]}))
    assert (cfg.staff_survey.baseline_wave, cfg.staff_survey.followup_wave) == ("baseline", "12m")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"waves": ["baseline", "12m"], "followup_wave": "6m"}, "disagrees with waves"),
        ({"waves": ["baseline"]}, "at least two waves"),
        ({"waves": ["baseline", "12m", "12m"]}, "more than once"),
        ({"waves": ["baseline", "12m"], "exclude_waves": ["12m"]}, "both in waves and in"),
    ],
)
def test_contradictory_wave_settings_are_refused(mini, section, message):
    with pytest.raises(ConfigError, match=message):
        load_config(set_path(mini, "staff_survey", section))


# ---------------------------------------------------------------- properties

NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
REF = pd.DataFrame(
    {
        "referral_id": ["r1", "r2", "r3"],
        "person_id": ["a", "b", "c"],
        "referral_date": ["2025-10-01"] * 3,
        "gender": ["female", "male", "female"],
        "accepted": [True, False, False],
        "not_accepted_reason": [None, "declined by family", "not meeting criteria"],
    }
)
STAFF = pd.DataFrame({"school_id": ["A"] * 4, "wave": ["baseline", "12m", "baseline", "12m"]})
BASE = {
    "programme": "P",
    "period": {"start": "2025-09-01", "end": "2026-08-31"},
    "tables": {"referrals": "r.csv", "staff_survey": "s.csv"},
    "service": {"inappropriate_reasons": ["not meeting criteria"]},
    "staff_survey": {"waves": ["baseline", "12m"]},
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES)
def test_any_name_that_matches_nothing_is_a_problem_never_ignored(name):
    assume(name != "baseline")  # listed twice in the waves: refused before the data are met
    raw = {"referrals": REF, "staff_survey": STAFF}
    cases = {
        "subgroups": ([name], set(REF.columns)),
        "service.inappropriate_reasons": (
            [name],
            {"declined by family", "not meeting criteria"},
        ),
        "staff_survey.waves": (["baseline", name], {"baseline", "12m"}),
    }
    for setting, (value, known) in cases.items():
        matches = name.strip().casefold() in {k.casefold() for k in known}
        if setting != "service.inappropriate_reasons":
            matches = name in known
        cfg = load_config(set_path(BASE, setting, value))
        problems = check_names(cfg, raw)
        named = [p for p in problems if p.startswith(setting.split(".")[0]) and repr(name) in p]
        assert bool(named) != matches, (setting, name, problems)


def test_a_default_headline_that_is_not_in_the_data_must_be_set():
    cfg = load_config({**BASE, "tables": {"responses": {"sdq_parent": "x.csv"}}})
    assert check_names(cfg, {}) == [
        "outcomes.headline: unknown instrument 'honosca'; expected one of 'sdq_parent' "
        "(instruments under tables.responses); honosca.total is the default: set "
        "outcomes.headline to the instrument.scale the report leads with"
    ]
    cfg = load_config({**BASE, "tables": {"responses": {"sdq_parent": "x.csv"}},
                       "outcomes": {"headline": "sdq_parent.total_difficulties"}})  # fmt: skip
    assert check_names(cfg, {}) == []


def test_a_data_wave_that_reads_as_a_configured_one_is_named(mini, tmp_path):
    sv = pd.read_csv(f"{mini['data_dir']}/staff_survey.csv")
    sv.loc[sv.index[:5], "wave"] = "b\u0430seline"  # a Cyrillic a
    sv.to_csv(tmp_path / "staff.csv", index=False)
    problems = _problems(set_path(mini, "tables.staff_survey", str(tmp_path / "staff.csv")))
    assert any(
        p.startswith("staff_survey: wave label") and "reads as 'baseline'" in p for p in problems
    ), problems


def test_waves_named_by_numbers(mini, tmp_path):
    # `waves: [1, 2]` was refused ("Input should be a valid string"); and a wave column read
    # as numbers made the school survey's by-school table fail ("numeric column(s) ['wave']
    # are neither counts nor declared")
    cfg = mini
    for name in ("school_survey", "staff_survey"):
        sv = pd.read_csv(f"{mini['data_dir']}/{mini['tables'][name]}")
        sv["wave"] = sv["wave"].map({"baseline": 1, "12m": 2})
        sv.to_csv(tmp_path / f"{name}.csv", index=False)
        cfg = set_path(cfg, f"tables.{name}", str(tmp_path / f"{name}.csv"))
        cfg = set_path(cfg, f"{name}.waves", [1, 2])
    loaded = load_config(cfg)
    assert loaded.school_survey.waves == loaded.staff_survey.waves == ["1", "2"]
    inputs = load_inputs(loaded)
    for name in ("school_survey", "staff_survey"):
        assert inputs.tables[name]["wave"].tolist() == [
            str(w) for w in pd.read_csv(tmp_path / f"{name}.csv")["wave"]
        ]


# ---------------------------------------------------------------- success measures
TARGET_REFUSALS = [
    # (config changes, the problem the input checks must state)
    (
        {"tables": {"staff_survey": "s.csv"}, "targets": {"seen_within_standard": {"share": 0.8}}},
        "targets.seen_within_standard: needs the referrals table, and tables.referrals is not "
        "in the config; add the table or leave the target out",
    ),
    (
        {"tables": {"staff_survey": "s.csv"},
         "targets": {"inappropriate_rate": {"reduction": 0.2,
                                            "baseline": {"start": "2025-09-01",
                                                         "end": "2025-11-30"}}}},
        "targets.inappropriate_rate: needs the referrals table, and tables.referrals is not in "
        "the config; add the table or leave the target out",
    ),
    (
        {"tables": {"referrals": "r.csv"}, "targets": {"staff_confidence_change": {"change": 0.3}}},
        "targets.staff_confidence_change: needs the staff survey, and tables.staff_survey is "
        "not in the config; add the table or leave the target out",
    ),
    (
        {"tables": {"responses": {"sdq_parent": "x.csv"}},
         "outcomes": {"headline": "sdq_parent.emotional"},
         "targets": {"experience": {"share": 0.8}}},
        "targets.experience: needs a CHI-ESQ table under tables.responses (chi_esq_parent, "
        "chi_esq_9_11, chi_esq_12_18); the config lists sdq_parent",
    ),
    (
        {"tables": {"referrals": "r.csv"}, "targets": {"outcome_improvement": {"change": 1.0}}},
        "targets.outcome_improvement: needs outcome measure responses, and tables.responses "
        "lists none",
    ),
    (
        {"tables": {"responses": {"sdq_parent": "x.csv"}},
         "outcomes": {"headline": "sdq_parent.emotional"},
         "targets": {"outcome_improvement": {"change": 1.0, "measure": "sdq_parent.emotonal"}}},
        "targets.outcome_improvement.measure: unknown measure of change 'sdq_parent.emotonal'; "
        "did you mean 'sdq_parent.emotional'? (the composite scales of the outcome measures "
        "under tables.responses)",
    ),
    (  # an instrument with no responses in the config
        {"tables": {"responses": {"sdq_parent": "x.csv"}},
         "outcomes": {"headline": "sdq_parent.emotional"},
         "targets": {"outcome_improvement": {"change": 1.0, "measure": "honosca.total"}}},
        "targets.outcome_improvement.measure: unknown measure of change 'honosca.total'",
    ),
    (  # a measure of experience, never paired
        {"tables": {"responses": {"sdq_parent": "x.csv", "chi_esq_parent": "e.csv"}},
         "outcomes": {"headline": "sdq_parent.emotional"},
         "targets": {"outcome_improvement": {"change": 1.0, "measure": "chi_esq_parent.total"}}},
        "chi_esq_parent is an experience measure, never paired for change",
    ),
    (  # a single HoNOSCA scale: in the NHS metric, but no change of its own is published
        {"tables": {"responses": {"honosca": "h.csv"}}, "outcomes": {"headline": "honosca.total"},
         "targets": {"outcome_improvement": {"change": 1.0, "measure": "honosca.scale_1"}}},
        "targets.outcome_improvement.measure: unknown measure of change 'honosca.scale_1'",
    ),
    (  # the default measure, outcomes.headline, is a scale of the data but not of change
        {"tables": {"responses": {"honosca": "h.csv"}}, "outcomes": {"headline": "honosca.scale_1"},
         "targets": {"outcome_improvement": {"change": 1.0}}},
        "targets.outcome_improvement.measure: not given, and its default, outcomes.headline "
        "'honosca.scale_1', is not a measure of change; set the measure",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "problem"), TARGET_REFUSALS)
def test_a_target_the_config_cannot_give_is_refused_up_front(changes, problem):
    cfg = load_config({**BASE, "staff_survey": {}, **changes})
    problems = [p for p in check_names(cfg, {}) if p.startswith("targets.")]
    assert len(problems) == 1 and problem in problems[0], problems


def test_targets_the_config_can_give_pass():
    cfg = load_config({
        **BASE, "staff_survey": {},
        "tables": {"referrals": "r.csv", "staff_survey": "s.csv",
                   "responses": {"sdq_parent": "x.csv", "chi_esq_parent": "e.csv"}},
        "outcomes": {"headline": "sdq_parent.emotional"},
        "targets": {"seen_within_standard": {"share": 0.8},
                    "staff_confidence_change": {"change": 0.3},
                    "outcome_improvement": {"change": 1.0, "measure": "sdq_parent.conduct"},
                    "experience": {"share": 0.8}},
    })  # fmt: skip
    assert [p for p in check_names(cfg, {}) if p.startswith("targets.")] == []


def test_the_build_refuses_a_misspelt_outcome_target(mini):
    cfg = set_path(mini, "targets.outcome_improvement.measure", "sdq_parent.emotonal")
    assert any(
        p.startswith("targets.outcome_improvement.measure: unknown measure of change")
        and "did you mean 'sdq_parent.emotional'?" in p
        for p in _problems(cfg)
    )


def test_a_share_seen_target_needs_first_contact_dates(mini, tmp_path):
    ref = pd.read_csv(f"{mini['data_dir']}/referrals.csv")
    ref.rename(columns={"first_contact_date": "first_contact"}).to_csv(
        tmp_path / "r.csv", index=False
    )
    problems = _problems(set_path(mini, "tables.referrals", str(tmp_path / "r.csv")))
    assert (
        "targets.seen_within_standard: unknown column 'first_contact_date'; did you mean "
        "'first_contact'? (columns of the referrals table; the share seen is of first contacts)"
    ) in problems


def test_a_responses_table_whose_every_row_names_another_childs_referral(mini, tmp_path):
    # invalid_cells: flag excludes every row, counted; the build went on to score an empty
    # table and crashed ("the table has no rows")
    path = mini["tables"]["responses"]["sdq_parent"]
    sc = pd.read_csv(f"{mini['data_dir']}/{path}", dtype=str)
    ref = pd.read_csv(f"{mini['data_dir']}/referrals.csv", dtype=str)
    sc["person_id"] = ref.loc[~ref["person_id"].isin(sc["person_id"]), "person_id"].iloc[0]
    sc.to_csv(tmp_path / "sdq.csv", index=False)
    cfg = set_path(mini, "tables.responses.sdq_parent", str(tmp_path / "sdq.csv"))
    inputs = load_inputs(load_config(set_path(cfg, "invalid_cells", "flag")))
    acc = inputs.accounting.set_index("table").loc["responses:sdq_parent"]
    assert (acc["rows_read"], acc["rows_used"], acc["rows_excluded"]) == (len(sc), 0, len(sc))
    assert acc["reason"] == "score row(s) whose person_id is not that of the referral they name"
    assert "sdq_parent" not in inputs.scores
