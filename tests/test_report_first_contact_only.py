"""A programme that records first contacts only (no second_contact_date in its referrals):
the waits to first contact are still computed and published, and every part that needs the
second contact is left out with a note naming the missing column, never a silent blank."""

from __future__ import annotations

import html as html_lib
import re
import shutil
import warnings

import pandas as pd
import pytest
import yaml

from _report_data import DEMO, DEMO_DATA, fitting_targets, mini_demo
from outcomes import service
from outcomes.report import ConfigError, Evaluation, build_report

MISSING = "second_contact_date"


def _text(html: str) -> str:
    """The report's words, without tags (a column name is set in <code>)."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture(scope="module")
def first_only(tmp_path_factory):
    """The demo report built from a copy of its data whose referrals lack the column."""
    tmp = tmp_path_factory.mktemp("first_only")
    data = tmp / "data"
    shutil.copytree(DEMO_DATA, data)
    ref = pd.read_csv(data / "referrals.csv", dtype=str, keep_default_na=False)
    ref.drop(columns=MISSING).to_csv(data / "referrals.csv", index=False)
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(data)
    out = tmp / "report"
    html = build_report(cfg, out, progress=False).read_text(encoding="utf-8")
    return out / "tables", html, _text(html)


def test_waits_to_first_contact_are_published(first_only):
    tables, _, text = first_only
    waits = pd.read_csv(tables / "waits_overall.csv")
    assert waits["stage"].tolist() == ["first"]
    assert waits.loc[0, "n"] > 0
    assert set(pd.read_csv(tables / "wait_curve.csv")["stage"]) == {"first"}
    assert (tables / "success_waits.csv").exists()  # the scorecard's target
    assert "Could not be computed (access" not in text
    assert "Could not be computed (success" not in text
    assert "Waits are measured from referral to first contact," in text
    assert "had a first contact within" in text  # the executive summary's sentence
    assert "Share of accepted referrals with a contact" in text  # the figure


def test_what_needs_the_second_contact_is_left_out_saying_why(first_only):
    tables, _, text = first_only
    assert f"The referrals table has no {MISSING} column: waits to the second contact" in text
    assert "The NHS England CYP outcomes metric is left out" in text
    assert "Could not be computed (outcomes: NHS metric)" not in text
    assert not (tables / "cyp_outcome_metric.csv").exists()
    # the cost-benefit analysis counts the metric's children: its note says why it is missing
    assert f"needs the referrals table's {MISSING} column, and it has none" in text
    assert "No cost per child with measurable improvement" in text
    notes = pd.read_csv(tables / "quality_notes.csv")
    assert notes["what"].str.contains(MISSING).any()


def test_no_second_contacts_are_counted_as_zeros(first_only):
    tables, _, _ = first_only
    monthly = pd.read_csv(tables / "monthly_activity.csv")
    assert "second_contacts" not in monthly.columns
    assert monthly["first_contacts"].astype(str).ne("0").any()


def test_monthly_activity_leaves_out_a_count_whose_date_is_not_recorded():
    r = pd.DataFrame({
        "referral_id": [1, 2], "person_id": ["a", "b"],
        "referral_date": ["2024-01-10", "2024-01-20"],
        "first_contact_date": ["2024-02-01", None],
    })  # fmt: skip
    a = service.monthly_activity(r, as_of="2024-02-15")
    assert "second_contacts" not in a.columns
    assert "discharges" not in a.columns
    assert a["first_contacts"].tolist() == [0, 1]
    with pytest.warns(UserWarning, match="present but empty on all 2 referral row"):
        both = service.monthly_activity(
            r.assign(second_contact_date=[None, None], discharge_date=[None, None]),
            as_of="2024-02-15",
        )
    assert both["second_contacts"].tolist() == [0, 0]  # read as recorded, none happened
    assert both["discharges"].tolist() == [0, 0]
    only_referred = service.monthly_activity(
        r.drop(columns="first_contact_date"), as_of="2024-02-15"
    )
    assert not {"first_contacts", "children_first_seen"} & set(only_referred.columns)
    assert only_referred["received"].tolist() == [2, 0]


def test_children_seen_twice_are_left_out_when_no_second_contact_can_be_known():
    r = pd.DataFrame({
        "referral_id": [1, 2, 3], "person_id": ["a", "b", "c"],
        "referral_date": ["2024-01-02"] * 3,
        "first_contact_date": ["2024-01-10", "2024-01-20", None],
    })  # fmt: skip
    seen = service.children_seen(r)
    assert "children_seen_2plus" not in seen.columns
    assert seen["children_seen_1plus"].tolist() == [2]
    assert list(service.publish(seen, "children_seen").columns) == list(seen.columns)
    with_counts = service.children_seen(r.assign(n_contacts=[3, 1, 0]))
    assert with_counts["children_seen_2plus"].tolist() == [1]
    with_dates = service.children_seen(r.assign(second_contact_date=[None, "2024-01-27", None]))
    assert with_dates["children_seen_2plus"].tolist() == [1]


def test_the_reach_section_says_children_seen_twice_are_not_counted(tmp_path):
    cfg = mini_demo(tmp_path)
    ref = pd.read_csv(tmp_path / "referrals.csv", dtype=str, keep_default_na=False)
    ref.drop(columns=[MISSING, "n_contacts"]).to_csv(tmp_path / "referrals.csv", index=False)
    cfg["tables"] = {"referrals": "referrals.csv", "schools": "schools.csv"}
    ev = Evaluation.from_config(fitting_targets(cfg), tmp_path / "out")
    seen = ev.release.get("children_seen_by_school").frame
    assert "children_seen_2plus" not in seen.columns
    text = _text(ev.reach().to_html())
    assert "Children seen at least twice are not counted: the referrals table has neither" in text
    assert "seen at least once, by school" in text


def _mini_with_blank(tmp_path, *columns: str) -> dict:
    """The mini demo with ``columns`` of its referrals present and blank on every row."""
    cfg = mini_demo(tmp_path)
    ref = pd.read_csv(tmp_path / "referrals.csv", dtype=str, keep_default_na=False)
    for c in columns:
        ref[c] = ""
    ref.to_csv(tmp_path / "referrals.csv", index=False)
    cfg["targets"].pop("seen_within_standard", None)
    return cfg


def _section_text(ev, name: str) -> str:
    return _text(getattr(ev, name)().to_html())


def test_an_empty_second_contact_column_is_read_as_not_recorded(tmp_path):
    # present with no date in it, it read as "nobody seen twice yet": every child published
    # as waiting for a second contact, zero second contacts a month, an NHS metric of zeros
    ev = Evaluation.from_config(_mini_with_blank(tmp_path, MISSING), tmp_path / "out")
    rel = ev.release
    assert rel.get("waits_overall").frame["stage"].tolist() == ["first"]
    assert "second_contacts" not in rel.get("monthly_activity").frame.columns
    assert rel.get("cyp_outcome_metric") is None
    assert "Could not be computed (outcomes: NHS metric)" not in _section_text(ev, "outcomes")
    empty = f"the referrals table's {MISSING} column is empty (no referral has a date in it)"
    assert f"The referrals table's {MISSING} column is empty" in _section_text(ev, "access")
    assert f"at least two contacts, and {empty}" in _section_text(ev, "outcomes")
    notes = rel.quality.to_frame()
    assert (notes["what"] == empty.replace("`", "")).any()
    # the library's warning is not among them: the report does not read the column as it is
    assert not notes["what"].str.contains("read as not yet seen a second time").any()


def test_an_empty_first_contact_column_leaves_the_waits_out_saying_why(tmp_path):
    cfg = _mini_with_blank(tmp_path, "first_contact_date", MISSING)
    ev = Evaluation.from_config(cfg, tmp_path / "out")
    rel = ev.release
    for name in ("waits_overall", "wait_curve", "waits_by_school", "waits_by_team",
                 "waits_by_month", "cyp_outcome_metric"):  # fmt: skip
        assert rel.get(name) is None, name
    assert not {"first_contacts", "second_contacts"} & set(rel.get("monthly_activity").frame)
    assert not [p for p in rel.failures if "wait" in p], rel.failures  # left out, not failed
    access = _section_text(ev, "access")
    assert "The referrals table's first_contact_date column is empty" in access
    assert "waiting times and the monthly counts of first and second contacts are left out" in (
        access
    )
    assert "Waits are measured" not in access
    notes = rel.quality.to_frame()
    assert notes["what"].str.contains("first_contact_date column is empty").any()
    # the share seen within the standard cannot be known: a target on it stops the build
    cfg["targets"]["seen_within_standard"] = {"share": 0.75}
    with pytest.raises(ConfigError, match="first_contact_date column is empty"):
        Evaluation.from_config(cfg, tmp_path / "out2")


@pytest.mark.parametrize("column", ["first_contact_date", MISSING, "discharge_date"])
def test_the_verbs_warn_of_an_empty_date_column_with_its_count(column):
    r = pd.DataFrame({
        "referral_id": [1, 2, 3], "person_id": ["a", "b", "c"],
        "referral_date": ["2024-01-02"] * 3,
        "first_contact_date": ["2024-01-10", "2024-01-20", None],
        "second_contact_date": ["2024-01-30", None, None],
        "discharge_date": [None, "2024-02-01", None],
    })  # fmt: skip
    r[column] = [None, " ", ""]
    if column == "first_contact_date":
        r = r.drop(columns=MISSING)  # (a second contact without a first is an error of its own)
    msg = f"{column} is present but empty on all 3 referral row"
    calls = (
        lambda: service.waiting_times(r, as_of="2024-03-01", stage="first"),
        lambda: service.monthly_activity(r, as_of="2024-03-01"),
        lambda: service.children_seen(r),
    )
    for call in calls:
        with pytest.warns(UserWarning, match=msg):
            call()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # without the column there is nothing to warn of
        service.monthly_activity(r.drop(columns=column), as_of="2024-03-01")
