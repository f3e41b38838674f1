"""The scorecard and the before-and-after: statuses against hand-computed targets, on a
hand-built referrals table with a pre-programme period."""

from __future__ import annotations

import warnings
from math import sqrt

import pandas as pd
import pytest

from outcomes.report import Evaluation
from outcomes.report.config import ConfigError, load_config
from outcomes.report.sections.scorecard import MET, NOT_MET, UNCLEAR, status

Z = 1.959963984540054


@pytest.mark.parametrize(
    ("low", "high", "target", "higher", "expected"),
    [
        (0.72, 0.81, 0.70, True, MET),  # wholly above a floor
        (0.70, 0.81, 0.70, True, MET),  # touching the target counts as its side
        (0.60, 0.69, 0.70, True, NOT_MET),  # wholly below
        (0.65, 0.75, 0.70, True, UNCLEAR),  # straddles
        (0.12, 0.18, 0.20, False, MET),  # a ceiling: wholly below
        (0.21, 0.30, 0.20, False, NOT_MET),
        (0.15, 0.25, 0.20, False, UNCLEAR),
        ("*", 0.25, 0.20, False, UNCLEAR),  # suppressed: never a verdict
    ],
)
def test_status_rule(low, high, target, higher, expected):
    assert status(low, high, target, higher_is_better=higher) == expected


def wilson(k: int, n: int) -> tuple[float, float]:
    # (p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
    p = k / n
    centre, half = p + Z * Z / (2 * n), Z * sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return (centre - half) / (1 + Z * Z / n), (centre + half) / (1 + Z * Z / n)


def referrals() -> pd.DataFrame:
    """Before (2024-25): 100 decided, 30 inappropriate. After (2025-26): 100 decided, 15
    inappropriate; of the 85 accepted, 60 seen after 10 days and 25 after 40 days."""
    rows = []

    def add(date: str, inappropriate: bool, wait: int | None) -> None:
        i = len(rows)
        d = pd.Timestamp(date)
        rows.append({
            "referral_id": f"R{i:04d}", "person_id": f"P{i:04d}", "school_id": "S1",
            "referral_date": d.date().isoformat(), "accepted": not inappropriate,
            "not_accepted_reason": "not meeting criteria" if inappropriate else None,
            "first_contact_date": (d + pd.Timedelta(days=wait)).date().isoformat()
            if wait is not None else None,
            "second_contact_date": (d + pd.Timedelta(days=wait + 7)).date().isoformat()
            if wait is not None else None,
            "n_contacts": 2 if wait is not None else 0,
        })  # fmt: skip

    for k in range(100):
        add(f"2024-{10 + k % 3}-{1 + k % 28:02d}", k < 30, None if k < 30 else 20)
    for k in range(100):
        wait = None if k < 15 else 10 if k < 75 else 40
        add(f"2025-{10 + k % 3}-{1 + k % 28:02d}", k < 15, wait)
    return pd.DataFrame(rows)


def config(tmp_path, **targets) -> dict:
    referrals().to_csv(tmp_path / "referrals.csv", index=False)
    pd.DataFrame({"school_id": ["S1"], "n_pupils": [400]}).to_csv(
        tmp_path / "schools.csv", index=False
    )
    return {
        "programme": "Test", "period": {"start": "2025-09-01", "end": "2026-08-31"},
        "data_dir": str(tmp_path), "tables": {"referrals": "referrals.csv", "schools": "schools.csv"},
        "service": {"inappropriate_reasons": ["not meeting criteria"],
                    "pre_period": {"start": "2024-09-01", "end": "2025-08-31"}},
        "targets": targets,
    }  # fmt: skip


def card(tmp_path, **targets) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = Evaluation.from_config(config(tmp_path, **targets), tmp_path / "out")
        rel = ev.release
    assert not [p for p in rel.failures if p.startswith(("success", "before"))], rel.failures
    return ev, rel.get("scorecard").frame.set_index("measure")


@pytest.mark.parametrize(
    ("reduction", "expected"),
    [
        # baseline 30/100 = 30%; now 15/100 = 15%, Wilson 95% CI 9.3% to 23.3%
        (0.25, UNCLEAR),  # target 30 x 0.75 = 22.5: inside the CI
        (0.20, MET),  # target 24.0: the CI lies wholly below it
        (0.75, NOT_MET),  # target 7.5: the CI lies wholly above it
    ],
)
def test_inappropriate_target(tmp_path, reduction, expected):
    lo, hi = wilson(15, 100)
    assert (round(100 * lo, 1), round(100 * hi, 1)) == (9.3, 23.3)
    _, c = card(tmp_path, inappropriate_rate={"reduction": reduction})
    r = c.loc["Inappropriate referrals (% of decided)"]
    assert (r["baseline"], r["now"], r["target"]) == (30.0, 15.0, round(30 * (1 - reduction), 1))
    assert (r["ci_low"], r["ci_high"]) == (9.3, 23.3)
    assert r["status"] == expected


@pytest.mark.parametrize(("share", "expected"), [(0.5, MET), (0.75, UNCLEAR), (0.9, NOT_MET)])
def test_seen_within_standard_target(tmp_path, share, expected):
    # 60 of 85 seen within 28 days, none censored: Kaplan-Meier = 60/85 = 70.6%, rounded to
    # 5 points: 70%; its log-log CI is about 60% to 79% (coarsened outward to 60 to 80)
    _, c = card(tmp_path, seen_within_standard={"share": share})
    r = c.loc["Seen within 28 days (%)"]
    assert r["now"] == 70.0 and r["ci_low"] == 60.0 and r["ci_high"] == 80.0
    assert r["baseline"] == 100.0  # before: every accepted child seen at 20 days
    assert r["status"] == expected


def test_before_and_after(tmp_path):
    ev, _ = card(tmp_path, inappropriate_rate={"reduction": 0.25})
    rel = ev.release
    b = rel.get("before_after_inappropriate").frame.iloc[0]
    assert (b["before"], b["after"], b["difference"]) == (30.0, 15.0, -15.0)
    # Newcombe's hybrid score interval from the two Wilson intervals (after - before):
    # d - sqrt((p1 - l1)^2 + (u0 - p0)^2) to d + sqrt((u1 - p1)^2 + (p0 - l0)^2)
    l1, u1 = wilson(15, 100)
    l0, u0 = wilson(30, 100)
    low = -0.15 - sqrt((0.15 - l1) ** 2 + (u0 - 0.30) ** 2)
    high = -0.15 + sqrt((u1 - 0.15) ** 2 + (0.30 - l0) ** 2)
    assert b["difference_ci_low"] == round(100 * low, 1)
    assert b["difference_ci_high"] == round(100 * high, 1)
    w = rel.get("before_after_waits").frame.set_index("period")
    assert (w.loc["before", "median_days"], w.loc["after", "median_days"]) == (20.0, 10.0)
    ch = rel.get("before_after_waits_change").frame.set_index("measure")
    assert ch.loc["median wait to first contact (days)", "difference"] == -10.0
    # every resample's before median is 20 (all seen at 20 days); the after median is 10
    # unless 43 or more of the 85 drawn wait 40 days (P(Bin(85, 25/85) >= 43) = 3.4e-5, far
    # below the 2.5% each limit would need): so the bootstrap interval is -10 to -10
    med = ch.loc["median wait to first contact (days)"]
    assert (med["ci_low"], med["ci_high"]) == (-10.0, -10.0)
    assert ch.loc["seen within the standard (percentage points)", "difference"] == -30.0
    html = ev.before_after().to_html() + ev.scorecard().to_html()
    summary = ev.executive_summary().to_html()
    assert (
        "inappropriate referrals were 30% of those decided before the programme and 15%" in summary
    )
    assert (
        f"({100 * -0.15:+.1f} percentage points, 95% CI {100 * low:+.1f} to {100 * high:+.1f})"
        in summary
    )
    assert (
        "within 20 days before the programme and 10 days during it (a change of -10 days, "
        "95% CI -10 to -10)" in summary
    )
    assert "Newcombe" in html and "Glossary" in html and "not yet clear" in html


def test_no_targets_says_so(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = Evaluation.from_config(config(tmp_path), tmp_path / "out")
        html = ev.scorecard().to_html()
    assert "No success measures are declared" in html


def test_target_config_refusals():
    base = {"programme": "x", "period": {"start": "2025-09-01", "end": "2026-08-31"},
            "tables": {}}  # fmt: skip
    with pytest.raises(ConfigError, match="did you mean 'seen_within_standard'"):
        load_config({**base, "targets": {"seen_within_standrd": {"share": 0.8}}})
    with pytest.raises(ConfigError, match="baseline period"):
        load_config({**base, "targets": {"inappropriate_rate": {"reduction": 0.2}}})
    with pytest.raises(ConfigError, match="share"):
        load_config({**base, "targets": {"experience": {"share": 1.5}}})
    with pytest.raises(ConfigError, match="pre_period"):
        load_config({**base, "service": {"pre_period": {"start": "2025-01-01",
                                                        "end": "2025-12-31"}}})  # fmt: skip


def test_reach_per_100_pupils_and_before_period_kept_apart(tmp_path):
    ev, _ = card(tmp_path, inappropriate_rate={"reduction": 0.25})
    rel = ev.release
    # programme period only: 85 children seen (the 70 of the pre-period are not counted);
    # 85 / 400 pupils x 100 = 21.25, to 1 decimal 21.2 (half to even)
    r = rel.get("reach_per_pupil").row(school_id="S1")
    assert (r["children_seen"], r["pupils_on_roll"], r["seen_per_100_pupils"]) == (85, 400, 21.2)
    assert rel.get("reach_overall").frame.iloc[-1]["received"] == 100


def test_a_target_on_a_table_left_out_is_refused_before_the_report_runs(tmp_path):
    # both were found while the report ran (a section failure); the input checks refuse them
    cfg = config(tmp_path, staff_confidence_change={"change": 0.3}, experience={"share": 0.8})
    with pytest.raises(ConfigError) as err:
        Evaluation.from_config(cfg, tmp_path / "out")
    assert err.value.problems == [
        "targets.staff_confidence_change: needs the staff survey, and tables.staff_survey is "
        "not in the config; add the table or leave the target out",
        "targets.experience: needs a CHI-ESQ table under tables.responses (chi_esq_parent, "
        "chi_esq_9_11, chi_esq_12_18); the config lists none",
    ]
    assert not (tmp_path / "out").exists()


def test_an_outcome_target_without_a_released_change_says_why_not_unknown():
    # a measure of the data with no paired children was called an "unknown outcome measure"
    # with a did-you-mean to another
    from types import SimpleNamespace

    from outcomes.instruments import load_instrument
    from outcomes.report.release import Release
    from outcomes.report.sections.scorecard import _outcome_row

    ev = SimpleNamespace(
        cfg=SimpleNamespace(outcomes=SimpleNamespace(headline="sdq_parent.emotional")),
        inputs=SimpleNamespace(instruments={"sdq_parent": load_instrument("sdq_parent")}),
    )
    target = SimpleNamespace(measure=None, change=1.0)
    with pytest.raises(ValueError, match="change analysis could not be computed"):
        _outcome_row(ev, Release(), target)
    rel = Release()
    rel.derived(
        pd.DataFrame({"instrument": ["sdq_parent"], "scale": ["conduct"]}), "change_by_measure"
    )
    with pytest.raises(ValueError, match="no child has both a baseline and a follow-up score"):
        _outcome_row(ev, rel, target)
    # (a misspelt measure never gets here: the input checks refuse it, test_report_config)
