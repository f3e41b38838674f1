"""School surveys: prevalence, clustering and wave comparisons, checked against published values
and against numbers derived by hand (not against our own output)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes import survey as sv
from outcomes.errors import DataStructureError, InvalidResponsesError, OutcomesError

# R's `sleep` data (extra hours of sleep; group 1 and group 2, paired by ID 1..10).
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def _two_waves(c0: int, n0: int, c1: int, n1: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "wave": [1] * n0 + [2] * n1,
            "case": [1] * c0 + [0] * (n0 - c0) + [1] * c1 + [0] * (n1 - c1),
        }
    )


def _beta_binomial(seed: int, reps: int, schools: int, per: int, rho: float, p: float):
    """Binary outcomes with a known ICC: school prevalence ~ Beta(p s, (1 - p) s), s = 1/rho - 1,
    which gives ICC = 1 / (s + 1) = rho exactly."""
    rng = np.random.default_rng(seed)
    s = 1 / rho - 1
    pj = rng.beta(p * s, (1 - p) * s, size=(reps, schools))
    y = rng.random((reps, schools, per)) < pj[..., None]
    return pd.DataFrame(
        {
            "rep": np.repeat(np.arange(reps), schools * per),
            "school": np.tile(np.repeat(np.arange(schools), per), reps),
            "case": y.ravel(),
        }
    )


# ----------------------------------------------------------------------------- prevalence
def test_wilson_worked_examples():
    df = pd.DataFrame({"case": [True] * 81 + [False] * 182})
    row = sv.prevalence(df, "case").iloc[0]
    assert (row["n"], row["cases"]) == (263, 81)
    assert row["ci_low"] == pytest.approx(0.25529, abs=5e-6)
    assert row["ci_high"] == pytest.approx(0.36621, abs=5e-6)
    zero = sv.prevalence(pd.DataFrame({"case": [0] * 20}), "case").iloc[0]
    assert zero["prevalence"] == 0
    assert zero["ci_low"] == 0
    assert zero["ci_high"] == pytest.approx(0.16113, abs=5e-6)


def test_case_definitions_bands_and_thresholds():
    df = pd.DataFrame(
        {
            "band": ["close to average", "High", " very  high ", None, "slightly raised"],
            "swemwbs": [15.0, 20.0, 19.98, np.nan, 30.0],
            "sdq": [20, 19, 25, 3, np.nan],
        }
    )
    # Labels match case- and space-insensitively; a missing band is missing, not a non-case.
    assert sv.case_indicator(df, "band", bands=["high", "very high"]).tolist()[:3] == [0, 1, 1]
    assert np.isnan(sv.case_indicator(df, "band", bands="high").iloc[3])
    # below= is strict: 19.98 < 20 is a case, 20 is not.
    low = sv.case_indicator(df, "swemwbs", below=20)
    assert low.tolist()[:3] == [1.0, 0.0, 1.0]
    high = sv.case_indicator(df, "sdq", at_least=20)
    assert high.tolist()[:4] == [1.0, 0.0, 1.0, 0.0]
    out = sv.prevalence(df, "sdq", at_least=20)
    assert out[["n", "cases", "missing"]].iloc[0].tolist() == [4, 2, 1]


def test_band_column_from_scoring():
    cats = ["close to average", "slightly raised", "high", "very high"]
    band = pd.Categorical(["high", "close to average", "very high", "high"], categories=cats)
    df = pd.DataFrame({"total_difficulties_band": band})
    out = sv.prevalence(df, "total_difficulties_band", bands=["high", "very high"])
    assert out.loc[0, "cases"] == 3
    with pytest.raises(OutcomesError, match="not bands of"):
        sv.prevalence(df, "total_difficulties_band", bands=["hihg"])


def test_by_group_keeps_empty_categories_with_a_note():
    df = pd.DataFrame(
        {
            "case": [1, 0, 1, 1, 0],
            "fsm": pd.Categorical(
                ["yes", "no", "no", "yes", None], categories=["yes", "no", "unknown"]
            ),
        }
    )
    out = sv.prevalence(df, "case", by="fsm").set_index("fsm")
    assert out.loc["yes", "cases"] == 2 and out.loc["yes", "n"] == 2
    assert out.loc["unknown", "n"] == 0
    assert np.isnan(out.loc["unknown", "prevalence"]) and np.isnan(out.loc["unknown", "ci_low"])
    assert out.loc["unknown", "note"] == "no respondents in this group"
    # the pupil with no FSM record is its own row, not silently dropped
    assert out["n"].sum() == 5


def test_missing_in_a_categorical_and_a_text_by_column_forms_its_own_row():
    # Regression: with by=[categorical, text] and a pupil missing both, pandas' MultiIndex
    # lookup returned -1 for the (NaN, NaN) key and prevalence()/means() crashed in bincount.
    # By hand: groups (yes, girl) 1/1, (no, boy) 0/1, (no, girl) 1/1, (NaN, NaN) 2/2.
    df = pd.DataFrame(
        {
            "case": [1, 0, 1, 1, 1],
            "fsm": pd.Categorical(["yes", "no", "no", None, None], categories=["yes", "no"]),
            "gender": ["girl", "boy", "girl", None, None],
        }
    )
    out = sv.prevalence(df, "case", by=["fsm", "gender"])
    assert out["n"].sum() == 5
    both_missing = out[out["fsm"].isna() & out["gender"].isna()]
    assert both_missing[["n", "cases"]].to_numpy().tolist() == [[2, 2]]
    m = sv.means(df, "case", by=["fsm", "gender"])
    assert m["n"].sum() == 5


def test_icc_and_design_effect_by_hand():
    # Schools A: 1,1,0  B: 0,0,0  C: 1,1,1. By hand: grand mean 5/9; SSB = 3[(1/9)^2 + (5/9)^2
    # + (4/9)^2] = 14/9, MSB = 7/9; SSW = 2/3, MSW = 1/9; n0 = 3;
    # ICC = (7/9 - 1/9)/(7/9 + 2/9) = 2/3; deff = 1 + 2 * 2/3 = 7/3; n_eff = 27/7.
    df = pd.DataFrame({"y": [1, 1, 0, 0, 0, 0, 1, 1, 1], "school": list("AAABBBCCC")})
    assert sv.cluster_icc(df, "y", "school") == pytest.approx(2 / 3, abs=1e-12)
    row = sv.prevalence(df, "y", cluster="school").iloc[0]
    assert row["icc"] == pytest.approx(2 / 3)
    assert row["deff"] == pytest.approx(7 / 3)
    assert row["n_eff"] == pytest.approx(27 / 7)
    # Wilson at the effective sample size: p = 5/9 of 27/7 pupils.
    n_eff, p, z = 27 / 7, 5 / 9, 1.959963984540054
    centre = (p + z**2 / (2 * n_eff)) / (1 + z**2 / n_eff)
    half = z / (1 + z**2 / n_eff) * np.sqrt(p * (1 - p) / n_eff + z**2 / (4 * n_eff**2))
    assert row["ci_low_adj"] == pytest.approx(centre - half, abs=1e-10)
    assert row["ci_high_adj"] == pytest.approx(centre + half, abs=1e-10)


def test_design_effect_recovered_on_simulated_clustered_data():
    # True ICC 0.05, 20 pupils per school: deff = 1 + 19 * 0.05 = 1.95.
    df = _beta_binomial(seed=11, reps=400, schools=30, per=20, rho=0.05, p=0.2)
    out = sv.prevalence(df, "case", by="rep", cluster="school")
    assert out["deff"].mean() == pytest.approx(1.95, abs=0.08)
    assert out["icc"].mean() == pytest.approx(0.05, abs=0.005)
    # The adjusted CI covers the true prevalence about 95% of the time; the naive one does not.
    naive = ((out["ci_low"] <= 0.2) & (out["ci_high"] >= 0.2)).mean()
    adjusted = ((out["ci_low_adj"] <= 0.2) & (out["ci_high_adj"] >= 0.2)).mean()
    assert 0.92 <= adjusted <= 0.975
    assert naive < 0.90
    # One large survey: 300 schools of 40 pupils, true deff 1 + 39 * 0.05 = 2.95.
    big = _beta_binomial(seed=5, reps=1, schools=300, per=40, rho=0.05, p=0.2)
    assert sv.prevalence(big, "case", cluster="school").loc[0, "deff"] == pytest.approx(
        2.95, rel=0.15
    )


def test_means_with_clustering_recover_icc_and_match_mixed_model():
    rng = np.random.default_rng(3)
    k, m = 150, 30  # school SD 1, pupil SD 3: ICC = 1 / (1 + 9) = 0.1, deff = 1 + 29 * 0.1
    y = (10 + rng.normal(0, 1, k)[:, None] + rng.normal(0, 3, (k, m))).ravel()
    df = pd.DataFrame({"y": y, "school": np.repeat(np.arange(k), m)})
    a = sv.means(df, "y", cluster="school").iloc[0]
    assert a["icc"] == pytest.approx(0.1, abs=0.03)
    assert a["deff"] == pytest.approx(3.9, rel=0.25)
    # Balanced design with a positive estimate: REML and the ANOVA estimator coincide.
    b = sv.means(df, "y", cluster="school", icc_method="mixed").iloc[0]
    assert b["icc"] == pytest.approx(a["icc"], abs=1e-4)
    # Adjusted CI: mean +/- t(k-1) * SE * sqrt(deff)
    se = df["y"].std(ddof=1) / np.sqrt(len(df))
    from scipy import stats

    half = stats.t.ppf(0.975, k - 1) * se * np.sqrt(a["deff"])
    assert a["ci_high_adj"] - a["mean"] == pytest.approx(half)


def test_means_by_hand():
    df = pd.DataFrame({"score": [20.0, 22.0, 24.0, 26.0], "g": ["a", "a", "b", "b"]})
    row = sv.means(df, "score").iloc[0]
    sd = np.sqrt(20 / 3)  # deviations -3, -1, 1, 3: sum of squares 20 over 3 df
    assert row["sd"] == pytest.approx(sd)
    assert row["ci_low"] == pytest.approx(23 - 3.182446305284263 * sd / 2)
    by = sv.means(df, "score", by="g")
    assert by["mean"].tolist() == [21.0, 25.0]


def test_supplied_icc_and_single_school_groups():
    df = pd.DataFrame({"y": [1, 0, 1, 0, 0, 1], "school": list("aabbcc")})
    out = sv.prevalence(df, "y", cluster="school", icc=0.1).iloc[0]
    assert out["deff"] == pytest.approx(1 + (2 - 1) * 0.1)
    by = sv.prevalence(df, "y", by="school", cluster="school")
    assert (by["deff"] == 1).all() and by["icc"].isna().all()
    assert by["note"].str.contains("one school only").all()
    assert (by["ci_low_adj"] == by["ci_low"]).all()


def test_icc_undefined_is_explained_not_invented():
    df = pd.DataFrame({"y": [0] * 12, "school": list("aaabbbcccddd")})
    row = sv.prevalence(df, "y", cluster="school").iloc[0]
    assert row["prevalence"] == 0 and row["ci_high"] > 0
    assert np.isnan(row["icc"]) and np.isnan(row["deff"]) and np.isnan(row["ci_high_adj"])
    assert "ICC cannot be estimated" in row["note"]


def test_negative_icc_is_truncated_with_a_note():
    # Every school half cases: between-school variance below chance, raw ICC negative.
    df = pd.DataFrame({"y": [1, 0] * 6, "school": list("aabbccddeeff")})
    assert sv.cluster_icc(df, "y", "school") < 0
    row = sv.prevalence(df, "y", cluster="school").iloc[0]
    assert row["icc"] == 0 and row["deff"] == 1
    assert "negative" in row["note"]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abcd"), st.sampled_from([0, 1, None])), min_size=1, max_size=60
    )
)
def test_prevalence_invariants(rows):
    df = pd.DataFrame(rows, columns=["school", "y"]).astype({"y": "float64"})
    out = sv.prevalence(df, "y", by="school", cluster="school")
    assert out["n"].sum() + out["missing"].sum() == len(df)
    ok = out["n"] > 0
    assert (out.loc[ok, "ci_low"] <= out.loc[ok, "prevalence"] + 1e-12).all()
    assert (out.loc[ok, "prevalence"] <= out.loc[ok, "ci_high"] + 1e-12).all()
    assert out.loc[~ok, "prevalence"].isna().all()
    allrows = sv.prevalence(df, "y", cluster="school")
    if allrows.loc[0, "n"] and np.isfinite(allrows.loc[0, "deff"]):
        assert allrows.loc[0, "deff"] >= 1


# ----------------------------------------------------------------------------- bad input
def test_bad_indicator_input():
    df = pd.DataFrame({"y": [0, 1, 2], "score": ["12", "x", ""], "band": ["a", "b", "c"]})
    with pytest.raises(OutcomesError, match="other than 0/1"):
        sv.prevalence(df, "y")
    with pytest.raises(InvalidResponsesError, match="row 1: 'x'") as err:
        sv.prevalence(df, "score", at_least=10)
    assert err.value.issues["row"].tolist() == [1]
    with pytest.raises(OutcomesError, match="bands="):
        sv.prevalence(df, "band")
    with pytest.raises(OutcomesError, match="only one of"):
        sv.prevalence(df, "y", below=1, at_least=1)
    with pytest.raises(OutcomesError, match="numeric"):
        sv.prevalence(df, "y", bands=["1"])
    with pytest.raises(DataStructureError, match="not found in the data"):
        sv.prevalence(df, "nope")
    with pytest.raises(DataStructureError, match="no rows"):
        sv.prevalence(df.iloc[:0], "y")
    with pytest.raises(OutcomesError, match="parameter 'icc'"):
        sv.prevalence(df, "y", below=1, cluster="band", icc=1.5)
    with pytest.raises(OutcomesError, match="confidence"):
        sv.prevalence(df, "y", below=1, confidence=95)
    with pytest.warns(sv.SurveyWarning, match="never occur"):
        sv.prevalence(df, "band", bands=["z"])


def test_one_wave_is_refused_clearly():
    df = pd.DataFrame({"wave": [1, 1, 1], "case": [1, 0, 1]})
    with pytest.raises(DataStructureError, match="one wave only"):
        sv.compare_prevalence(df, "case")
    with pytest.raises(DataStructureError, match="not found"):
        sv.compare_prevalence(df, "case", waves=(1, 2))


def test_wave_order_is_never_guessed_from_text():
    df = pd.DataFrame({"wave": ["autumn", "summer"] * 4, "case": [1, 0, 0, 0, 1, 1, 0, 1]})
    with pytest.raises(OutcomesError, match="came first"):
        sv.compare_prevalence(df, "case")
    res = sv.compare_prevalence(df, "case", waves=("summer", "autumn"))
    assert res.waves == ("summer", "autumn")
    # dates order the waves; a follow-up dated before the baseline is refused
    df["date"] = np.where(df["wave"] == "autumn", "2024-10-01", "2025-06-01")
    assert sv.compare_prevalence(df, "case").waves == ("autumn", "summer")
    with pytest.raises(OutcomesError, match="follow-up before baseline"):
        sv.compare_prevalence(df, "case", waves=("summer", "autumn"))
    three = pd.DataFrame({"wave": [1, 2, 3], "case": [1, 0, 1]})
    with pytest.raises(OutcomesError, match="waves="):
        sv.compare_prevalence(three, "case")
    named = pd.DataFrame({"wave": ["follow-up", "Baseline"] * 3, "case": [1, 0, 1, 1, 0, 0]})
    assert sv.compare_prevalence(named, "case").waves == ("Baseline", "follow-up")


# ----------------------------------------------------------------------------- different pupils
def test_two_proportion_worked_example():
    # statistics.md: 56/70 vs 48/80: z = 2.6502, p = 0.008045. Newcombe (1998, Stat Med 17:873)
    # method 10 for 56/70 - 48/80: 0.0524 to 0.3339. Pearson chi-square = z^2 = 7.0234.
    res = sv.compare_prevalence(_two_waves(48, 80, 56, 70), "case")
    z, chi = res.to_frame().iloc[0], res.to_frame().iloc[1]
    assert z["estimate"] == pytest.approx(0.2)
    assert z["statistic"] == pytest.approx(2.6502, abs=5e-5)
    assert z["p"] == pytest.approx(0.008045, abs=5e-7)
    assert z["ci_low"] == pytest.approx(0.0524, abs=5e-5)
    assert z["ci_high"] == pytest.approx(0.3339, abs=5e-5)
    assert chi["statistic"] == pytest.approx(7.0234, abs=5e-4) and chi["p"] == z["p"]
    assert z["primary"] and res.design == "different pupils"
    text = res.summary()
    assert "60.0% at wave 1 (n = 80)" in text and "80.0% at wave 2 (n = 70)" in text
    assert "+20.0 percentage points" in text and "p = 0.008" in text


def test_no_cases_anywhere_gives_no_test_not_a_number():
    res = sv.compare_prevalence(_two_waves(0, 30, 0, 40), "case")
    row = res.to_frame().iloc[0]
    assert row["estimate"] == 0 and np.isnan(row["statistic"]) and np.isnan(row["p"])
    assert "no test possible" in row["note"]
    assert "no p-value" in res.summary()


def test_welch_t_matches_r_sleep():
    # R: t.test(extra ~ group, data = sleep): t = -1.8608, df = 17.776, p = 0.07939,
    # CI -3.3654832 0.2054832 (group 1 - group 2). Here follow-up = group 1.
    df = pd.DataFrame({"wave": [2] * 10 + [1] * 10, "extra": SLEEP_1 + SLEEP_2})
    row = sv.compare_means(df, "extra", waves=(1, 2)).to_frame().iloc[0]
    assert row["estimate"] == pytest.approx(-1.58)
    assert row["statistic"] == pytest.approx(-1.8608, abs=5e-5)
    assert row["df"] == pytest.approx(17.776, abs=5e-4)
    assert row["p"] == pytest.approx(0.07939, abs=5e-6)
    assert row["ci_low"] == pytest.approx(-3.3654832, abs=1e-6)
    assert row["ci_high"] == pytest.approx(0.2054832, abs=1e-6)


# ----------------------------------------------------------------------------- same pupils
def test_mcnemar_worked_example():
    # statistics.md, R mcnemar.test on [[794, 150], [86, 570]]: corrected chi2 = 16.818,
    # p = 4.115e-05; exact p = 3.716e-05. 794 cases at both waves, 150 at baseline only,
    # 86 at follow-up only, 570 at neither.
    pattern = [(1, 1)] * 794 + [(1, 0)] * 150 + [(0, 1)] * 86 + [(0, 0)] * 570
    base = pd.DataFrame({"pupil_id": range(1600), "wave": 1, "case": [p[0] for p in pattern]})
    follow = pd.DataFrame({"pupil_id": range(1600), "wave": 2, "case": [p[1] for p in pattern]})
    res = sv.compare_prevalence(pd.concat([base, follow]), "case", person_id="pupil_id")
    tab = res.to_frame()
    exact, corrected = tab.iloc[0], tab.iloc[1]
    assert exact["p"] == pytest.approx(3.716e-05, rel=1e-3)
    assert corrected["statistic"] == pytest.approx(16.818, abs=5e-4)
    assert corrected["p"] == pytest.approx(4.115e-05, rel=1e-3)
    assert exact["estimate"] == pytest.approx((86 - 150) / 1600)
    assert "150 stopped and 86 became cases" in exact["note"]
    assert "1600 pupils seen at both waves" in res.summary()


def test_newcombe_paired_interval_book_example():
    # Fagerland, Lydersen & Laake (2017) ch. 8, Cavo et al. 2012 table [[59, 6], [16, 80]]:
    # Newcombe square-and-add estimate -0.0621, 95% CI -0.1186 to -0.0046 (time 1 - time 2).
    # Our difference is follow-up - baseline, so time 2 is the baseline here.
    d, lo, hi = sv.newcombe_paired_ci(both=59, base_only=16, follow_only=6, neither=80)
    assert (d, lo, hi) == pytest.approx((-0.0621, -0.1186, -0.0046), abs=5e-5)
    # Mirror image: swapping the discordant cells flips the interval.
    assert sv.newcombe_paired_ci(59, 6, 16, 80) == pytest.approx((0.0621, 0.0046, 0.1186), abs=5e-5)


def test_paired_means_match_r_sleep():
    # R: t.test(extra ~ group, paired = TRUE): t = -4.0621, df = 9, p = 0.002833,
    # CI -2.4598858 -0.7001142; wilcox.test(paired = TRUE): V = 0, p = 0.009091
    # (normal approximation with continuity correction, because of ties and a zero).
    df = pd.DataFrame(
        {"pupil_id": list(range(10)) * 2, "wave": [2] * 10 + [1] * 10, "extra": SLEEP_1 + SLEEP_2}
    )
    tab = sv.compare_means(df, "extra", waves=(1, 2), person_id="pupil_id").to_frame()
    t, w = tab.iloc[0], tab.iloc[1]
    assert t["statistic"] == pytest.approx(-4.0621, abs=5e-5) and t["df"] == 9
    assert t["p"] == pytest.approx(0.002833, abs=5e-7)
    assert (t["ci_low"], t["ci_high"]) == pytest.approx((-2.4598858, -0.7001142), abs=1e-6)
    assert t["effect_name"] == "d_z" and t["effect"] == pytest.approx(-1.2846, abs=5e-5)
    assert w["statistic"] == 0 and w["p"] == pytest.approx(0.009091, abs=5e-6)
    assert w["effect"] == -1.0  # every non-zero change is negative: rank-biserial -1
    assert "continuity correction" in w["method"]


def test_duplicate_pupils_in_a_wave_are_refused():
    df = pd.DataFrame(
        {"pupil_id": ["a", "a", "b", "b"], "wave": [1, 1, 2, 2], "case": [1, 0, 1, 0]}
    )
    with pytest.raises(DataStructureError, match="appear twice within a wave"):
        sv.compare_prevalence(df, "case", person_id="pupil_id")


# ----------------------------------------------------------------------------- clustered
def _school_survey(seed=0, schools=24, per=30, effect=0.0, linked=False):
    rng = np.random.default_rng(seed)
    prog = np.arange(schools) % 2 == 0
    school_p = rng.beta(2, 8, schools)
    school_u = rng.normal(0, 1, schools)
    frames = []
    for w in (1, 2):
        p = np.clip(school_p + effect * prog * (w == 2), 0, 1)
        sch = np.repeat(np.arange(schools), per)
        frames.append(
            pd.DataFrame(
                {
                    "pupil_id": np.arange(schools * per)
                    if linked
                    else np.arange(schools * per) + w * 10**6,
                    "school_id": [f"s{j:02d}" for j in sch],
                    "wave": w,
                    "case": (rng.random(schools * per) < p[sch]).astype(int),
                    "score": 20
                    + school_u[sch]
                    + rng.normal(0, 3, schools * per)
                    - 2 * effect * prog[sch] * (w == 2),
                    "trailblazer": prog[sch],
                    "gender": rng.choice(["girl", "boy"], schools * per),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_clustered_comparison_reports_robust_and_naive_side_by_side():
    df = _school_survey(seed=1)
    res = sv.compare_prevalence(df, "case", cluster="school_id")
    tab = res.to_frame()
    assert tab["method"].tolist()[:2] == [
        "OLS, school-clustered SE",
        "GEE logistic, exchangeable, robust SE",
    ]
    lead, gee, naive = tab.iloc[0], tab.iloc[1], tab.iloc[2]
    assert lead["primary"] and lead["n_clusters"] == 24 and lead["df"] == 23
    p0 = df.loc[df.wave == 1, "case"].mean()
    p1 = df.loc[df.wave == 2, "case"].mean()
    assert lead["estimate"] == pytest.approx(p1 - p0)  # OLS on a 0/1 outcome: the risk difference
    assert naive["estimate"] == pytest.approx(p1 - p0) and "ignores clustering" in naive["method"]
    # Clustering widens the interval of each wave's prevalence. (For the change between waves
    # it need not: the same schools at both waves make their effects partly cancel.)
    bw = res.by_wave
    assert ((bw["ci_high_adj"] - bw["ci_low_adj"]) > (bw["ci_high"] - bw["ci_low"])).all()
    assert gee["estimate"] > 0 and gee["ci_low"] < gee["estimate"] < gee["ci_high"]
    assert "working correlation" in gee["note"]
    assert "only 24 schools" in lead["note"]
    assert {"icc", "deff", "ci_low_adj"} <= set(res.by_wave.columns)


def test_cluster_robust_se_by_hand():
    # Mean change with school-clustered SE on a tiny table, by hand: CR1 variance of a mean
    # = G/(G-1) * (N-1)/(N-K) * sum_g (sum_i e_gi)^2 / N^2 with K = 1 parameter.
    df = pd.DataFrame(
        {
            "pupil_id": list(range(6)) * 2,
            "wave": [1] * 6 + [2] * 6,
            "school": list("aabbcc") * 2,
            "score": [1, 2, 3, 4, 5, 6, 2, 2, 5, 4, 5, 9.0],
        }
    )
    change = np.array([1, 0, 2, 0, 0, 3.0])
    e = change - change.mean()
    sums = np.array([e[:2].sum(), e[2:4].sum(), e[4:].sum()])
    var = 3 / 2 * 5 / 5 * (sums**2).sum() / 36
    row = sv.compare_means(df, "score", person_id="pupil_id", cluster="school").to_frame().iloc[2]
    assert row["estimate"] == pytest.approx(1.0)
    assert row["statistic"] == pytest.approx(1.0 / np.sqrt(var))
    assert row["df"] == 2


def test_difference_in_differences():
    df = _school_survey(seed=2, schools=40, per=40, effect=-0.1)
    res = sv.compare_prevalence(df, "case", cluster="school_id", programme="trailblazer")
    tab = res.to_frame()
    did = tab.iloc[0]
    # A saturated OLS model: the interaction is exactly the difference of the four cell means.
    cell = df.groupby(["trailblazer", "wave"])["case"].mean()
    by_hand = (cell[True, 2] - cell[True, 1]) - (cell[False, 2] - cell[False, 1])
    assert did["estimate"] == pytest.approx(by_hand)
    assert tab.iloc[2]["estimate"] == pytest.approx(cell[True, 2] - cell[True, 1])
    assert tab.iloc[3]["estimate"] == pytest.approx(cell[False, 2] - cell[False, 1])
    assert did["ci_low"] < -0.1 < did["ci_high"]  # the true effect is inside the interval
    assert res.design == "difference in differences"
    assert "programme schools" in res.summary() and "difference in differences" in res.summary()
    means_res = sv.compare_means(df, "score", cluster="school_id", programme="trailblazer")
    m = df.groupby(["trailblazer", "wave"])["score"].mean()
    did_means = (m[True, 2] - m[True, 1]) - (m[False, 2] - m[False, 1])
    assert means_res.to_frame().iloc[0]["estimate"] == pytest.approx(did_means)


def test_did_needs_schools_and_a_flag():
    df = _school_survey(seed=3, schools=6, per=5)
    with pytest.raises(OutcomesError, match="cluster="):
        sv.compare_prevalence(df, "case", programme="trailblazer")
    df["arm"] = np.where(df["trailblazer"], "programme", "comparison")
    with pytest.raises(OutcomesError, match="true/false"):
        sv.compare_prevalence(df, "case", cluster="school_id", programme="arm")
    only_prog = df[df["trailblazer"]]
    tab = sv.compare_prevalence(
        only_prog, "case", cluster="school_id", programme="trailblazer"
    ).to_frame()
    assert np.isnan(tab.loc[0, "estimate"]) and "programme and comparison" in tab.loc[0, "note"]


def test_group_with_no_follow_up_is_reported_not_crashed():
    df = _school_survey(seed=4, schools=6, per=10)
    df = df[~((df["gender"] == "girl") & (df["wave"] == 2))]
    res = sv.compare_prevalence(df, "case", by="gender", cluster="school_id")
    tab = res.to_frame().set_index("gender")
    assert np.isnan(tab.loc["girl", "estimate"])
    assert "no respondents at wave 2" in tab.loc["girl", "note"]
    assert "gender girl: no comparison possible" in res.summary()
    assert np.isfinite(tab.loc["boy"].iloc[0]["estimate"])


def test_missing_outcomes_and_other_waves_are_accounted_for():
    df = _two_waves(10, 30, 15, 30)
    df.loc[[0, 40], "case"] = np.nan
    df = pd.concat([df, pd.DataFrame({"wave": [3], "case": [1.0]})], ignore_index=True)
    res = sv.compare_prevalence(df, "case", waves=(1, 2))
    assert res.to_frame().loc[0, ["n_baseline", "n_followup"]].tolist() == [29, 29]
    assert "1 row(s) from other or missing waves left out" in res.notes
    assert "2 respondent(s) with no case left out" in res.notes


def test_plot_returns_axes():
    import matplotlib.pyplot as plt

    res = sv.compare_prevalence(
        _school_survey(seed=5), "case", cluster="school_id", programme="trailblazer"
    )
    ax = res.plot()
    assert len(ax.get_lines()) >= 2 and ax.get_legend() is not None
    plt.close("all")


# ----------------------------------------------------------------------------- synthetic programme
@pytest.fixture(scope="module")
def programme():
    from outcomes.synthetic import simulate_programme

    return simulate_programme(
        seed=11,
        n_schools=12,
        secondary_share=0.5,
        n_comparison_schools=4,
        truth_mc_size=0,
        service_months=1,
    )


def test_synthetic_programme_icc_and_difference_in_differences_recover_the_truth(programme):
    import outcomes as oc

    pupils = programme.school_survey.merge(
        programme.schools[["school_id", "in_programme"]], on="school_id"
    )
    scores = oc.score(pupils, "sdq_self")
    truth = programme.truth
    # ICC of the SDQ total at baseline vs the simulator's ANOVA ICC on every pupil on roll.
    base = scores[scores["wave"] == "baseline"]
    est = sv.means(base, "total_difficulties", cluster="school_id").iloc[0]
    icc_true = truth.icc.set_index(["instrument", "scale"]).loc[
        ("sdq_self", "total_difficulties"), "icc_realised"
    ]
    assert est["icc"] == pytest.approx(icc_true, abs=0.02)
    # Difference in differences of the prevalence of high / very high SDQ totals and of the mean:
    # the 95% CI covers the realised change among all pupils on roll.
    t = truth.survey[
        (truth.survey["instrument"] == "sdq_self") & (truth.survey["scale"] == "total_difficulties")
    ]
    t = t.set_index(["group", "wave"])

    def did(col):
        return (t.loc[("programme", "12m"), col] - t.loc[("programme", "baseline"), col]) - (
            t.loc[("comparison", "12m"), col] - t.loc[("comparison", "baseline"), col]
        )

    prev = (
        sv.compare_prevalence(
            scores,
            "total_difficulties_band",
            bands=["high", "very high"],
            cluster="school_id",
            programme="in_programme",
        )
        .to_frame()
        .iloc[0]
    )
    assert prev["ci_low"] < did("prop_high") < prev["ci_high"]
    mean = (
        sv.compare_means(
            scores, "total_difficulties", cluster="school_id", programme="in_programme"
        )
        .to_frame()
        .iloc[0]
    )
    assert mean["ci_low"] < did("mean") < mean["ci_high"]
