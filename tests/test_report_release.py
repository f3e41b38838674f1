"""The publication layer: release rules, cohorts kept apart, every wave used, warnings shown,
and sections that cannot be computed replaced by a note."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml

from _report_data import config_for, fitting_targets
from outcomes._internal.quality import QualityRecord
from outcomes.report import Evaluation
from outcomes.report.release import MARKER, NOT_APPLICABLE, Release
from outcomes.report.render import Section
from outcomes.synthetic import simulate_programme

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo_evaluation.yaml"


def _evaluation(data, tmp: Path, **config) -> Evaluation:
    cfg = config_for(data, tmp / "data")
    cfg.update(config)
    return Evaluation.from_config(cfg, tmp / "out")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return Evaluation.from_config(DEMO, tmp_path_factory.mktemp("demo"))


# ----------------------------------------------------------------------------- the layer
def test_sections_render_from_the_release_and_the_config_only():
    """No render function can reach an analysis: its only inputs are the release and config."""
    import inspect

    from outcomes.report.sections import evaluation, summary

    for mod in (*evaluation.MODULES, summary):
        params = list(inspect.signature(mod.render).parameters)
        assert params == ["rel", "cfg"], mod.__name__
        code = mod.render.__code__
        assert "ev" not in code.co_varnames + code.co_names, mod.__name__


def test_a_section_refuses_unreleased_tables_and_figures():
    s = Section("x")
    with pytest.raises(TypeError, match="ReleasedTable"):
        s.table(pd.DataFrame({"n": [3]}))
    fig, _ = plt.subplots()
    with pytest.raises(TypeError, match="released"):
        s.figure(fig)
    plt.close(fig)


def test_statistics_are_hidden_with_their_n_and_rounded():
    rel = Release(threshold=7, base=5)
    t = pd.DataFrame({"g": ["a", "b", "c", "Total"], "n": [3, 9, 40, 52],
                      "mean": [4.26, 1.04, 2.96, 2.7]})  # fmt: skip
    out = rel.counts(t, "t", counts=["n"], means={"mean": ("n", 1)}, totals=True).frame
    # a (3) is primary; 52 - 9 - 40 would give it back, so b (9) goes too, with its mean
    assert out["n"].tolist() == [MARKER, MARKER, 40, 50]
    assert out["mean"].tolist() == [MARKER, MARKER, 3.0, 2.7]


def test_a_change_is_published_with_a_ci_computed_from_the_published_numbers():
    rel = Release(threshold=7, base=5)
    t = pd.DataFrame({"scale": ["x"], "n": [11], "mean_pre": [5.04], "mean_post": [6.08],
                      "mean_diff": [1.04], "sd_diff": [2.02]})  # fmt: skip
    r = rel.change(t, "c", labels=["scale"]).frame.iloc[0]
    # released: n = 10 (11 rounded to 5), mean change 1.0, SD 2.0. Then, by hand:
    # se = 2.0 / sqrt(10) = 0.632456; t(0.975, 9) = 2.262157 (tables; R: qt(0.975, 9))
    # CI = 1.0 -+ 1.430721 -> -0.4 to 2.4; d_z = 1.0 / 2.0 = 0.5
    # p = 2 * P(T_9 > 1.0 / 0.632456 = 1.581139) = 0.148 (R: 2 * pt(-1.581139, 9))
    assert (r["n"], r["mean_diff"], r["sd_diff"]) == (10, 1.0, 2.0)
    assert (r["ci_low"], r["ci_high"], r["d_z"], r["p"]) == (-0.4, 2.4, 0.5, 0.148)


def test_a_warning_s_numbers_go_through_the_count_rule():
    rel = Release(threshold=7, base=5)
    assert rel.note_text("3 of 42 rows on 2025-01-03 (q2)") == "* of 40 rows on 2025-01-03 (q2)"


def test_one_symbol_for_suppressed_and_one_for_not_applicable(demo, tmp_path):
    from outcomes.report.render import Table

    html = Table(pd.DataFrame({"n": [MARKER, 10], "mean": [MARKER, float("nan")]})).to_html()
    assert html.count(f">{MARKER}<") == 2 and html.count(f">{NOT_APPLICABLE}<") == 1
    assert "<td></td>" not in html
    for csv in (demo.tables_dir).glob("*.csv") if demo.release else []:
        assert ",," not in csv.read_text() and not re.search(r",$", csv.read_text(), re.M)


# ----------------------------------------------------------------------------- cohorts
def test_workforce_reports_programme_staff_with_comparison_staff_as_counterfactual(demo):
    truth = json.loads((ROOT / "synthetic_data/demo/truth.json").read_text())
    true = next(r for r in truth["staff"] if r["group"] == "programme" and r["wave"] == "12m")
    ch = demo.release.get("staff_change").frame.set_index("cohort")
    assert set(ch.index) == {"programme", "comparison"}
    # pooled, the report gave +0.24; programme staff alone are within 0.05 of the truth (+0.36)
    assert abs(ch.loc["programme", "mean_change"] - true["change_confidence"]) < 0.05
    did = demo.release.get("staff_difference_in_change").frame.iloc[0]
    assert did["difference"] == pytest.approx(
        ch.loc["programme", "mean_change"] - ch.loc["comparison", "mean_change"], abs=1e-9
    )
    items = demo.release.get("staff_items").frame
    assert list(dict.fromkeys(items["cohort"])) == ["programme", "comparison"]
    html = demo.workforce().to_html()
    assert "comparison schools" in html and "difference in change" in html


def test_school_survey_is_reported_by_cohort(demo):
    prev = demo.release.get("survey_prevalence").frame
    assert list(prev["cohort"]) == ["programme", "programme", "comparison", "comparison"]
    comp = demo.release.get("survey_comparison").frame
    assert comp.loc[comp["primary"] == "yes", "estimand"].str.contains("difference in diff").all()


# ----------------------------------------------------------------------------- waves
@pytest.fixture(scope="module")
def three_waves(tmp_path_factory):
    data = simulate_programme(
        seed=3, n_schools=3, n_comparison_schools=1, secondary_share=1.0,
        pupils_per_secondary=150, staff_per_secondary=30, referral_rate=0.03,
        survey_waves=("baseline", "12m", "24m"), truth_mc_size=0,
    )  # fmt: skip
    return _evaluation(data, tmp_path_factory.mktemp("w3"))


def test_every_wave_is_compared_with_the_baseline_in_wave_order(three_waves):
    rel = three_waves.release
    prev = rel.get("survey_prevalence").frame
    prog = prev[prev["cohort"] == "programme"]
    assert list(prog["wave"]) == ["baseline", "12m", "24m"]  # not 12m, 24m, baseline
    comp = rel.get("survey_comparison").frame
    assert list(dict.fromkeys(comp["comparison"])) == ["baseline to 12m", "baseline to 24m"]
    staff = rel.get("staff_change").frame
    assert set(staff["comparison"]) == {"baseline to 12m", "baseline to 24m"}
    items = rel.get("staff_items").frame
    waves = list(dict.fromkeys(items.loc[items["cohort"] == "programme", "wave"]))
    assert waves == ["baseline", "12m", "24m"]


def test_waves_given_by_the_inputs_are_used_in_their_order(three_waves):
    three_waves.inputs.waves = {"school_survey": ["baseline", "24m"], "staff_survey": []}
    try:
        assert three_waves.waves("school_survey", three_waves.survey_scores) == ["baseline", "24m"]
    finally:
        del three_waves.inputs.waves


# ----------------------------------------------------------------------------- warnings
def test_a_planted_duplicate_administration_is_shown_in_the_data_quality_section(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "synthetic_data/demo", data)
    h = pd.read_csv(data / "responses_honosca.csv")
    pd.concat([h, h.iloc[[0]]], ignore_index=True).to_csv(data / "responses_honosca.csv",
                                                          index=False)  # fmt: skip
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(data)
    ev = Evaluation.from_config(cfg, tmp_path / "out")
    html = ev.data_quality().to_html()
    assert "not paired because of data problems" in html
    notes = ev.release.get("quality_notes").frame
    assert (notes["source"] == "outcomes: pairing").any()


def test_the_inputs_quality_record_is_shown(tmp_path):
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(ROOT / "synthetic_data" / "demo")
    cfg["tables"] = {"referrals": "referrals.csv"}
    fitting_targets(cfg)
    ev = Evaluation.from_config(cfg, tmp_path)
    q = QualityRecord()
    q.add("referrals", "referral date after first contact", where="referrals", rows=12,
          action="row excluded", warn=False)  # fmt: skip
    ev.inputs.quality = q
    html = ev.data_quality().to_html()
    assert "referral date after first contact" in html
    row = ev.release.get("quality_notes").frame.iloc[0]
    assert row["rows"] == 10  # 12 rows, published rounded


# ----------------------------------------------------------------------------- failures
def test_a_section_that_cannot_be_computed_says_why(tmp_path):
    # three referrals, no follow-up scores, every decided referral accepted
    data = simulate_programme(seed=0, n_schools=1, secondary_share=0.0, pupils_per_primary=100,
                              referral_rate=0.08, truth_mc_size=0)  # fmt: skip
    ev = _evaluation(data, tmp_path)
    htmls = {f.__name__: f().to_html() for f in ev.all_sections()}
    assert "no child has both a baseline and a follow-up score yet" in htmls["outcomes"]
    assert "no trend to model" in htmls["access"]
    assert "could not be computed" in htmls["executive_summary"]
    assert "Parts of the report that could not be computed" in htmls["data_quality"]


def test_school_survey_cells_set_to_missing_are_counted_in_the_notes(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "synthetic_data/demo", data)
    sv = pd.read_csv(data / "school_survey.csv")
    sv.loc[5, "consid"] = 9  # an SDQ item answered 0-2
    sv.to_csv(data / "school_survey.csv", index=False)
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(data)
    cfg["invalid_cells"] = "flag"  # (the default, stop, lists the cell and builds nothing)
    ev = Evaluation.from_config(cfg, tmp_path / "out")
    notes = ev.release.get("quality_notes").frame
    row = notes[notes["where"] == "school_survey"].iloc[0]
    assert "treated as missing" in row["action"]
    assert row["rows"] == MARKER  # one cell: a count of 1 is suppressed like any other


def test_all_not_accepted_counts_every_not_accepted_referral_and_says_so(tmp_path):
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(ROOT / "synthetic_data" / "demo")
    cfg["tables"] = {"referrals": "referrals.csv"}
    fitting_targets(cfg)
    ev = Evaluation.from_config(cfg, tmp_path)
    # the config model of this branch may not accept the string yet: set it as a loaded config
    object.__setattr__(ev.cfg.service, "inappropriate_reasons", "all_not_accepted")
    assert ev.inappropriate is None
    o = ev.release.get("reach_overall").frame.iloc[0]
    assert o["inappropriate"] == o["not_accepted"]
    assert "all_not_accepted" in ev.reach().to_html()


def test_changing_a_released_frame_changes_nothing_published() -> None:
    # ReleasedTable.frame is a shallow copy: copy-on-write must keep the published table
    rel = Release(enabled=True, threshold=7, base=5)
    t = pd.DataFrame({"group": ["a", "b", "Total"], "n": [30, 40, 70]})
    released = rel.counts(t, "demo", counts=["n"], totals=True)
    before = released.frame
    f = released.frame
    f.loc[0, "n"] = 999
    f["group"] = "x"
    f.iloc[1, 1] = 1
    pd.testing.assert_frame_equal(released.frame, before)
    assert released.frame["n"].tolist() == [30, 40, 70]
