"""The report under NHS England's MHSDS publication rule (``disclosure: {rule: mhsds}``):
counts 0-4, zero included, shown as ``*``, others to the nearest 5 (specs/mhsds.md 3.12),
with the report's secondary suppression kept on top."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from outcomes.report import Evaluation
from outcomes.report.config import ConfigError, load_config
from outcomes.report.release import MARKER, Release
from test_report_scorecard import config

BASE = {"programme": "x", "period": {"start": "2025-09-01", "end": "2026-08-31"}, "tables": {}}


def test_the_count_rule_by_hand():
    t = pd.DataFrame({"group": ["a", "b", "c", "d", "e", "f", "g"],
                      "n": [0, 4, 5, 7, 8, 12, 13]})  # fmt: skip
    # NHS: < 5 (0 included) -> *, else the nearest multiple of 5 (7 -> 5, 8 -> 10, 13 -> 15)
    mhsds = Release(rule="mhsds", threshold=4, base=5).counts(t, "x", counts=["n"], store=False)
    assert mhsds.frame["n"].tolist() == [MARKER, MARKER, 5, 5, 10, 10, 15]
    # the default rule keeps 0 and hides 1-7
    default = Release().counts(t, "x", counts=["n"], store=False)
    assert default.frame["n"].tolist() == [0, MARKER, MARKER, MARKER, 10, 10, 15]


def test_numbers_in_notes_follow_the_same_rule():
    text = "0 rows, 4 rows, 5 rows, 6 rows, 8 rows and 12 rows"
    mhsds = Release(rule="mhsds", threshold=4, base=5).note_text(text)
    assert mhsds == "* rows, * rows, 5 rows, 5 rows, 10 rows and 10 rows"
    assert Release().note_text(text) == "0 rows, * rows, * rows, * rows, 10 rows and 10 rows"


def test_the_config_preset_fixes_threshold_and_base_and_is_refused_when_misspelt():
    d = load_config({**BASE, "disclosure": {"rule": "mhsds"}}).disclosure
    assert (d.rule, d.threshold, d.base) == ("mhsds", 4, 5)
    assert load_config(BASE).disclosure.rule == "default"
    with pytest.raises(ConfigError, match="threshold"):
        load_config({**BASE, "disclosure": {"rule": "mhsds", "threshold": 7}})
    with pytest.raises(ConfigError, match="mhsds"):
        load_config({**BASE, "disclosure": {"rule": "mhsd"}})


def test_a_report_built_with_the_mhsds_rule(tmp_path):
    # programme period (test_report_scorecard.referrals): 100 referrals received, all decided,
    # 85 accepted, 15 not accepted (all inappropriate), none pending
    cfg = config(tmp_path) | {"disclosure": {"rule": "mhsds"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = Evaluation.from_config(cfg, tmp_path / "out")
        rel = ev.release
        html = ev.reach().to_html()
        summary = ev.executive_summary().to_html()
    r = rel.get("reach_overall").frame.iloc[-1]
    assert (r["received"], r["accepted"], r["not_accepted"], r["inappropriate"]) == (
        100, 85, 15, 15
    )  # fmt: skip
    assert r["pending"] == MARKER  # 0 is hidden under the NHS rule
    counts = [v for c in ("received", "decided", "accepted", "not_accepted", "pending",
                          "inappropriate") for v in rel.get("reach_overall").frame[c]]  # fmt: skip
    assert all(v == MARKER or (int(v) % 5 == 0 and int(v) >= 5) for v in counts), counts
    assert "* awaiting" in html
    assert "MHSDS rule" in summary and "0 to 4" in summary
