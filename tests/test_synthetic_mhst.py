"""The optional MHST measures of the simulator: off by default (the demo is unchanged), and when
on, RCADS-25, GAD-7 and PHQ-9 tables that score, pair and improve."""

from __future__ import annotations

import pandas as pd
import pytest

import outcomes as oc
from outcomes.synthetic import simulate_programme
from outcomes.synthetic.settings import SimulationParameterError

SMALL = {"n_schools": 8, "truth_mc_size": 0}


@pytest.fixture(scope="module")
def both():
    return simulate_programme(5, **SMALL), simulate_programme(5, mhst_measures=True, **SMALL)


def test_off_by_default_and_nothing_else_changes(both):
    off, on = both
    assert sorted(off.responses) == sorted(
        ["honosca", "sdq_parent", "gbo", "chi_esq_parent", "chi_esq_9_11", "chi_esq_12_18"]
    )
    assert set(on.responses) - set(off.responses) == {
        "rcads_25_self", "rcads_25_parent", "gad_7", "phq_9"
    }  # fmt: skip
    for name, table in off.tables().items():
        pd.testing.assert_frame_equal(table, on.tables()[name])
    pd.testing.assert_frame_equal(off.truth.clinical, on.truth.clinical)


def test_the_new_tables_score_with_their_age_rules(both):
    _, on = both
    refs = on.referrals.set_index("referral_id")
    for inst_id, (lo, hi) in {"rcads_25_self": (11, 99), "rcads_25_parent": (8, 10),
                              "gad_7": (16, 99), "phq_9": (16, 99)}.items():  # fmt: skip
        df = on.responses[inst_id]
        if df.empty:
            continue
        ages = refs.loc[df["referral_id"], "age"].to_numpy()
        assert ((ages >= lo) & (ages <= hi)).all(), inst_id
        assert set(df["wave"]) <= {"assessment", "discharge"}
        oc.score(df, inst_id)  # every cell valid or blank


def test_rcads_25_improves_between_assessment_and_discharge(both):
    _, on = both
    scored = oc.score(on.responses["rcads_25_self"], "rcads_25_self")
    means = scored.groupby("wave")[["anxiety", "depression"]].mean()
    assert (means.loc["discharge"] < means.loc["assessment"]).all()
    pairs = oc.pair_waves(scored, scales=["depression"]).pairs
    assert len(pairs) > 0


def test_setting_is_checked():
    with pytest.raises(SimulationParameterError, match="mhst_measures"):
        simulate_programme(1, mhst_measures="yes", **SMALL)


def test_written_and_read_back(both, tmp_path):
    _, on = both
    path = on.write(tmp_path / "mhst")
    back = type(on).read(path)
    assert set(back.responses) == set(on.responses)
    assert len(back.responses["phq_9"]) == len(on.responses["phq_9"])


def test_primary_survey_with_the_stirling_scale(tmp_path):
    off = simulate_programme(5, **SMALL)
    on = simulate_programme(5, primary_survey=True, **SMALL)
    assert off.primary_survey is None and "primary_survey" not in off.tables()
    for name, table in off.tables().items():
        pd.testing.assert_frame_equal(table, on.tables()[name])
    ps = on.primary_survey
    assert set(ps["year_group"]) <= {4, 5, 6} and ps["age"].between(7, 11).all()
    schools = on.schools.set_index("school_id")
    assert (schools.loc[ps["school_id"], "phase"] == "primary").all()
    # every primary school of the programme is surveyed, as the secondaries are
    prog = on.schools[on.schools["in_programme"]]
    surveyed = set(ps["school_id"]) | set(on.school_survey["school_id"])
    assert set(prog["school_id"]) <= surveyed
    scored = oc.score(ps, "scwbs")
    assert scored["total"].dropna().between(12, 60).all()
    assert 35 < scored["total"].mean() < 55
    back = type(on).read(on.write(tmp_path / "primary"))
    pd.testing.assert_frame_equal(back.primary_survey, ps, check_dtype=False)
