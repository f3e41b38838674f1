"""One checked pass over the report's inputs: every excluded or flagged row counted, referrals
validated once, the checked tables (not the files) handed on, and UK dates read like ISO ones."""

from __future__ import annotations

import pickle
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import outcomes.service as service
from _report_data import DEMO, DEMO_DATA, mini_demo, set_path
from outcomes import cyp_outcome_metric, likert
from outcomes.change.outcome_metric import S_NO_REFERRAL, S_PERSON_MISMATCH
from outcomes.errors import DataStructureError
from outcomes.report import ConfigError, Evaluation, load_config
from outcomes.report.checks import OTHER_PERSON, UNKNOWN_REFERRAL, referral_links
from outcomes.report.inputs import ACCOUNTING, load_inputs


@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> dict:
    return mini_demo(tmp_path_factory.mktemp("mini"))


def _with_table(cfg: dict, folder, name: str, df: pd.DataFrame) -> dict:
    path = folder / f"{name}.csv"
    df.to_csv(path, index=False)
    return set_path(cfg, f"tables.{name}", str(path))


def _read(cfg: dict, name: str) -> pd.DataFrame:
    return pd.read_csv(f"{cfg['data_dir']}/{cfg['tables'][name]}")


def _balanced(acc: pd.DataFrame) -> bool:
    """Every row adds up, and each table's rows form a flow (a row starts where the last ended)."""
    if not (acc["rows_read"] == acc["rows_used"] + acc["rows_excluded"]).all():
        return False
    for _, rows in acc.groupby("table", sort=False):
        if (rows["rows_read"].iloc[1:].to_numpy() != rows["rows_used"].iloc[:-1].to_numpy()).any():
            return False
    return True


def _used(acc: pd.DataFrame, table: str) -> int:
    return int(acc.loc[acc["table"] == table, "rows_used"].iloc[-1])


def test_every_table_is_accounted_for(mini):
    inputs = load_inputs(load_config(mini))
    acc = inputs.accounting
    assert list(acc.columns) == list(ACCOUNTING)
    assert set(acc["table"]) == set(load_config(mini).input_files())
    assert _balanced(acc)
    for table, df in inputs.tables.items():
        assert _used(acc, table) == len(df), table
    # The cut keeps 160 referrals and 120 rows of each of the two waves of each survey.
    assert acc.set_index("table").loc["referrals", "rows_read"] == 160
    assert _used(acc, "staff_survey") == 240


def test_a_duplicate_referral_id_is_excluded_counted_and_kept_from_the_nhs_metric(mini, tmp_path):
    ref = _read(mini, "referrals")
    ref.loc[5, "referral_id"] = ref.loc[4, "referral_id"]
    cfg = _with_table(mini, tmp_path, "referrals", ref)
    with pytest.raises(ConfigError, match="duplicate referral_id"):
        load_inputs(load_config(cfg))  # invalid_cells: stop (the default)

    inputs = load_inputs(load_config(set_path(cfg, "invalid_cells", "flag")))
    acc = inputs.accounting[inputs.accounting["table"] == "referrals"]
    # Both rows carrying the id are excluded (which one is right cannot be known): 160 - 2.
    assert acc["rows_used"].iloc[0] == 158
    assert acc["rows_excluded"].tolist() == [2]
    assert acc["reason"].tolist() == ["duplicate referral_id (also on another row)"]
    notes = inputs.quality.to_frame()
    assert ((notes["where"] == "referrals") & (notes["rows"] == 2)).any()
    checked = inputs.tables["referrals"]
    assert checked["referral_id"].is_unique and len(checked) == 158
    # The raw table makes the NHS metric refuse (duplicate ids); the checked one is what the
    # report holds, and the metric runs on it.
    with pytest.raises(Exception, match="duplicate referral_id"):
        cyp_outcome_metric(
            list(inputs.scores.values()),
            ref,
            period_start="2025-09-01",
            period_end="2026-08-31",
        )
    cyp_outcome_metric(
        list(inputs.scores.values()),
        checked,
        period_start="2025-09-01",
        period_end="2026-08-31",
    )


def test_school_survey_invalid_cells_are_counted_not_hidden(mini, tmp_path):
    sv = _read(mini, "school_survey")
    sv.loc[[2, 9], "worries"] = 7  # SDQ codes are 0-2
    sv.loc[4, "swemwbs_q3"] = 9  # SWEMWBS codes are 1-5
    cfg = _with_table(mini, tmp_path, "school_survey", sv)
    with pytest.raises(ConfigError) as err:
        load_inputs(load_config(cfg))
    assert [p.split(": row")[0] for p in err.value.problems] == [
        "school_survey: 2 invalid cell(s)",  # the SDQ items
        "school_survey: 1 invalid cell(s)",  # the SWEMWBS items
    ]

    inputs = load_inputs(load_config(set_path(cfg, "invalid_cells", "flag")))
    table = inputs.tables["school_survey"]
    assert table.loc[[2, 9], "worries"].isna().all() and np.isnan(table.loc[4, "swemwbs_q3"])
    bad = inputs.issues[inputs.issues["table"] == "school_survey"]
    assert sorted(zip(bad["row"], bad["column"], strict=True)) == [
        (2, "worries"),
        (4, "swemwbs_q3"),
        (9, "worries"),
    ]
    notes = inputs.quality.to_frame()
    mine = notes[notes["where"] == "school_survey"]
    assert mine["what"].str.contains("invalid cell").all() and mine["rows"].sum() == 3


def test_the_sections_reuse_the_checks_survey_scores_as_scoring_the_table_gives_them(
    mini, tmp_path
):
    """The surveys are scored once (by the input check); the scores and flags the sections
    read are those of scoring the checked table, whose invalid cells are already missing."""
    from outcomes import score

    sv = _read(mini, "school_survey")
    sv.loc[[2, 9], "worries"] = 7
    sv.loc[[4, 5], "swemwbs_q3"] = 9
    cfg = set_path(_with_table(mini, tmp_path, "school_survey", sv), "invalid_cells", "flag")
    ev = Evaluation(load_inputs(load_config(cfg)), tmp_path / "out")
    table = ev.inputs.tables["school_survey"]
    sdq = score(table, ev.cfg.school_survey.sdq_instrument, errors="flag")
    cols = {f"swemwbs_q{i}": f"q{i}" for i in range(1, 8)}
    sw = score(table, "swemwbs", columns=cols, errors="flag", keep=[])
    expected = sdq.assign(swemwbs_raw=sw["raw"], swemwbs_metric=sw["metric"])
    flags = expected.attrs["issues"]
    expected.attrs = {}
    pd.testing.assert_frame_equal(ev.survey_scores.drop(columns="cohort"), expected)
    assert (flags["severity"] == "error").sum() == 0
    assert (ev.survey_flags["severity"] == "error").sum() == 0  # no note counted twice
    pv = ev.inputs.tables.get("primary_survey")
    if pv is not None:
        expected = score(pv, ev.cfg.school_survey.primary_instrument, errors="flag")
        expected.attrs = {}
        pd.testing.assert_frame_equal(ev.primary_scores.drop(columns="cohort"), expected)


def test_staff_survey_invalid_cells_stop_or_are_flagged_and_the_analysis_runs(mini, tmp_path):
    st_ = _read(mini, "staff_survey")
    st_.loc[3, "q4"] = 17  # WCS-10 items are coded 1-5
    cfg = _with_table(mini, tmp_path, "staff_survey", st_)
    with pytest.raises(ConfigError, match=r"staff_survey: 1 invalid cell\(s\): row 3 column q4"):
        load_inputs(load_config(cfg))
    inputs = load_inputs(load_config(set_path(cfg, "invalid_cells", "flag")))
    staff = inputs.tables["staff_survey"]
    assert np.isnan(staff.loc[3, "q4"])
    assert (inputs.quality.to_frame()["where"] == "staff_survey").sum() == 1
    summary = likert.item_summary(staff, instrument="workforce_confidence", by="wave")
    assert len(summary)  # with the raw table this step refused the out-of-range code


def test_bad_survey_dates_are_invalid_cells(mini, tmp_path):
    sv = _read(mini, "staff_survey")
    sv.loc[7, "date"] = "31/02/2026"
    cfg = _with_table(mini, tmp_path, "staff_survey", sv)
    with pytest.raises(ConfigError, match="row 7 column date"):
        load_inputs(load_config(cfg))


def test_referrals_are_validated_once_per_build(mini, tmp_path, monkeypatch):
    calls: list[bool] = []
    real = service._already_checked

    def spy(df, as_of, dayfirst=True):
        calls.append(real(df, as_of, dayfirst))
        return calls[-1]

    monkeypatch.setattr(service, "_already_checked", spy)
    ev = Evaluation(load_inputs(load_config(mini)), tmp_path)
    for section in ("reach", "access", "outcomes", "equity", "executive_summary"):
        getattr(ev, section)()
    assert len(calls) > 5  # the sections did call the service functions ...
    assert calls.count(False) == 1  # ... and only the first call checked the table


def test_a_changed_checked_table_is_checked_again():
    ref = pd.DataFrame(
        {"referral_id": ["a", "b"], "person_id": ["p", "q"], "referral_date": ["2025-10-01"] * 2}
    )
    checked = service.prepare_referrals(ref, as_of="2026-01-01")
    assert service._already_checked(checked, "2026-01-01")
    assert service._already_checked(checked, "2026-06-01")  # a later extract date: still fine
    assert not service._already_checked(checked, "2025-12-01")  # an earlier one: check again
    changed = checked.assign(referral_date=["2025-10-01", "not a date"])
    assert not service._already_checked(changed, "2026-01-01")
    with pytest.raises(Exception, match="not a date"):
        service.prepare_referrals(changed, as_of="2026-01-01")


ISSUES = st.lists(
    st.tuples(st.integers(0, 39), st.sampled_from(["dup", "date", "contact", "future"])),
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corruptions=ISSUES)
def test_every_referral_row_is_used_or_excluded_with_a_reason(tmp_path_factory, corruptions):
    folder = tmp_path_factory.mktemp("prop")
    ref = pd.read_csv(DEMO_DATA / "referrals.csv").head(40)
    for row, kind in corruptions:
        if kind == "dup":
            ref.loc[row, "referral_id"] = ref.loc[(row + 1) % 40, "referral_id"]
        elif kind == "date":
            ref.loc[row, "referral_date"] = "2025-13-45"
        elif kind == "contact":
            ref.loc[row, "first_contact_date"] = "2020-01-01"
        else:
            ref.loc[row, "referral_date"] = "2030-01-01"
    ref.to_csv(folder / "r.csv", index=False)
    cfg = {
        "programme": "P",
        "period": {"start": "2025-09-01", "end": "2026-08-31"},
        "tables": {"referrals": str(folder / "r.csv")},
        "service": {"inappropriate_reasons": "all_not_accepted"},
        "invalid_cells": "flag",
    }
    try:
        inputs = load_inputs(load_config(cfg))
    except ConfigError as e:  # only when every row is bad
        assert "every referral row has a problem" in str(e)
        return
    acc = inputs.accounting
    assert _balanced(acc)
    assert acc["rows_read"].iloc[0] == 40
    assert _used(acc, "referrals") == len(inputs.tables["referrals"])
    assert (acc["rows_excluded"] > 0).sum() == (acc["reason"] != "").sum()
    excluded = int(acc["rows_excluded"].sum())
    noted = inputs.quality.to_frame()
    assert noted.loc[noted["action"] == "excluded", "rows"].sum() == excluded


PEOPLE = st.sampled_from(["P1", "P2", "P3", None])


@settings(max_examples=40, deadline=None)
@given(
    persons=st.lists(PEOPLE, min_size=1, max_size=4),
    rows=st.lists(st.tuples(st.sampled_from(["R0", "R1", "R2", "R3", "R9", None]), PEOPLE),
                  min_size=1, max_size=12),
)  # fmt: skip
def test_the_input_check_and_the_nhs_metric_agree_on_which_scores_are_another_childs(persons, rows):
    # One rule (outcomes._internal.ids.of_another_person), asked by the report's check on the
    # tables as read (stop, or exclude) and by the metric's link of a score to its referral
    # (exclude, or raise): trimming and blanks must not make them part.
    ref = pd.DataFrame(
        {
            "referral_id": pd.array([f"R{i}" for i in range(len(persons))], dtype="string"),
            "person_id": pd.array(persons, dtype="string"),
            "age": 12,
            "first_contact_date": "2024-01-05",
            "second_contact_date": "2024-01-19",
            "discharge_date": "2024-06-30",
        }
    )
    sc = pd.DataFrame(
        {
            "referral_id": pd.array([r for r, _ in rows], dtype="string"),
            "person_id": pd.array([p for _, p in rows], dtype="string"),
            "instrument": "gbo",
            "rater": "self",
            "date": "2024-02-01",
            "goal_1": 1.0,
        }
    )
    links = referral_links({"referrals": ref, "responses:gbo": sc}).get("responses:gbo", {})
    none = (pd.Series(False, index=sc.index), [])
    other, named = links.get(OTHER_PERSON, none)
    unknown = links.get(UNKNOWN_REFERRAL, none)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cyp_outcome_metric(sc, ref)
    reason = res.scores.set_index("row")["reason"]
    assert set(sc.index[other]) == set(reason.index[reason == S_PERSON_MISMATCH])
    assert set(sc.index[unknown]) == set(reason.index[reason == S_NO_REFERRAL]) - set(
        sc.index[sc["referral_id"].isna()]
    )
    assert len(named) == (1 if other.any() else 0)
    if other.any():
        with pytest.raises(DataStructureError, match=S_PERSON_MISMATCH):
            cyp_outcome_metric(sc, ref, errors="raise")


def _uk_dates(folder) -> None:
    """Rewrite every date column of the demo's CSVs as dd/mm/yyyy."""
    for csv in folder.glob("*.csv"):
        df = pd.read_csv(csv, dtype=str, keep_default_na=False)
        for col in df.columns:
            if col == "date" or col.endswith("_date"):
                d = pd.to_datetime(df[col].replace("", None), format="ISO8601")
                df[col] = d.dt.strftime("%d/%m/%Y").fillna("")
        df.to_csv(csv, index=False)


def test_a_uk_dated_copy_of_the_demo_gives_the_same_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOMES_PSEUDONYM_KEY", "a fixed key so both runs share pseudonyms")
    uk = tmp_path / "uk"
    shutil.copytree(DEMO_DATA, uk)
    _uk_dates(uk)
    assert "/" in (uk / "referrals.csv").read_text().splitlines()[1]  # really rewritten
    iso_cfg = load_config(DEMO)
    uk_cfg = load_config({**iso_cfg.model_dump(exclude={"source"}), "data_dir": str(uk)})
    iso_in, uk_in = load_inputs(iso_cfg), load_inputs(uk_cfg)
    # The same days; the two text forms may parse to different datetime resolutions (s, us).
    pairs = [(iso_in.tables[n], uk_in.tables[n], n) for n in iso_in.tables]
    pairs += [(iso_in.scores[n], uk_in.scores[n], n) for n in iso_in.scores]
    for iso, uk_, name in pairs:
        dates = [c for c in iso.columns if c == "date" or str(c).endswith("_date")]
        for col in dates:
            assert iso[col].dtype.kind == uk_[col].dtype.kind == "M", (name, col)
        same_unit = {c: "datetime64[s]" for c in dates}
        pd.testing.assert_frame_equal(iso.astype(same_unit), uk_.astype(same_unit), obj=name)

    outcomes = {}
    for label, inputs in (("iso", iso_in), ("uk", uk_in)):
        ev = Evaluation(inputs, tmp_path / label)
        results = {}
        for section in ev.all_sections():
            try:
                section()
                results[section.__name__] = "built"
            except Exception as e:
                results[section.__name__] = f"{type(e).__name__}: {e}"
        outcomes[label] = results
    assert outcomes["iso"] == outcomes["uk"]
    iso_tables = sorted(p.name for p in (tmp_path / "iso" / "tables").glob("*.csv"))
    assert len(iso_tables) > 20
    assert iso_tables == sorted(p.name for p in (tmp_path / "uk" / "tables").glob("*.csv"))
    for name in iso_tables:
        if name == "input_files.csv":  # the SHA-256 of each file: the files differ, by design
            continue
        iso = (tmp_path / "iso" / "tables" / name).read_text()
        assert iso == (tmp_path / "uk" / "tables" / name).read_text(), name


def test_the_inputs_handed_to_the_kernel_hold_pseudonyms_only(mini):
    """What build_report pickles for the kernel: no identifier of the input files in it."""
    inputs = load_inputs(load_config(mini))
    blob = pickle.dumps(inputs)
    ids = set(_read(mini, "referrals")["person_id"]) | set(_read(mini, "referrals")["referral_id"])
    ids |= set(_read(mini, "staff_survey")["respondent_id"])
    ids |= set(_read(mini, "school_survey")["pupil_id"])
    assert len(ids) > 400
    assert not [i for i in ids if str(i).encode() in blob]
    # the check can see an identifier when one is there
    assert b"P002926" in pickle.dumps(_read(mini, "referrals"))


def test_distinct_values_as_text_in_order_of_first_appearance():
    from outcomes.report.checks import _values

    # by hand: blanks and missing dropped, text trimmed, 7 and 7.0 are different texts
    col = pd.Series([" 12m", 7, None, "baseline", 7.0, "12m", "", " ", "7"], dtype=object)
    assert _values(col) == ["12m", "7", "baseline", "7.0"]
    arrow = pd.Series(pd.array(["b", None, " a", "b ", "a"], dtype="string"))
    assert _values(arrow) == ["b", "a"]


def test_a_float_id_column_names_the_same_referral_and_person_as_the_pseudonymiser():
    # A parquet or DataFrame table whose id column has a blank is float (7.0); the
    # pseudonymiser links 7.0 with 7, and so does the NHS metric's person comparison, so the
    # input check must not call such a row another child's (stop, or exclusion) or its
    # referral unknown.
    ref = pd.DataFrame({"referral_id": [1, 2], "person_id": [7, 8]})
    sc = pd.DataFrame({"referral_id": [1.0, 2.0, np.nan], "person_id": [7.0, np.nan, 8.0]})
    assert referral_links({"referrals": ref, "responses:gbo": sc}) == {}
    sc = pd.DataFrame({"referral_id": [1, 2, 2], "person_id": [7.0, np.nan, 8.0]})
    assert referral_links({"referrals": ref, "responses:gbo": sc}) == {}
    sc["person_id"] = [7.0, 9.0, 8.0]  # a row of another person is still found
    other = referral_links({"referrals": ref, "responses:gbo": sc})["responses:gbo"]
    assert other[OTHER_PERSON][0].tolist() == [False, True, False]


def test_a_referral_listed_twice_with_two_persons_makes_neither_persons_score_another_childs():
    # Which row of a duplicated referral_id is right cannot be known (both are excluded from
    # the referrals table), so its scores must not be called another child's by row order:
    # P2's score was excluded as "not that of the referral" while P1's was kept.
    ref = pd.DataFrame({"referral_id": ["R1", "R1", "R2"], "person_id": ["P1", "P2", "P3"]})
    sc = pd.DataFrame({"referral_id": ["R1", "R1", "R2"], "person_id": ["P1", "P2", "P1"]})
    links = referral_links({"referrals": ref, "responses:gbo": sc})["responses:gbo"]
    assert links[OTHER_PERSON][0].tolist() == [False, False, True]
    # a referral listed twice for one person still has that person
    ref["person_id"] = ["P1", "P1", "P3"]
    links = referral_links({"referrals": ref, "responses:gbo": sc})["responses:gbo"]
    assert links[OTHER_PERSON][0].tolist() == [False, True, True]
