"""The report weights the school survey to the school rolls when the config says so, and says
how; the published weighted prevalence is the library's, rounded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import outcomes as oc
from outcomes.report import Evaluation

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "synthetic_data" / "demo"


def test_weighted_prevalence_is_published_and_described(tmp_path):
    survey = pd.read_csv(DEMO / "school_survey.csv")
    # a roll on which girls are twice as many as answered and boys as many: weights 2 and 1
    roll = survey.groupby(["school_id", "year_group", "gender"]).size().rename("count")
    roll = roll.reset_index()
    roll["count"] = np.where(roll["gender"] == "female", 2, 1) * roll["count"]
    roll.to_csv(tmp_path / "roll.csv", index=False)
    cfg = yaml.safe_load((ROOT / "examples" / "demo_evaluation.yaml").read_text())
    cfg["data_dir"] = str(DEMO)
    cfg["school_survey"]["weights"] = {"roll": str(tmp_path / "roll.csv")}
    ev = Evaluation.from_config(cfg, tmp_path / "out")
    pub = ev.release.get("survey_prevalence_weighted").frame
    sv = ev.survey_scores
    w = oc.survey.poststratify(sv, roll, cells=["school_id", "year_group", "gender"])
    assert set(np.unique(w.dropna())) <= {1.0, 2.0}
    direct = oc.survey.prevalence(
        sv.assign(w=w.to_numpy()), "total_difficulties_band", bands=["high", "very high"],
        by=["cohort", "wave"], cluster="school_id", weights="w",
    )  # fmt: skip
    got = pub.set_index(["cohort", "wave"])["weighted_prevalence"].astype(float)
    want = direct.set_index(["cohort", "wave"])["prevalence"].round(3)
    assert got.to_dict() == want.to_dict()
    # and it differs from the unweighted prevalence (girls count twice)
    unw = ev.release.get("survey_prevalence").frame.set_index(["cohort", "wave"])["prevalence"]
    assert (got - unw.astype(float)).abs().max() > 0.001
    html = ev.school_population().to_html()
    assert "Weighted results: respondents are post-stratified to the school rolls" in html
    assert "school_id x year_group x gender" in html


def test_weighted_trend_in_the_three_year_report(tmp_path):
    data = ROOT / "synthetic_data" / "three_year"
    survey = pd.read_csv(data / "school_survey.csv")
    roll = survey.groupby(["school_id", "year_group", "gender"]).size().rename("count")
    roll = roll.reset_index()
    roll["count"] = np.where(roll["year_group"] >= 10, 3, 1) * roll["count"]
    roll.to_csv(tmp_path / "roll.csv", index=False)
    cfg = yaml.safe_load((ROOT / "examples" / "three_year_schools.yaml").read_text())
    cfg["data_dir"] = str(data)
    cfg["school_survey"]["weights"] = {"roll": str(tmp_path / "roll.csv")}
    ev = Evaluation.from_config(cfg, tmp_path / "out")
    pub = ev.release.get("survey_trend").frame
    sv = ev.survey_scores.assign(prog=lambda d: d["cohort"] == "programme")
    w = oc.survey.poststratify(sv, roll, cells=["school_id", "year_group", "gender"])
    direct = oc.survey.trend(
        sv.assign(w=w.to_numpy()), "total_difficulties_band", "wave", bands=["high", "very high"],
        programme="prog", weights="w", waves=["baseline", "12m", "24m", "36m"],
    ).to_frame()  # fmt: skip
    want = direct.query("term == 'difference in trends'")["estimate"].iloc[0] * 100
    got = pub.query("term == 'difference in trends'")["estimate"].iloc[0]
    assert float(got) == round(want, 1)
    assert "Weighted trend across all waves" in ev.school_population().to_html()
