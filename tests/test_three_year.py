"""The three-year demo (synthetic_data/three_year): regenerated exactly by its command, and a
trend analysis of it recovers the simulator's known programme effect."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import outcomes as oc
from outcomes.synthetic import THREE_YEAR_COMMAND, ProgrammeData, three_year_programme

ROOT = Path(__file__).resolve().parents[1]
DIR = ROOT / "synthetic_data" / "three_year"


@pytest.fixture(scope="module")
def committed() -> ProgrammeData:
    return ProgrammeData.read(DIR)


def test_committed_three_year_demo_is_regenerated_by_its_command(committed):
    assert sum(f.stat().st_size for f in DIR.iterdir()) < 10 * 2**20
    assert committed.fingerprint() == three_year_programme().fingerprint(), (
        f"synthetic_data/three_year is stale: regenerate with `{THREE_YEAR_COMMAND}`"
    )
    assert THREE_YEAR_COMMAND in (DIR / "README.md").read_text()
    waves = list(pd.unique(committed.school_survey["wave"]))
    assert waves == ["baseline", "12m", "24m", "36m"]
    assert set(committed.schools["phase"]) == {"primary", "secondary"}


def test_trend_recovers_the_known_programme_effect(committed):
    scored = oc.score(committed.school_survey, "sdq_self")
    scored = scored.merge(committed.schools[["school_id", "in_programme"]], on="school_id")
    res = oc.survey.trend(
        scored,
        "total_difficulties_band",
        "wave",
        bands=["high", "very high"],
        programme="in_programme",
    )
    tab = res.to_frame()
    truth = pd.DataFrame(json.loads((DIR / "truth.json").read_text())["survey"])
    truth = truth.query("instrument == 'sdq_self' and scale == 'total_difficulties'")
    p = truth.pivot(index="wave", columns="group", values="expected_prop_high")
    p = p.loc[["baseline", "12m", "24m", "36m"]]
    # true difference in differences at each wave: (prog_w - prog_0) - (comp_w - comp_0)
    did = (p["programme"] - p["programme"].iloc[0]) - (p["comparison"] - p["comparison"].iloc[0])
    row = tab.query("term == 'difference in differences' and wave == '36m'").iloc[0]
    assert row["ci_low"] <= did["36m"] <= row["ci_high"]  # about -0.079
    # least-squares slope of the true DiDs on years 0..3 against the difference in trends
    slope = np.polyfit([0.0, 1.0, 2.0, 3.0], did.to_numpy(dtype=float), 1)[0]
    row = tab.query("term == 'difference in trends'").iloc[0]
    assert row["ci_low"] <= slope <= row["ci_high"]  # about -0.026 per year
    assert row["ci_high"] < 0


def test_three_year_example_report_shows_the_trend(tmp_path):
    html = oc.build_report(ROOT / "examples" / "three_year_schools.yaml", tmp_path / "r",
                           progress=False, per_school=True)  # fmt: skip
    trend = pd.read_csv(tmp_path / "r" / "tables" / "survey_trend.csv")
    terms = set(zip(trend["arm"], trend["term"], strict=True))
    assert ("programme", "trend") in terms and ("comparison", "trend") in terms
    assert ("programme - comparison", "difference in trends") in terms
    assert set(trend.loc[trend["term"] == "difference in differences", "wave"]) == {
        "12m", "24m", "36m"
    }  # fmt: skip
    dit = trend.query("term == 'difference in trends'").iloc[0]
    assert dit["estimate"] == pytest.approx(-2.5, abs=0.05)  # -0.0252 per year, as above
    assert "Trend across all waves" in Path(html).read_text()
    # --per-school: an index and one page per programme school, beside the report
    index = (tmp_path / "r" / "schools" / "index.html").read_text()
    assert 'href="SCH09.html"' in index
    page = (tmp_path / "r" / "schools" / "SCH09.html").read_text()
    assert "Wave 36m: prevalence by year group against the range" in page
    assert "Waits (from the main report)" in page


def test_report_command_offers_per_school_packs():
    from typer.testing import CliRunner

    from outcomes.cli.main import app

    out = CliRunner().invoke(app, ["report", "--help"], env={"COLUMNS": "200"})
    assert out.exit_code == 0 and "--per-school" in out.output
