"""The report's costs section (issue 20): hand arithmetic, the strict config, and that every
count it divides by is a released count."""

from __future__ import annotations

import numpy as np
import pytest

from _report_data import DEMO, mini_demo, set_path
from outcomes.report import ConfigError, Evaluation
from outcomes.report.config import load_config
from outcomes.report.release import is_hidden, wilson


@pytest.fixture(scope="module")
def demo_release(tmp_path_factory):
    ev = Evaluation.from_config(DEMO, tmp_path_factory.mktemp("costs"))
    return ev, ev.release


def test_cost_lines_by_hand(demo_release):
    _, rel = demo_release
    by = rel.get("cost_by_category").frame.set_index("category")["cost"]
    # staff: 8 x 32,000 x 1.28 + 2 x 52,000 x 1.28 + 1 x 60,000 x 1.28
    #      = 327,680 + 133,120 + 76,800 = 537,600
    assert by["staff"] == 537600
    # overheads: 15% of staff = 80,640; training: 8 x 5,000 in 2024 prices x 103/100 = 41,200
    assert by["overheads"] == 80640 and by["training"] == 41200
    # sessions: 120 x 40 = 4,800; total 664,240
    assert by["sessions"] == 4800 and by["Total"] == 664240


def test_costs_per_unit_and_outcome_use_released_counts_only(demo_release):
    _, rel = demo_release
    total = 664240
    seen = rel.get("children_seen_by_school").row(school_id="Total")["children_seen_1plus"]
    per = rel.get("cost_per_unit").row(unit="child or young person seen")
    assert per["units"] == seen and seen % 5 == 0  # the released (rounded) count
    assert per["cost_per"] == round(total / seen)
    m = rel.get("cyp_outcome_metric").row(rater="any")
    k, n = m["n_improvement"], m["n_paired"]
    assert k % 5 == 0 and n % 5 == 0
    row = rel.get("cost_per_outcome").frame.iloc[-1]
    assert "measurable improvement" in row["outcome"]
    # cost / (children seen x released share); the CI maps the Wilson interval of k/n
    assert row["cost_per"] == round(total / (seen * k / n))
    lo, hi = wilson([k], [n])
    assert (row["ci_low"], row["ci_high"]) == (
        round(total / (seen * hi[0])),
        round(total / (seen * lo[0])),
    )


def test_cost_benefit_by_hand(demo_release):
    ev, rel = demo_release
    seen = rel.get("children_seen_by_school").row(school_id="Total")["children_seen_1plus"]
    m = rel.get("cyp_outcome_metric").row(rater="any")
    q = round(seen * m["n_improvement"] / m["n_paired"])
    lines = rel.get("cost_benefit_lines").frame.set_index("benefit")
    camhs = lines.loc["specialist CAMHS episode avoided"]
    # q episodes x 2,500 x (1 - 0.5) x 0.6 x (1 - 0.2), all in year 0
    assert camhs["quantity_total"] == q
    assert camhs["present_value"] == round(q * 2500 * 0.5 * 0.6 * 0.8)
    # teacher days: 300 a year x 250 x 103/100 x 0.8 x 0.8 x 0.8 = 39,552 a year, 3 years at
    # 3.5%: 39,552 x (1 + 1/1.035 + 1/1.035^2) = 114,688.8
    assert lines.loc["teacher time saved (days)", "present_value"] == 114689
    s = rel.get("cost_benefit").frame.iloc[0]
    # costs 664,240 with a 10% optimism-bias uplift, all in year 0: 730,664
    assert s["pv_costs"] == 730664
    assert s["npv"] == pytest.approx(camhs["present_value"] + 114689 - 730664, abs=1)
    sens = rel.get("cost_sensitivity").frame.set_index("input")
    # total cost x 0.8 .. 1.2 moves the NPV by 0.4 x 730,664 = 292,266
    assert sens.loc["total_cost", "swing"] == pytest.approx(292266, abs=1)
    text = " ".join(getattr(b, "text", "") for b in ev.costs().blocks)
    assert "net present value −£" in text


def test_illustrative_costs_are_labelled(demo_release):
    ev, _ = demo_release
    notes = [b for b in ev.costs().blocks if type(b).__name__ == "Note"]
    assert any("illustrative" in str(b) for b in notes)


def test_a_suppressed_outcome_leaves_the_cost_benefit_out_with_a_note(tmp_path):
    cfg = set_path(mini_demo(tmp_path, n_referrals=20), "service.inappropriate_reasons",
                   "all_not_accepted")  # fmt: skip
    cfg = set_path(cfg, "costs.benefits", [{
        "name": "episode avoided", "unit_value": 2500, "source": "illustrative",
        "price_year": 2025, "quantity": "reliable_improvement"}])  # fmt: skip
    cfg = set_path(cfg, "costs.sensitivity", {})
    ev = Evaluation.from_config(cfg, tmp_path / "out")
    rel = ev.release
    hidden_or_missing = rel.get("cost_benefit") is None
    assert hidden_or_missing
    assert any("suppressed" in w for w in rel.failures.get("costs: cost-benefit", []))
    for r in rel.get("cost_per_outcome").frame.to_dict("records"):
        # a cost per outcome is shown only where its counts were released
        assert is_hidden(r["cost_per"]) or np.isfinite(float(r["cost_per"]))


@pytest.mark.parametrize(
    "path, value, message",
    [
        ("costs.sensitivity", {"specialist CAMHS episode avoided.unitvalue": [1, 2]},
         "did you mean 'specialist CAMHS episode avoided.unit_value'"),
        ("costs.lines", [{"item": "x", "category": "staff", "fte": 1}], "fill exactly one way"),
        ("costs.price_index", {}, "price index"),
    ],
)  # fmt: skip
def test_cost_config_mistakes_stop_the_build(tmp_path, path, value, message):
    cfg = set_path(mini_demo(tmp_path), path, value)
    with pytest.raises(ConfigError, match=message):
        Evaluation.from_config(cfg, tmp_path / "out")


def test_costs_need_lines():
    with pytest.raises(ConfigError, match="cost lines"):
        load_config({"programme": "P", "period": {"start": "2025-09-01", "end": "2026-08-31"},
                     "tables": {}, "costs": {"price_year": 2025}})  # fmt: skip


def test_a_programme_of_other_sites_has_a_cost_per_child(tmp_path):
    """The family pilot (four children's centres, no schools): cost per child from the
    children seen overall (the Total row of the table by site), and per site."""
    from pathlib import Path

    import yaml

    example = Path(__file__).resolve().parents[1] / "examples" / "family_pilot.yaml"
    cfg = yaml.safe_load(example.read_text())
    cfg["data_dir"] = str((example.parent / cfg["data_dir"]).resolve())
    cfg["costs"] = {
        "illustrative": True,
        "price_year": 2025,
        "lines": [
            {"item": "family workers", "category": "staff", "fte": 2, "salary": 30000,
             "on_cost_rate": 0.25},
            {"item": "session materials", "category": "sessions", "quantity": 100,
             "unit_cost": 20},
        ],
    }  # fmt: skip
    ev = Evaluation.from_config(cfg, tmp_path / "out")
    rel = ev.release
    assert rel.failures.get("costs: per output") in (None, [])
    # staff: 2 x 30,000 x 1.25 = 75,000; sessions: 100 x 20 = 2,000; total 77,000
    assert rel.get("cost_by_category").row(category="Total")["cost"] == 77000
    seen = rel.get("children_seen_by_site").row(site_id="Total")["children_seen_1plus"]
    assert not is_hidden(seen) and seen % 5 == 0  # the released (rounded) count
    per = rel.get("cost_per_unit")
    child = per.row(unit="child or young person seen")
    assert child["units"] == seen and child["cost_per"] == round(77000 / seen)
    site = per.row(unit="site")
    assert site["units"] == 4 and site["cost_per"] == round(77000 / 4)  # four centres
    m = rel.get("cyp_outcome_metric").row(rater="any")
    row = rel.get("cost_per_outcome").frame.iloc[-1]
    assert row["cost_per"] == round(77000 / (seen * m["n_improvement"] / m["n_paired"]))
    text = " ".join(getattr(b, "text", "") for b in ev.costs().blocks)
    assert f"£{round(77000 / seen):,} per child or young person seen" in text


def test_a_line_that_cannot_be_costed_is_one_problem_worded_as_cost_table_words_it(tmp_path):
    from outcomes import economics

    line = {"item": "x", "category": "staff", "fte": 1}
    cfg = set_path(mini_demo(tmp_path), "costs.lines", [line])
    with pytest.raises(Exception) as said:
        economics.cost_table([line], price_year=load_config(cfg).costs.price_year)
    with pytest.raises(ConfigError) as e:
        Evaluation.from_config(cfg, tmp_path / "out")
    assert [p for p in e.value.problems if p.startswith("costs")] == [f"costs: {said.value}"]


def test_the_cost_lines_are_costed_once_per_build(tmp_path, monkeypatch):
    # the input checks cost them and the costs section reads the checked table
    from outcomes import economics

    calls = []
    real = economics.cost_table
    monkeypatch.setattr(economics, "cost_table", lambda *a, **k: calls.append(1) or real(*a, **k))
    ev = Evaluation.from_config(mini_demo(tmp_path), tmp_path / "out")
    assert ev.release.get("cost_by_category") is not None
    assert len(calls) == 1
