"""Trends across waves and survey weights: checked against direct statsmodels GEE fits, hand
derivations and a simulated population whose prevalence is known."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes import survey as sv
from outcomes.errors import DataStructureError, OutcomesError
from outcomes.weighting import poststratify, rake, weighted_mean

WAVES = ["baseline", "12m", "24m", "36m"]


def _schools(seed: int = 1, n_schools: int = 12, per: int = 25, slope: float = -0.03):
    """Four waves of new pupils in the same schools; half the schools in the programme.
    Prevalence 0.30 + slope * years (+ an extra -0.02 per year in programme schools) + a
    school effect."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_schools):
        u = rng.normal(0, 0.06)
        prog = s % 2 == 0
        for k, w in enumerate(WAVES):
            p = np.clip(0.30 + u + (slope - 0.02 * prog) * k, 0.01, 0.99)
            for _ in range(per):
                rows.append(
                    {"school_id": f"S{s:02d}", "wave": w, "prog": prog, "case": rng.random() < p}
                )
    df = pd.DataFrame(rows)
    df["case"] = df["case"].astype(int)
    return df


def _direct(df: pd.DataFrame, formula: str, weights=None):
    cov = sm.cov_struct.Independence() if weights is not None else sm.cov_struct.Exchangeable()
    kw = {} if weights is None else {"weights": weights}
    return smf.gee(
        formula, groups="school_id", data=df, family=sm.families.Gaussian(), cov_struct=cov, **kw
    ).fit()


def test_trend_equals_direct_gee_fit():
    df = _schools()
    comp = df[~df["prog"]].copy()
    comp["t"] = comp["wave"].map({w: k for k, w in enumerate(WAVES)}).astype(float)
    comp["wc"] = comp["wave"].map({w: k for k, w in enumerate(WAVES)})
    res = sv.trend(comp, "case", "wave")
    tab = res.to_frame()
    tr = tab[tab["term"] == "trend"].iloc[0]
    fit = _direct(comp, "case ~ t")  # months / 12: 12m -> 1, 24m -> 2, 36m -> 3
    assert tr["estimate"] == pytest.approx(fit.params["t"], rel=1e-10)
    assert tr["se"] == pytest.approx(fit.bse["t"], rel=1e-10)
    lo, hi = fit.conf_int().loc["t"]
    assert (tr["ci_low"], tr["ci_high"]) == pytest.approx((lo, hi), rel=1e-10)
    assert tr["p"] == pytest.approx(fit.pvalues["t"], rel=1e-8)
    fit_c = _direct(comp, "case ~ C(wc)")
    ch = tab[tab["term"] == "change from baseline"].set_index("wave")
    for k, w in enumerate(WAVES[1:], start=1):
        assert ch.loc[w, "estimate"] == pytest.approx(fit_c.params[f"C(wc)[T.{k}]"], rel=1e-10)
        assert ch.loc[w, "se"] == pytest.approx(fit_c.bse[f"C(wc)[T.{k}]"], rel=1e-10)
    # levels are plain proportions per wave
    lv = tab[tab["term"] == "level"].set_index("wave")["estimate"]
    assert lv.to_dict() == pytest.approx(comp.groupby("wave")["case"].mean().to_dict())


def test_difference_in_differences_equals_direct_gee_and_arms_kept_apart():
    df = _schools(seed=2)
    df["t"] = df["wave"].map({w: k for k, w in enumerate(WAVES)}).astype(float)
    df["wc"] = df["wave"].map({w: k for k, w in enumerate(WAVES)})
    df["p"] = df["prog"].astype(float)
    res = sv.trend(df, "case", "wave", programme="prog")
    tab = res.to_frame()
    assert set(tab["arm"]) == {"programme", "comparison", "programme - comparison"}
    fit = _direct(df, "case ~ C(wc) * p")
    dd = tab[tab["term"] == "difference in differences"].set_index("wave")
    for k, w in enumerate(WAVES[1:], start=1):
        assert dd.loc[w, "estimate"] == pytest.approx(fit.params[f"C(wc)[T.{k}]:p"], rel=1e-8)
    fit_t = _direct(df, "case ~ t * p")
    dt = tab[tab["term"] == "difference in trends"].iloc[0]
    assert dt["estimate"] == pytest.approx(fit_t.params["t:p"], rel=1e-8)
    assert dt["se"] == pytest.approx(fit_t.bse["t:p"], rel=1e-8)
    # the programme arm's levels use only programme rows
    lv = tab[(tab["term"] == "level") & (tab["arm"] == "programme")]
    assert lv["n"].sum() == int(df["prog"].sum())
    assert "difference in trends" in res.summary()


def test_weighted_trend_equals_weighted_independence_gee():
    df = _schools(seed=3)
    rng = np.random.default_rng(0)
    df["w"] = rng.uniform(0.5, 2.0, len(df))
    df["t"] = df["wave"].map({w: k for k, w in enumerate(WAVES)}).astype(float)
    res = sv.trend(df, "case", "wave", weights="w")
    tr = res.to_frame().query("term == 'trend'").iloc[0]
    fit = _direct(df, "case ~ t", weights=df["w"].to_numpy())
    assert tr["estimate"] == pytest.approx(fit.params["t"], rel=1e-10)
    assert "weighted" in res.summary()


def test_matched_pupils_use_the_mixed_model():
    df = _schools(seed=4, n_schools=6, per=10)
    df["pupil"] = df.groupby(["school_id", "wave"]).cumcount().astype(str) + df["school_id"]
    df["score"] = np.random.default_rng(1).normal(20, 3, len(df))
    res = sv.trend(df, "score", "wave", kind="mean", person_id="pupil")
    m = res.to_frame().query("term == 'change from baseline (matched pupils)'")
    assert list(m["wave"]) == WAVES[1:]
    from outcomes.longitudinal import fit_mixed

    direct = fit_mixed(df, "score", "wave", person_id="pupil", cluster="school_id", waves=WAVES)
    assert m["estimate"].to_numpy() == pytest.approx(direct.change()["estimate"].to_numpy())


def test_rows_left_out_are_counted_and_unknown_waves_suggested():
    df = _schools(seed=5, n_schools=4, per=5)
    df.loc[df.index[:3], "case"] = np.nan
    res = sv.trend(df, "case", "wave", waves=["baseline", "12m", "24m"])
    q = res.quality.to_frame()
    assert 3 in q["rows"].tolist()  # no answer
    assert 4 * 5 in q["rows"].tolist()  # the 36m wave, not analysed
    with pytest.raises(DataStructureError, match="did you mean '12m'"):
        sv.trend(df, "case", "wave", waves=["baseline", "12 m"])
    with pytest.raises(OutcomesError):
        sv.trend(df, "case", "wave", kind="mean", at_least=1)
    ax = res.plot()
    assert len(ax.lines) >= 1


# ----------------------------------------------------------------------------- weights
def test_weighted_mean_hand_example():
    # y = 1, 0, 1, 1; w = 1, 1, 2, 2; schools a, a, b, b. mean = 5/6;
    # z_i = w_i (y_i - 5/6) / 6 = 1/36, -5/36, 2/36, 2/36; by school -4/36, +4/36;
    # var = G/(G-1) * sum z_c^2 = 2 * 32/1296; se = 8/36 (R: svymean(~y, svydesign(ids=~s,
    # weights=~w)) uses the same with-replacement estimator)
    r = weighted_mean([1, 0, 1, 1], [1, 1, 2, 2], ["a", "a", "b", "b"])
    assert r["estimate"] == pytest.approx(5 / 6)
    assert r["se"] == pytest.approx(8 / 36)
    # t(1) quantile 12.706 with G - 1 = 1 df
    assert r["ci_high"] == pytest.approx(5 / 6 + 12.7062047 * 8 / 36, rel=1e-6)
    # no clusters: each respondent its own unit, n/(n-1) sum z_i^2 = 4/3 * 34/1296
    r = weighted_mean([1, 0, 1, 1], [1, 1, 2, 2])
    assert r["se"] == pytest.approx(np.sqrt(4 / 3 * 34 / 1296))


def test_poststratify_hand_example():
    df = pd.DataFrame({"year": [7, 7, 7, 8], "gender": ["g", "b", "b", "g"]})
    roll = pd.DataFrame({"year": [7, 7, 8], "gender": ["g", "b", "g"], "count": [40, 60, 25]})
    w = poststratify(df, roll, cells=["year", "gender"])
    assert w.tolist() == [40.0, 30.0, 30.0, 25.0]
    roll2 = pd.concat([roll, pd.DataFrame({"year": [8], "gender": ["b"], "count": [5]})])
    with pytest.raises(DataStructureError, match="no respondent"):
        poststratify(df, roll2, cells=["year", "gender"])


def test_poststratify_missing_cell_value_gets_no_weight():
    # a blank gender in a text column: no weight, counted (it used to stop the whole call)
    df = pd.DataFrame({"year": [7, 7, 7, 8], "gender": ["g", None, "b", "g"]})
    roll = pd.DataFrame({"year": [7, 7, 8], "gender": ["g", "b", "g"], "count": [40, 60, 25]})
    w = poststratify(df, roll, cells=["year", "gender"])
    assert w.tolist()[::2] == [40.0, 60.0] and np.isnan(w.iloc[1]) and w.iloc[3] == 25.0


def test_rake_matches_levels_by_value_and_type():
    # 1 and True hash alike; each is matched to its own level, once per distinct value
    df = pd.DataFrame({"flag": pd.Series([1, True, 1, True, 1], dtype=object)})
    w = rake(df, {"flag": {"True": 20, 1: 30}})
    assert w.tolist() == [10.0, 10.0, 10.0, 10.0, 10.0]
    assert w[df["flag"].map(lambda v: isinstance(v, bool))].sum() == pytest.approx(20.0)


def _biased_sample(seed: int):
    """A population of 40,000 pupils whose prevalence depends on year group and gender; the
    sample answers with probability a(year) * b(gender), so the raw prevalence is biased."""
    rng = np.random.default_rng(seed)
    years, genders = np.array([7, 8, 9, 10, 11]), np.array(["girl", "boy"])
    pop = pd.DataFrame(
        {
            "year": rng.choice(years, 40_000),
            "gender": rng.choice(genders, 40_000, p=[0.48, 0.52]),
        }
    )
    logit = -1.6 + 0.25 * (pop["year"] - 7) + 0.5 * (pop["gender"] == "girl")
    pop["case"] = (rng.random(len(pop)) < 1 / (1 + np.exp(-logit))).astype(int)
    resp = (0.9 - 0.18 * (pop["year"] - 7)) * np.where(pop["gender"] == "girl", 0.35, 0.85)
    sample = pop[rng.random(len(pop)) < resp].copy()
    return pop, sample


def test_raking_recovers_the_population_prevalence():
    pop, sample = _biased_sample(7)
    truth = pop["case"].mean()
    raw = sample["case"].mean()
    assert abs(raw - truth) > 0.03  # the sample is biased (older pupils and boys answer less)
    margins = {
        "year": pop["year"].value_counts().to_dict(),
        "gender": pop["gender"].value_counts().to_dict(),
    }
    sample["w"] = rake(sample, margins)
    assert sample.groupby("year")["w"].sum().to_dict() == pytest.approx(margins["year"])
    assert sample.groupby("gender")["w"].sum().to_dict() == pytest.approx(margins["gender"])
    est = sv.prevalence(sample, "case", weights="w")
    assert abs(est["prevalence"].iloc[0] - truth) < 0.01
    assert est["ci_low"].iloc[0] < truth < est["ci_high"].iloc[0]
    # post-stratification on the joint cells recovers it too
    cells = pop.groupby(["year", "gender"]).size().rename("count").reset_index()
    sample["pw"] = poststratify(sample, cells, cells=["year", "gender"])
    m = sv.means(sample, "case", weights="pw")
    assert abs(m["mean"].iloc[0] - truth) < 0.01


def test_rake_refuses_unknown_levels_and_contradicting_margins():
    df = pd.DataFrame({"gender": ["girl", "boy", "girl"], "year": [7, 8, 8]})
    with pytest.raises(DataStructureError, match="level of 'gender' 'girl'; did you mean 'grl'"):
        rake(df, {"gender": {"grl": 5, "boy": 5}})
    with pytest.raises(OutcomesError, match="grand totals"):
        rake(df, {"gender": {"girl": 5, "boy": 5}, "year": {7: 5, 8: 6}})
    with pytest.raises(OutcomesError, match="non-negative"):
        rake(df, {"gender": {"girl": -5, "boy": 5}})


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c"]), min_size=3, max_size=30),
    st.lists(st.integers(1, 500), min_size=3, max_size=3),
)
def test_rake_meets_every_margin(levels, counts):
    df = pd.DataFrame({"g": levels})
    margin = {k: c for k, c in zip("abc", counts, strict=True) if k in set(levels)}
    w = rake(df, {"g": margin})
    got = w.groupby(df["g"]).sum().to_dict()
    assert got == pytest.approx({k: float(v) for k, v in margin.items()})
    assert (w > 0).all()


@settings(max_examples=20, deadline=None)
@given(st.sampled_from([np.inf, -1.0, np.nan]))
def test_negative_or_infinite_weights_refused_or_excluded(bad):
    df = pd.DataFrame({"y": [1, 0, 1, 0], "w": [1.0, 1.0, 1.0, bad]})
    if bad < 0:
        with pytest.raises(OutcomesError, match="negative"):
            sv.prevalence(df, "y", weights="w")
    else:
        out = sv.prevalence(df, "y", weights="w")
        assert out["prevalence"].iloc[0] == pytest.approx(2 / 3)
        assert "without a weight" in out["note"].iloc[0]


# ----------------------------------------------------------------------------- benchmarks
def test_benchmark_funnel_limits_by_hand():
    df = pd.DataFrame(
        {
            "school_id": ["a"] * 100 + ["b"] * 100 + ["c"] * 10,
            "year_group": 9,
            "case": [1] * 40 + [0] * 60 + [1] * 10 + [0] * 90 + [1] * 3 + [0] * 7,
        }
    )
    out = sv.benchmark(df, "case").set_index("school_id")
    # p0 = 53 / 210; school a: n = 100, half-width 1.959964 * sqrt(p0 (1 - p0) / 100)
    p0 = 53 / 210
    half = 1.959964 * np.sqrt(p0 * (1 - p0) / 100)
    assert out.loc["a", "comparator"] == pytest.approx(p0)
    assert out.loc["a", "range_high"] == pytest.approx(p0 + half, rel=1e-6)
    assert out.loc["b", "range_low"] == pytest.approx(p0 - half, rel=1e-6)
    assert list(out["flag"]) == ["elevated", "lower", "expected"]  # c: 0.3, n = 10, wide range
    assert "funnel" in out.attrs["rule"]


def test_benchmark_against_a_norm_table():
    df = pd.DataFrame(
        {
            "school_id": ["a"] * 50 + ["b"] * 50,
            "year_group": [7] * 25 + [8] * 25 + [7] * 25 + [8] * 25,
            "case": ([1] * 5 + [0] * 20) * 4,
        }
    )
    norms = pd.DataFrame({"year_group": [7, 8], "prevalence": [0.2, 0.5]})
    out = sv.benchmark(df, "case", norms=norms)
    # 5/25 = 0.2: at the norm for year 7; in year 8 the range is 0.5 +/- 1.96 * 0.1
    assert out.loc[out["year_group"] == 7, "flag"].tolist() == ["expected", "expected"]
    assert out.loc[out["year_group"] == 8, "flag"].tolist() == ["lower", "lower"]
    with pytest.raises(DataStructureError, match="no row for"):
        sv.benchmark(df, "case", norms=norms[norms["year_group"] == 7])
    with pytest.raises(OutcomesError, match="proportions"):
        sv.benchmark(df, "case", norms=norms.assign(prevalence=[20, 50]))


def test_weighted_mean_and_rake_agree_with_r_survey():
    # R 4.x, survey 4.1-1:
    #   d <- data.frame(y, w, s, g, yr)   # the columns below
    #   svymean(~y, svydesign(ids=~s, weights=~w, data=d))    -> 0.5116279070, SE 0.0218664203
    #   r <- rake(svydesign(ids=~1, weights=~1, data=d), list(~g, ~yr),
    #             list(data.frame(g=c("f","m"), Freq=c(60,40)),
    #                  data.frame(yr=c(7,8), Freq=c(45,55))), control=list(epsilon=1e-12))
    #   weights(r); coef(svymean(~y, r))                         -> see below; 0.6533333333
    d = pd.DataFrame(
        {
            "y": [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1],
            "w": [1, 2, 1.5, 3, 2, 1, 1, 2.5, 1, 2, 3, 1.5],
            "s": list("aaabbbcccddd"),
            "g": list("fmfmfmfmfmfm"),
            "yr": [7, 7, 8, 8, 7, 8, 7, 8, 7, 8, 7, 8],
        }
    )
    r = weighted_mean(d["y"], d["w"], d["s"])
    assert r["estimate"] == pytest.approx(0.5116279070, abs=1e-9)
    assert r["se"] == pytest.approx(0.0218664203, abs=1e-9)
    w = rake(d, {"g": {"f": 60, "m": 40}, "yr": {7: 45, 8: 55}})
    r_weights = [25 / 3, 10 / 3, 55 / 3, 22 / 3] + [25 / 3, 22 / 3] * 4
    assert w.tolist() == pytest.approx(r_weights, rel=1e-8)
    assert weighted_mean(d["y"], w)["estimate"] == pytest.approx(0.6533333333, abs=1e-8)
