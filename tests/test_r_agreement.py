"""Regression tests against R for issue 14 (statistical fixes found by checks against R).

Every expected number was computed in R 4.2.2 (survival 3.5-3, lme4 1.1-31, lmerTest 3.1-3);
the R call is written beside it. The tests never need R.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from outcomes import likert as lk
from outcomes import survey as sv
from outcomes._stats import mcnemar, signed_rank
from outcomes.change import caseness_change, paired_change

# ----------------------------------------------------------------------------- 3. McNemar
# 2 x 2 table: 3 cases at both waves, b = 2 stopped, c = 2 became cases, 4 at neither.
# R: mcnemar.test(matrix(c(3, 2, 2, 4), 2)) -> McNemar's chi-squared = 0, df = 1, p-value = 1
MCNEMAR_EQUAL = [(1, 1)] * 3 + [(1, 0)] * 2 + [(0, 1)] * 2 + [(0, 0)] * 4


def test_mcnemar_corrected_is_zero_when_b_equals_c():
    r = mcnemar(2, 2)
    assert (r.chi2_corrected, r.p_corrected) == (0.0, 1.0)


def test_compare_prevalence_pupil_uses_the_one_mcnemar():
    pattern = MCNEMAR_EQUAL
    n = len(pattern)
    base = pd.DataFrame({"pupil_id": range(n), "wave": 1, "case": [p[0] for p in pattern]})
    follow = pd.DataFrame({"pupil_id": range(n), "wave": 2, "case": [p[1] for p in pattern]})
    tab = sv.compare_prevalence(pd.concat([base, follow]), "case", person_id="pupil_id").to_frame()
    corrected = tab[tab["method"].str.contains("continuity")].iloc[0]
    assert corrected["statistic"] == 0.0  # R: 0 (not 1/(b+c) = 0.25)
    assert corrected["p"] == 1.0  # R: p-value = 1
    res = caseness_change([p[0] for p in pattern], [p[1] for p in pattern], method="corrected")
    assert (res.chi2_corrected, res.p) == (0.0, 1.0)


def test_mcnemar_asymmetric_matches_r():
    # R: mcnemar.test(matrix(c(1, 3, 10, 1), 2)) -> chi-squared = 2.7692, p-value = 0.09609
    # R: mcnemar.test(matrix(c(1, 3, 10, 1), 2), correct = FALSE) -> 3.7692, p-value = 0.05220
    # R: binom.test(10, 13)$p.value -> 0.09228516
    r = mcnemar(10, 3)
    assert r.chi2_corrected == pytest.approx(2.7692, abs=5e-5)
    assert r.p_corrected == pytest.approx(0.09609, abs=5e-6)
    assert r.chi2_uncorrected == pytest.approx(3.7692, abs=5e-5)
    assert r.p_uncorrected == pytest.approx(0.05220, abs=5e-6)
    assert r.p_exact == pytest.approx(0.09228516, abs=5e-9)


@given(st.integers(0, 60), st.integers(0, 60))
def test_mcnemar_property_against_the_formula(b, c):
    r = mcnemar(b, c)
    if b + c == 0:
        assert math.isnan(r.chi2_corrected) and r.p_exact == 1.0
        return
    # R's mcnemar.test: correct only when the table is asymmetric
    chi2 = (abs(b - c) - 1) ** 2 / (b + c) if b != c else 0.0
    assert r.chi2_corrected == pytest.approx(chi2)
    assert r.chi2_uncorrected == pytest.approx((b - c) ** 2 / (b + c))
    # exact: twice the smaller binomial tail, capped at 1
    tail = sum(math.comb(b + c, k) for k in range(min(b, c) + 1)) / 2 ** (b + c)
    assert r.p_exact == pytest.approx(min(1.0, 2 * tail), rel=1e-9)


def test_mcnemar_refuses_nonsense():
    for bad in (True, -1, 2.5):
        with pytest.raises(ValueError, match="whole number"):
            mcnemar(bad, 3)


# ----------------------------------------------------------------------------- 6. signed rank
PRE = [10, 12, 9, 14, 11, 15, 8, 13]
POST_ZERO = [10, 13, 7, 17, 15, 10, 14, 20]  # differences 0 1 -2 3 4 -5 6 7: one zero
POST_CLEAN = [11, 10, 12, 18, 6, 21, 15, 21]  # differences 1 -2 3 4 -5 6 7 8: exact


def _pairs_frame(pre, post):
    n = len(pre)
    return pd.DataFrame(
        {"pupil_id": list(range(n)) * 2, "wave": [1] * n + [2] * n, "score": list(pre) + list(post)}
    )


def test_signed_rank_with_a_zero_uses_the_normal_approximation_everywhere():
    # R: wilcox.test(c(10, 13, 7, 17, 15, 10, 14, 20), c(10, 12, 9, 14, 11, 15, 8, 13),
    #                paired = TRUE) -> V = 21, p-value = 0.2719 (normal approx: a zero)
    expected_v, expected_p = 21, 0.2719
    r = signed_rank(np.subtract(POST_ZERO, PRE))
    assert (r.statistic, r.method, r.correction) == (expected_v, "asymptotic", True)
    assert r.p == pytest.approx(expected_p, abs=5e-5)
    pc = paired_change(PRE, POST_ZERO)
    assert pc.wilcoxon_p == pytest.approx(expected_p, abs=5e-5)
    tab = sv.compare_means(_pairs_frame(PRE, POST_ZERO), "score", person_id="pupil_id").to_frame()
    w = tab[tab["statistic_name"] == "V"].iloc[0]
    assert w["statistic"] == expected_v and w["p"] == pytest.approx(expected_p, abs=5e-5)
    assert "normal approximation" in w["method"]
    df = pd.DataFrame({"id": list(range(8)) * 2, "wave": [1] * 8 + [2] * 8, "q": PRE + POST_ZERO})
    row = lk.compare_waves(df, items=["q"], person_id="id", ordinal=False).to_frame().iloc[0]
    assert row["wilcoxon_v"] == expected_v
    assert row["wilcoxon_p"] == pytest.approx(expected_p, abs=5e-5)
    assert "normal approximation" in row["wilcoxon_method"]


def test_signed_rank_exact_without_zeros_or_ties():
    # R: wilcox.test(c(11, 10, 12, 18, 6, 21, 15, 21), c(10, 12, 9, 14, 11, 15, 8, 13),
    #                paired = TRUE) -> V = 29, p-value = 0.1484 (exact)
    # ... exact = FALSE -> V = 29, p-value = 0.1415
    r = signed_rank(np.subtract(POST_CLEAN, PRE))
    assert (r.statistic, r.method) == (29, "exact")
    assert r.p == pytest.approx(0.1484, abs=5e-5)
    assert "exact" in r.label
    a = signed_rank(np.subtract(POST_CLEAN, PRE), method="asymptotic")
    assert a.p == pytest.approx(0.1415, abs=5e-5)
    tab = sv.compare_means(_pairs_frame(PRE, POST_CLEAN), "score", person_id="pupil_id").to_frame()
    w = tab[tab["statistic_name"] == "V"].iloc[0]
    assert w["p"] == pytest.approx(0.1484, abs=5e-5) and "exact" in w["method"]


def _r_signed_rank_p(d: np.ndarray) -> tuple[float, float, bool]:
    """R's wilcox.test(d) written out independently: (V, p, exact)."""
    has_zero = bool((d == 0).any())
    d = d[d != 0]
    n = len(d)
    ranks = stats.rankdata(np.abs(d))
    v = ranks[d > 0].sum()
    _, counts = np.unique(np.abs(d), return_counts=True)
    ties = bool((counts > 1).any())
    if n < 50 and not ties and not has_zero:
        # exact null distribution by enumerating every sign pattern (n is small here)
        sums = np.array(
            [
                sum(r for r, s in zip(range(1, n + 1), signs, strict=True) if s)
                for signs in itertools.product([0, 1], repeat=n)
            ]
        )
        p = 2 * min((sums <= v).mean(), (sums >= v).mean())
        return float(v), min(1.0, float(p)), True
    z = v - n * (n + 1) / 4
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - (counts**3 - counts).sum() / 48)
    z = (z - math.copysign(0.5, z) if z != 0 else 0.0) / sigma
    return float(v), float(2 * min(stats.norm.cdf(z), stats.norm.sf(z))), False


def test_independent_rule_reproduces_r():
    # the two R cases above, through the test's own implementation of R's rule
    assert _r_signed_rank_p(np.subtract(POST_ZERO, PRE).astype(float))[:2] == pytest.approx(
        (21, 0.2719), abs=5e-5
    )
    assert _r_signed_rank_p(np.subtract(POST_CLEAN, PRE).astype(float))[:2] == pytest.approx(
        (29, 0.1484), abs=5e-5
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(-6, 6), min_size=1, max_size=12))
def test_signed_rank_property_against_r_rule(diffs):
    d = np.array(diffs, dtype=float)
    if not (d != 0).any():
        assert signed_rank(d).method.startswith("not computed")
        return
    v, p, exact = _r_signed_rank_p(d)
    r = signed_rank(d)
    assert r.statistic == v
    assert r.method == ("exact" if exact else "asymptotic")
    assert r.p == pytest.approx(p, abs=1e-9)


# ----------------------------------------------------------------------------- 4. rater
@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_outcome_metric_blank_rater_is_the_instruments_respondent(blank):
    from outcomes.change.outcome_metric import cyp_outcome_metric

    refs = pd.DataFrame(
        {
            "referral_id": ["r1"],
            "age": [12],
            "first_contact_date": ["2024-01-05"],
            "second_contact_date": ["2024-01-19"],
            "discharge_date": ["2024-06-30"],
        }
    )
    sc = pd.DataFrame(
        {
            "referral_id": ["r1", "r1"],
            "instrument": "swemwbs",
            "rater": blank,
            "date": ["2024-01-05", "2024-06-20"],
            "metric": [17.43, 21.54],
        }
    )
    tab = cyp_outcome_metric(sc, refs).to_frame().set_index("rater")
    # SWEMWBS is self-rated: the pair counts under "self", and no "" rater appears
    assert tab.loc["self", "n_paired"] == 1
    assert not any(str(r).strip() == "" for r in tab.index)


# ----------------------------------------------------------------------------- 7. trend
def test_overdispersed_trend_uses_t_on_the_residual_df_as_quasibinomial():
    from outcomes.service import inappropriate_trend

    # R: k <- c(2, 9, 4, 10, 3, 8, 1, 6, 2, 5, 0, 4); n <- rep(20, 12); t <- 0:11
    #    post <- as.numeric(t >= 6); ta <- pmax(t - 6, 0)
    #    f <- glm(cbind(k, n - k) ~ t + post + ta, family = quasibinomial)
    #    summary(f)$coefficients; summary(f)$dispersion  (3.011175)
    #    CI: coef(f) +/- qt(0.975, 8) * sqrt(diag(vcov(f)))
    k = [2, 9, 4, 10, 3, 8, 1, 6, 2, 5, 0, 4]
    months = pd.date_range("2023-01-01", periods=12, freq="MS").repeat(20)
    acc = np.concatenate([[False] * x + [True] * (20 - x) for x in k])
    r = pd.DataFrame(
        {
            "referral_id": range(240),
            "person_id": range(240),
            "referral_date": months,
            "accepted": acc,
        }
    )
    res = inappropriate_trend(r, change_date="2023-07-01")
    co = res.to_frame().set_index("term")
    assert res.dispersion == pytest.approx(3.011175466, rel=1e-4)
    expected = {  # estimate, se, p (Pr(>|t|)), t-based CI
        "intercept": (-1.1643658554, 0.6424608557, 0.1075029431, -2.6458832453, 0.3171515345),
        "time": (0.1232882695, 0.2044918782, 0.5632715925, -0.3482708471, 0.5948473862),
        "level_change": (-1.3099648172, 1.1001405165, 0.2678912334, -3.8468933976, 1.2269637632),
        "slope_change": (-0.1232882678, 0.3305893834, 0.7188843757, -0.8856287528, 0.6390522173),
    }
    for term, (est, se, p, lo, hi) in expected.items():
        row = co.loc[term]
        assert row["estimate"] == pytest.approx(est, abs=1e-6)
        assert row["se"] == pytest.approx(se, rel=1e-4)
        assert row["p"] == pytest.approx(p, abs=1e-4)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi), abs=1e-4)
        assert row["reference"] == "t(8)"
    assert "t tests on 8 df" in res.summary()


# ----------------------------------------------------------------------------- 1. waiting times
def _waits(days, seen, standard_days=28):
    """Referrals whose first-contact wait is days[i], seen or still waiting (censored)."""
    as_of = pd.Timestamp("2024-12-31")
    rows = []
    for i, (d, e) in enumerate(zip(days, seen, strict=True)):
        ref = as_of - pd.Timedelta(days=int(max(days)) + 1 if e else int(d))
        rows.append(
            {
                "referral_id": i,
                "person_id": i,
                "referral_date": ref,
                "first_contact_date": ref + pd.Timedelta(days=int(d)) if e else None,
            }
        )
    from outcomes import service

    return (
        service.waiting_times(
            pd.DataFrame(rows), as_of=as_of, stage="first", standard_days=standard_days
        )
        .to_frame()
        .iloc[0]
    )


QCOLS = ("q1", "median", "q3", "p90")


def _quantile_table(row):
    est = [row[f"{q}_days" if q != "median" else "median_days"] for q in QCOLS]
    return est, [row[f"{q}_ci_low"] for q in QCOLS], [row[f"{q}_ci_high"] for q in QCOLS]


def _same(a, b):
    return all(
        (np.isnan(x) and np.isnan(y)) or x == pytest.approx(y) for x, y in zip(a, b, strict=True)
    )


R_CASES = [
    # R: library(survival); f <- survfit(Surv(d, e) ~ 1, conf.type = "log-log")
    #    quantile(f, c(0.25, 0.5, 0.75, 0.9))  ($quantile, $lower, $upper; NA -> nan)
    # 200 referrals seen after 7, 14 and 21 days (60/60/80): the band steps across 0.5 at 14
    (
        [7] * 60 + [14] * 60 + [21] * 80,
        [1] * 200,
        ([7, 14, 21, 21], [7, 14, np.nan, np.nan], [14, 14, np.nan, np.nan]),
    ),
    # seen at 10 and 20, waiting at 25 and 40: S = 0.5 exactly from 20 to the end -> (20+40)/2
    ([10, 20, 25, 40], [1, 1, 0, 0], ([15, 30, np.nan, np.nan], [10, 10, 10, 20], [np.nan] * 4)),
    # censored before the first event (band NA at S = 1) and S = 0 at the end
    (
        [1, 3, 3, 5, 8, 9, 12],
        [0, 1, 0, 1, 1, 0, 1],
        ([5, 8, 12, 12], [3, 3, 5, 8], [np.nan] * 4),
    ),
    # rng(14): 25 referrals, 17 seen, a same-day contact
    (
        [
            4,
            24,
            19,
            10,
            2,
            21,
            10,
            25,
            10,
            19,
            5,
            16,
            2,
            22,
            2,
            21,
            22,
            14,
            23,
            17,
            25,
            22,
            27,
            1,
            0,
        ],
        [0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1],
        ([10, 22, 25, 27], [0, 16, 22, 24], [21, 25, np.nan, np.nan]),
    ),
]


@pytest.mark.parametrize(("days", "seen", "expected"), R_CASES)
def test_waiting_time_quantiles_and_cis_match_quantile_survfit(days, seen, expected):
    got = _quantile_table(_waits(days, seen))
    for g, e in zip(got, expected, strict=True):
        assert _same(g, [float(v) for v in e]), (got, expected)


def test_within_standard_matches_summary_survfit():
    # R: s <- summary(survfit(Surv(d, e) ~ 1, conf.type = "log-log"), times = 14) for the
    #    rng(14) case: 1 - s$surv = 0.2618764302, 1 - s$upper = 0.1265695678,
    #    1 - s$lower = 0.4940469815
    days, seen, _ = R_CASES[3]
    row = _waits(days, seen, standard_days=14)
    assert row["within_standard"] == pytest.approx(0.2618764302, abs=1e-9)
    assert row["within_standard_ci_low"] == pytest.approx(0.1265695678, abs=1e-6)
    assert row["within_standard_ci_high"] == pytest.approx(0.4940469815, abs=1e-6)


def _r_findq(x, y, p):
    """survival's internal findq (R 4.2 / survival 3.5), step by step, for one p."""
    tol = np.sqrt(np.finfo(float).eps)  # R: sqrt(.Machine$double.eps)
    xmax = x[-1]
    seen, xs, ys = set(), [], []
    for xi, yi in zip(x, y, strict=True):  # duplicated(): NaN counts as a value
        key = "nan" if np.isnan(yi) else yi
        if key not in seen:
            seen.add(key)
            xs.append(xi)
            ys.append(yi)
    idx = [(yi, i) for i, yi in enumerate(ys) if not np.isnan(yi)]  # approx() drops NA
    if not idx or max(v for v, _ in idx) < p:
        return np.nan

    def step(shift):  # approx(y + shift, 1:n, p, "constant", f = 1)
        cands = sorted((v + shift, i) for v, i in idx if v + shift >= p)
        return cands[0][1] if cands else None

    i1, i2 = step(tol), step(-tol)
    if i1 is None:
        return np.nan
    if i2 is not None:
        return (xs[i1] + xs[i2]) / 2
    if not np.isnan(ys[-1]) and abs(p - ys[-1]) < tol:
        return (xs[i1] + xmax) / 2
    return np.nan


def _r_quantiles(days, seen, z=1.959963984540054):
    """survfit(conf.type = "log-log") + quantile.survfit, written out from their definitions."""
    days, seen = np.asarray(days, float), np.asarray(seen, int)
    times = np.unique(days)  # survfit keeps every time, censored or not
    s, h, surv, se = 1.0, 0.0, [], []
    for t in times:
        n = (days >= t).sum()
        d = ((days == t) & (seen == 1)).sum()
        s *= 1 - d / n
        h += d / (n * (n - d)) if n > d else np.inf
        surv.append(s)
        se.append(np.sqrt(h))
    surv, se = np.array(surv), np.array(se)
    lo, hi = np.full(len(surv), np.nan), np.full(len(surv), np.nan)
    mid = (surv > 0) & (surv < 1)
    ll = np.log(-np.log(surv[mid]))
    half = z * se[mid] / np.log(surv[mid])  # log S < 0
    lo[mid] = np.exp(-np.exp(ll - half))
    hi[mid] = np.exp(-np.exp(ll + half))
    x = np.concatenate([[0.0], times])
    out = []
    for band in (surv, lo, hi):
        y = np.concatenate([[0.0], 1 - band])
        out.append([_r_findq(x, y, p) for p in (0.25, 0.5, 0.75, 0.9)])
    return tuple(out)


@pytest.mark.parametrize(("days", "seen", "expected"), R_CASES)
def test_independent_km_rule_reproduces_r(days, seen, expected):
    got = _r_quantiles(days, seen)
    for g, e in zip(got, expected, strict=True):
        assert _same(g, [float(v) for v in e]), (got, expected)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.booleans()), min_size=1, max_size=30).filter(
        lambda r: any(e for _, e in r)
    )
)
def test_waiting_time_quantiles_property_against_r_rule(records):
    days = [d for d, _ in records]
    seen = [int(e) for _, e in records]
    got = _quantile_table(_waits(days, seen))
    expected = _r_quantiles(days, seen)
    for g, e in zip(got, expected, strict=True):
        assert _same(g, e), (days, seen, got, expected)


# ----------------------------------------------------------------------------- 2. mixed models
# 16 children in 4 schools (2 programme, 2 comparison), waves 0/6/12 with 3 follow-ups missing;
# the school variance's REML estimate is 0 (lme4: "boundary (singular) fit").
MIXED = pd.DataFrame(
    {
        "child": [f"c{c:02d}" for c in [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3 + [4] * 3 + [5] * 3
                  + [6] * 3 + [7] * 3 + [8] * 2 + [9] * 3 + [10] * 3 + [11] * 2 + [12] * 2
                  + [13] * 3 + [14] * 3 + [15] * 3],
        "school": ["s0"] * 3 + ["s1"] * 3 + ["s2"] * 3 + ["s3"] * 3 + ["s0"] * 3 + ["s1"] * 3
        + ["s2"] * 3 + ["s3"] * 3 + ["s0"] * 2 + ["s1"] * 3 + ["s2"] * 3 + ["s3"] * 2
        + ["s0"] * 2 + ["s1"] * 3 + ["s2"] * 3 + ["s3"] * 3,
        "wave": [0, 6, 12] * 8 + [0, 6] + [0, 6, 12] * 2 + [0, 12, 0, 6] + [0, 6, 12] * 3,
        "age": [11] * 3 + [13] * 3 + [11] * 3 + [13] * 3 + [12] * 3 + [13] * 3 + [12] * 3
        + [13] * 3 + [14] * 2 + [12] * 3 + [13] * 3 + [13] * 2 + [14] * 2 + [12] * 3
        + [12] * 3 + [14] * 3,
        "score": [15.2, 20.5, 20.5, 21.1, 24.1, 24.4, 19.5, 21.6, 19.0, 21.9, 21.0, 24.3, 16.7,
                  18.3, 20.8, 24.9, 23.8, 25.8, 21.4, 19.4, 22.9, 24.2, 22.2, 28.4, 23.0, 24.9,
                  20.3, 20.6, 21.4, 18.1, 18.9, 18.2, 19.6, 22.0, 22.8, 26.5, 22.5, 24.1, 27.3,
                  20.8, 20.8, 23.2, 15.7, 18.9, 18.4],
    }
)  # fmt: skip
MIXED["arm"] = np.where(MIXED["school"].isin(["s0", "s1"]), "programme", "comparison")


@pytest.fixture(scope="module")
def mixed_fit():
    from outcomes.longitudinal import fit_mixed

    with pytest.warns(Warning):  # the boundary is reported
        return fit_mixed(
            MIXED,
            "score",
            "wave",
            person_id="child",
            cluster="school",
            group="arm",
            covariates=["age"],
        )


def test_fit_mixed_matches_lme4_and_lmertest_at_a_variance_boundary(mixed_fit):
    # R: library(lmerTest); d$wave <- factor(d$wave)
    #    d$arm <- factor(d$arm, levels = c("comparison", "programme"))
    #    f <- lmer(score ~ wave * arm + age + (1 | school) + (1 | child), data = d)
    #    as.data.frame(VarCorr(f)): child 5.449003236, school 0, Residual 1.997903853
    #    logLik(f): -88.83070059;  summary(f)$coefficients (Estimate, SE, df, Pr(>|t|)):
    expected = {
        "Intercept": (7.5818606712, 8.5573655948, 13.48615211, 0.39114057302),
        "wave[6]": (0.2220447108, 0.7417943545, 25.44064873, 0.76711657895),
        "wave[12]": (1.9000000000, 0.7067361342, 25.20386751, 0.01254245557),
        "arm[programme]": (0.6625000000, 1.3644510883, 18.70180491, 0.63293060817),
        "age": (0.9954961845, 0.6734892705, 13.43105583, 0.16244110910),
        "wave[6]:arm[programme]": (1.8154552892, 1.0245656776, 25.32784714, 0.08843864551),
        "wave[12]:arm[programme]": (1.4202803160, 1.0581396296, 25.38428641, 0.19139970675),
    }
    res = mixed_fit
    assert res.variances["school"] == 0.0
    assert res.variances["child"] == pytest.approx(5.449003236, rel=1e-4)
    assert res.variances["residual"] == pytest.approx(1.997903853, rel=1e-4)
    assert res.loglik == pytest.approx(-88.83070059, abs=1e-6)
    assert any("school variance is estimated at (or near) zero" in w for w in res.warnings)
    fe = res.to_frame().set_index("term")
    for term, (est, se, df, p) in expected.items():
        assert fe.loc[term, "estimate"] == pytest.approx(est, abs=1e-5), term
        assert fe.loc[term, "se"] == pytest.approx(se, rel=1e-5), term
        assert fe.loc[term, "df"] == pytest.approx(df, rel=1e-4), term
        assert fe.loc[term, "p"] == pytest.approx(p, rel=1e-4), term
    # R: L <- rbind(c(0, 0, 1, 0, 0, 0, 1), c(0, 0, 0, 0, 0, 0, 1))
    #    contest(f, L, joint = FALSE): change to 12 in the programme arm, and its difference
    #    3.320280316 SE 0.7875173093 df 25.53005340 CI 1.7000638243 4.940496808
    #    1.420280316 SE 1.0581396296 df 25.38428641 CI -0.7573274061 3.597888038
    ch = res.change().set_index(["group", "wave"]).loc[("programme", 12)]
    assert (ch["estimate"], ch["se"]) == pytest.approx((3.320280316, 0.7875173093), rel=1e-5)
    assert ch["df"] == pytest.approx(25.53005340, rel=1e-4)
    assert (ch["ci_low"], ch["ci_high"]) == pytest.approx((1.7000638243, 4.940496808), abs=1e-4)
    dd = res.change_difference().set_index("wave").loc[12]
    assert dd["se"] == pytest.approx(1.0581396296, rel=1e-5)
    assert (dd["ci_low"], dd["ci_high"]) == pytest.approx((-0.7573274061, 3.597888038), abs=1e-4)
    assert "Satterthwaite" in res.summary()


def test_fit_mixed_normal_option_keeps_lme4_ses_with_z(mixed_fit):
    from outcomes.longitudinal import fit_mixed

    with pytest.warns(Warning):
        res = fit_mixed(
            MIXED, "score", "wave", person_id="child", cluster="school", group="arm",
            covariates=["age"], ddf="normal",
        )  # fmt: skip
    fe = res.to_frame().set_index("term")
    assert fe.loc["wave[12]", "se"] == pytest.approx(0.7067361342, rel=1e-5)  # R vcov(f)
    assert np.isinf(fe["df"]).all()
    z = stats.norm.ppf(0.975)
    assert fe.loc["wave[12]", "ci_low"] == pytest.approx(1.9 - z * 0.7067361342, abs=1e-4)
    assert "normal (Wald z)" in res.summary()


def _dense_cov(data, res, school):
    """(X'V^-1 X)^-1 built densely with numpy from the fitted variance components."""
    X = res._reml.X
    n = len(X)
    same = lambda g: (g[:, None] == g[None, :]).astype(float)  # noqa: E731
    V = res.variances["residual"] * np.eye(n) + res.variances["child"] * same(
        data["child"].to_numpy()
    )
    if school:
        V += res.variances["school"] * same(data["school"].to_numpy())
    return np.linalg.inv(X.T @ np.linalg.solve(V, X))


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_fixed_effect_covariance_property(seed, school):
    from outcomes.longitudinal import fit_mixed

    rng = np.random.default_rng(seed)
    n_child = int(rng.integers(8, 20))
    rows = []
    for c in range(n_child):
        u = rng.normal(0, 1.5)
        for w in (0, 1, 2):
            if w and rng.random() < 0.25:
                continue
            rows.append(
                {
                    "child": c,
                    "school": c % 4,
                    "arm": "b" if c % 2 else "a",
                    "wave": w,
                    "score": 10 + u + 0.5 * w + rng.normal(0, 1),
                }
            )
    data = pd.DataFrame(rows)
    # a wave with children of one arm only has no estimable interaction: refused by design
    assume(bool((pd.crosstab(data["wave"], data["arm"]) > 0).all(axis=None)))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_mixed(data, "score", "wave", person_id="child", group="arm",
                        cluster="school" if school else None)  # fmt: skip
    C = _dense_cov(data, res, school)
    assert np.allclose(res.cov_params.to_numpy(), C, rtol=1e-7, atol=1e-12)
    names = list(res.params.index)

    def row(arm, w):
        v = np.zeros(len(names))
        v[names.index("Intercept")] = 1
        if w:
            v[names.index(f"wave[{w}]")] = 1
        if arm == "b":
            v[names.index("arm[b]")] = 1
            if w:
                v[names.index(f"wave[{w}]:arm[b]")] = 1
        return v

    means = res.wave_means().set_index(["group", "wave"])
    change = res.change().set_index(["group", "wave"])
    for arm in ("a", "b"):
        for w in (0, 1, 2):
            v = row(arm, w)
            assert means.loc[(arm, w), "se"] == pytest.approx(np.sqrt(v @ C @ v), rel=1e-7)
            if w:
                dv = v - row(arm, 0)
                assert change.loc[(arm, w), "se"] == pytest.approx(np.sqrt(dv @ C @ dv), rel=1e-7)
    diff = res.change_difference().set_index("wave")
    for w in (1, 2):
        dv = (row("b", w) - row("b", 0)) - (row("a", w) - row("a", 0))
        assert diff.loc[w, "se"] == pytest.approx(np.sqrt(dv @ C @ dv), rel=1e-7)


# ----------------------------------------------------------------------------- 5. mixed ICC
# 25 pupils in 15 schools (rng(32) in the project's checks)
ICC_BOUNDARY = pd.DataFrame(
    {
        "school": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 13, 2, 12, 8, 6, 5, 4, 4, 9, 10],
        "y": [7.2, 13.6, 11.2, 5.7, 7.8, 8.9, 10.2, 12.4, 10.7, 9.9, 11.1, 9.2, 10.0, 9.0, 7.3,
              12.9, 9.6, 9.9, 8.9, 8.4, 9.5, 11.2, 12.4, 11.8, 9.0],
    }
)  # fmt: skip
ICC_INTERIOR = pd.DataFrame(
    {
        "school": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 10, 14, 13, 7, 14, 14, 14, 1, 6, 9],
        "y": [9.9, 8.8, 9.9, 7.1, 10.5, 10.8, 13.4, 10.3, 10.8, 7.0, 14.7, 6.4, 12.0, 9.2, 8.0,
              8.9, 8.4, 10.6, 9.5, 12.7, 6.1, 9.8, 8.3, 11.8, 5.7],
    }
)  # fmt: skip


def test_mixed_icc_is_zero_at_the_boundary_as_lme4():
    # R: f <- lmer(y ~ 1 + (1 | school), data = d); as.data.frame(VarCorr(f))$vcov -> 0 3.6277667
    #    logLik(f) -> -51.1273692965  (statsmodels alone stops at an ICC of 0.16)
    assert sv.cluster_icc(ICC_BOUNDARY, "y", "school", method="mixed") == 0.0
    from _reml_reference import RemlModel

    m = RemlModel(
        ICC_BOUNDARY["y"].to_numpy(), np.ones((25, 1)), {"school": ICC_BOUNDARY["school"]}
    )
    v = m.fit({"school": 0.5, "residual": 3.0})
    assert v == {"school": 0.0, "residual": pytest.approx(3.6277666667, rel=1e-9)}
    assert -m.deviance(v) / 2 == pytest.approx(-51.1273692965, abs=1e-8)


def test_mixed_icc_interior_matches_lme4():
    # R: lmer(y ~ 1 + (1 | school), data = d, control = lmerControl(optimizer = "bobyqa",
    #    optCtrl = list(rhoend = 1e-12))): vcov 1.0419271499 4.1830170026 -> ICC 0.1994140262
    #    logLik -55.1396852515; fixef 9.6689099374, SE 0.5013631224
    icc = sv.cluster_icc(ICC_INTERIOR, "y", "school", method="mixed")
    assert icc == pytest.approx(0.1994140262, rel=1e-4)
    means = sv.means(ICC_INTERIOR, "y", cluster="school", icc_method="mixed")
    assert means["icc"].iloc[0] == pytest.approx(0.1994140262, rel=1e-4)
    at_zero = sv.means(ICC_BOUNDARY, "y", cluster="school", icc_method="mixed")
    assert at_zero["icc"].iloc[0] == 0.0 and at_zero["deff"].iloc[0] == 1.0


# ----------------------------------------------------------------------------- 8. disclosure
# (no R function here: expected tables are derived by hand in the comments)
def test_disclosure_consistent_grouped_table_is_protected_not_refused():
    from outcomes import disclosure as dc

    t = pd.DataFrame(
        {
            "group": ["A", "A", "B", "B", "B", "Total"],
            "item": ["x", "Total", "y", "z", "Total", ""],
            "n": [9, 9, 3, 3, 6, 15],
        }
    )
    out = dc.apply(t, groups=["group"])
    # y, z and B's total (6) are 1-7: primary. Then 15 - 9 = y + z = B's total would reveal
    # the B total, so x and with it A's total must go too; the grand total 15 stays.
    assert out["n"].tolist() == ["*", "*", "*", "*", "*", 15]
    assert out.attrs["disclosure"]["secondary"] == 2


@pytest.mark.parametrize("label", ["Totals", "Grand total", "GRAND TOTAL "])
def test_disclosure_recognises_totals_and_grand_total(label):
    from outcomes import disclosure as dc

    t = pd.DataFrame({"school": ["A", "B", "C", label], "n": [3, 12, 40, 55]})
    # A (3) is primary; 55 - 12 - 40 would give it back, so B (the smaller) is hidden too
    assert dc.apply(t)["n"].tolist() == ["*", "*", 40, 55]


@pytest.mark.parametrize("label", ["Subtotal", "Sub-total", "Overall total", "Total (all)"])
def test_disclosure_refuses_an_undeclared_total_like_label(label):
    from outcomes import disclosure as dc
    from outcomes.errors import DataStructureError

    t = pd.DataFrame({"school": ["A", "B", "C", label], "n": [3, 12, 40, 55]})
    with pytest.raises(DataStructureError, match="reads like a total"):
        dc.apply(t)
    declared = dc.apply(t, total_labels=["Total", label])
    assert declared["n"].tolist() == ["*", "*", 40, 55]


def test_disclosure_refuses_huge_and_boolean_counts():
    from outcomes import disclosure as dc
    from outcomes.errors import OutcomesError

    huge = pd.DataFrame({"school": ["A", "B"], "n": np.array([12, 2**63 + 1], dtype=np.uint64)})
    with pytest.raises(OutcomesError, match="2\\*\\*53"):
        dc.apply(huge)
    flags = pd.DataFrame({"school": ["A", "B", "C"], "n": [True, False, True]})
    with pytest.raises(OutcomesError, match="true/false"):
        dc.apply(flags, counts="n")
    mixed = pd.DataFrame({"school": ["A", "B"], "n": pd.Series([True, 12], dtype=object)})
    with pytest.raises(OutcomesError, match="true/false"):
        dc.apply(mixed, counts="n")


# ----------------------------------------------------------------------------- 9. conventions
# R's clinicalsignificance (calc_cutoff.R, version 2.x) classes clinical_pre as
# direction * pre < direction * cutoff and functional_post as direction * post >
# direction * cutoff, both strict, so a score exactly on the cut-off is neither. (The package
# could not be installed here, so these cases are derived from that rule, not run in R.)
@pytest.mark.parametrize(
    ("pre", "post", "hib", "cut", "ours", "theirs"),
    [
        (30, 50, True, 30, "recovered", "improved"),  # starts on the cut-off
        (50, 30, False, 50, "recovered", "improved"),  # lower is better, starts on it
        (50, 30, False, 30, "improved", "improved"),  # ends on the cut-off: clinical here
        (20, 40, True, 30, "recovered", "recovered"),  # clear of the cut-off: both agree
    ],
)
def test_cutoff_convention(pre, post, hib, cut, ours, theirs):
    from outcomes.change.reliable import reliable_change

    kw = dict(sd=7.5, reliability=0.8, cutoff=cut, higher_is_better=hib)  # S_diff 4.743
    assert reliable_change([pre], [post], **kw)["category"].iloc[0] == ours
    assert (
        reliable_change([pre], [post], cutoff_convention="neither", **kw)["category"].iloc[0]
        == theirs
    )


def test_cutoff_convention_refuses_nonsense():
    from outcomes.change.reliable import reliable_change
    from outcomes.errors import OutcomesError

    with pytest.raises(OutcomesError, match="cutoff_convention"):
        reliable_change([1], [2], sd=7.5, reliability=0.8, higher_is_better=True,
                        cutoff_convention="strict")  # fmt: skip


def test_critical_value_convention():
    from outcomes.change.reliable import reliable_change

    # R: qnorm(0.975) = 1.959963985; a change with RCI between that and 1.96 is reliable
    # only with R's value. S_diff = 7.5 * sqrt(2) * sqrt(0.2) = 4.743416; change 9.2970 gives
    # RCI 1.959999 (between the two).
    kw = dict(sd=7.5, reliability=0.8, higher_is_better=True)
    assert not reliable_change([10], [19.297], **kw)["reliable"].iloc[0]
    r = reliable_change([10], [19.297], critical=1.959963985, **kw)
    assert r["reliable"].iloc[0]


# ----------------------------------------------------------------------------- bad input
@given(
    st.one_of(
        st.booleans(),
        st.integers(max_value=-1),
        st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not float(x).is_integer()),
    )
)
def test_mcnemar_refuses_non_counts(bad):
    with pytest.raises(ValueError, match="mcnemar: b"):
        mcnemar(bad, 1)


@given(st.lists(st.floats(-5, 5), min_size=1, max_size=10), st.sampled_from(["fast", "", "R"]))
def test_signed_rank_refuses_missing_values_and_unknown_methods(diffs, method):
    with pytest.raises(ValueError, match="missing"):
        signed_rank([*diffs, math.nan])
    with pytest.raises(ValueError, match="method must be"):
        signed_rank(diffs, method=method)


# ----------------------------------------------------------------------------- 10. lme4, small
# fit_mixed and cluster_icc(method="mixed") fit random intercepts by the closed forms of
# outcomes._mixed.InterceptProfile at every size; statsmodels' MixedLM did below 20,000 rows
# until December 2026, and differed from lme4 on small and awkward data. These are lme4's
# numbers for such cases. R 4.2.2, lme4 1.1-31, lmerTest 3.1-3 (Debian packages), with
#    ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12))
# and, to see where lme4's optimiser stops, also
#    lmerControl(optimizer = "Nelder_Mead", optCtrl = list(FtolAbs = 1e-14, FtolRel = 1e-15,
#                XtolRel = 1e-12, maxfun = 1e5))
# Generated data went to R as pandas' to_csv(..., index=False, float_format="%.17g") (every
# double round-trips) and R's read.csv; each test checks R's sum of the outcome first, so a
# change in numpy's generator or in _scores shows up as changed data, not as a disagreement.
# Variances agree to 1e-5 relative (lme4's optimiser stops within ~1e-6 of the optimum, where
# the deviance is flat to rounding: its values at lme4's estimates and at ours differ by at
# most 2e-10, 2e-14 of it), fixed effects to 1e-6 of their SE, SEs and Satterthwaite df to
# 1e-5, logLik to 1e-8.
def _icc_data(seed: int) -> pd.DataFrame:
    y = np.random.default_rng(seed).normal(size=40)
    return pd.DataFrame({"y": y, "school": np.repeat(list("abcd"), 10)})


def _profile(data: pd.DataFrame, reml: bool):
    from outcomes._mixed import InterceptProfile

    codes = pd.factorize(data["school"])[0]
    return InterceptProfile(data["y"].to_numpy(), np.ones((40, 1)), {"school": codes}, reml=reml)


def _check_intercept_only(data, reml, expected):
    """expected: school and residual variance, logLik, fixef, SE and (REML) lmerTest df."""
    school, residual, loglik, est, se, df = expected
    m = _profile(data, reml)
    v = m.fit()
    if school == 0:
        assert v["school"] == 0.0
    else:
        assert v["school"] == pytest.approx(school, rel=1e-5)
    assert v["residual"] == pytest.approx(residual, rel=1e-6)
    assert -m.deviance(v) / 2 == pytest.approx(loglik, abs=1e-8)
    beta, C = m.fixed(v)
    assert beta[0] == pytest.approx(est, abs=1e-6 * se)
    assert math.sqrt(C[0, 0]) == pytest.approx(se, rel=1e-6)
    if df is not None:
        assert m.satterthwaite(v, np.eye(1))[0] == pytest.approx(df, rel=1e-5)


def test_mixed_icc_rng0_interior_matches_lme4():
    # R: d <- read.csv("icc0.csv")  # _icc_data(0); sum(d$y) = -2.4177719726811904
    #    f <- lmer(y ~ 1 + (1 | school), data = d, control = ctrl)
    #    as.data.frame(VarCorr(f))$vcov -> 0.00737028821830401 0.62978052552499342
    #    logLik(f) -> -48.3325659754129; summary(f)$coefficients: -0.060444299317,
    #    SE 0.13261630817, df 2.99999936332
    #    (Nelder_Mead: 0.00737039726839557 0.62978044981875614, logLik -48.3325659754144)
    #    REML = FALSE (bobyqa and Nelder_Mead): 0 ("boundary (singular) fit"),
    #    0.619563728982372, logLik -47.1827470969546, SE 0.124455185607
    d = _icc_data(0)
    assert d["y"].sum() == pytest.approx(-2.4177719726811904, rel=1e-13)
    tau, s2 = 0.00737028821830401, 0.62978052552499342
    icc = sv.cluster_icc(d, "y", "school", method="mixed")
    assert icc == pytest.approx(tau / (tau + s2), rel=1e-5)
    # balanced one-way with a positive estimate: REML is the ANOVA estimator (hand formula)
    groups = d["y"].to_numpy().reshape(4, 10)
    msb = 10 * groups.mean(axis=1).var(ddof=1)
    msw = groups.var(axis=1, ddof=1).mean()
    assert icc == pytest.approx((msb - msw) / (msb + 9 * msw), rel=1e-6)
    # and the intercept's df is exactly schools - 1 there (lmerTest's is numerical)
    _check_intercept_only(d, True, (tau, s2, -48.3325659754129, -0.060444299317,
                                    0.13261630817, 2.99999936332))  # fmt: skip
    m = _profile(d, True)
    assert m.satterthwaite(m.fit(), np.eye(1))[0] == pytest.approx(3.0, rel=1e-6)
    _check_intercept_only(d, False, (0, 0.619563728982372, -47.1827470969546, -0.060444299317,
                                     0.124455185607, None))  # fmt: skip


def test_mixed_icc_rng1_is_zero_as_lme4():
    # R: d <- read.csv("icc1.csv")  # _icc_data(1); sum(d$y) = 0.11204748297117366
    #    f <- lmer(y ~ 1 + (1 | school), data = d, control = ctrl) -> "boundary (singular)
    #    fit": vcov 2.21252297672210e-23 (theta 4.99e-12; Nelder_Mead: exactly 0),
    #    0.886930487431246; logLik -54.8432634976827; 0.00280118707428, SE 0.148906890995,
    #    df 38.999999999.  REML = FALSE: 0, 0.864757225245465, logLik -53.8514118101868,
    #    SE 0.147033773777
    d = _icc_data(1)
    assert d["y"].sum() == pytest.approx(0.11204748297117366, rel=1e-13)
    with pytest.warns(sv.SurveyWarning, match="boundary"):
        assert sv.cluster_icc(d, "y", "school", method="mixed") == 0.0
    _check_intercept_only(d, True, (0, 0.886930487431246, -54.8432634976827, 0.00280118707428,
                                    0.148906890995, 38.999999999))  # fmt: skip
    _check_intercept_only(d, False, (0, 0.864757225245465, -53.8514118101868, 0.00280118707428,
                                     0.147033773777, None))  # fmt: skip


R_TERMS = {"(Intercept)": "Intercept", "factor(wave)6": "wave[6]",
           "factor(wave)12": "wave[12]", "sexm": "sex[m]"}  # fmt: skip


def _check_fit(res, variances, loglik, coefficients):
    """variances: lme4's, by fit_mixed's names (0 means exactly 0); coefficients: R term ->
    (estimate, SE[, lmerTest df]); ML fits have normal df."""
    assert set(res.variances) == set(variances)
    for k, v in variances.items():
        if v == 0:
            assert res.variances[k] == 0.0, k
        else:
            assert res.variances[k] == pytest.approx(v, rel=1e-5), k
    assert res.loglik == pytest.approx(loglik, abs=1e-8)
    fe = res.to_frame().set_index("term")
    assert sorted(fe.index) == sorted(R_TERMS[t] for t in coefficients)
    for term, (est, se, *df) in coefficients.items():
        row = fe.loc[R_TERMS[term]]
        assert row["estimate"] == pytest.approx(est, abs=1e-6 * se), term
        assert row["se"] == pytest.approx(se, rel=1e-5), term
        if res.method == "REML":
            assert row["df"] == pytest.approx(df[0], rel=1e-5), term
        else:
            assert math.isinf(row["df"]), term


def _scores_for_r(*args):
    from test_mixed_closed_form import _scores

    return _scores(*args).dropna(subset=["score"])


def _fit(data, *, boundary: bool = False, **kw):
    """fit_mixed of score on wave and sex; a boundary fit must say so, any other must not warn."""
    import warnings

    from outcomes.longitudinal import LongitudinalWarning, fit_mixed

    if boundary:
        with pytest.warns(LongitudinalWarning, match="estimated at \\(or near\\) zero"):
            return fit_mixed(data, "score", "wave", person_id="child", covariates=["sex"], **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fit_mixed(data, "score", "wave", person_id="child", covariates=["sex"], **kw)


def test_fit_mixed_nested_with_a_zero_school_variance_matches_lme4():
    # _scores(253, 688, 3, 0.05, 0.0, 25, 0.0, True) of tests/test_mixed_closed_form.py (the
    # case where statsmodels' path and the closed form differed); 1834 rows
    # R: d <- read.csv("nested.csv"); sum(d$score) = 38377.005027593892
    #    f <- lmer(score ~ factor(wave) + sex + (1 | school) + (1 | child), data = d,
    #              control = ctrl)  -> "boundary (singular) fit"
    #    as.data.frame(VarCorr(f))$vcov: child 0.318059407687489, school 0,
    #    Residual 8.557362872623525; logLik -4605.98626151331 (REMLcrit 9211.97252302661)
    #    Nelder_Mead: 0.318069375187934, 0, 8.557353520557619, logLik -4605.98626151427:
    #    neither optimiser stops at a local optimum with the school variance above 0.
    #    lme4's devfun (devFunOnly = TRUE) at our theta (0.192789911561783, 0): 9211.97252302662
    data = _scores_for_r(253, 688, 3, 0.05, 0.0, 25, 0.0, True)
    assert len(data) == 1834
    assert data["score"].sum() == pytest.approx(38377.005027593892, rel=1e-13)
    res = _fit(data, cluster="school", boundary=True)
    # summary(f)$coefficients: Estimate, Std. Error, df (lmerTest)
    _check_fit(res, {"school": 0, "child": 0.318059407687489, "residual": 8.557362872623525},
               -4605.98626151331, {
                   "(Intercept)": (19.874554981948, 0.134882716463, 1558.611910041),
                   "factor(wave)6": (0.951988722290, 0.157721447059, 1163.078709732),
                   "factor(wave)12": (2.339588835919, 0.177028982957, 1330.113034978),
                   "sexm": (0.216550109972, 0.143421727009, 669.107908656),
               })  # fmt: skip
    # R: the same with REML = FALSE: child 0.312482823129466, school 1.57971973053509e-17
    #    (theta 1.4e-9; Nelder_Mead: 0 exactly, child 0.312483954821178), Residual
    #    8.54328488998938; logLik -4601.39345687305 (Nelder_Mead -4601.39345687307)
    ml = _fit(data, cluster="school", boundary=True, reml=False)
    _check_fit(ml, {"school": 0, "child": 0.312482823129466, "residual": 8.54328488998938},
               -4601.39345687305, {
                   "(Intercept)": (19.874570650007, 0.134715657292),
                   "factor(wave)6": (0.951988722290, 0.157591657438),
                   "factor(wave)12": (2.339583100080, 0.176874263367),
                   "sexm": (0.216519222796, 0.143198398340),
               })  # fmt: skip


def test_fit_mixed_small_unbalanced_child_only_matches_lme4():
    # _scores(7, 60, 3, 1.0, 0.0, 1, 0.2, True): 60 children, 140 scores (20 missing, every
    # third child without its last wave)
    # R: d <- read.csv("small.csv"); d <- d[!is.na(d$score), ]; sum(d$score) = 2828.854532794599
    #    f <- lmer(score ~ factor(wave) + sex + (1 | child), data = d, REML = FALSE,
    #              control = ctrl)
    #    vcov: child 1.10814154334391, Residual 8.05009837000038; logLik -352.940721810157
    #    (Nelder_Mead: 1.10816511631095 8.05007875492721, logLik -352.940721810451)
    data = _scores_for_r(7, 60, 3, 1.0, 0.0, 1, 0.2, True)
    assert len(data) == 140
    assert data["score"].sum() == pytest.approx(2828.854532794599, rel=1e-13)
    ml = _fit(data, reml=False)
    _check_fit(ml, {"child": 1.10814154334391, "residual": 8.05009837000038},
               -352.940721810157, {
                   "(Intercept)": (19.574966490994, 0.484702624115),
                   "factor(wave)6": (1.423449090278, 0.556476262940),
                   "factor(wave)12": (1.830432893305, 0.624715023586),
                   "sexm": (-0.521861365845, 0.555248804713),
               })  # fmt: skip
    # R: the same by REML: child 1.20753575721808, Residual 8.23187167684293,
    #    logLik -352.240748265149 (Nelder_Mead: 1.20756315895577 8.23184935984709)
    reml = _fit(data)
    _check_fit(reml, {"child": 1.20753575721808, "residual": 8.23187167684293},
               -352.240748265149, {
                   "(Intercept)": (19.574852206199, 0.492813104049, 105.9223385226),
                   "factor(wave)6": (1.424498332193, 0.562928688628, 88.0238297464),
                   "factor(wave)12": (1.831087544293, 0.632242589465, 97.6543369150),
                   "sexm": (-0.521640169467, 0.566079562069, 55.1931119720),
               })  # fmt: skip


# 5 children x 2 waves. TINY_ZERO: the child means are almost equal (10.5, 10.5, 10.6, 10.5,
# 10.3) while the changes vary, so the between-child mean square (0.024) is below the
# within-child one (4.624): the balanced REML estimate (MSB - MSW)/2 < 0, the optimum is at 0.
# TINY_INTERIOR: every child changes by about 1.24, so MSB 3.4915 > MSW 0.1415.
TINY_BASELINE = [9.0, 11.0, 10.0, 12.0, 8.0]
TINY_ZERO = [12.0, 10.0, 11.2, 9.0, 12.6]
TINY_INTERIOR = [10.5, 11.8, 11.4, 12.6, 9.9]


def _tiny(follow_up):
    return pd.DataFrame(
        {"child": list(range(5)) * 2, "wave": [0] * 5 + [1] * 5, "score": TINY_BASELINE + follow_up}
    )


def _fit_tiny(data, **kw):
    import warnings

    from outcomes.longitudinal import fit_mixed

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit_mixed(data, "score", "wave", person_id="child", **kw)
    return res, [str(w.message) for w in caught]


def test_fit_mixed_tiny_child_variance_at_zero_matches_lme4():
    # R: d <- data.frame(child = rep(0:4, 2), wave = rep(0:1, each = 5),
    #                    score = c(9, 11, 10, 12, 8, 12, 10, 11.2, 9, 12.6))
    #    f <- lmer(score ~ factor(wave) + (1 | child), data = d, control = ctrl)
    #    -> "boundary (singular) fit" (Nelder_Mead too): vcov 0, 2.324; logLik -16.3341055340301
    #    coefficients 10 (SE 0.681762421962, df 8.00000000002), 0.96 (0.964157663456, 8)
    #    REML = FALSE: 0, 1.8592; logLik -17.290116770424; SEs 0.609786848005 0.862368830606
    # By hand: with no child variance the fit is OLS: wave means 10 and 10.96, residual sum of
    # squares 10 + 8.592 = 18.592, so σ² = 18.592/8 = 2.324 (REML), 18.592/10 (ML); df n - p = 8.
    for reml, s2, loglik, ses in (
        (True, 2.324, -16.3341055340301, (0.681762421962, 0.964157663456)),
        (False, 1.8592, -17.290116770424, (0.609786848005, 0.862368830606)),
    ):
        res, caught = _fit_tiny(_tiny(TINY_ZERO), reml=reml)
        assert res.variances == {"child": 0.0, "residual": pytest.approx(s2, rel=1e-12)}
        assert any("child variance is estimated at (or near) zero" in m for m in caught)
        assert res.loglik == pytest.approx(loglik, abs=1e-9)
        fe = res.to_frame().set_index("term")
        assert fe["estimate"].tolist() == pytest.approx([10.0, 0.96], abs=1e-12)
        assert fe["se"].tolist() == pytest.approx(list(ses), rel=1e-10)
        assert fe["df"].tolist() == (
            pytest.approx([8.0, 8.0], rel=1e-6) if reml else [math.inf] * 2
        )


def test_fit_mixed_tiny_child_variance_interior_matches_lme4():
    # R: as above with score = c(9, 11, 10, 12, 8, 10.5, 11.8, 11.4, 12.6, 9.9)
    #    vcov 1.674999993603563 0.141500000498263 (Nelder_Mead 1.675001361401945
    #    0.141499893950951); logLik -11.5506979408817; coefficients 10 (SE 0.602743725658,
    #    df 4.32368434283), 1.24 (SE 0.237907545486, df 3.99999999350)
    #    REML = FALSE: 1.339999998858446 0.113200000088924; logLik -11.3108572789884;
    #    SEs 0.539110378113 0.212790977336
    # By hand (balanced, estimates positive): REML is ANOVA, τ = (MSB − MSW)/2 = (3.4915 −
    # 0.1415)/2 = 1.675 and σ² = MSW = 0.1415; ML: σ² = SSW/(n(J−1)) = 0.566/5 = 0.1132 and
    # τ = (SSB/n − σ²)/2 = (2.7932 − 0.1132)/2 = 1.34. var(intercept) = (τ + σ²)/5, var(change)
    # = 2σ²/5, and the change's df is exactly (n − 1)(J − 1) = 4.
    for reml, tau, s2, loglik, ses, dfs in (
        (True, 1.675, 0.1415, -11.5506979408817, (0.602743725658, 0.237907545486),
         (4.32368434283, 3.99999999350)),
        (False, 1.34, 0.1132, -11.3108572789884, (0.539110378113, 0.212790977336), None),
    ):  # fmt: skip
        res, caught = _fit_tiny(_tiny(TINY_INTERIOR), reml=reml)
        assert not caught
        assert res.variances["child"] == pytest.approx(tau, rel=1e-7)
        assert res.variances["residual"] == pytest.approx(s2, rel=1e-7)
        assert res.loglik == pytest.approx(loglik, abs=1e-9)
        fe = res.to_frame().set_index("term")
        assert fe["estimate"].tolist() == pytest.approx([10.0, 1.24], abs=1e-12)
        assert fe["se"].tolist() == pytest.approx(list(ses), rel=1e-7)
        assert fe["se"].tolist() == pytest.approx(
            [math.sqrt((tau + s2) / 5), math.sqrt(2 * s2 / 5)], rel=1e-7
        )
        if reml:
            assert fe["df"].tolist() == pytest.approx(list(dfs), rel=1e-6)
            assert fe.loc["wave[1]", "df"] == pytest.approx(4.0, rel=1e-6)
        else:
            assert np.isinf(fe["df"]).all()
