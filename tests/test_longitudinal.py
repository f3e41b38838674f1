"""Mixed model for repeated scores: worked examples, recovery of a known change, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import outcomes as oc
from outcomes.errors import DataStructureError, InvalidParameterError, OutcomesError
from outcomes.longitudinal.mixed import (
    FIXED_COLUMNS,
    LongitudinalWarning,
    MixedResult,
    ModelSpecificationError,
    fit_mixed,
    wave_order,
    wave_positions,
)

# R datasets::sleep (Student 1908): extra hours of sleep, 10 people, two drugs.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return pd.DataFrame(
        {"extra": SLEEP_1 + SLEEP_2, "group": [1] * 10 + [2] * 10, "ID": list(range(1, 11)) * 2}
    )


@pytest.fixture(scope="module")
def sleep_fit(sleep) -> MixedResult:
    return fit_mixed(sleep, "extra", "group", person_id="ID")


def simulate_mar(seed: int, n: int = 200, *, n_schools: int = 0) -> pd.DataFrame:
    """Random-intercept data, baseline/6/12 months, true means 20, 17, 16 (change -4 at 12).

    Follow-up goes missing with a probability that rises with the *observed* baseline score
    (missing at random given baseline): the most severe children are the most often lost.
    """
    rng = np.random.default_rng(seed)
    b = rng.normal(0, 4, n)
    school = rng.integers(0, max(n_schools, 1), n)
    if n_schools:
        b = b + rng.normal(0, 2, n_schools)[school]
    means = {0: 20.0, 6: 17.0, 12: 16.0}
    y = {w: mu + b + rng.normal(0, 4, n) for w, mu in means.items()}
    z = (y[0] - 20) / np.sqrt(32)
    miss6 = rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 1.5 * z)))
    miss12 = miss6 | (rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 1.5 * z))))
    y[6] = np.where(miss6, np.nan, y[6])
    y[12] = np.where(miss12, np.nan, y[12])
    sex = rng.choice(["f", "m"], n)
    frames = [
        pd.DataFrame(
            {"child": np.arange(n), "school": school, "wave": w, "score": y[w], "sex": sex}
        )
        for w in means
    ]
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------- worked example
def test_sleep_fixed_effects_match_spec(sleep_fit):
    # specs/statistics.md: groups=ID gives beta = 1.580, SE = 0.389 (lme4 agrees).
    fe = sleep_fit.to_frame().set_index("term")
    assert list(sleep_fit.to_frame().columns[:6]) == FIXED_COLUMNS[:6]
    assert fe.loc["group[2]", "estimate"] == pytest.approx(1.580, abs=5e-4)
    assert fe.loc["group[2]", "se"] == pytest.approx(0.389, abs=5e-4)
    # Intercept = mean of drug 1 = 0.75; lme4 reports SE 0.6004.
    assert fe.loc["Intercept", "estimate"] == pytest.approx(0.75, abs=1e-6)
    assert fe.loc["Intercept", "se"] == pytest.approx(0.6004, abs=5e-4)
    # Satterthwaite t by default. R: library(lmerTest); f <- lmer(extra ~ group + (1 | ID),
    # sleep); summary(f): df 11.081389644 and 9.000000045; contest(f, diag(2), joint = FALSE,
    # confint = TRUE): group2 CI 0.7001142411 to 2.459885759 (the paired t interval)
    assert fe.loc["Intercept", "df"] == pytest.approx(11.081389644, rel=1e-5)
    assert fe.loc["group[2]", "df"] == pytest.approx(9.0, rel=1e-5)
    assert fe.loc["group[2]", "ci_low"] == pytest.approx(0.7001142411, abs=1e-5)
    assert fe.loc["group[2]", "ci_high"] == pytest.approx(2.459885759, abs=1e-5)
    # R: summary(f)$coefficients["group2", "Pr(>|t|)"] -> 0.002832890095
    assert fe.loc["group[2]", "p"] == pytest.approx(0.002832890095, rel=1e-4)


def test_sleep_variance_components_by_hand(sleep_fit):
    # Balanced, two scores per person: REML equals the ANOVA estimator.
    # sigma^2 = var(d)/2 with d = drug 2 - drug 1; tau^2 = var(person means) - sigma^2 / 2.
    # By hand: var(d) = 1.512889 -> sigma^2 = 0.756444; tau^2 = 2.848222 (lme4: 2.8483, 0.7564).
    g1, g2 = np.array(SLEEP_1), np.array(SLEEP_2)
    sigma2 = np.var(g2 - g1, ddof=1) / 2
    tau2 = np.var((g1 + g2) / 2, ddof=1) - sigma2 / 2
    assert sigma2 == pytest.approx(0.756444, abs=1e-6)
    v = sleep_fit.variance_components().set_index("component")["variance"]
    assert v["residual"] == pytest.approx(sigma2, rel=1e-3)
    assert v["child"] == pytest.approx(tau2, rel=1e-3)
    assert v["child"] == pytest.approx(2.8483, abs=1e-3)
    icc = sleep_fit.icc().set_index("level")["icc"]
    assert icc["child"] == pytest.approx(tau2 / (tau2 + sigma2), rel=1e-3)  # 0.790
    assert sleep_fit.warnings == []


def test_sleep_means_and_change(sleep_fit):
    # Complete balanced data: model means are the raw means, the change the mean difference,
    # and its SE that of the paired t: sd(d)/sqrt(10) = 0.388963.
    means = sleep_fit.wave_means()
    assert means["mean"].tolist() == pytest.approx([0.75, 2.33], abs=1e-6)
    assert means["observed_mean"].tolist() == pytest.approx([0.75, 2.33], abs=1e-9)
    assert means["n_observed"].tolist() == [10, 10]
    ch = sleep_fit.change()
    assert ch.loc[0, "estimate"] == pytest.approx(1.58, abs=1e-6)
    assert ch.loc[0, "se"] == pytest.approx(
        np.std(np.subtract(SLEEP_2, SLEEP_1), ddof=1) / np.sqrt(10), rel=1e-3
    )
    assert ch.loc[0, "baseline"] == 1 and ch.loc[0, "wave"] == 2


def test_sleep_summary_and_plot(sleep_fit):
    text = sleep_fit.summary()
    assert "+1.58" in text and "10 children" in text and "without warnings" in text
    ax = sleep_fit.plot()
    assert ax.get_xlabel() == "group"
    assert len(ax.get_xticks()) == 2


# ----------------------------------------------------------------------------- must-show
def _closed_referrals(data) -> set:
    ref = data.referrals
    closed = ref["discharge_date"].notna() & (ref["n_contacts"] >= 2)
    return set(ref.loc[closed, "referral_id"])


@pytest.fixture(scope="module")
def programme_honosca():
    """HoNOSCA totals of the synthetic programme's closed referrals (the truth cohort).

    Follow-up (discharge) is missing at random given the observed baseline HoNOSCA total:
    the simulator's default mechanism, made stronger here so the completer bias is plain.
    """
    from outcomes.synthetic import simulate_programme

    data = simulate_programme(seed=0, n_schools=30, dropout_strength=1.5, truth_mc_size=0)
    assert data.truth.dropout["mechanism"] == "mar"
    scores = oc.score(data.responses["honosca"], "honosca")
    scores = scores[scores["referral_id"].isin(_closed_referrals(data))]
    return scores, data.truth.change("honosca", "total")


def test_programme_completers_biased_mixed_model_recovers_truth(programme_honosca):
    scores, truth = programme_honosca
    wide = scores.pivot(index="referral_id", columns="wave", values="total")
    d = (wide["discharge"] - wide["assessment"]).dropna()
    completers = stats.ttest_1samp(d, 0.0)
    comp_ci = completers.confidence_interval()
    res = fit_mixed(
        scores,
        "total",
        "wave",
        person_id="referral_id",
        waves=["assessment", "review", "discharge"],
    )
    mixed = res.change().set_index("wave").loc["discharge"]
    # Seed 0 (simulator as of ad62823): truth -3.16; completers -2.27 (95% CI -2.78 to -1.75,
    # biased towards no change); mixed model -2.86 (SE 0.25).
    # Stated tolerances: the completers' 95% CI misses the truth and the estimate is more than
    # 0.5 points off; the mixed model is within 0.6 points (about 2.5 SE), nearer the truth
    # than completers, and its 95% CI covers the truth.
    assert not comp_ci.low <= truth <= comp_ci.high
    assert abs(d.mean() - truth) > 0.5
    assert abs(mixed["estimate"] - truth) < 0.6
    assert abs(mixed["estimate"] - truth) < abs(d.mean() - truth)
    assert mixed["ci_low"] < truth < mixed["ci_high"]


def test_own_mar_simulation_completers_biased_mixed_unbiased():
    data = simulate_mar(seed=11, n=300)
    wide = data.pivot(index="child", columns="wave", values="score")
    completers = (wide[12] - wide[0]).mean()
    res = fit_mixed(data, "score", "wave", person_id="child")
    est = res.change().set_index("wave").loc[12]
    # Truth -4. Stated tolerances: completers off by more than 1 point; mixed within 1 point
    # (about 2 SE) with the truth inside its 95% CI.
    assert completers - (-4.0) > 1.0
    assert abs(est["estimate"] - (-4.0)) < 1.0
    assert est["ci_low"] < -4.0 < est["ci_high"]
    # Observed 12-month mean is flattered by dropout; the model mean is not.
    m = res.wave_means().set_index("wave")
    assert m.loc[12, "observed_mean"] < m.loc[12, "mean"]


# ----------------------------------------------------------------------------- options
def test_school_intercept_matches_statsmodels_formula_and_recovers_iccs():
    import statsmodels.formula.api as smf

    data = simulate_mar(seed=5, n=240, n_schools=12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_mixed(data, "score", "wave", person_id="child", cluster="school")
        obs = data.dropna(subset=["score"])
        ref = smf.mixedlm(
            "score ~ C(wave)",
            obs,
            groups="school",
            re_formula="1",
            vc_formula={"child": "0 + C(child)"},
        ).fit(reml=True)
    fe = res.to_frame().set_index("term")
    assert fe.loc["wave[12]", "estimate"] == pytest.approx(ref.params["C(wave)[T.12]"], abs=1e-3)
    # Standard errors are lme4's (X'V^-1X)^-1, not statsmodels' joint-Hessian ones (0.5238).
    # R: lmer(score ~ factor(wave) + (1 | school) + (1 | child), data = <these rows>):
    # Std. Error of wave12 0.5003010522
    assert fe.loc["wave[12]", "se"] == pytest.approx(0.5003010522, rel=1e-4)
    v = res.variance_components().set_index("component")["variance"]
    assert v["school"] == pytest.approx(float(ref.cov_re.iloc[0, 0]), rel=1e-2)
    assert v["child"] == pytest.approx(float(ref.vcomp[0]), rel=1e-2)
    icc = res.icc().set_index("level")["icc"]
    total = v.sum()
    assert icc["school"] == pytest.approx(v["school"] / total, rel=1e-12)
    assert icc["child"] == pytest.approx((v["school"] + v["child"]) / total, rel=1e-12)
    # Generating values: school 4, child 16, residual 16 -> ICC school 0.11, child 0.56;
    # with 12 schools and 240 children the estimates are rough (this seed: 0.10 and 0.45).
    assert icc["school"] == pytest.approx(4 / 36, abs=0.1)
    assert icc["child"] == pytest.approx(20 / 36, abs=0.15)
    assert res.n_schools == 12
    assert "school" in res.summary()


def test_group_interaction_and_change_difference():
    data = simulate_mar(seed=3, n=100)
    data["arm"] = np.where(data["child"] % 2 == 0, "comparison", "programme")
    # The programme arm improves by 2 more points at 12 months.
    data.loc[(data["arm"] == "programme") & (data["wave"] == 12), "score"] -= 2
    res = fit_mixed(data, "score", "wave", person_id="child", group="arm", covariates=["sex"])
    fe = res.to_frame().set_index("term")
    assert {"wave[12]:arm[programme]", "arm[programme]", "sex[m]"} <= set(fe.index)
    diff = res.change_difference().set_index(["group", "wave"])
    # The difference in change is exactly the interaction term.
    assert diff.loc[("programme", 12), "estimate"] == pytest.approx(
        fe.loc["wave[12]:arm[programme]", "estimate"], abs=1e-9
    )
    assert diff.loc[("programme", 12), "se"] == pytest.approx(
        fe.loc["wave[12]:arm[programme]", "se"], rel=1e-9
    )
    ch = res.change()
    assert set(ch["group"]) == {"comparison", "programme"}
    means = res.wave_means()
    assert len(means) == 6 and set(means.columns) >= {"group", "wave", "mean", "ci_low"}
    ax = res.plot()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["comparison", "programme"]
    assert "In group programme" in res.summary()
    with pytest.raises(ModelSpecificationError, match="no group"):
        fit_mixed(data, "score", "wave", person_id="child").change_difference()


def test_numeric_covariate_means_held_at_child_average():
    data = simulate_mar(seed=4, n=120)
    rng = np.random.default_rng(0)
    age = pd.Series(rng.integers(5, 17, 120))
    data["age"] = data["child"].map(age)
    res = fit_mixed(data, "score", "wave", person_id="child", covariates=["age"])
    fe = res.to_frame().set_index("term")
    means = res.wave_means().set_index("wave")
    # Baseline mean = intercept + slope * (average age over children).
    expected = fe.loc["Intercept", "estimate"] + fe.loc["age", "estimate"] * age.mean()
    assert means.loc[0, "mean"] == pytest.approx(expected, abs=1e-9)


def test_boundary_variance_is_surfaced_and_equals_ols():
    # Scores negatively related within child: the child variance goes to zero (boundary).
    a = np.array([1, 3, 5, 7, 9, 2, 4, 6, 8, 10.0])
    noise = np.array([0.3, -0.2, 0.1, 0, 0.2, -0.1, 0.4, -0.3, 0.1, 0])
    df = pd.DataFrame(
        {
            "child": np.r_[np.arange(10), np.arange(10)],
            "wave": [0] * 10 + [1] * 10,
            "y": np.r_[a, 10 - a + noise],
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit_mixed(df, "y", "wave", person_id="child")
    raised = [str(w.message) for w in caught if issubclass(w.category, LongitudinalWarning)]
    assert raised == [f"fit_mixed (y): {m}" for m in res.warnings]
    assert any("estimated at (or near) zero" in m for m in raised)
    assert any("boundary" in w for w in res.warnings)
    assert "Warnings from the fit" in res.summary() and "boundary" in res.summary()
    # With no child variance the model is OLS: SE of the change = sqrt(2 s^2 / 10),
    # s^2 the pooled within-wave variance (df 18).
    s2 = (np.var(a, ddof=1) + np.var(10 - a + noise, ddof=1)) / 2
    ch = res.change().iloc[0]
    assert ch["estimate"] == pytest.approx(np.mean(10 - a + noise) - np.mean(a), abs=1e-6)
    assert ch["se"] == pytest.approx(np.sqrt(2 * s2 / 10), rel=1e-3)


def test_text_waves_ordered_and_explicit_waves():
    data = simulate_mar(seed=2, n=60)
    labels = {0: "baseline", 6: "6 months", 12: "12 months"}
    text = data.assign(wave=data["wave"].map(labels))
    res = fit_mixed(text, "score", "wave", person_id="child")
    assert res.waves == ["baseline", "6 months", "12 months"]
    num = fit_mixed(data, "score", "wave", person_id="child")
    assert res.change()["estimate"].tolist() == pytest.approx(
        num.change()["estimate"].tolist(), abs=1e-6
    )
    odd = data.assign(wave=data["wave"].map({0: "intake", 6: "review", 12: "discharge"}))
    with pytest.raises(DataStructureError, match="waves="):
        fit_mixed(odd, "score", "wave", person_id="child")
    res = fit_mixed(
        odd, "score", "wave", person_id="child", waves=["intake", "review", "discharge"]
    )
    assert res.change()["wave"].tolist() == ["review", "discharge"]
    # A later baseline: change is measured from it.
    res = fit_mixed(data, "score", "wave", person_id="child", baseline=6)
    assert res.change()["wave"].tolist() == [0, 12]


def test_wave_order_rules():
    assert wave_order(pd.Series([12, 0, 6, 0])) == [0, 6, 12]
    cat = pd.Series(pd.Categorical(["b", "a"], categories=["b", "a"], ordered=True))
    assert wave_order(cat) == ["b", "a"]
    assert wave_order(pd.Series(["T2", "T1", "t0"])) == ["t0", "T1", "T2"]
    with pytest.raises(DataStructureError, match="not in waves"):
        wave_order(pd.Series(["a", "b"]), ["a"])
    with pytest.raises(DataStructureError, match="twice"):
        wave_order(pd.Series(["a", "b"]), ["a", "a", "b"])


def test_rows_without_score_are_dropped_and_counted():
    data = simulate_mar(seed=6, n=50)
    data.loc[data.index[:3], "sex"] = np.nan
    res = fit_mixed(data, "score", "wave", person_id="child", covariates=["sex"])
    assert res.excluded["score missing"] == int(data["score"].isna().sum())
    assert res.excluded["covariate missing"] == int(
        (data["score"].notna() & data["sex"].isna()).sum()
    )
    assert res.n_records == int((data["score"].notna() & data["sex"].notna()).sum())


# ----------------------------------------------------------------------------- bad input
@pytest.fixture
def small() -> pd.DataFrame:
    return simulate_mar(seed=1, n=30)


def test_single_wave_is_an_error(small):
    with pytest.raises(DataStructureError, match="only one wave"):
        fit_mixed(small[small["wave"] == 0], "score", "wave", person_id="child")
    # Two waves in the column but scores at only one of them.
    only = small.assign(score=np.where(small["wave"] == 0, small["score"], np.nan))
    with pytest.raises(DataStructureError, match="only one wave"):
        fit_mixed(only, "score", "wave", person_id="child")


def test_two_records_at_one_wave_names_child_and_wave(small):
    dup = pd.concat([small, small[(small["child"] == 7) & (small["wave"] == 6)]])
    with pytest.raises(DataStructureError, match=r"child 7 at wave 6"):
        fit_mixed(dup, "score", "wave", person_id="child")


def test_constant_covariate_is_named(small):
    with pytest.raises(ModelSpecificationError, match="'region' is constant"):
        fit_mixed(
            small.assign(region="north"), "score", "wave", person_id="child", covariates=["region"]
        )
    with pytest.raises(ModelSpecificationError, match="'year' is constant"):
        fit_mixed(small.assign(year=9), "score", "wave", person_id="child", covariates=["year"])


def test_collinear_covariates_are_named(small):
    data = small.assign(female=(small["sex"] == "f").astype(float))
    with pytest.raises(ModelSpecificationError, match="'female' is a combination"):
        fit_mixed(data, "score", "wave", person_id="child", covariates=["sex", "female"])


def test_missing_columns_and_empty_frames(small):
    with pytest.raises(DataStructureError, match=r"\['ses'\] not found"):
        fit_mixed(small, "score", "wave", person_id="child", covariates=["ses"])
    with pytest.raises(DataStructureError, match="not found"):
        fit_mixed(small, "sdq", "wave", person_id="child")
    with pytest.raises(DataStructureError, match="no rows"):
        fit_mixed(small.iloc[:0], "score", "wave", person_id="child")
    with pytest.raises(InvalidParameterError, match="parameter 'data'.*DataFrame"):
        fit_mixed(small.to_dict(), "score", "wave", person_id="child")
    with pytest.raises(DataStructureError, match="more than one role"):
        fit_mixed(small, "score", "wave", person_id="child", covariates=["score"])


def test_text_in_scores_names_the_row(small):
    bad = small.astype({"score": object})
    bad.loc[5, "score"] = "twelve"
    with pytest.raises(OutcomesError, match=r"row 5: 'twelve'"):
        fit_mixed(bad, "score", "wave", person_id="child")
    inf = small.copy()
    inf.loc[4, "score"] = np.inf
    with pytest.raises(OutcomesError, match="row 4"):
        fit_mixed(inf, "score", "wave", person_id="child")


def test_missing_ids_and_waves_name_rows(small):
    bad = small.astype({"child": object})
    bad.loc[3, "child"] = None
    with pytest.raises(DataStructureError, match=r"'child' is missing at row\(s\) 3"):
        fit_mixed(bad, "score", "wave", person_id="child")
    bad = small.astype({"wave": float})
    bad.loc[8, "wave"] = np.nan
    with pytest.raises(DataStructureError, match=r"'wave' is missing at row\(s\) 8"):
        fit_mixed(bad, "score", "wave", person_id="child")


def test_child_in_two_schools_and_one_level_group(small):
    moved = small.copy()
    moved.loc[(moved["child"] == 2) & (moved["wave"] == 12), "school"] = 99
    with pytest.raises(DataStructureError, match=r"\[2\] have more than one school"):
        fit_mixed(moved, "score", "wave", person_id="child", cluster="school")
    with pytest.raises(ModelSpecificationError, match="one level"):
        fit_mixed(small.assign(arm="a"), "score", "wave", person_id="child", group="arm")


def test_wave_with_no_scores_and_unknown_baseline(small):
    data = small.assign(score=np.where(small["wave"] == 6, np.nan, small["score"]))
    with pytest.raises(DataStructureError, match=r"no scores at wave\(s\) \[6\]"):
        fit_mixed(data, "score", "wave", person_id="child")
    with pytest.raises(DataStructureError, match="baseline wave 3"):
        fit_mixed(small, "score", "wave", person_id="child", baseline=3)
    with pytest.raises(OutcomesError, match="confidence"):
        fit_mixed(small, "score", "wave", person_id="child", confidence=95)
    one = small[small["child"] == small.dropna()["child"].value_counts().idxmax()]
    assert one["score"].notna().all()
    with pytest.raises(DataStructureError, match="fewer than two children"):
        fit_mixed(one, "score", "wave", person_id="child")


def test_docs_worked_example_runs_as_printed():
    import doctest
    from pathlib import Path

    doc = Path(__file__).resolve().parents[1] / "docs" / "longitudinal.md"
    result = doctest.testfile(
        str(doc), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted >= 5 and result.failed == 0


def test_command_line(tmp_path):
    import typer
    from typer.testing import CliRunner

    from outcomes.cli.longitudinal import longitudinal_cli

    app = typer.Typer()
    app.command()(longitudinal_cli)
    path = tmp_path / "scores.csv"
    simulate_mar(seed=8, n=40).to_csv(path, index=False)
    out = tmp_path / "out"
    args = [str(path), "--outcome", "score", "--child", "child", "--waves", "0,6,12"]
    run = CliRunner().invoke(app, [*args, "--no-impute", "--demographic", "sex", "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert "Linear mixed model of score" in run.output and "Dropout" in run.output
    change = pd.read_csv(out / "mixed_change.csv")
    assert change["wave"].tolist() == [6, 12]
    assert {"attrition_tests.csv", "mixed_fixed_effects.csv"} <= {p.name for p in out.iterdir()}
    bad = CliRunner().invoke(app, [str(path), "--outcome", "nope", "--child", "child"])
    assert bad.exit_code == 1 and "not found" in bad.output
    # a column name with brackets is named as it is (the error was printed as rich markup:
    # "[/x]" crashed it with a traceback)
    bad = CliRunner().invoke(app, [str(path), "--outcome", "y[/x]", "--child", "child"])
    assert bad.exit_code == 1 and isinstance(bad.exception, SystemExit), bad.output
    assert "y[/x]" in bad.output


# wave_positions replaced a per-cell Series.map(dict); the same positions, for each kind of
# wave column the verbs accept (numbers, text, ordered categories, dates)
@settings(max_examples=60)
@given(
    kind=st.sampled_from(["int", "float", "text", "category", "date"]),
    picks=st.lists(st.integers(0, 3), min_size=1, max_size=40),
)
def test_wave_positions_equal_a_map_over_the_order(kind, picks):
    labels = {
        "int": [0, 6, 12, 24],
        "float": [0.0, 6.0, 12.5, 24.0],
        "text": ["baseline", "6 months", "12 months", "24 months"],
        "category": ["baseline", "6 months", "12 months", "24 months"],
        "date": list(pd.to_datetime(["2024-01-01", "2024-07-01", "2025-01-01", "2026-01-01"])),
    }[kind]
    values = pd.Series([labels[i] for i in picks])
    if kind == "category":
        values = values.astype(pd.CategoricalDtype(labels[::-1], ordered=True))
    order = wave_order(values)
    expected = values.map({w: i for i, w in enumerate(order)}).to_numpy(dtype=np.int64)
    np.testing.assert_array_equal(wave_positions(values, order), expected)
